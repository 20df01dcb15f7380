"""The dispatch service: brings a new agent to a room whose agent left a live session.

A self-hosted LiveKit server keeps a dispatch's restart policy but does not act on it, and
the framework's drain does not hand jobs on. This service closes both gaps with the server's
own means: every node posts its webhooks here (`webhook.urls` in the server config); on
`participant_left` for an agent whose room still holds a live session record
(`agent/replacement.py`) it creates an agent dispatch with the same agent name, and the new
agent continues the session from the record. A room whose agents keep leaving gets at most
`DISPATCHER_MAX_AGENTS_PER_ROOM` new ones within `DISPATCHER_BUDGET_SECONDS`.

    python -m agent.dispatcher        # settings: `DispatcherSettings` (environment, `.env`)

One instance serves every node of a cluster; it keeps no state that matters across restarts
(the record lives in the room), so running it under a supervisor is enough.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections import OrderedDict
from typing import Annotated, Literal

from aiohttp import ClientError, web
from livekit import api
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .replacement import AgentLeft, DispatchBudget, Verdict, agent_left, judge
from .settings_messages import describe_errors

logger = logging.getLogger("agent.dispatcher")

Required = Annotated[str, Field(min_length=1)]


class DispatcherSettings(BaseSettings):
    """The dispatch service's settings: environment variables of the same name in capitals."""

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", env_ignore_empty=True, frozen=True
    )

    livekit_url: Required
    livekit_api_key: Required
    livekit_api_secret: SecretStr = Field(min_length=1)
    dispatcher_host: str = "127.0.0.1"
    """Where webhooks are received: `0.0.0.0` when the nodes run on other machines."""
    dispatcher_port: int = Field(7870, ge=1, le=65535)
    dispatcher_max_agents_per_room: int = Field(10, ge=0)
    """New agents one room may get within `dispatcher_budget_seconds` (0: no limit), so that
    agents that fail as they start are not replaced for ever."""
    dispatcher_budget_seconds: float = Field(300.0, gt=0, allow_inf_nan=False)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case(cls, value: object) -> object:
        # As the worker, which reads the same `.env`: "debug" is DEBUG.
        return value.strip().upper() if isinstance(value, str) else value


MAX_PENDING = 1000
"""Rooms being looked at at once; past this a webhook is refused (503) and the server retries."""
REMEMBERED = 10_000
"""Agents already answered for, so that a webhook delivered twice dispatches once."""
ATTEMPTS = 5
"""Tries at the server API for one departure, a second apart and longer each time."""


class DispatchService:
    def __init__(
        self, url: str, api_key: str, api_secret: str, budget: DispatchBudget | None = None
    ) -> None:
        self._url, self._key, self._secret = url, api_key, api_secret
        self._receiver = api.WebhookReceiver(api.TokenVerifier(api_key, api_secret))
        self._lkapi: api.LiveKitAPI | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._answered: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._budget = budget or DispatchBudget()
        self.dispatched = 0
        self.declined = 0
        self.limited = 0
        self.failed = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/", self._on_webhook)
        app.router.add_get("/healthz", self._on_health)
        app.on_startup.append(self._start)
        app.on_cleanup.append(self._close)
        return app

    async def _start(self, _: web.Application) -> None:
        self._lkapi = api.LiveKitAPI(self._url, self._key, self._secret)

    async def _close(self, _: web.Application) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._lkapi is not None:
            await self._lkapi.aclose()

    async def _on_health(self, _: web.Request) -> web.Response:
        return web.json_response(
            {
                "dispatched": self.dispatched,
                "declined": self.declined,
                "limited": self.limited,
                "failed": self.failed,
                "pending": len(self._tasks),
            }
        )

    async def _on_webhook(self, request: web.Request) -> web.Response:
        body = await request.text()
        try:
            event = self._receiver.receive(body, request.headers.get("Authorization", ""))
        except Exception as e:  # a bad signature or body: not from our server
            logger.warning("refused a webhook: %s", e)
            return web.Response(status=401, text="invalid webhook signature")
        left = agent_left(event)
        if left is None or (left.room, left.identity) in self._answered:
            return web.Response(text="ok")
        if len(self._tasks) >= MAX_PENDING:
            return web.Response(status=503, text="busy")
        self._remember(left)
        task = asyncio.create_task(self._replace(left), name=f"dispatch-{left.room}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.Response(text="ok")  # answered at once: the server's notifier waits on it

    def _remember(self, left: AgentLeft) -> None:
        self._answered[(left.room, left.identity)] = None
        while len(self._answered) > REMEMBERED:
            self._answered.popitem(last=False)

    async def _replace(self, left: AgentLeft) -> None:
        for attempt in range(ATTEMPTS):
            try:
                verdict = await self._judge(left)
                if not verdict.dispatch:
                    self.declined += 1
                    logger.info("no new agent for room %s: %s", left.room, verdict.reason)
                elif not self._budget.take(left.room, time.monotonic()):
                    self.limited += 1
                    logger.error(
                        "no new agent for room %s: %d were dispatched there within %.0f s and "
                        "left again (%s)",
                        left.room,
                        self._budget.limit,
                        self._budget.window,
                        verdict.reason,
                    )
                else:
                    # Taken before the call, so that departures in flight at once cannot
                    # overrun it; a call that fails and is tried again takes another.
                    await self._dispatch(left)
                    self.dispatched += 1
                    logger.info(
                        "dispatched agent %r to room %s for session %s (agent %s left %.2f s ago)",
                        left.agent_name,
                        left.room,
                        verdict.session_id,
                        left.identity,
                        max(0.0, time.time() - left.at),
                    )
                return
            except (api.TwirpError, ClientError, OSError, TimeoutError) as e:  # refused, or away
                logger.warning("room %s: the server API failed, try %d: %r", left.room, attempt, e)
            await asyncio.sleep(1.0 + attempt)
        self.failed += 1
        logger.error("gave up dispatching a new agent to room %s", left.room)

    async def _judge(self, left: AgentLeft) -> Verdict:
        assert self._lkapi is not None
        rooms = await self._lkapi.room.list_rooms(api.ListRoomsRequest(names=[left.room]))
        if not rooms.rooms:
            return judge(left, None, ())
        people = await self._lkapi.room.list_participants(
            api.ListParticipantsRequest(room=left.room)
        )
        return judge(left, rooms.rooms[0].metadata, people.participants)

    async def _dispatch(self, left: AgentLeft) -> None:
        assert self._lkapi is not None
        await self._lkapi.agent_dispatch.create_dispatch(
            api.CreateAgentDispatchRequest(agent_name=left.agent_name, room=left.room)
        )


def main() -> None:
    try:
        settings = DispatcherSettings()  # type: ignore[call-arg]  # read from the environment
    except ValidationError as exc:
        problems = describe_errors(DispatcherSettings.model_fields, exc.errors())
        sys.exit("session-sync dispatcher: " + "\n".join(problems))
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    limit = settings.dispatcher_max_agents_per_room
    service = DispatchService(
        settings.livekit_url,
        settings.livekit_api_key,
        settings.livekit_api_secret.get_secret_value(),
        DispatchBudget(limit or None, settings.dispatcher_budget_seconds),
    )
    host, port = settings.dispatcher_host, settings.dispatcher_port
    logger.info("listening for LiveKit webhooks on http://%s:%s/", host, port)
    web.run_app(service.app(), host=host, port=port, print=None, access_log=None)


if __name__ == "__main__":
    main()

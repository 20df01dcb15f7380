"""The page's local endpoint: access tokens, a read-only view of every room's agent session,
and the built page itself. The API secret stays here; the browser only ever gets tokens.

    uv run python clients/web/server.py                  # http://127.0.0.1:8787
    uv run python clients/web/server.py --port 9000 --static clients/web/dist

Reads LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET from the environment, and AGENT_NAME
as the worker does: with a name, each token is followed by an explicit dispatch of that agent
to the room through the server API; empty, the server's automatic dispatch is relied on. Either
way, when no agent has joined a room `--agent-deadline` seconds after its token while its user
is there, the agent is dispatched again (at most `--redispatches` times), and the log says so.

GET  /api/token?room=NAME&identity=ID  -> {"url", "token", "room", "identity", "agentName",
                                           "agentDeadlineSeconds"}
GET  /api/rooms/NAME/agent             -> {"agentPresent", "dispatches", "lastDispatchAt"}
GET  /api/rooms                        -> every room with its agent's published session
POST /api/rooms/NAME/drift             -> overwrite one of the agent's session attributes
                                          (only with SESSION_SYNC_TEST_HOOKS=1: for tests)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from livekit import api
from livekit.protocol.models import ParticipantInfo

logger = logging.getLogger("session-sync-web")

NAME = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")
TOKEN_TTL = timedelta(hours=1)
HERE = Path(__file__).resolve().parent


class Config:
    def __init__(self) -> None:
        missing = [
            v for v in ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET") if not os.getenv(v)
        ]
        if missing:
            raise SystemExit(f"set {', '.join(missing)} (see the README)")
        self.url = os.environ["LIVEKIT_URL"]
        self.key = os.environ["LIVEKIT_API_KEY"]
        self.secret = os.environ["LIVEKIT_API_SECRET"]
        self.test_hooks = os.getenv("SESSION_SYNC_TEST_HOOKS") == "1"
        self.agent_name = os.getenv("AGENT_NAME", "").strip()
        self.agent_deadline = 20.0
        self.redispatches = 2


def _name(value: str | None, what: str, default: str | None = None) -> str:
    value = value or default
    if not value or not NAME.match(value):
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"{what} must be 1-128 letters, digits or _.:@-"}),
            content_type="application/json",
        )
    return value


def mint_token(config: Config, room: str, identity: str) -> str:
    grants = api.VideoGrants(
        room_join=True,
        room=room,
        can_publish=True,
        can_subscribe=True,
        can_publish_data=True,
        # The app may set its own `session.requestedType` attribute.
        can_update_own_metadata=True,
    )
    return (
        api.AccessToken(config.key, config.secret)
        .with_identity(identity)
        .with_name(identity)
        .with_grants(grants)
        .with_ttl(TOKEN_TTL)
        .to_jwt()
    )


def _is_agent(p: ParticipantInfo) -> bool:
    return p.kind == ParticipantInfo.Kind.AGENT


def describe_agent(p: ParticipantInfo) -> dict[str, Any]:
    """The agent's session as it publishes it (attributes only: this view never calls it)."""
    attrs = dict(p.attributes)
    session: Any = None
    if raw := attrs.get("session.config"):
        try:
            session = json.loads(raw)
        except ValueError:
            session = None
    return {
        "identity": p.identity,
        "joinedAt": p.joined_at,
        "session": session,
        "pushToTalk": attrs.get("session.pushToTalk"),
        "protocol": attrs.get("session.protocol"),
        "attributes": {k: v for k, v in attrs.items() if k.startswith("session.")},
    }


@dataclass
class RoomDispatch:
    """What this endpoint did to bring an agent to one room."""

    dispatches: int = 0
    last_dispatch_at: float | None = None
    agent_present: bool = False
    watcher: asyncio.Task[None] | None = None


class Dispatcher:
    """Brings the agent to each room a token is made for, and again when none has joined by
    the deadline: LiveKit's server offers a job once and gives up when no worker takes it."""

    MAX_ROOMS = 1000  # what it remembers; the oldest are forgotten first
    POLL_SECONDS = 1.0  # how often a room without an agent is looked at

    def __init__(self, config: Config, lk: api.LiveKitAPI) -> None:
        self._config = config
        self._lk = lk
        self._rooms: dict[str, RoomDispatch] = {}

    def status(self, room: str) -> RoomDispatch:
        return self._rooms.get(room) or RoomDispatch()

    async def token_made(self, room: str) -> None:
        entry = self._rooms.get(room)
        if entry is None:
            while len(self._rooms) >= self.MAX_ROOMS:
                oldest = self._rooms.pop(next(iter(self._rooms)))
                if oldest.watcher:
                    oldest.watcher.cancel()
            entry = self._rooms[room] = RoomDispatch()
        if await self._agent_in(room):
            entry.agent_present = True
            return
        if entry.watcher is not None and not entry.watcher.done():
            return  # a dispatch is on its way, and watched
        if self._config.agent_name:
            await self._dispatch(room, entry, "explicit dispatch")
        entry.watcher = asyncio.create_task(self._watch(room, entry))

    async def _watch(self, room: str, entry: RoomDispatch) -> None:
        for attempt in range(self._config.redispatches + 1):
            # Watched until the deadline: an agent that came and went (its user left) is not
            # one to send again.
            deadline = time.monotonic() + self._config.agent_deadline
            while time.monotonic() < deadline:
                await asyncio.sleep(min(self.POLL_SECONDS, max(0.0, deadline - time.monotonic())))
                agent, user = await self._who_is_in(room)
                if agent:
                    entry.agent_present = True
                    return
            if not user:
                return  # nobody to serve: the user left, or never came
            if attempt == self._config.redispatches:
                break
            logger.warning(
                "no agent joined room %r within %g s; dispatching %s again",
                room,
                self._config.agent_deadline,
                repr(self._config.agent_name) if self._config.agent_name else "the agent",
            )
            await self._dispatch(room, entry, "again")
        logger.warning(
            "still no agent in room %r after %d dispatches: is a worker running with "
            "AGENT_NAME=%r against %s, and is it full? (its log says `worker full` or "
            "`refused the job`)",
            room,
            entry.dispatches,
            self._config.agent_name,
            self._config.url,
        )

    async def _dispatch(self, room: str, entry: RoomDispatch, why: str) -> None:
        try:
            await self._lk.agent_dispatch.create_dispatch(
                api.CreateAgentDispatchRequest(agent_name=self._config.agent_name, room=room)
            )
        except Exception:
            logger.exception("could not dispatch the agent to room %r", room)
            return
        entry.dispatches += 1
        entry.last_dispatch_at = time.time()
        logger.info("dispatched agent %r to room %r (%s)", self._config.agent_name, room, why)

    async def _agent_in(self, room: str) -> bool:
        return (await self._who_is_in(room))[0]

    async def _who_is_in(self, room: str) -> tuple[bool, bool]:
        """Whether the room has an agent, and whether it has anyone else."""
        try:
            listed = await self._lk.room.list_participants(api.ListParticipantsRequest(room=room))
        except Exception:  # the room does not exist (yet, or any more)
            return False, False
        agents = [_is_agent(p) for p in listed.participants]
        return any(agents), not all(agents)

    async def aclose(self) -> None:
        watchers = [e.watcher for e in self._rooms.values() if e.watcher]
        for task in watchers:
            task.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)


async def handle_token(request: web.Request) -> web.Response:
    config: Config = request.app["config"]
    room = _name(request.query.get("room"), "room")
    identity = _name(request.query.get("identity"), "identity", f"user-{secrets.token_hex(3)}")
    token = mint_token(config, room, identity)
    await request.app["dispatcher"].token_made(room)
    body = {
        "url": config.url,
        "token": token,
        "room": room,
        "identity": identity,
        "agentName": config.agent_name,
        "agentDeadlineSeconds": config.agent_deadline,
    }
    return web.json_response(body)


async def handle_agent(request: web.Request) -> web.Response:
    """What the endpoint did to bring an agent to the room, for the page's explanation."""
    room = _name(request.match_info["room"], "room")
    entry: RoomDispatch = request.app["dispatcher"].status(room)
    body = {
        "agentName": request.app["config"].agent_name,
        "agentPresent": entry.agent_present,
        "dispatches": entry.dispatches,
        "lastDispatchAt": entry.last_dispatch_at,
    }
    return web.json_response(body)


async def handle_rooms(request: web.Request) -> web.Response:
    lk: api.LiveKitAPI = request.app["lk"]
    rooms = (await lk.room.list_rooms(api.ListRoomsRequest())).rooms
    out = []
    for room in sorted(rooms, key=lambda r: r.creation_time):
        participants = (
            await lk.room.list_participants(api.ListParticipantsRequest(room=room.name))
        ).participants
        out.append(
            {
                "name": room.name,
                "createdAt": room.creation_time,
                "participants": [
                    {"identity": p.identity, "kind": "agent" if _is_agent(p) else "standard"}
                    for p in participants
                ],
                "agents": [describe_agent(p) for p in participants if _is_agent(p)],
            }
        )
    return web.json_response({"rooms": out})


async def handle_drift(request: web.Request) -> web.Response:
    """Overwrite one of the agent's published attributes, as a stale or tampered copy would:
    the agent's validation must find it and publish the session again."""
    config: Config = request.app["config"]
    if not config.test_hooks:
        raise web.HTTPNotFound()
    lk: api.LiveKitAPI = request.app["lk"]
    room = _name(request.match_info["room"], "room")
    listed = await lk.room.list_participants(api.ListParticipantsRequest(room=room))
    agent = next((p for p in listed.participants if _is_agent(p)), None)
    if agent is None:
        raise web.HTTPNotFound(text="no agent in that room")
    wrong = "error" if agent.attributes.get("session.state") != "error" else "idle"
    await lk.room.update_participant(
        api.UpdateParticipantRequest(
            room=room, identity=agent.identity, attributes={"session.state": wrong}
        )
    )
    return web.json_response({"agent": agent.identity, "attributes": {"session.state": wrong}})


def build_app(config: Config, static: Path | None) -> web.Application:
    app = web.Application()
    app["config"] = config

    async def open_api(app: web.Application) -> Any:
        app["lk"] = api.LiveKitAPI(config.url, config.key, config.secret)
        app["dispatcher"] = Dispatcher(config, app["lk"])
        yield
        await app["dispatcher"].aclose()
        await app["lk"].aclose()

    app.cleanup_ctx.append(open_api)
    app.router.add_get("/api/token", handle_token)
    app.router.add_get("/api/rooms/{room}/agent", handle_agent)
    app.router.add_get("/api/rooms", handle_rooms)
    app.router.add_post("/api/rooms/{room}/drift", handle_drift)
    if static is not None and static.is_dir():

        async def index(request: web.Request) -> web.FileResponse:
            return web.FileResponse(static / "index.html")

        async def monitor(request: web.Request) -> web.FileResponse:
            return web.FileResponse(static / "monitor.html")

        app.router.add_get("/", index)
        app.router.add_get("/monitor", monitor)
        app.router.add_static("/", static)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="Token endpoint and monitor API for the page")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument(
        "--static", type=Path, default=HERE / "dist", help="built page to serve (npm run build)"
    )
    parser.add_argument(
        "--agent-deadline",
        type=float,
        default=20.0,
        help="seconds to wait for an agent to join before dispatching it again",
    )
    parser.add_argument(
        "--redispatches", type=int, default=2, help="how many times to dispatch again"
    )
    args = parser.parse_args()
    if args.agent_deadline <= 0 or args.redispatches < 0:
        parser.error("--agent-deadline must be above 0 and --redispatches 0 or more")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = Config()
    config.agent_deadline, config.redispatches = args.agent_deadline, args.redispatches
    logger.info(
        "agent dispatch: %s; dispatched again after %g s without an agent",
        f"explicit, AGENT_NAME={config.agent_name!r}"
        if config.agent_name
        else "automatic (AGENT_NAME is empty)",
        config.agent_deadline,
    )
    web.run_app(build_app(config, args.static), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()

"""One agent and its user in an in-memory room, with everything the fault runs check: errors
logged or raised anywhere, background tasks alive, and the agent's state, its attributes and
an app's view of them in agreement."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from livekit.plugins.session_sync import SessionSynchronizer, SyncOptions, SyncState
from livekit.plugins.session_sync.protocol import (
    ATTR_SEQ,
    TOPIC,
    encode_attributes,
    published_session_attributes,
)
from livekit.plugins.session_sync.testing import (
    InMemoryRoom,
    InMemoryServer,
    InMemoryTurnTaking,
    QuietListener,
)

ROOM = "room-f"
AGENT = "agent"
USER = "user"
# The synchronizer's own tasks: none may die while it runs.
BACKGROUND_TASKS = (
    "session-sync-sender",
    "session-sync-attributes",
    "session-sync-validation",
    "session-sync-intake",
)


def quiet_options(**overrides: Any) -> SyncOptions:
    """Timers out of the way, so that only what a run does changes the session."""
    settings: dict[str, Any] = {
        "initial_sync_delay": 3600.0,
        "validation_interval": 3600.0,
        "max_press_seconds": None,
    }
    settings.update(overrides)
    return SyncOptions(**settings)


class ErrorWatch(logging.Handler):
    """Everything at ERROR from the given loggers (the plugin's and asyncio's unless told
    otherwise), and every exception the loop saw."""

    LOGGERS = ("livekit.plugins.session_sync", "asyncio")

    def __init__(self, loggers: tuple[str, ...] = LOGGERS) -> None:
        super().__init__(logging.ERROR)
        self.loggers = loggers
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.name}: {record.getMessage()}")

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        for name in self.loggers:
            logging.getLogger(name).addHandler(self)
        loop.set_exception_handler(
            lambda _, context: self.messages.append(f"loop: {context.get('message')}")
        )

    def remove(self) -> None:
        for name in self.loggers:
            logging.getLogger(name).removeHandler(self)


class Replies(QuietListener):
    """Every ack and error the agent sends this participant, in order, duplicates kept."""

    def __init__(self, agent: str) -> None:
        self.agent = agent
        self.received: list[dict[str, Any]] = []
        self.first_by_id: dict[str, dict[str, Any]] = {}
        """The first reply to each request id, found without a scan of thousands."""

    def on_data(self, sender: str | None, topic: str, payload: bytes) -> None:
        if topic != TOPIC or sender != self.agent:
            return
        message = json.loads(payload)
        if message.get("type") in ("ack", "error"):
            self.received.append(message)
            rid = message.get("id")
            if isinstance(rid, str):
                self.first_by_id.setdefault(rid, message)


@dataclass(frozen=True)
class AgentView:
    """What must not move when input is refused."""

    state: SyncState
    seq: int
    published: Mapping[str, str]


@dataclass
class Rig:
    server: InMemoryServer
    agent_room: InMemoryRoom
    user_room: InMemoryRoom
    turns: InMemoryTurnTaking
    sync: SessionSynchronizer
    errors: ErrorWatch = field(default_factory=ErrorWatch)

    @classmethod
    async def create(
        cls, options: SyncOptions | None = None, *, turn_delay: float | None = None
    ) -> Rig:
        server = InMemoryServer()
        agent_room = await server.connect(ROOM, AGENT, kind="agent")
        user_room = await server.connect(ROOM, USER)
        turns = InMemoryTurnTaking(delay=turn_delay)
        sync = SessionSynchronizer(
            agent_room, turn_taking=turns, linked_identity=USER, options=options or quiet_options()
        )
        rig = cls(server, agent_room, user_room, turns, sync)
        rig.errors.install(asyncio.get_running_loop())
        await sync.start()
        await rig.quiesce()
        return rig

    async def aclose(self) -> None:
        try:
            await self.sync.aclose()
        finally:
            self.errors.remove()

    async def quiesce(self, *, also: Any = None) -> None:
        """Until nothing is on its way: deliveries, turn-taking changes, queued messages, and
        `also()` (an app's snapshot, say) all done, twice in a row."""
        calm = 0
        for _ in range(5000):
            await self.server.settle()
            busy = (
                self.turns.applying
                or any(not t.done() for t in asyncio.all_tasks() if _ours(t))
                or (also is not None and not also())
            )
            calm = 0 if busy else calm + 1
            if calm >= 2:
                return
            await asyncio.sleep(0.0005 if self.turns.applying else 0)
        raise AssertionError("the session never settled")

    def view(self) -> AgentView:
        return AgentView(
            self.sync.state,
            self.sync.snapshot().seq,
            published_session_attributes(self.agent_room.local_attributes()),
        )

    def faults(self) -> list[str]:
        """Exceptions that escaped, and background tasks that died."""
        found = list(self.errors.messages)
        if self.server.listener_errors:
            found.append(f"{self.server.listener_errors} exceptions reached the room's handlers")
        return found + dead_tasks()

    def mismatches(self, follower: Any = None) -> list[str]:
        """The agent's state, its published attributes, the app's copy of them and (given a
        `SessionFollower`) the app's own view, all telling the same story."""
        sync, found = self.sync, []
        wanted = encode_attributes(sync.config, ptt_pressed=sync.ptt_pressed)
        if self.agent_room.connection_state == "connected":
            if published_session_attributes(self.agent_room.local_attributes()) != wanted:
                found.append("the agent's attributes differ from its state")
            seen = dict(self.user_room.remote_attributes(AGENT) or {})
            if self.user_room.connection_state == "connected":
                if published_session_attributes(seen) != wanted:
                    found.append("the app's copy of the attributes differs from the agent's state")
                if seen.get(ATTR_SEQ) != str(sync.snapshot().seq):
                    found.append(f"session.seq {seen.get(ATTR_SEQ)} != {sync.snapshot().seq}")
        if follower is not None:
            if follower.session != sync.config.to_wire():
                found.append(
                    f"the app shows revision {follower.revision}, the agent {sync.config.revision}"
                )
            if follower.push_to_talk != sync.ptt_pressed:
                found.append("the app's push-to-talk differs from the agent's")
            if follower.last_seq != sync.snapshot().seq:
                found.append(f"the app's seq {follower.last_seq} != {sync.snapshot().seq}")
        if not sync.validate().is_valid and self.agent_room.connection_state == "connected":
            found.append(f"validation finds: {sync.validate().inconsistencies}")
        return found


def dead_tasks() -> list[str]:
    """The synchronizer's background tasks that are not running."""
    alive = {t.get_name() for t in asyncio.all_tasks() if not t.done()}
    return [f"task {name} is not running" for name in BACKGROUND_TASKS if name not in alive]


def _ours(task: asyncio.Task[Any]) -> bool:
    """Tasks that end once their work is done (the long-lived loops are left out)."""
    name = task.get_name()
    return name.startswith(("session-sync-", "session-follower")) and name not in BACKGROUND_TASKS

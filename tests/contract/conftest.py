"""One suite, two backends: the in-memory LiveKit and a real server, seen from the app's side.

Every test here takes `backend` and runs twice. A test that passes on one backend and fails on
the other is a bug in the code or in the in-memory room, never a reason to skip.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from livekit import api, rtc

from livekit.plugins.session_sync import (
    LiveKitRoom,
    RoomMetadataStore,
    SessionSynchronizer,
    SyncOptions,
)
from livekit.plugins.session_sync.testing import (
    InMemoryRoom,
    InMemoryServer,
    InMemoryTurnTaking,
    SessionSyncClient,
    eventually,
)
from support.livekit_server import ServerInfo, new_room_name

AGENT = "agent"
USER = "user"

JoinedRoom = InMemoryRoom | LiveKitRoom


@dataclass(frozen=True)
class Joining:
    kind: str
    can_update_own_metadata: bool
    attributes: dict[str, str] | None


class Backend:
    """Joins participants to one room and disturbs their links, the same way on both."""

    name: str
    room_name: str
    timeout: float
    """How long a test waits for something to arrive."""

    async def until(self, predicate: Callable[[], bool], message: str = "condition") -> None:
        await eventually(predicate, timeout=self.timeout, message=message)

    async def join(
        self,
        identity: str,
        *,
        kind: str = "standard",
        can_update_own_metadata: bool = True,
        attributes: dict[str, str] | None = None,
    ) -> JoinedRoom:
        """Join as `identity`; `attributes` are the token's."""
        return await self._connect(identity, Joining(kind, can_update_own_metadata, attributes))

    async def _connect(self, identity: str, joining: Joining) -> JoinedRoom:
        raise NotImplementedError

    async def resume(self, room: JoinedRoom) -> None:
        """A brief signal drop that the SDK resumes: same participant afterwards."""
        raise NotImplementedError

    async def full_reconnect(self, room: JoinedRoom) -> None:
        """The SDK gives up on the session and joins again as a new participant."""
        raise NotImplementedError

    async def leave(self, room: JoinedRoom) -> None:
        raise NotImplementedError

    def metadata_store(self, room: JoinedRoom) -> RoomMetadataStore:
        """The room's metadata as `room` sees it, written with the server API."""
        raise NotImplementedError

    async def aclose(self) -> None:
        raise NotImplementedError


class MemoryBackend(Backend):
    name = "memory"
    timeout = 2.0

    def __init__(self) -> None:
        # Signalling a little behind data, and joins announced late, as on a real server.
        self.server = InMemoryServer(join_delay=0.3, attribute_delay=0.01, echo_delay=0.01)
        self.room_name = "room-a"

    async def _connect(self, identity: str, joining: Joining) -> JoinedRoom:
        return await self.server.connect(
            self.room_name,
            identity,
            kind="agent" if joining.kind == "agent" else "standard",
            attributes=joining.attributes,
            can_update_own_metadata=joining.can_update_own_metadata,
        )

    async def resume(self, room: JoinedRoom) -> None:
        assert isinstance(room, InMemoryRoom)
        room.simulate_reconnecting()
        await self.server.settle()
        room.simulate_reconnected()
        await self.server.settle()

    async def full_reconnect(self, room: JoinedRoom) -> None:
        assert isinstance(room, InMemoryRoom)
        await room.simulate_full_reconnect()
        await self.server.settle()

    async def leave(self, room: JoinedRoom) -> None:
        assert isinstance(room, InMemoryRoom)
        await room.disconnect()
        await self.server.settle()

    def metadata_store(self, room: JoinedRoom) -> RoomMetadataStore:
        return RoomMetadataStore(
            read=lambda: self.server.metadata.get(self.room_name, ""),
            write=functools.partial(self.server.update_room_metadata, self.room_name),
        )

    async def aclose(self) -> None:
        self.server.delete_room(self.room_name)
        await self.server.settle()
        assert self.server.listener_errors == 0, "an exception escaped to the room's handlers"


@dataclass
class ServerBackend(Backend):
    info: ServerInfo
    name: str = "livekit"
    timeout: float = 15.0
    room_name: str = field(default_factory=new_room_name)
    rooms: dict[LiveKitRoom, rtc.Room] = field(default_factory=dict)

    async def _connect(self, identity: str, joining: Joining) -> JoinedRoom:
        room = await self.info.join(
            self.room_name,
            identity,
            kind=joining.kind,
            can_update_own_metadata=joining.can_update_own_metadata,
            attributes=joining.attributes,
        )
        port = LiveKitRoom(room)
        self.rooms[port] = room
        return port

    async def _simulate(self, port: JoinedRoom, scenario: int) -> None:
        assert isinstance(port, LiveKitRoom)
        room = self.rooms[port]
        back = asyncio.Event()
        room.on("reconnected", lambda: back.set())
        await room.simulate_scenario(scenario)  # type: ignore[arg-type]
        await asyncio.wait_for(back.wait(), self.timeout)

    async def resume(self, room: JoinedRoom) -> None:
        await self._simulate(room, rtc.SimulateScenarioKind.SIMULATE_SIGNAL_RECONNECT)

    async def full_reconnect(self, room: JoinedRoom) -> None:
        await self._simulate(room, rtc.SimulateScenarioKind.SIMULATE_FULL_RECONNECT)

    async def leave(self, port: JoinedRoom) -> None:
        assert isinstance(port, LiveKitRoom)
        await self.rooms.pop(port).disconnect()

    def metadata_store(self, port: JoinedRoom) -> RoomMetadataStore:
        assert isinstance(port, LiveKitRoom)
        room = self.rooms[port]

        async def write(metadata: str) -> None:
            async with self.info.api() as server_api:
                request = api.UpdateRoomMetadataRequest(room=self.room_name, metadata=metadata)
                await server_api.room.update_room_metadata(request)

        return RoomMetadataStore(read=lambda: room.metadata, write=write)

    async def aclose(self) -> None:
        for room in self.rooms.values():
            await room.disconnect()
        self.rooms.clear()


@pytest.fixture(params=["memory", "livekit"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    chosen: Backend = (
        MemoryBackend()
        if request.param == "memory"
        else ServerBackend(request.getfixturevalue("info"))
    )
    try:
        yield chosen
    finally:
        await chosen.aclose()


@dataclass
class Session:
    """An agent running session sync over in-memory turn-taking, and the app that drives it."""

    backend: Backend
    agent_room: JoinedRoom
    user_room: JoinedRoom
    turns: InMemoryTurnTaking
    sync: SessionSynchronizer
    client: SessionSyncClient

    async def until(self, predicate: Callable[[], bool], message: str = "condition") -> None:
        await self.backend.until(predicate, message)

    async def seen(self, session: dict[str, Any]) -> None:
        """Wait until the app's view of the agent's attributes shows `session`."""
        await self.until(lambda: self.client.session() == session, "the app to see the session")

    def app(self, room: JoinedRoom) -> SessionSyncClient:
        return SessionSyncClient(room, AGENT)  # type: ignore[arg-type]


@pytest.fixture
def options() -> SyncOptions:
    # Timers far away: tests drive validation explicitly unless they set their own.
    return SyncOptions(initial_sync_delay=3600, validation_interval=3600)


@pytest.fixture
async def session(backend: Backend, options: SyncOptions) -> AsyncIterator[Session]:
    agent_room = await backend.join(AGENT, kind="agent")
    user_room = await backend.join(USER)
    turns = InMemoryTurnTaking()
    sync = SessionSynchronizer(agent_room, turn_taking=turns, linked_identity=USER, options=options)
    client = SessionSyncClient(user_room, AGENT)  # type: ignore[arg-type]
    await sync.start()
    running = Session(backend, agent_room, user_room, turns, sync, client)
    await running.until(lambda: "session.config" in client.agent_attributes(), "first publish")
    try:
        yield running
    finally:
        client.close()
        await sync.aclose()

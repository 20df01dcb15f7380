from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from livekit.plugins.session_sync import SessionSynchronizer, SyncOptions
from livekit.plugins.session_sync.testing.client import SessionSyncClient
from livekit.plugins.session_sync.testing.room import InMemoryRoom, InMemoryServer
from livekit.plugins.session_sync.testing.turn_taking import InMemoryTurnTaking

ROOM = "room-a"
AGENT = "agent"
USER = "user"


@dataclass
class Harness:
    server: InMemoryServer
    agent_room: InMemoryRoom
    user_room: InMemoryRoom
    turns: InMemoryTurnTaking
    sync: SessionSynchronizer
    client: SessionSyncClient

    async def settle(self) -> None:
        await self.server.settle()


@pytest.fixture
def options() -> SyncOptions:
    # Timers far away: tests drive validation explicitly unless they set their own.
    return SyncOptions(initial_sync_delay=3600, validation_interval=3600)


@pytest.fixture
async def harness(options: SyncOptions) -> AsyncIterator[Harness]:
    server = InMemoryServer()
    agent_room = await server.connect(ROOM, AGENT, kind="agent")
    user_room = await server.connect(ROOM, USER)
    turns = InMemoryTurnTaking()
    sync = SessionSynchronizer(agent_room, turn_taking=turns, linked_identity=USER, options=options)
    client = SessionSyncClient(user_room, AGENT)
    await sync.start()
    await server.settle()
    yield Harness(server, agent_room, user_room, turns, sync, client)
    await sync.aclose()
    assert server.listener_errors == 0, "an exception escaped to the room's event handlers"

"""`lk.agent.state` for a frontend that keeps only the last attribute change it was told of.

A LiveKit client reports each update of a participant's attributes as the keys that changed,
and @livekit/components-react's `useAgent` (up to 2.9.23) kept only the last report: once the
agent's session attributes changed after its state, such a page lost the state and hung up
20 s into the call. The in-memory room reports changes the same way.
"""

import asyncio
from collections.abc import AsyncIterator, Mapping

import pytest

from livekit.plugins.session_sync import ATTR_AGENT_STATE, SessionSynchronizer, SyncOptions
from livekit.plugins.session_sync.models import ConnectionState
from livekit.plugins.session_sync.testing.client import SessionSyncClient
from livekit.plugins.session_sync.testing.room import InMemoryRoom, InMemoryServer
from livekit.plugins.session_sync.testing.turn_taking import InMemoryTurnTaking

AGENT, USER = "agent", "user"


class LastChangeOnly:
    """What such a frontend holds of the agent's attributes: the last change it was told of."""

    def __init__(self) -> None:
        self.last: dict[str, str] = {}
        self.changes = 0

    def on_data(self, sender: str | None, topic: str, payload: bytes) -> None:
        pass

    def on_connection_state(self, state: ConnectionState, reason: str | None) -> None:
        pass

    def on_participant_joined(self, identity: str) -> None:
        pass

    def on_participant_left(self, identity: str) -> None:
        pass

    def on_participant_attributes(self, identity: str, changed: Mapping[str, str]) -> None:
        if identity == AGENT:
            self.last = dict(changed)
            self.changes += 1


class Framework:
    """The agent session's state, and its own writer of it (as LiveKit Agents' RoomIO is)."""

    def __init__(self, room: InMemoryRoom) -> None:
        self.room = room
        self.state = "initializing"

    async def set(self, state: str) -> None:
        self.state = state
        await self.room.set_attributes({ATTR_AGENT_STATE: state})


@pytest.fixture
async def call() -> AsyncIterator[
    tuple[InMemoryServer, Framework, SessionSyncClient, LastChangeOnly]
]:
    server = InMemoryServer()
    agent_room = await server.connect("room", AGENT, kind="agent")
    user_room = await server.connect("room", USER)
    page = LastChangeOnly()
    user_room.subscribe(page)
    framework = Framework(agent_room)
    await framework.set("listening")  # AgentSession.start, before the session sync starts
    sync = SessionSynchronizer(
        agent_room,
        turn_taking=InMemoryTurnTaking(),
        linked_identity=USER,
        options=SyncOptions(initial_sync_delay=3600, validation_interval=3600),
        agent_state=lambda: framework.state,
    )
    await sync.start("text")
    await server.settle()
    yield server, framework, SessionSyncClient(user_room, AGENT), page
    await sync.aclose()


async def test_the_last_change_after_the_session_starts_names_the_agents_state(call):
    _, _, client, page = call
    assert page.last.get(ATTR_AGENT_STATE) == "listening", page.last
    assert client.agent_attributes()["session.type"] == "text"


async def test_the_last_change_after_each_command_names_the_agents_state(call):
    server, framework, client, page = call
    for method, params in [
        ("session.switch", {"sessionType": "voice-vad"}),
        ("session.set_muted", {"muted": True}),
        ("session.set_muted", {"muted": False}),
        ("session.switch", {"sessionType": "text"}),
        ("session.sync", {}),
    ]:
        await client.call(method, params)
        await server.settle()
        assert page.last.get(ATTR_AGENT_STATE) == "listening", (method, page.last)
    # The agent also speaks: a change while speaking ends on `speaking`.
    await framework.set("speaking")
    await client.call("session.switch", {"sessionType": "voice-ptt"})
    await server.settle()
    assert page.last.get(ATTR_AGENT_STATE) == "speaking", page.last
    assert client.agent_attributes()[ATTR_AGENT_STATE] == "speaking"


async def test_every_update_carries_the_state_and_none_is_left_marked(call):
    server, framework, client, page = call
    await framework.set("thinking")  # answering: nothing is marked, the state is carried
    before = page.changes
    await client.call("session.switch", {"sessionType": "voice-vad"})
    await server.settle()
    assert page.changes > before
    assert client.agent_attributes()[ATTR_AGENT_STATE] == "thinking"
    await framework.set("listening")
    await server.settle()
    assert page.last == {ATTR_AGENT_STATE: "listening"}


async def test_a_state_change_while_an_update_is_marked_is_what_the_page_ends_on(call):
    server, framework, client, page = call
    # The state moves on before the update that restores it goes out.
    framework.state = "speaking"
    await client.call("session.switch", {"sessionType": "voice-vad"})
    await server.settle()
    assert page.last.get(ATTR_AGENT_STATE) == "speaking", page.last
    assert client.agent_attributes()[ATTR_AGENT_STATE] == "speaking"


async def test_without_an_agent_session_the_key_is_left_alone():
    server = InMemoryServer()
    agent_room = await server.connect("room", AGENT, kind="agent")
    await server.connect("room", USER)
    sync = SessionSynchronizer(agent_room, linked_identity=USER)
    await sync.start("text")
    await server.settle()
    assert ATTR_AGENT_STATE not in agent_room.local_attributes()
    await sync.aclose()


async def test_a_page_that_follows_the_agent_only_after_the_session_started_learns_its_state():
    server = InMemoryServer()
    agent_room = await server.connect("room", AGENT, kind="agent")
    user_room = await server.connect("room", USER)
    framework = Framework(agent_room)
    await framework.set("listening")
    sync = SessionSynchronizer(
        agent_room,
        turn_taking=InMemoryTurnTaking(),
        linked_identity=USER,
        options=SyncOptions(initial_sync_delay=0.05, validation_interval=0.05),
        agent_state=lambda: framework.state,
    )
    await sync.start("text")
    await server.settle()
    page = LastChangeOnly()
    user_room.subscribe(page)  # as useAgent does once it has rendered: every change is past
    try:
        await asyncio.sleep(0.5)  # ten passes: the state is announced after the first two only
        assert page.last.get(ATTR_AGENT_STATE) == "listening", page.last
        assert page.changes == 4  # twice marked `thinking`, twice set back
    finally:
        await sync.aclose()

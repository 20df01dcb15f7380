"""When the agent checks itself: the periodic pass obeys its switch, and a fresh change is
not mistaken for drift while the room has yet to echo it."""

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from livekit.plugins.session_sync import SessionSynchronizer, SyncOptions
from livekit.plugins.session_sync.testing import (
    InMemoryRoom,
    InMemoryServer,
    InMemoryTurnTaking,
    SessionSyncClient,
    eventually,
)

from .conftest import Harness

FAST = SyncOptions(initial_sync_delay=0.01, validation_interval=0.01)


@pytest.mark.parametrize("options", [FAST])
async def test_turning_periodic_sync_off_stops_the_periodic_corrections(
    harness: Harness,
) -> None:
    client = harness.client
    await client.call("session.start", {"sessionType": "voice-vad"})
    await client.call("session.set_sync_enabled", {"enabled": False})
    harness.turns.audio_input_enabled = False  # drift the timer would otherwise repair
    await asyncio.sleep(0.15)  # many validation intervals
    await harness.settle()
    assert harness.turns.audio_input_enabled is False
    assert client.events_of("session_inconsistency") == []
    assert client.session()["inconsistencyDetected"] is False

    await client.call("session.set_sync_enabled", {"enabled": True})
    await eventually(lambda: harness.turns.audio_input_enabled is True, message="the repair")


class EchoLaggingRoom:
    """A room that, like LiveKit's SDK, shows the agent's own attributes only once the server
    has echoed them: until `echo()`, `local_attributes` returns what was set before."""

    def __init__(self, room: InMemoryRoom) -> None:
        self._room = room
        self._shown: dict[str, str] = dict(room.local_attributes())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._room, name)

    def local_attributes(self) -> Mapping[str, str]:
        return dict(self._shown)

    def echo(self) -> None:
        self._shown = dict(self._room.local_attributes())


async def test_a_change_is_not_reported_as_drift_before_the_room_echoes_it() -> None:
    server = InMemoryServer()
    agent_room = EchoLaggingRoom(await server.connect("r", "agent", kind="agent"))
    client = SessionSyncClient(await server.connect("r", "user"), "agent")
    sync = SessionSynchronizer(
        agent_room,  # type: ignore[arg-type]
        turn_taking=InMemoryTurnTaking(),
        linked_identity="user",
        options=SyncOptions(initial_sync_delay=3600, validation_interval=3600),
    )
    await sync.start()
    try:
        await client.call("session.start", {"sessionType": "voice-ptt"})
        await client.call("session.set_muted", {"muted": True})
        await server.settle()
        assert client.events_of("session_inconsistency") == []
        assert client.session()["inconsistencyDetected"] is False

        # Once echoed, the room's view is what a later validation judges.
        agent_room.echo()
        assert (await client.call("session.validate"))["isValid"] is True
    finally:
        await sync.aclose()


ANNOUNCING = SyncOptions(
    initial_sync_delay=0.01, validation_interval=0.05, announce_clean_passes=True
)


@pytest.mark.parametrize("options", [ANNOUNCING])
async def test_a_clean_timer_pass_is_announced_without_changing_the_session(
    harness: Harness,
) -> None:
    client = harness.client
    await client.call("session.start", {"sessionType": "text"})
    revision = client.session()["revision"]
    attributes_seq = client.agent_attributes()["session.seq"]
    await eventually(
        lambda: (
            len(
                [
                    e
                    for e in client.events_of("session_state_sync")
                    if e["payload"]["trigger"] == "periodic"
                ]
            )
            >= 2
        ),
        message="two announced periodic passes",
    )
    await harness.settle()
    announced = [
        e for e in client.events_of("session_state_sync") if e["payload"]["trigger"] == "periodic"
    ]
    assert {e["payload"]["frontendState"]["revision"] for e in announced} == {revision}
    assert client.session()["revision"] == revision
    assert client.events_of("session_inconsistency") == []
    # They change nothing an app must not miss: the attributes are not republished for them.
    assert client.agent_attributes()["session.seq"] == attributes_seq


@pytest.mark.parametrize("options", [FAST])
async def test_clean_timer_passes_are_silent_unless_announced(harness: Harness) -> None:
    client = harness.client
    await client.call("session.start", {"sessionType": "text"})
    seq = harness.sync._publisher.seq
    await asyncio.sleep(0.15)  # many validation intervals
    await harness.settle()
    assert harness.sync._publisher.seq == seq

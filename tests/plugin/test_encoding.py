"""Each revision of a session is encoded once, and its event carries that same encoding."""

import json

import pytest

from livekit.plugins.session_sync import SessionConfig, SessionSynchronizer, SyncOptions, attributes
from livekit.plugins.session_sync.protocol import (
    EventPayload,
    SessionSyncEvent,
    encode,
    encode_event,
    encode_session,
)
from livekit.plugins.session_sync.testing.room import InMemoryServer
from livekit.plugins.session_sync.testing.turn_taking import InMemoryTurnTaking

from .conftest import AGENT, USER, Harness

OPTIONS = SyncOptions(initial_sync_delay=3600, validation_interval=3600)


def _config() -> SessionConfig:
    return SessionConfig.model_validate(
        {
            "session_id": "s1",
            "revision": 4,
            "type": "voice-ptt",
            "state": "active",
            "started_at": "2026-01-02T03:04:05.678Z",
            "turn_detection": "client",
            "voice_mode": "push-to-talk",
            "room_id": "room-a",
        }
    )


def test_an_event_encoded_with_its_session_already_encoded_is_the_same_bytes() -> None:
    config = _config()
    event = SessionSyncEvent(
        type="session_state_sync",
        seq=7,
        payload=EventPayload(
            session_id="s1",
            frontend_state=config,
            room_state={"roomId": "room-a", "connectionState": "connected"},
            timestamp=1,
            trigger="manual \udc80 é",  # escaped the same way on both paths
            detail="why",
        ),
    )
    wire = encode_session(config, ptt_pressed=False).wire
    assert encode_event(event, wire) == encode(event)
    assert list(json.loads(encode_event(event, wire))["payload"])[:2] == [
        "sessionId",
        "frontendState",
    ]


async def test_many_sessions_each_encode_a_revision_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """More sessions than a process-wide cache would hold, validated in turn, as their
    periodic validations run: no pass encodes the session again."""
    encoded: list[int] = []
    real = attributes.encode_session

    def counting(config: SessionConfig, *, ptt_pressed: bool) -> attributes.EncodedSession:
        encoded.append(config.revision)
        return real(config, ptt_pressed=ptt_pressed)

    monkeypatch.setattr(attributes, "encode_session", counting)
    syncs: list[SessionSynchronizer] = []
    for i in range(80):
        server = InMemoryServer()
        room = await server.connect(f"room-{i}", AGENT, kind="agent")
        await server.connect(f"room-{i}", USER)
        sync = SessionSynchronizer(
            room, turn_taking=InMemoryTurnTaking(), linked_identity=USER, options=OPTIONS
        )
        await sync.start("text")
        await server.settle()
        syncs.append(sync)
    revisions = sum(sync.config.revision for sync in syncs)  # one encoding per revision
    assert len(encoded) == revisions
    for _ in range(3):
        for sync in syncs:
            assert sync.validate().is_valid
    assert len(encoded) == revisions
    for sync in syncs:
        await sync.aclose()


async def test_a_command_by_data_is_answered_and_published_as_by_rpc(harness: Harness) -> None:
    await harness.client.call("session.start", {"sessionType": "voice-ptt"})
    await harness.settle()
    by_rpc = harness.sync.config.revision
    await harness.client.send("session.set_muted", {"muted": True})
    await harness.settle()
    [reply] = harness.client.replies.values()
    assert reply["type"] == "ack"
    assert reply["result"]["isMuted"] is True
    assert harness.sync.config.revision == by_rpc + 1
    assert harness.agent_room.local_attributes()["session.muted"] == "true"
    assert harness.sync.validate().is_valid


async def test_the_published_attributes_are_exactly_the_contracts_session_attributes(
    harness: Harness,
) -> None:
    fields = attributes.SessionAttributes.model_fields.values()
    contract_keys = {f.alias for f in fields}
    required_keys = {f.alias for f in fields if f.is_required()}
    for step in ({"sessionType": "voice-ptt"}, None):
        if step is None:
            await harness.client.call("session.ptt_start")
        else:
            await harness.client.call("session.start", step)
        await harness.settle()
        published = harness.client.agent_attributes()
        # `lk.agent.state` comes with an AgentSession, which this agent does not run.
        assert required_keys <= set(published) <= contract_keys
        assert set(published) == required_keys
        attributes.SessionAttributes.model_validate(published)

"""The seed's four scenarios, driven from the app's side through the in-memory room."""

import asyncio

import pytest

from livekit.plugins.session_sync import SyncOptions
from livekit.plugins.session_sync.testing.client import eventually

from .conftest import Harness


async def test_basic_session_sync(harness: Harness) -> None:
    client = harness.client
    idle = client.session()
    assert idle["state"] == "idle" and idle["type"] is None and idle["roomId"] == "room-a"

    result = await client.call("session.start", {"sessionType": "text"})
    await harness.settle()

    session = client.session()
    assert result == session
    assert session["type"] == "text"
    assert session["state"] == "active"
    assert session["turnDetection"] == "none"
    assert session["voiceActivityEnabled"] is False
    assert session["startedAt"].endswith("Z")
    attrs = client.agent_attributes()
    assert attrs["session.state"] == "active"
    assert attrs["session.type"] == "text"
    assert attrs["session.revision"] == str(session["revision"])

    syncs = client.events_of("session_state_sync")
    assert [e["payload"]["frontendState"]["state"] for e in syncs[-2:]] == ["syncing", "active"]
    last = syncs[-1]["payload"]
    assert last["sessionId"] == session["sessionId"]
    assert last["trigger"] == "session.start"
    assert isinstance(last["timestamp"], int)
    assert harness.turns.audio_input_enabled is False


async def test_voice_session_with_turn_detection(harness: Harness) -> None:
    client = harness.client
    await client.call("session.start", {"sessionType": "voice-vad"})
    await harness.settle()
    session = client.session()
    assert (session["turnDetection"], session["voiceMode"], session["voiceActivityEnabled"]) == (
        "server",
        "continuous",
        True,
    )
    assert harness.turns.turn_detection == "server"
    assert harness.turns.audio_input_enabled is True

    reply = await client.request("session.switch", {"sessionType": "voice-ptt"})
    assert reply["type"] == "ack"
    assert reply["result"]["turnDetection"] == "client"
    assert harness.turns.turn_detection == "client"
    assert harness.turns.audio_input_enabled is False  # only while the button is held

    await client.call("session.ptt_start")
    assert harness.turns.audio_input_enabled is True
    await harness.settle()
    assert client.agent_attributes()["session.pushToTalk"] == "pressed"
    await client.call("session.ptt_end")
    assert harness.turns.audio_input_enabled is False
    assert harness.turns.calls[-1] == "commit"


async def test_connection_interruption_recovery(harness: Harness) -> None:
    client = harness.client
    await client.call("session.start", {"sessionType": "voice-vad"})
    await harness.settle()
    seq_before = client.events[-1]["seq"]

    harness.agent_room.simulate_reconnecting()
    await harness.settle()
    assert harness.sync.config.state == "syncing"
    assert client.events[-1]["seq"] == seq_before  # nothing gets through while the link is down

    harness.agent_room.simulate_reconnected()
    await harness.settle()

    after = client.events[[e["seq"] for e in client.events].index(seq_before) + 1 :]
    types = [e["type"] for e in after]
    assert types[0] == "connection_interruption"
    assert types[-1] == "session_state_sync"
    assert after[-1]["payload"]["trigger"] == "reconnected"
    seqs = [e["seq"] for e in after]
    assert seqs == sorted(seqs)
    assert client.unsolicited[-1]["type"] == "snapshot"
    assert client.session()["state"] == "active"
    assert client.session() == after[-1]["payload"]["frontendState"]


@pytest.mark.parametrize(
    "options", [SyncOptions(initial_sync_delay=0.01, validation_interval=0.02)]
)
async def test_validation_with_auto_correction(harness: Harness) -> None:
    client = harness.client
    await client.call("session.start", {"sessionType": "voice-ptt"})
    await harness.settle()
    # Drift the agent behind the synchronizer's back: the mic opens outside a press.
    harness.turns.audio_input_enabled = True

    await eventually(lambda: bool(client.events_of("session_inconsistency")), message="a report")
    await eventually(lambda: harness.turns.audio_input_enabled is False, message="the fix")
    await harness.settle()
    report = client.events_of("session_inconsistency")[0]["payload"]
    assert report["trigger"].endswith(":audio_input")
    assert "audio input is on" in report["detail"]
    session = client.session()
    assert session["inconsistencyDetected"] is True
    assert session["syncAttempts"] >= 1
    assert session["lastSyncAt"] is not None


async def test_validate_on_request_returns_the_seed_result(harness: Harness) -> None:
    client = harness.client
    await client.call("session.start", {"sessionType": "voice-vad"})
    harness.turns.turn_detection = "client"
    result = await client.call("session.validate")
    assert result["isValid"] is False
    assert result["needsResync"] is True
    assert any("turn detection" in text for text in result["inconsistencies"])
    assert harness.turns.turn_detection == "server"
    assert (await client.call("session.validate"))["isValid"] is True


@pytest.mark.parametrize(
    "options",
    [SyncOptions(initial_sync_delay=3600, validation_interval=3600, max_press_seconds=0.05)],
)
async def test_press_held_past_the_limit_is_ended_for_the_user(harness: Harness) -> None:
    client = harness.client
    await client.call("session.start", {"sessionType": "voice-ptt"})
    await client.call("session.ptt_start")
    await eventually(lambda: not harness.sync.ptt_pressed, message="the press to end")
    await harness.settle()
    assert harness.turns.audio_input_enabled is False
    assert harness.turns.calls[-1] == "commit"
    assert client.agent_attributes()["session.pushToTalk"] == "released"
    assert client.events[-1]["payload"]["trigger"] == "ptt_max_duration"


async def test_rejoining_user_gets_a_snapshot_of_the_running_session(harness: Harness) -> None:
    from livekit.plugins.session_sync.testing import SessionSyncClient

    await harness.client.call("session.start", {"sessionType": "voice-vad"})
    await harness.user_room.disconnect()
    await harness.settle()
    assert harness.sync.config.state == "active"  # a user leaving is not the end of the session

    rejoined = SessionSyncClient(await harness.server.connect("room-a", "user"), "agent")
    await harness.settle()
    snapshot = rejoined.unsolicited[-1]
    assert snapshot["type"] == "snapshot"
    assert snapshot["session"]["type"] == "voice-vad"
    assert rejoined.session() == snapshot["session"]
    assert (await rejoined.call("session.set_muted", {"muted": True}))["isMuted"] is True


async def test_lost_connection_moves_the_session_to_error(harness: Harness) -> None:
    seen: list[str] = []
    harness.sync.on_event(lambda e: seen.append(f"{e.type}:{e.payload.trigger}"))
    await harness.client.call("session.start", {"sessionType": "text"})
    await harness.agent_room.disconnect("SIGNAL_CLOSE")
    await harness.settle()
    assert harness.sync.config.state == "error"
    assert seen[-1] == "room_state_change:disconnected:SIGNAL_CLOSE"


async def test_room_closed_by_the_app_moves_the_session_to_ending(harness: Harness) -> None:
    await harness.client.call("session.start", {"sessionType": "text"})
    harness.server.delete_room("room-a")
    await harness.settle()
    assert harness.sync.config.state == "ending"


@pytest.mark.parametrize(
    "options", [SyncOptions(initial_sync_delay=3600, validation_interval=3600, leave_grace=0.05)]
)
async def test_user_leaving_mid_press_has_the_press_ended(harness: Harness) -> None:
    await harness.client.call("session.start", {"sessionType": "voice-ptt"})
    await harness.client.call("session.ptt_start")
    await harness.user_room.disconnect()
    await eventually(lambda: not harness.sync.ptt_pressed, message="the press to end")
    assert harness.turns.audio_input_enabled is False
    assert harness.turns.calls[-1] == "commit"  # what was said is kept


async def test_user_back_within_the_grace_has_reconnected_not_left(harness: Harness) -> None:
    from livekit.plugins.session_sync.testing import SessionSyncClient

    await harness.client.call("session.start", {"sessionType": "voice-ptt"})
    await harness.client.call("session.ptt_start")
    seen: list[str] = []
    harness.sync.on_event(lambda e: seen.append(e.payload.trigger or ""))
    await harness.user_room.disconnect()
    back = SessionSyncClient(await harness.server.connect("room-a", "user"), "agent")
    await eventually(lambda: "participant_reconnected" in seen, message="the return")
    assert harness.sync.ptt_pressed
    assert "participant_left" not in seen
    assert (await back.call("session.ptt_end"))["state"] == "active"


async def test_type_requested_before_the_agent_listened_is_applied_on_join() -> None:
    from livekit.plugins.session_sync import SessionSynchronizer
    from livekit.plugins.session_sync.testing import InMemoryServer, InMemoryTurnTaking

    server = InMemoryServer()
    agent_room = await server.connect("r", "agent", kind="agent")
    sync = SessionSynchronizer(agent_room, turn_taking=InMemoryTurnTaking(), linked_identity="u")
    await sync.start()
    await server.connect("r", "u", attributes={"session.requestedType": "voice-vad"})
    await eventually(lambda: sync.config.type == "voice-vad", message="the requested type")
    await sync.aclose()


async def test_switching_to_text_unmutes(harness: Harness) -> None:
    await harness.client.call("session.start", {"sessionType": "voice-vad"})
    await harness.client.call("session.set_muted", {"muted": True})
    to_text = await harness.client.call("session.switch", {"sessionType": "text"})
    assert to_text["isMuted"] is False
    back = await harness.client.call("session.switch", {"sessionType": "voice-ptt"})
    assert back["isMuted"] is False


async def test_turning_periodic_sync_off_changes_nothing_else(harness: Harness) -> None:
    await harness.client.call("session.start", {"sessionType": "voice-vad"})
    harness.turns.audio_input_enabled = False  # drift, left for the timer to find
    before = harness.sync.config
    await harness.client.call("session.set_sync_enabled", {"enabled": False})
    assert harness.sync.config.revision == before.revision + 1
    after = harness.sync.config.model_dump(exclude={"revision"})
    assert after == before.model_dump(exclude={"revision"})
    assert harness.sync.snapshot().sync_enabled is False
    assert harness.turns.audio_input_enabled is False  # the drift is left alone


async def test_failed_end_still_ends_the_session(harness: Harness) -> None:
    await harness.client.call("session.start", {"sessionType": "voice-vad"})
    harness.turns.fail_next_apply = RuntimeError("audio device gone")
    result = await harness.client.call("session.end")
    assert (result["state"], result["type"]) == ("idle", None)
    await harness.settle()
    assert harness.client.session()["state"] == "idle"
    # The microphone could not be closed then; validation closes it.
    await harness.client.call("session.validate")
    assert harness.turns.audio_input_enabled is False


async def test_failed_release_still_closes_the_microphone(harness: Harness) -> None:
    await harness.client.call("session.start", {"sessionType": "voice-ptt"})
    await harness.client.call("session.ptt_start")
    harness.turns.fail_next_turn_call = RuntimeError("AgentSession isn't running")
    result = await harness.client.call("session.ptt_end")
    await harness.settle()
    assert harness.client.agent_attributes()["session.pushToTalk"] == "released"
    assert result["state"] == "active"
    validation = await harness.client.call("session.validate")
    assert validation["isValid"] is True
    assert harness.turns.audio_input_enabled is False


async def test_agent_that_cannot_start_its_session_shows_error_and_can_retry() -> None:
    from livekit.plugins.session_sync import SessionSynchronizer
    from livekit.plugins.session_sync.testing import (
        InMemoryServer,
        InMemoryTurnTaking,
        SessionSyncClient,
    )

    server = InMemoryServer()
    agent_room = await server.connect("r", "agent", kind="agent")
    client = SessionSyncClient(await server.connect("r", "u"), "agent")
    turns = InMemoryTurnTaking()
    turns.fail_next_apply = RuntimeError("model failed to load")
    sync = SessionSynchronizer(agent_room, turn_taking=turns, linked_identity="u")
    await sync.start("voice-vad")  # must not raise: the call goes on
    await server.settle()
    assert client.session()["state"] == "error"
    failed = client.events_of("session_state_sync")[-1]["payload"]
    assert (failed["trigger"], failed["detail"]) == ("agent_start:failed", "model failed to load")

    result = await client.call("session.start", {"sessionType": "voice-vad"})
    assert result["state"] == "active"
    await sync.aclose()


async def test_stale_requested_type_does_not_undo_a_later_switch(harness: Harness) -> None:
    await harness.user_room.set_attributes({"session.requestedType": "voice-vad"})
    await harness.settle()
    await harness.client.call("session.switch", {"sessionType": "text"})
    await harness.user_room.disconnect()
    await harness.settle()
    from livekit.plugins.session_sync.testing import SessionSyncClient

    back = SessionSyncClient(
        await harness.server.connect(
            "room-a", "user", attributes={"session.requestedType": "voice-vad"}
        ),
        "agent",
    )
    await harness.settle()
    assert back.session()["type"] == "text"


@pytest.mark.parametrize(
    "options", [SyncOptions(initial_sync_delay=3600, validation_interval=3600, outbox_limit=2)]
)
async def test_events_lost_while_down_show_as_a_seq_gap_and_a_snapshot_heals_it(
    harness: Harness,
) -> None:
    client = harness.client
    await client.call("session.start", {"sessionType": "voice-vad"})
    await harness.settle()
    last_seen = client.events[-1]["seq"]
    harness.agent_room.simulate_reconnecting()
    await harness.settle()
    for muted in (True, False, True):  # agent-side changes while the link is down
        await harness.sync.request("session.set_muted", {"muted": muted})
    harness.agent_room.simulate_reconnected()
    await harness.settle()

    seqs = [e["seq"] for e in client.events]
    after = [s for s in seqs if s > last_seen]
    assert after[0] > last_seen + 1, "the overflowed outbox must leave a visible gap"
    snapshot = client.unsolicited[-1]
    assert snapshot["type"] == "snapshot"
    assert snapshot["session"]["isMuted"] is True
    assert client.session() == snapshot["session"]


async def test_command_whose_caller_timed_out_still_completes(harness: Harness) -> None:

    from livekit import rtc

    await harness.client.call("session.start", {"sessionType": "text"})
    original_apply = harness.turns.apply

    async def slow_apply(target):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.3)
        await original_apply(target)

    harness.turns.apply = slow_apply  # type: ignore[method-assign]
    with pytest.raises(rtc.RpcError) as err:
        await harness.user_room.perform_rpc(
            destination_identity="agent",
            method="session.switch",
            payload='{"sessionType": "voice-vad"}',
            response_timeout=0.05,
        )
    assert err.value.code == rtc.RpcError.ErrorCode.RESPONSE_TIMEOUT
    await eventually(lambda: harness.sync.config.state == "active", message="the switch")
    await harness.settle()
    assert harness.client.session()["type"] == "voice-vad"
    assert harness.turns.turn_detection == "server"


async def test_command_during_reconnect_settles_when_the_link_is_back(harness: Harness) -> None:
    await harness.client.call("session.start", {"sessionType": "text"})
    harness.agent_room.simulate_reconnecting()
    await harness.settle()
    result = await harness.sync.request("session.switch", {"sessionType": "voice-vad"})
    assert result.state == "syncing"  # type: ignore[union-attr]
    assert result.inconsistency_detected is False  # type: ignore[union-attr]
    harness.agent_room.simulate_reconnected()
    await harness.settle()
    session = harness.client.session()
    assert (session["type"], session["state"]) == ("voice-vad", "active")
    assert session["inconsistencyDetected"] is False


async def test_switch_to_the_running_type_keeps_a_held_press(harness: Harness) -> None:
    await harness.client.call("session.start", {"sessionType": "voice-ptt"})
    await harness.client.call("session.ptt_start")
    await harness.client.call("session.switch", {"sessionType": "voice-ptt"})
    assert harness.sync.ptt_pressed
    await harness.client.call("session.ptt_end")
    assert harness.turns.calls[-1] == "commit"


async def test_closing_refuses_commands_still_waiting() -> None:
    from livekit.plugins.session_sync import ErrorCode, ProtocolError, SessionSynchronizer
    from livekit.plugins.session_sync.testing import InMemoryServer, InMemoryTurnTaking

    server = InMemoryServer()
    agent_room = await server.connect("r", "agent", kind="agent")
    sync = SessionSynchronizer(agent_room, turn_taking=InMemoryTurnTaking(), linked_identity="u")
    await sync.start()
    await sync.aclose()
    with pytest.raises(ProtocolError) as err:
        await sync.request("session.start", {"sessionType": "text"})
    assert err.value.code is ErrorCode.UNAVAILABLE

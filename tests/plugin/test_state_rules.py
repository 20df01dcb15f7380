"""The session's rules hold at every step the app can see: what the agent listens to, what
a switch accepts, which order the app learns things in, and that every change is announced."""

import pytest
from livekit import rtc

from livekit.plugins.session_sync import SyncOptions
from livekit.plugins.session_sync.testing import SessionSyncClient, eventually

from .conftest import AGENT, ROOM, USER, Harness


def _room_config(session_id: str, session_type: str = "voice-ptt") -> dict[str, object]:
    return {
        "sessionId": session_id,
        "sessionType": session_type,
        "turnDetection": "client" if session_type == "voice-ptt" else "server",
        "voiceActivityEnabled": True,
    }


async def test_switch_to_the_running_type_with_another_sessions_room_config_is_refused(
    harness: Harness,
) -> None:
    started = await harness.client.call("session.start", {"sessionType": "voice-ptt"})
    with pytest.raises(rtc.RpcError) as err:
        await harness.client.call(
            "session.switch",
            {"sessionType": "voice-ptt", "roomConfig": _room_config("someone-else")},
        )
    assert err.value.code == 2422
    assert "roomConfig" not in await harness.client.call("session.snapshot")
    assert harness.sync.config.revision == started["revision"]


async def test_room_config_problems_are_reported_together(harness: Harness) -> None:
    started = await harness.client.call("session.start", {"sessionType": "voice-ptt"})
    wrong = {**_room_config("someone-else", "voice-vad"), "turnDetection": "client"}
    reply = await harness.client.request(
        "session.switch", {"sessionType": "voice-vad", "roomConfig": wrong}
    )
    problems = reply["error"]["details"]["problems"]
    assert any("sessionId" in p for p in problems)
    assert any("turnDetection" in p for p in problems)
    assert harness.client.session()["revision"] == started["revision"]


async def test_storing_a_room_config_is_announced_with_a_new_revision(harness: Harness) -> None:
    started = await harness.client.call("session.start", {"sessionType": "voice-ptt"})
    room_config = _room_config(started["sessionId"])
    result = await harness.client.call(
        "session.switch", {"sessionType": "voice-ptt", "roomConfig": room_config}
    )
    await harness.settle()
    assert result["revision"] == started["revision"] + 1
    assert harness.client.events[-1]["payload"]["frontendState"]["revision"] == result["revision"]


async def test_turning_periodic_sync_off_is_announced_with_a_new_revision(
    harness: Harness,
) -> None:
    before = harness.sync.config.revision
    result = await harness.client.call("session.set_sync_enabled", {"enabled": False})
    await harness.settle()
    assert result["revision"] == before + 1
    assert harness.client.session()["revision"] == before + 1
    assert harness.client.events[-1]["payload"]["frontendState"]["revision"] == before + 1


@pytest.mark.parametrize(
    "options", [SyncOptions(initial_sync_delay=3600, validation_interval=3600, leave_grace=0.0)]
)
async def test_a_leave_and_rejoin_mid_press_are_told_in_order(harness: Harness) -> None:
    seen: list[str] = []
    harness.sync.on_event(
        lambda e: seen.append(e.payload.trigger) if e.type == "room_state_change" else None
    )
    await harness.client.call("session.start", {"sessionType": "voice-ptt"})
    await harness.client.call("session.ptt_start")
    harness.turns.delay = 0.05  # releasing the press takes a moment
    await harness.user_room.disconnect()
    back = SessionSyncClient(await harness.server.connect(ROOM, USER), AGENT)
    await eventually(lambda: "participant_rejoined" in seen, message="the rejoin")
    await harness.settle()
    assert not harness.sync.ptt_pressed
    left, rejoined = seen.index("participant_left"), seen.index("participant_rejoined")
    assert left < rejoined
    assert back.session()["state"] == "active"


async def _published_states_with_audio(harness: Harness) -> list[tuple[str, bool]]:
    await harness.settle()
    return [
        (e["payload"]["frontendState"]["state"], e["payload"]["roomState"]["audioInputEnabled"])
        for e in harness.client.events
    ]


async def test_ending_a_voice_session_stops_listening_before_it_says_ending(
    harness: Harness,
) -> None:
    await harness.client.call("session.start", {"sessionType": "voice-vad"})
    await harness.client.call("session.end")
    states = await _published_states_with_audio(harness)
    assert ("ending", False) in states
    assert ("ending", True) not in states
    assert harness.turns.audio_input_enabled is False


async def test_a_failed_mute_stops_listening_before_it_says_error(harness: Harness) -> None:
    await harness.client.call("session.start", {"sessionType": "voice-vad"})
    harness.turns.fail_next_apply = RuntimeError("device lost")
    with pytest.raises(rtc.RpcError):
        await harness.client.call("session.set_muted", {"muted": True})
    states = await _published_states_with_audio(harness)
    assert states[-1] == ("error", False)
    assert harness.turns.audio_input_enabled is False


async def test_a_failure_while_ending_still_leaves_the_microphone_off(harness: Harness) -> None:
    await harness.client.call("session.start", {"sessionType": "voice-vad"})
    harness.turns.fail_next_apply = RuntimeError("device lost")
    await harness.client.call("session.end")
    states = await _published_states_with_audio(harness)
    assert states[-1] == ("idle", False)
    assert ("idle", True) not in states

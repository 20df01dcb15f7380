"""The session model speaks the frontend's TypeScript types exactly."""

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from livekit.plugins.session_sync import (
    ALLOWED_TRANSITIONS,
    RoomConfig,
    SessionConfig,
    TransitionError,
    turn_profile,
)
from livekit.plugins.session_sync.policy import (
    check_transition,
    expected_audio_input,
    room_config_contradictions,
)

SEED_SESSION_FIELDS = {
    "type",
    "state",
    "startedAt",
    "voiceMode",
    "isMuted",
    "turnDetection",
    "roomId",
    "lastSyncAt",
    "syncAttempts",
    "inconsistencyDetected",
    "voiceActivityEnabled",
}


def _config(**overrides: object) -> SessionConfig:
    base: dict[str, object] = {
        "session_id": "s1",
        "revision": 3,
        "type": "voice-ptt",
        "state": "active",
    }
    return SessionConfig.model_validate({**base, **overrides})


def test_wire_config_uses_the_seed_field_names_plus_id_and_revision() -> None:
    full = _config(
        voice_mode="push-to-talk", room_id="room-a", last_sync_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    assert set(full.to_wire()) == SEED_SESSION_FIELDS | {"sessionId", "revision"}


def test_optional_fields_without_a_value_are_left_out_not_sent_as_null() -> None:
    wire = SessionConfig(session_id="s1", revision=1, type=None, state="idle").to_wire()
    assert {"voiceMode", "roomId", "lastSyncAt"}.isdisjoint(wire)
    # The seed declares these two without `?`: `type: SessionType` (null included) and
    # `startedAt: Date | null`.
    assert (wire["type"], wire["startedAt"]) == (None, None)


def test_a_config_sent_with_nulls_by_an_older_agent_still_reads() -> None:
    older = {**_config().to_wire(), "voiceMode": None, "roomId": None, "lastSyncAt": None}
    assert SessionConfig.model_validate(older) == _config()


def test_times_are_iso_utc_strings_that_javascript_dates_parse() -> None:
    started = datetime(2026, 11, 25, 9, 30, 1, 250000, tzinfo=UTC)
    wire = _config(started_at=started, last_sync_at=started).to_wire()
    assert wire["startedAt"] == "2026-11-25T09:30:01.250Z"
    assert wire["lastSyncAt"] == "2026-11-25T09:30:01.250Z"
    assert json.loads(json.dumps(wire))["startedAt"].endswith("Z")


def test_wire_config_round_trips() -> None:
    original = _config(started_at=datetime(2026, 1, 1, tzinfo=UTC), is_muted=True)
    assert SessionConfig.model_validate(original.to_wire()) == original


@pytest.mark.parametrize(
    ("session_type", "turn_detection", "voice_mode", "voice_activity"),
    [
        ("text", "none", None, False),
        ("voice-ptt", "client", "push-to-talk", True),
        ("voice-vad", "server", "continuous", True),
        (None, "none", None, False),
    ],
)
def test_turn_taking_follows_the_seed_table(
    session_type: str | None, turn_detection: str, voice_mode: str | None, voice_activity: bool
) -> None:
    profile = turn_profile(session_type)  # type: ignore[arg-type]
    assert profile.turn_detection == turn_detection
    assert profile.voice_mode == voice_mode
    assert profile.voice_activity_enabled is voice_activity


def test_unknown_state_or_type_is_refused() -> None:
    with pytest.raises(ValidationError):
        _config(state="paused")
    with pytest.raises(ValidationError):
        _config(type="video")


def test_disallowed_transition_names_current_and_allowed_states() -> None:
    with pytest.raises(TransitionError) as err:
        check_transition("idle", "ending")
    assert err.value.current == "idle"
    assert set(err.value.allowed) == set(ALLOWED_TRANSITIONS["idle"])
    assert "idle" in str(err.value) and "active" in str(err.value)


def test_every_state_can_stay_where_it_is() -> None:
    for state in ALLOWED_TRANSITIONS:
        check_transition(state, state)


@pytest.mark.parametrize(
    ("session_type", "muted", "pressed", "expected"),
    [
        ("text", False, False, False),
        ("voice-vad", False, False, True),
        ("voice-vad", True, False, False),
        ("voice-ptt", False, False, False),
        ("voice-ptt", False, True, True),
        ("voice-ptt", True, True, False),
    ],
)
def test_audio_input_is_on_only_when_the_type_and_press_say_so(
    session_type: str, muted: bool, pressed: bool, expected: bool
) -> None:
    assert (
        expected_audio_input(session_type, "active", muted=muted, ptt_pressed=pressed)  # type: ignore[arg-type]
        is expected
    )


def test_audio_input_is_off_without_a_live_session() -> None:
    assert not expected_audio_input("voice-vad", "idle", muted=False, ptt_pressed=False)
    assert not expected_audio_input("voice-vad", "error", muted=False, ptt_pressed=False)


def test_voice_room_config_without_voice_activity_is_a_contradiction() -> None:
    room_config = RoomConfig(
        session_id="s1",
        session_type="voice-vad",
        turn_detection="server",
        voice_activity_enabled=False,
    )
    problems = room_config_contradictions(room_config, "voice-vad")
    assert len(problems) == 1
    assert "voiceActivityEnabled" in problems[0]


def test_matching_room_config_has_no_contradictions() -> None:
    room_config = RoomConfig(
        session_id="s1", session_type="text", turn_detection="none", voice_activity_enabled=False
    )
    assert room_config_contradictions(room_config, "text") == []


def test_room_config_parses_the_frontend_json() -> None:
    wire = {
        "sessionId": "s1",
        "sessionType": "voice-ptt",
        "turnDetection": "client",
        "voiceActivityEnabled": True,
        "adaptiveStream": True,
        "dynacast": False,
        "audioSettings": {
            "echoCancellation": True,
            "noiseSuppression": False,
            "autoGainControl": True,
        },
    }
    parsed = RoomConfig.model_validate(wire)
    assert parsed.audio_settings.noise_suppression is False
    assert parsed.to_wire() == wire

"""The seed's checks, as pure functions of the session and what the room shows."""

from livekit.plugins.session_sync import SessionConfig
from livekit.plugins.session_sync.protocol import encode_attributes
from livekit.plugins.session_sync.validation import Observation, Repair, validate


def _config(**overrides: object) -> SessionConfig:
    base: dict[str, object] = {
        "session_id": "s1",
        "revision": 1,
        "type": "voice-vad",
        "state": "active",
        "turn_detection": "server",
        "voice_mode": "continuous",
        "voice_activity_enabled": True,
        "room_id": "room-a",
    }
    return SessionConfig.model_validate({**base, **overrides})


def _observed(config: SessionConfig, **overrides: object) -> Observation:
    base: dict[str, object] = {
        "connection_state": "connected",
        "room_name": "room-a",
        "published_attributes": encode_attributes(config, ptt_pressed=False),
        "audio_input_enabled": True,
        "turn_detection": "server",
    }
    return Observation(**{**base, **overrides})  # type: ignore[arg-type]


def test_consistent_session_is_valid() -> None:
    config = _config()
    verdict = validate(config, _observed(config), ptt_pressed=False)
    assert verdict.is_valid
    assert verdict.to_result().to_wire() == {
        "isValid": True,
        "inconsistencies": [],
        "corrections": {},
        "needsResync": False,
    }


def test_active_session_in_a_disconnected_room_is_corrected_to_error() -> None:
    config = _config()
    result = validate(
        config, _observed(config, connection_state="disconnected"), ptt_pressed=False
    ).to_result()
    assert result.inconsistencies == ("Session active but room disconnected",)
    assert result.to_wire()["corrections"] == {"state": "error"}
    assert result.needs_resync


def test_room_id_mismatch_is_corrected_to_the_room_name() -> None:
    config = _config(room_id="stale-room")
    verdict = validate(config, _observed(config), ptt_pressed=False)
    assert verdict.corrections == {"room_id": "room-a"}
    assert verdict.to_result().to_wire()["corrections"] == {"roomId": "room-a"}


def test_turn_detection_mismatch_uses_the_seed_message_and_correction() -> None:
    config = _config(turn_detection="client")
    result = validate(config, _observed(config), ptt_pressed=False).to_result()
    assert "Turn detection mismatch: expected server, got client" in result.inconsistencies
    assert result.to_wire()["corrections"] == {"turnDetection": "server"}


def test_agent_listening_outside_a_press_needs_turn_taking_reapplied() -> None:
    config = _config(type="voice-ptt", turn_detection="client", voice_mode="push-to-talk")
    observed = _observed(config, turn_detection="client", audio_input_enabled=True)
    verdict = validate(config, observed, ptt_pressed=False)
    assert [i.check for i in verdict.inconsistencies] == ["audio_input"]
    assert verdict.repairs == {Repair.REAPPLY_TURN_TAKING}


def test_agent_with_wrong_turn_detection_needs_turn_taking_reapplied() -> None:
    config = _config()
    verdict = validate(config, _observed(config, turn_detection="client"), ptt_pressed=False)
    assert [i.check for i in verdict.inconsistencies] == ["agent_turn_detection"]
    assert verdict.repairs == {Repair.REAPPLY_TURN_TAKING}


def test_stale_published_attributes_need_republishing() -> None:
    config = _config()
    stale = encode_attributes(config.model_copy(update={"revision": 0}), ptt_pressed=False)
    verdict = validate(config, _observed(config, published_attributes=stale), ptt_pressed=False)
    assert [i.check for i in verdict.inconsistencies] == ["attributes"]
    assert verdict.repairs == frozenset()  # the correcting commit republishes them
    assert "session.revision" in verdict.inconsistencies[0].message


def test_attributes_are_not_judged_while_the_link_is_down() -> None:
    config = _config(state="syncing")
    verdict = validate(
        config,
        _observed(config, connection_state="reconnecting", published_attributes={}),
        ptt_pressed=False,
    )
    assert verdict.is_valid


def test_syncing_session_in_a_connected_room_is_corrected_to_active() -> None:
    config = _config(state="syncing")
    verdict = validate(config, _observed(config), ptt_pressed=False)
    assert verdict.corrections == {"state": "active"}

"""Start-up decisions: where the session type comes from, and which end-of-turn model runs."""

import logging

import pytest

from agent.session_type import choose_session_type, parse_session_type
from agent.speech_models import DOWNLOAD_COMMAND, ModelFilesMissing, plan_turn_detector


def test_first_source_with_a_type_wins() -> None:
    chosen = choose_session_type(
        [
            ("participant attribute", None),
            ("dispatch metadata", '{"sessionType": "voice-ptt"}'),
            ("room metadata", "voice-vad"),
        ],
        "text",
    )
    assert (chosen.session_type, chosen.source) == ("voice-ptt", "dispatch metadata")


def test_bad_value_is_logged_and_the_next_source_used(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        chosen = choose_session_type(
            [
                ("participant attribute", "telepathy"),
                ("dispatch metadata", "{oops"),
                ("room metadata", '{"sessionType": "voice-vad"}'),
            ],
            "text",
        )
    assert (chosen.session_type, chosen.source) == ("voice-vad", "room metadata")
    assert "participant attribute" in caplog.text and "'telepathy'" in caplog.text
    assert "text, voice-ptt, voice-vad" in caplog.text
    assert "dispatch metadata" in caplog.text and "not valid JSON" in caplog.text


def test_default_is_used_when_no_source_says_anything() -> None:
    chosen = choose_session_type(
        [("dispatch metadata", ""), ("room metadata", '{"theme": "x"}')], "voice-vad"
    )
    assert (chosen.session_type, chosen.source) == ("voice-vad", "DEFAULT_SESSION_TYPE")


def test_metadata_with_a_non_string_type_is_refused() -> None:
    with pytest.raises(ValueError, match="not one of"):
        parse_session_type('{"sessionType": 3}')


def test_missing_text_model_falls_back_to_vad_with_the_fix_command() -> None:
    plan = plan_turn_detector("english", fallback="vad-only")
    assert plan.effective == "vad-only"
    assert plan.problem is not None
    assert f"TURN_DETECTOR=english {DOWNLOAD_COMMAND}" in plan.problem


def test_missing_text_model_can_refuse_to_start() -> None:
    with pytest.raises(ModelFilesMissing, match="download-files"):
        plan_turn_detector("multilingual", fallback="refuse")


def test_offline_models_need_no_files() -> None:
    assert plan_turn_detector("audio", fallback="refuse").effective == "audio"
    assert plan_turn_detector("vad-only", fallback="refuse").effective == "vad-only"


def test_model_that_fails_at_call_time_falls_back_to_vad(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from livekit.plugins import silero

    from agent.speech_models import LoadedModels, TurnDetectorPlan

    models = LoadedModels(vad=silero.VAD.load(), plan=TurnDetectorPlan("english", "english"))

    def broken() -> None:
        raise RuntimeError("model files vanished")

    monkeypatch.setattr(models, "_make_turn_detector", broken)
    with caplog.at_level(logging.ERROR):
        assert models.server_turn_detection() == "vad"
    assert "VAD-only" in caplog.text

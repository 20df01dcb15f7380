from pathlib import Path

import pytest

from agent.settings import DEFAULT_INSTRUCTIONS, SettingsError, load_settings


def problems_for(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    return str(caught.value)


def test_defaults_load_with_an_empty_environment(clean_env: Path) -> None:
    settings = load_settings()

    assert settings.livekit_url is None
    assert settings.livekit_api_key is None
    assert settings.livekit_api_secret is None
    assert settings.has_livekit_credentials is False
    assert settings.agent_name == ""
    assert settings.agent_instructions == DEFAULT_INSTRUCTIONS
    assert settings.default_session_type == "text"
    assert settings.initial_sync_delay_seconds == 1.0
    assert settings.sync_interval_seconds == 5.0
    assert settings.turn_detector == "audio"
    assert settings.turn_detector_fallback == "vad-only"
    assert settings.llm_model is None
    assert (settings.effective_stt_model, settings.effective_tts_model) == ("local", "local")
    assert settings.ptt_transcript_timeout_seconds == 5.0
    assert settings.ptt_stt_flush_seconds == 2.0
    assert settings.ptt_max_press_seconds == 60.0
    assert settings.log_level == "INFO"
    assert settings.job_executor == "process"


def test_values_come_from_the_environment(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVEKIT_URL", "wss://example.livekit.cloud")
    monkeypatch.setenv("LIVEKIT_API_KEY", "key")
    monkeypatch.setenv("LIVEKIT_API_SECRET", "s3cr3t-value")
    monkeypatch.setenv("AGENT_NAME", "session-sync")
    monkeypatch.setenv("DEFAULT_SESSION_TYPE", "voice-ptt")
    monkeypatch.setenv("SYNC_INTERVAL_SECONDS", "2.5")
    monkeypatch.setenv("LLM_MODEL", "openai/gpt-4.1-mini")

    settings = load_settings()

    assert settings.livekit_url == "wss://example.livekit.cloud"
    assert settings.has_livekit_credentials is True
    assert settings.livekit_api_secret is not None
    assert settings.livekit_api_secret.get_secret_value() == "s3cr3t-value"
    assert "s3cr3t-value" not in repr(settings)
    assert settings.agent_name == "session-sync"
    assert settings.default_session_type == "voice-ptt"
    assert settings.sync_interval_seconds == 2.5
    assert settings.llm_model == "openai/gpt-4.1-mini"


def test_dot_env_is_read_and_the_environment_wins_over_it(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_env / ".env").write_text("AGENT_NAME=from-file\nLOG_LEVEL=DEBUG\nLIVEKIT_URL=\n")
    monkeypatch.setenv("LOG_LEVEL", "WARNING")

    settings = load_settings()

    assert settings.agent_name == "from-file"
    assert settings.log_level == "WARNING"
    assert settings.livekit_url is None  # empty means unset


def test_overrides_take_field_or_variable_names(clean_env: Path) -> None:
    settings = load_settings(SYNC_INTERVAL_SECONDS=4, agent_name="x")

    assert settings.sync_interval_seconds == 4
    assert settings.agent_name == "x"


def test_sync_options_carry_the_sync_and_press_timings(clean_env: Path) -> None:
    options = load_settings(
        initial_sync_delay_seconds=0.5, sync_interval_seconds=7, ptt_max_press_seconds=30
    ).sync_options()

    assert options.initial_sync_delay == 0.5
    assert options.validation_interval == 7
    assert options.max_press_seconds == 30


@pytest.mark.parametrize(
    ("name", "value", "accepted"),
    [
        ("DEFAULT_SESSION_TYPE", "video", "use one of text, voice-ptt, voice-vad"),
        ("SYNC_INTERVAL_SECONDS", "-1", "must be greater than 0"),
        ("INITIAL_SYNC_DELAY_SECONDS", "0", "must be greater than 0"),
        ("PTT_TRANSCRIPT_TIMEOUT_SECONDS", "soon", "must be a number of seconds greater than 0"),
        ("PTT_MAX_PRESS_SECONDS", "inf", "must be a number of seconds greater than 0"),
        ("PTT_STT_FLUSH_SECONDS", "-0.5", "must be 0 or more"),
        ("TURN_DETECTOR", "german", "use one of audio, english, multilingual, vad-only"),
        ("TURN_DETECTOR_FALLBACK", "crash", "use one of vad-only, refuse"),
        ("LOG_LEVEL", "verbose", "use one of DEBUG, INFO, WARNING, ERROR"),
        ("JOB_EXECUTOR", "fork", "use one of process, thread"),
        ("LIVEKIT_URL", "ftp://example.com", "starting with ws://, wss://, http:// or https://"),
        ("LIVEKIT_URL", "wss://", "starting with ws://, wss://, http:// or https://"),
        ("STT_MODEL", "deepgram nova", "or none to disable"),
        ("AGENT_INSTRUCTIONS", "   ", "must not be empty"),
    ],
)
def test_bad_value_names_the_variable_the_value_and_what_is_accepted(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, accepted: str
) -> None:
    message = problems_for(monkeypatch, **{name: value})

    assert message.startswith(f"{name}={value!r} is not accepted: ")
    assert accepted in message
    assert "\n" not in message


def test_every_bad_value_is_reported_on_its_own_line_in_field_order(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = problems_for(
        monkeypatch, LOG_LEVEL="loud", DEFAULT_SESSION_TYPE="video", SYNC_INTERVAL_SECONDS="-1"
    )

    assert message.splitlines() == [
        "DEFAULT_SESSION_TYPE='video' is not accepted: use one of text, voice-ptt, voice-vad",
        "SYNC_INTERVAL_SECONDS='-1' is not accepted: must be greater than 0",
        "LOG_LEVEL='loud' is not accepted: use one of DEBUG, INFO, WARNING, ERROR",
    ]


def test_overrides_are_checked_like_the_environment(clean_env: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(sync_interval_seconds=-1)

    assert caught.value.problems == [
        "SYNC_INTERVAL_SECONDS='-1' is not accepted: must be greater than 0"
    ]


def test_api_key_without_secret_is_refused_without_showing_either(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = problems_for(monkeypatch, LIVEKIT_API_SECRET="s3cr3t-value")

    assert message == "LIVEKIT_API_SECRET is set but LIVEKIT_API_KEY is not: set both, or neither"
    assert "s3cr3t-value" not in message


def test_unknown_override_is_refused(clean_env: Path) -> None:
    with pytest.raises(SettingsError, match="'sync_interval' is not a setting"):
        load_settings(sync_interval=3)


def test_choices_accept_any_letter_case(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEFAULT_SESSION_TYPE", "Voice-VAD")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("TURN_DETECTOR", "VAD-ONLY")
    monkeypatch.setenv("JOB_EXECUTOR", "Thread")

    settings = load_settings()

    assert settings.default_session_type == "voice-vad"
    assert settings.log_level == "DEBUG"
    assert settings.turn_detector == "vad-only"
    assert settings.job_executor == "thread"


def test_none_turns_models_off(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STT_MODEL", "none")
    monkeypatch.setenv("TTS_MODEL", "None")
    monkeypatch.setenv("LLM_MODEL", "NONE")

    settings = load_settings()

    assert (settings.effective_stt_model, settings.effective_tts_model) == (None, None)
    assert settings.llm_model is None
    assert settings.startup_warnings() == []


def test_without_keys_speech_is_local_and_with_keys_livekit_inference(clean_env: Path) -> None:
    keyless = load_settings()
    keyed = load_settings(livekit_api_key="k", livekit_api_secret="s")
    chosen = load_settings(livekit_api_key="k", livekit_api_secret="s", stt_model="LOCAL")

    assert (keyless.effective_stt_model, keyless.effective_tts_model) == ("local", "local")
    assert (keyed.effective_stt_model, keyed.effective_tts_model) == (
        "deepgram/nova-3",
        "cartesia/sonic-3",
    )
    assert (chosen.effective_stt_model, chosen.effective_tts_model) == (
        "local",
        "cartesia/sonic-3",
    )
    assert keyless.startup_warnings() == []


def test_inference_models_without_credentials_are_warned_about(clean_env: Path) -> None:
    warnings = load_settings(
        llm_model="openai/gpt-4.1-mini", stt_model="deepgram/nova-3"
    ).startup_warnings()

    assert len(warnings) == 2
    assert "LLM_MODEL" in warnings[0] and "LIVEKIT_API_KEY" in warnings[0]
    assert "STT_MODEL=deepgram/nova-3" in warnings[1] and "STT_MODEL=local" in warnings[1]
    assert load_settings(livekit_api_key="k", livekit_api_secret="s").startup_warnings() == []


def test_livekit_values_from_dot_env_are_exported_for_the_framework(clean_env: Path) -> None:
    settings = load_settings(
        livekit_url="wss://a.example", livekit_api_key="key", livekit_api_secret="secret"
    )
    environ = {"LIVEKIT_URL": "wss://already.set"}

    added = settings.export_livekit_env(environ)

    assert added == ["LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"]
    assert environ == {
        "LIVEKIT_URL": "wss://already.set",
        "LIVEKIT_API_KEY": "key",
        "LIVEKIT_API_SECRET": "secret",
    }

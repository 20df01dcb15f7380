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
        ("INTERRUPTION_DETECTION", "smart", "use one of adaptive, vad"),
        ("CPU_GUARD", "1.5", "must be greater than 0 and at most 1"),
        ("CPU_GUARD", "0", "must be greater than 0 and at most 1"),
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


LOCAL_SERVER = {
    "livekit_url": "ws://127.0.0.1:7880",
    "livekit_api_key": "devkey",
    "livekit_api_secret": "secret",
}
CLOUD = {
    "livekit_url": "wss://my-project.livekit.cloud",
    "livekit_api_key": "k",
    "livekit_api_secret": "s",
}


def test_speech_is_local_unless_the_url_is_livekit_cloud_with_keys(clean_env: Path) -> None:
    keyless = load_settings()
    self_hosted = load_settings(**LOCAL_SERVER)
    cloud = load_settings(**CLOUD)
    cloud_without_keys = load_settings(livekit_url=CLOUD["livekit_url"])
    chosen = load_settings(**CLOUD, stt_model="LOCAL")

    for local in (keyless, self_hosted, cloud_without_keys):
        assert (local.effective_stt_model, local.effective_tts_model) == ("local", "local")
        assert local.effective_interruption_detection == "vad"
        assert local.startup_warnings() == []
    assert (cloud.effective_stt_model, cloud.effective_tts_model) == (
        "deepgram/nova-3",
        "cartesia/sonic-3",
    )
    assert cloud.effective_interruption_detection is None  # the framework's (adaptive) choice
    assert (chosen.effective_stt_model, chosen.effective_tts_model) == (
        "local",
        "cartesia/sonic-3",
    )


def test_cloud_models_named_for_a_self_hosted_server_are_used_and_warned_about(
    clean_env: Path,
) -> None:
    settings = load_settings(
        **LOCAL_SERVER, stt_model="deepgram/nova-3", interruption_detection="Adaptive"
    )

    assert settings.effective_stt_model == "deepgram/nova-3"
    assert settings.effective_tts_model == "local"
    assert settings.effective_interruption_detection == "adaptive"
    [warning] = settings.startup_warnings()
    assert "STT_MODEL=deepgram/nova-3" in warning and "INTERRUPTION_DETECTION" in warning
    assert "self-hosted" in warning


def test_the_startup_lines_say_which_models_and_why(clean_env: Path) -> None:
    from agent.speech_models import TurnDetectorPlan, describe_models

    plan = TurnDetectorPlan("audio", "audio")
    local = "\n".join(describe_models(load_settings(**LOCAL_SERVER), plan))
    cloud = "\n".join(describe_models(load_settings(**CLOUD), plan))

    assert "ws://127.0.0.1:7880 is a self-hosted server" in local
    assert "speech-to-text local pocketsphinx en-us (STT_MODEL unset)" in local
    assert "interruptions by voice activity" in local
    assert "LiveKit Inference" not in local
    assert "wss://my-project.livekit.cloud is LiveKit Cloud and the keys are set" in cloud
    assert "deepgram/nova-3 on LiveKit Inference (STT_MODEL unset)" in cloud


def test_capacity_is_max_jobs_or_two_jobs_per_core(clean_env: Path) -> None:
    assert load_settings().capacity(2.0) == 4
    assert load_settings().capacity(0.5) == 1
    assert load_settings(max_jobs=3).capacity(16.0) == 3
    assert load_settings().cpu_guard == 0.9


def test_inference_models_without_credentials_are_warned_about(clean_env: Path) -> None:
    warnings = load_settings(
        llm_model="openai/gpt-4.1-mini", stt_model="deepgram/nova-3"
    ).startup_warnings()

    assert len(warnings) == 2
    assert "LLM_MODEL" in warnings[0] and "LIVEKIT_API_KEY" in warnings[0]
    assert "STT_MODEL=deepgram/nova-3" in warnings[1] and "STT_MODEL=local" in warnings[1]
    assert load_settings(**CLOUD).startup_warnings() == []


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

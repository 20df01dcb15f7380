"""What a person starting the worker sees when something is wrong."""

import sys
from pathlib import Path

import pytest

from agent.__main__ import main


def test_bad_setting_stops_the_worker_naming_variable_value_and_choices(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEFAULT_SESSION_TYPE", "video")
    with pytest.raises(SystemExit) as exit_:
        main(["agent", "start"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "DEFAULT_SESSION_TYPE='video'" in err
    assert "text, voice-ptt, voice-vad" in err
    assert "Traceback" not in err


def test_missing_portaudio_gives_install_instructions_not_a_traceback(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # as if the library were absent
    with pytest.raises(SystemExit) as exit_:
        main(["agent", "console", "--text"])
    assert exit_.value.code == 2
    assert "apt-get install -y libportaudio2" in capsys.readouterr().err


def test_refusing_a_missing_turn_model_stops_with_the_fix_command(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TURN_DETECTOR", "english")
    monkeypatch.setenv("TURN_DETECTOR_FALLBACK", "refuse")
    with pytest.raises(SystemExit):
        main(["agent", "start"])
    assert "TURN_DETECTOR=english uv run python -m agent download-files" in capsys.readouterr().err


def test_start_without_a_server_says_what_is_missing(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["agent", "start"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET" in err
    assert "./scripts/console" in err


def test_console_with_no_audio_device_points_to_text_mode_and_say(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sounddevice

    def no_device(*args: object, **kwargs: object) -> None:
        raise sounddevice.PortAudioError("no default device")

    monkeypatch.setattr(sounddevice, "query_devices", no_device)
    monkeypatch.delenv("LIVEKIT_AGENTS_PRELOAD_LOCAL_INFERENCE", raising=False)
    with pytest.raises(SystemExit) as exit_:
        main(["agent", "console"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "no microphone and no speaker" in err
    assert "console --text" in err and "/say" in err


@pytest.mark.parametrize("command", ["console", "start", "download-files"])
def test_help_is_shown_without_a_microphone_a_server_or_model_files(
    command: str,
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import sounddevice

    def no_device(*args: object, **kwargs: object) -> None:
        raise sounddevice.PortAudioError("no default device")

    monkeypatch.setattr(sounddevice, "query_devices", no_device)
    monkeypatch.setenv("TURN_DETECTOR", "english")
    monkeypatch.setenv("TURN_DETECTOR_FALLBACK", "refuse")
    argv = ["agent", command, "--help"]
    monkeypatch.setattr(sys, "argv", argv)  # the framework's CLI reads its own
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert f"{command} [OPTIONS]" in out

"""`python -m agent console|console --text|dev|start|download-files`: the framework's own CLI."""

from __future__ import annotations

import sys
import warnings

from .prometheus_dir import use_multiprocess_metrics

use_multiprocess_metrics(sys.argv)  # before the imports below load prometheus_client

from .download import download_files  # noqa: E402
from .settings import Settings, SettingsError, load_settings  # noqa: E402
from .speech_models import (  # noqa: E402
    ModelFilesMissing,
    describe_models,
    plan_turn_detector,
    register_download_plugins,
)

PORTAUDIO_HELP = (
    "The console needs the PortAudio library, even in text mode.\n"
    "  Debian/Ubuntu: sudo apt-get install -y libportaudio2\n"
    "  Fedora:        sudo dnf install -y portaudio\n"
    "  macOS:         brew install portaudio\n"
    "or start it with ./scripts/console, which installs it for you."
)

NO_AUDIO_DEVICE_HELP = (
    "this machine has no {missing}, so the console cannot listen or speak.\n"
    "Use text mode, where /say speaks for you through the same voice path:\n"
    "  ./scripts/console            (or: uv run python -m agent console --text)\n"
    "then, for example:  /type voice-vad   /say good morning\n"
    "or:                 /type voice-ptt   /ptt start   /say good morning   /ptt end"
)


def _fail(message: str) -> None:
    print(f"session-sync: {message}", file=sys.stderr)
    raise SystemExit(2)


def _check_console_prerequisites(argv: list[str]) -> None:
    try:
        import sounddevice  # type: ignore[import-untyped]
    except (OSError, ImportError):  # sounddevice raises OSError when PortAudio is missing
        _fail(PORTAUDIO_HELP)
        return
    if "--text" in argv or "--list-devices" in argv:
        return
    missing = [
        name
        for kind, name in (("input", "microphone"), ("output", "speaker"))
        if not _has_device(sounddevice, kind)
    ]
    if missing:
        _fail(NO_AUDIO_DEVICE_HELP.format(missing=" and no ".join(missing)))


def _has_device(sounddevice: object, kind: str) -> bool:
    try:
        sounddevice.query_devices(kind=kind)  # type: ignore[attr-defined]
    except Exception:  # PortAudio has no default device of this kind
        return False
    return True


SERVER_COMMANDS = ("start", "dev", "connect")


def _check_server_settings(command: str, argv: list[str], settings: Settings) -> None:
    """Joining rooms needs a server and keys; say so instead of a framework traceback."""
    if command not in SERVER_COMMANDS:
        return
    given = {
        "LIVEKIT_URL": settings.livekit_url or "--url" in argv,
        "LIVEKIT_API_KEY": settings.livekit_api_key or "--api-key" in argv,
        "LIVEKIT_API_SECRET": settings.livekit_api_secret or "--api-secret" in argv,
    }
    missing = [name for name, value in given.items() if not value]
    if missing:
        _fail(
            f"`{command}` joins rooms on a LiveKit server and needs {', '.join(missing)} "
            "(in the environment or .env, or as --url/--api-key/--api-secret). "
            "To try the agent without a server: ./scripts/console"
        )


def _check_prerequisites(command: str, argv: list[str], settings: Settings) -> None:
    """Stop with one clear message for what the command needs and this machine lacks."""
    try:
        plan = plan_turn_detector(settings.turn_detector, fallback=settings.turn_detector_fallback)
    except ModelFilesMissing as e:
        _fail(str(e))
    if plan.problem:
        print(
            f"session-sync: warning: {plan.problem}; falling back to VAD-only endpointing",
            file=sys.stderr,
        )
    register_download_plugins(plan.effective)
    if command == "console":
        _check_console_prerequisites(argv)
    _check_server_settings(command, argv, settings)
    if command in ("console", *SERVER_COMMANDS):
        for line in describe_models(settings, plan):
            print(f"session-sync: {line}", file=sys.stderr)


def main(argv: list[str]) -> None:
    try:
        settings = load_settings()
    except SettingsError as e:
        _fail(f"invalid settings:\n{e}")
    command = argv[1] if len(argv) > 1 else ""
    # livekit-agents reads its credentials from the process environment only, not `.env`.
    settings.export_livekit_env()
    for warning in settings.startup_warnings():
        print(f"session-sync: warning: {warning}", file=sys.stderr)
    # Help needs no microphone, server or model files: the framework's CLI prints it.
    if "--help" not in argv[1:]:
        if command == "download-files":
            download_files(settings.turn_detector)
            return
        _check_prerequisites(command, argv, settings)

    from livekit.agents import cli

    from .server import build_server

    if command == "console":
        # Only the console loads its in-memory room and simulated app; `start` never does.
        from .console import console_entrypoint

        server = build_server(settings, console_entrypoint, on_session_end=None)
        # Justified: on Ctrl-C the framework's console (cli/_legacy.py) schedules
        # AgentServer.aclose a second time, on a loop already closed; it never runs.
        warnings.filterwarnings(
            "ignore",
            message=r"coroutine 'AgentServer\.aclose' was never awaited",
            category=RuntimeWarning,
        )
    else:
        server = build_server(settings)

    with warnings.catch_warnings():
        # Justified: its replacements (`lk agent`, `python -m livekit.agents`) have no
        # `console --text`, which ./scripts/console runs.
        warnings.filterwarnings(
            "ignore", message="the built-in Python CLI is deprecated", category=DeprecationWarning
        )
        cli.run_app(server)


if __name__ == "__main__":
    main(sys.argv)

"""`python -m agent console|console --text|dev|start|download-files`: the framework's own CLI."""

from __future__ import annotations

import sys
import warnings

from .models import ModelFilesMissing, plan_turn_detector, register_download_plugins
from .settings import Settings, SettingsError, load_settings

PORTAUDIO_HELP = (
    "The console needs the PortAudio library, even in text mode.\n"
    "  Debian/Ubuntu: sudo apt-get install -y libportaudio2\n"
    "  Fedora:        sudo dnf install -y portaudio\n"
    "  macOS:         brew install portaudio\n"
    "or start it with ./scripts/console, which installs it for you."
)


def _fail(message: str) -> None:
    print(f"session-sync: {message}", file=sys.stderr)
    raise SystemExit(2)


def _check_console_prerequisites() -> None:
    try:
        import sounddevice  # type: ignore[import-untyped]  # noqa: F401
    except (OSError, ImportError):  # sounddevice raises OSError when PortAudio is missing
        _fail(PORTAUDIO_HELP)


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
    # The framework's CLI is marked deprecated in favour of one without `console --text`.
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"livekit\.")
    if command == "download-files":
        register_download_plugins(settings.turn_detector)
    else:
        try:
            plan = plan_turn_detector(
                settings.turn_detector, fallback=settings.turn_detector_fallback
            )
        except ModelFilesMissing as e:
            _fail(str(e))
        if plan.problem:
            print(
                f"session-sync: warning: {plan.problem}; falling back to VAD-only endpointing",
                file=sys.stderr,
            )
        register_download_plugins(plan.effective)
    if command == "console":
        _check_console_prerequisites()
    _check_server_settings(command, argv, settings)

    from livekit.agents import cli

    from .server import build_server

    cli.run_app(build_server(settings))


if __name__ == "__main__":
    main(sys.argv)

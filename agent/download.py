"""`download-files`: fetch the text end-of-turn model files, or say in one line why not.

Without a network the hub client retries each file for most of a minute and prints every
attempt; a quick look at the hub first turns that into one line, and lets files already
on this machine count.
"""

from __future__ import annotations

import os
import socket
import sys
from urllib.parse import urlsplit

from .settings import TurnDetectorChoice
from .speech_models import register_download_plugins

HUB_PROBE_SECONDS = 5.0
"""How long the hub may take to accept a connection before the machine counts as offline."""


def _fail(message: str) -> None:
    print(f"session-sync: {message}", file=sys.stderr)
    raise SystemExit(2)


def hub_endpoint() -> str:
    """The hub the files come from: HF_ENDPOINT, as the hub client reads it, or its default."""
    return os.environ.get("HF_ENDPOINT") or "https://huggingface.co"


def hub_unreachable(endpoint: str, timeout: float = HUB_PROBE_SECONDS) -> str | None:
    """None when `endpoint` accepts a connection, else why not, in a few words."""
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as e:
        return e.strerror or type(e).__name__


def _offline_by_choice() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in ("1", "ON", "YES", "TRUE")


def download_files(choice: TurnDetectorChoice) -> None:
    """Fetch the files the selected models need; offline, say in one line what failed."""
    if choice not in ("english", "multilingual"):
        print(
            f"session-sync: nothing to download for TURN_DETECTOR={choice}: silero VAD, "
            "the audio end-of-turn model and pocketsphinx ship inside their packages"
        )
        return
    endpoint = hub_endpoint()
    offline = "HF_HUB_OFFLINE is set" if _offline_by_choice() else hub_unreachable(endpoint)
    if offline:
        # Read when the hub client is imported, below: files already here are used, and
        # nothing is retried.
        os.environ["HF_HUB_OFFLINE"] = "1"
    # The files need no PyTorch (the model runs on ONNX Runtime): its absence is no news here.
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    register_download_plugins(choice)
    from livekit.agents import Plugin

    for plugin in Plugin.registered_plugins:
        try:
            plugin.download_files()
        except Exception as e:
            if offline:
                _fail(
                    f"cannot reach {endpoint} ({offline}), and the {choice} end-of-turn model "
                    "files are not on this machine yet; run this again with a network"
                )
            reason = (str(e).strip().splitlines() or [type(e).__name__])[0]
            _fail(
                f"could not fetch the {choice} end-of-turn model files for {plugin.package} "
                f"({type(e).__name__}: {reason}); check the network and run it again"
            )
    where = f" (no network, {offline}: nothing was fetched)" if offline else ""
    print(f"session-sync: the {choice} end-of-turn model files are on this machine{where}")

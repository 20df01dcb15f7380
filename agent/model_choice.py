"""Which models run where, derived from the settings: a model setting's accepted spellings,
the defaults on LiveKit Cloud and off it, the words that explain them, and the warnings about
choices that cannot work. `agent.settings` reads the values; this decides what they mean."""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import urlparse

DISABLED = "none"
"""The value that turns off STT_MODEL, TTS_MODEL or LLM_MODEL."""
LOCAL = "local"
"""STT_MODEL / TTS_MODEL: the models that run on this machine (pocketsphinx, espeak-ng)."""
INFERENCE_STT = "deepgram/nova-3"
INFERENCE_TTS = "cartesia/sonic-3"

CLOUD_DOMAINS = (".livekit.cloud", ".livekit.run")
"""Hosts of LiveKit Cloud, as livekit-agents recognises them (`utils.misc.is_cloud`)."""


class ModelSettings(Protocol):
    """What the choices read of `agent.settings.Settings`."""

    @property
    def livekit_url(self) -> str | None: ...
    @property
    def llm_model(self) -> str | None: ...
    @property
    def interruption_detection(self) -> str | None: ...
    @property
    def has_livekit_credentials(self) -> bool: ...
    @property
    def is_livekit_cloud(self) -> bool: ...
    @property
    def on_livekit_cloud(self) -> bool: ...
    @property
    def effective_stt_model(self) -> str | None: ...
    @property
    def effective_tts_model(self) -> str | None: ...


def model_or_none(value: Any, *, speech: bool) -> Any:
    """LLM_MODEL, STT_MODEL or TTS_MODEL as written, normalised; raises for a bad value."""
    if isinstance(value, str):
        value = value.strip()
        if value.lower() == DISABLED:
            # For speech, "none" (off) differs from unset (the default for these keys).
            return DISABLED if speech else None
        if speech and value.lower() == LOCAL:
            return LOCAL
        if not value or any(ch.isspace() for ch in value):
            raise ValueError(
                ("use local, " if speech else "use ")
                + "a LiveKit Inference model such as provider/model, or none to disable"
            )
    return value


def is_cloud_url(url: str | None) -> bool:
    host = urlparse(url or "").hostname or ""
    return host.endswith(CLOUD_DOMAINS)


def effective_model(value: str | None, inference_default: str, on_cloud: bool) -> str | None:
    """The speech model in use: unset means LiveKit Inference on LiveKit Cloud, else local."""
    if value is None:
        return inference_default if on_cloud else LOCAL
    return None if value == DISABLED else value


def where(settings: ModelSettings) -> str:
    """Why the defaults are what they are, in words, for the start-up line."""
    url = settings.livekit_url
    if settings.on_livekit_cloud:
        return f"LIVEKIT_URL {url} is LiveKit Cloud and the keys are set"
    if url is None:
        return "no LIVEKIT_URL"
    if settings.is_livekit_cloud:
        return f"LIVEKIT_URL {url} is LiveKit Cloud but no keys are set"
    return f"LIVEKIT_URL {url} is a self-hosted server, not LiveKit Cloud"


def startup_warnings(settings: ModelSettings) -> list[str]:
    """Problems that do not stop the worker but are worth logging at start-up."""
    warnings: list[str] = []
    speech = (
        ("STT_MODEL", settings.effective_stt_model),
        ("TTS_MODEL", settings.effective_tts_model),
    )
    if settings.has_livekit_credentials:
        if settings.livekit_url is not None and not settings.is_livekit_cloud:
            chosen = [
                f"{name}={model}"
                for name, model in (("LLM_MODEL", settings.llm_model), *speech)
                if model not in (None, LOCAL)
            ]
            if settings.interruption_detection == "adaptive":
                chosen.append("INTERRUPTION_DETECTION=adaptive")
            if chosen:
                warnings.append(
                    f"{', '.join(chosen)}: runs on LiveKit Cloud "
                    "(agent-gateway.livekit.cloud), which accepts only a LiveKit Cloud "
                    "project's keys, while LIVEKIT_URL is a self-hosted server"
                )
        return warnings
    if settings.llm_model is not None:
        warnings.append(
            "LLM_MODEL uses LiveKit Inference, which needs LIVEKIT_API_KEY and "
            "LIVEKIT_API_SECRET; without them every reply fails (unset LLM_MODEL to use "
            "the built-in offline responder)"
        )
    for name, model in speech:
        if model not in (None, LOCAL):
            warnings.append(
                f"{name}={model} uses LiveKit Inference, which needs LIVEKIT_API_KEY and "
                f"LIVEKIT_API_SECRET; without them it fails ({name}=local runs here)"
            )
    return warnings

"""Worker settings, read from the environment and `.env`, checked at start-up.

Every field maps to the environment variable of the same name in capitals, with no
prefix (``sync_interval_seconds`` <- ``SYNC_INTERVAL_SECONDS``). Environment variables
win over `.env`; empty values are ignored, so ``LIVEKIT_URL=`` in `.env` means "unset".

Call :func:`load_settings` once at start-up: it returns a frozen :class:`Settings` or
raises :class:`SettingsError` with one line per bad value.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from livekit.plugins.session_sync import SessionType, SyncOptions

from . import model_choice
from .heap import HeapOptions
from .model_choice import INFERENCE_STT, INFERENCE_TTS, model_or_none
from .model_choice import LOCAL as LOCAL
from .settings_messages import SettingsError as SettingsError
from .settings_messages import describe_errors, env_name, literal_choices

TurnDetectorChoice = Literal["audio", "english", "multilingual", "vad-only"]
TurnDetectorFallback = Literal["vad-only", "refuse"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
JobExecutor = Literal["process", "thread"]
InterruptionDetection = Literal["adaptive", "vad"]
DrainAction = Literal["hand_over", "end"]

URL_SCHEMES = ("ws://", "wss://", "http://", "https://")
JOBS_PER_CPU = 2
"""The default capacity: a voice job with local speech-to-text takes about half a core while
its user speaks (docs/self-hosted.md), so two per core keep a small machine responsive."""

DEFAULT_INSTRUCTIONS = (
    "You are a friendly, helpful assistant talking with a user by voice or text. "
    "Keep answers short and clear, use plain sentences without markdown or emoji, "
    "and ask a brief question when a request is unclear."
)

PositiveSeconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegativeSeconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]

_LIVEKIT_ENV = ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")


class Settings(BaseSettings):
    """All worker settings. Build it with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_ignore_empty=True,
        case_sensitive=False,
        frozen=True,
        use_attribute_docstrings=True,
    )

    livekit_url: str | None = None
    """LiveKit server URL (ws://, wss://, http:// or https://); unset for console mode."""
    livekit_api_key: str | None = None
    """LiveKit API key; also used for LiveKit Inference models."""
    livekit_api_secret: SecretStr | None = None
    """LiveKit API secret; also used for LiveKit Inference models."""

    agent_name: str = ""
    """Empty: automatic dispatch to every new room. Set: explicit dispatch by this name."""
    agent_instructions: str = DEFAULT_INSTRUCTIONS
    """System instructions given to the language model."""
    default_session_type: SessionType = "text"
    """Session type used when the dispatch or room metadata does not choose one."""

    initial_sync_delay_seconds: PositiveSeconds = 1.0
    """Seconds from session start to the first state validation."""
    sync_interval_seconds: PositiveSeconds = 5.0
    """Seconds between periodic state validations."""

    turn_detector: TurnDetectorChoice = "audio"
    """End-of-turn model for voice-vad sessions."""
    turn_detector_fallback: TurnDetectorFallback = "vad-only"
    """What to do when the selected turn detector's model files are missing."""

    llm_model: str | None = None
    """LiveKit Inference LLM such as openai/gpt-4.1-mini; unset or none = offline responder."""
    stt_model: str | None = None
    """Speech-to-text: local, a LiveKit Inference model such as deepgram/nova-3, or none.
    Unset: deepgram/nova-3 on LiveKit Cloud (a *.livekit.cloud URL with keys), else local."""
    tts_model: str | None = None
    """Text-to-speech: local, a LiveKit Inference model such as cartesia/sonic-3, or none.
    Unset: cartesia/sonic-3 on LiveKit Cloud (a *.livekit.cloud URL with keys), else local."""
    interruption_detection: InterruptionDetection | None = None
    """How the user interrupts the agent in voice-vad: adaptive (LiveKit Cloud's model) or
    vad (voice activity, on this machine). Unset: the framework's choice on LiveKit Cloud,
    vad elsewhere."""

    ptt_transcript_timeout_seconds: PositiveSeconds = 5.0
    """How long a released push-to-talk press waits for the final transcript."""
    ptt_stt_flush_seconds: NonNegativeSeconds = 2.0
    """Silence fed to the speech-to-text stream to flush it when a press is released."""
    ptt_max_press_seconds: PositiveSeconds = 60.0
    """A push-to-talk press held longer than this is released automatically."""

    rejoin_grace_seconds: NonNegativeSeconds = 30.0
    """How long the agent waits for its user to come back before it leaves the room."""

    log_level: LogLevel = "INFO"
    """Log level of the worker."""

    prometheus_port: int | None = Field(default=None, ge=1, le=65535)
    """Serve Prometheus metrics on this port at /metrics; unset serves none."""

    health_port: int | None = Field(default=None, ge=0, le=65535)
    """Port of the worker's HTTP health check; unset: 8081 for `start`, any free one for `dev`."""

    max_jobs: int | None = Field(default=None, ge=1)
    """Jobs one worker runs at once before it reports itself full; unset: two per CPU core."""
    cpu_guard: float = Field(default=0.9, gt=0, le=1, allow_inf_nan=False)
    """The worker also reports itself full while its own processes (the worker and its jobs)
    use more than this share of the machine's CPU, averaged over 5 s."""

    on_drain: DrainAction = "hand_over"
    """What a `start` worker told to stop (SIGTERM) does with its sessions: `hand_over` saves
    each session's record and leaves, for the dispatch service to bring a replacement agent
    that continues it (docs/deployment.md); `end` ends them, as when the user leaves."""

    job_executor: JobExecutor = "process"
    """Where the framework runs each job: its own process (isolated), or a thread of the
    worker process (every job shares one copy of the models and the runtime)."""

    gc_freeze_interval_seconds: NonNegativeSeconds | None = None
    """How often what survived a young collection is frozen out of full collections; 0: the
    start-up heap only. Unset: 5 s under the thread executor, where one process holds many
    sessions, and 0 under the process executor, where it holds one. See `agent.heap`."""
    gc_reclaim_interval_seconds: NonNegativeSeconds = 600.0
    """How often frozen objects are unfrozen for one full collection; 0: never."""

    # -- normalisation and checks -------------------------------------------------

    @field_validator("livekit_url", "livekit_api_key", "livekit_api_secret", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    @field_validator("livekit_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        scheme = next((s for s in URL_SCHEMES if value.lower().startswith(s)), None)
        if scheme is None or len(value) == len(scheme):
            raise ValueError(
                "use a URL starting with ws://, wss://, http:// or https://, "
                "e.g. wss://my-project.livekit.cloud"
            )
        return value

    @field_validator(
        "default_session_type",
        "turn_detector",
        "turn_detector_fallback",
        "log_level",
        "job_executor",
        "interruption_detection",
        mode="before",
    )
    @classmethod
    def _fold_case(cls, value: Any, info: ValidationInfo) -> Any:
        # Accept "Voice-VAD" or "debug"; anything else is left for the Literal check,
        # so the error shows the value as it was written.
        if isinstance(value, str):
            choices = literal_choices(Settings.model_fields, info.field_name or "")
            for candidate in (value.strip(), value.strip().lower(), value.strip().upper()):
                if candidate in choices:
                    return candidate
        return value

    @field_validator("agent_name", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("agent_instructions")
    @classmethod
    def _check_instructions(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()

    @field_validator("gc_freeze_interval_seconds", "gc_reclaim_interval_seconds")
    @classmethod
    def _off_or_a_second(cls, value: float | None) -> float | None:
        # Collecting several times a second would cost more than the pauses it saves.
        if value is not None and 0 < value < 1:
            raise ValueError("must be 0 (off) or at least 1 second")
        return value

    @field_validator("llm_model", "stt_model", "tts_model", mode="before")
    @classmethod
    def _model_or_none(cls, value: Any, info: ValidationInfo) -> Any:
        return model_or_none(value, speech=info.field_name in ("stt_model", "tts_model"))

    @model_validator(mode="after")
    def _check_credentials_pair(self) -> Settings:
        has_key = self.livekit_api_key is not None
        has_secret = self.livekit_api_secret is not None
        if has_key != has_secret:
            present, missing = (
                ("LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")
                if has_key
                else ("LIVEKIT_API_SECRET", "LIVEKIT_API_KEY")
            )
            raise ValueError(f"{present} is set but {missing} is not: set both, or neither")
        return self

    # -- derived values -----------------------------------------------------------

    @property
    def has_livekit_credentials(self) -> bool:
        """Both LIVEKIT_API_KEY and LIVEKIT_API_SECRET are set."""
        return bool(
            self.livekit_api_key
            and self.livekit_api_secret is not None
            and self.livekit_api_secret.get_secret_value()
        )

    def sync_options(self) -> SyncOptions:
        """The session-sync plugin options these settings describe."""
        return SyncOptions(
            initial_sync_delay=self.initial_sync_delay_seconds,
            validation_interval=self.sync_interval_seconds,
            max_press_seconds=self.ptt_max_press_seconds,
        )

    def heap_options(self) -> HeapOptions:
        freeze = self.gc_freeze_interval_seconds
        if freeze is None:
            freeze = 5.0 if self.job_executor == "thread" else 0.0
        return HeapOptions(
            freeze_interval=freeze,
            reclaim_interval=self.gc_reclaim_interval_seconds,
        )

    @property
    def is_livekit_cloud(self) -> bool:
        """LIVEKIT_URL is a LiveKit Cloud project (a *.livekit.cloud host)."""
        return model_choice.is_cloud_url(self.livekit_url)

    @property
    def on_livekit_cloud(self) -> bool:
        """Cloud-only features are the default: a LiveKit Cloud URL and its keys."""
        return self.is_livekit_cloud and self.has_livekit_credentials

    def where(self) -> str:
        """Why the defaults are what they are, in words, for the start-up line."""
        return model_choice.where(self)

    @property
    def effective_stt_model(self) -> str | None:
        """The speech-to-text in use: local, a LiveKit Inference model, or None (off)."""
        return model_choice.effective_model(self.stt_model, INFERENCE_STT, self.on_livekit_cloud)

    @property
    def effective_tts_model(self) -> str | None:
        """The text-to-speech in use: local, a LiveKit Inference model, or None (off)."""
        return model_choice.effective_model(self.tts_model, INFERENCE_TTS, self.on_livekit_cloud)

    @property
    def effective_interruption_detection(self) -> InterruptionDetection | None:
        """The interruption mode to ask of the framework; None leaves it the framework's choice
        (on LiveKit Cloud, its adaptive model)."""
        if self.interruption_detection is not None:
            return self.interruption_detection
        return None if self.on_livekit_cloud else "vad"

    def capacity(self, cpu_count: float) -> int:
        """Jobs this worker takes before it reports itself full."""
        return self.max_jobs or max(1, round(JOBS_PER_CPU * cpu_count))

    def stt_unavailable_hint(self) -> str:
        """Why a voice session cannot run here, and what to set, for `unavailable` replies."""
        return (
            "it has no speech-to-text (STT_MODEL=none); set STT_MODEL=local to run "
            "pocketsphinx on this machine, or a LiveKit Inference model on LiveKit Cloud"
        )

    def startup_warnings(self) -> list[str]:
        """Problems that do not stop the worker but are worth logging at start-up."""
        return model_choice.startup_warnings(self)

    def export_livekit_env(self, environ: MutableMapping[str, str] | None = None) -> list[str]:
        """Copy LIVEKIT_URL / LIVEKIT_API_KEY / LIVEKIT_API_SECRET into ``environ``.

        livekit-agents (its CLI and LiveKit Inference) reads these from the process
        environment only, not from `.env`. Values already in ``environ`` are kept.
        Returns the names that were added. ``environ`` defaults to ``os.environ``.
        """
        target: MutableMapping[str, str] = os.environ if environ is None else environ
        secret = self.livekit_api_secret.get_secret_value() if self.livekit_api_secret else None
        values = dict(
            zip(_LIVEKIT_ENV, (self.livekit_url, self.livekit_api_key, secret), strict=True)
        )
        added: list[str] = []
        for name, value in values.items():
            if value is not None and not target.get(name):
                target[name] = value
                added.append(name)
        return added

    @classmethod
    def env_names(cls) -> tuple[str, ...]:
        """The environment variable of every field, in declaration order."""
        return tuple(env_name(field) for field in cls.model_fields)


def load_settings(**overrides: Any) -> Settings:
    """Read the settings from the environment and `.env`, with ``overrides`` on top.

    ``overrides`` take field names in either case (``sync_interval_seconds=2`` or
    ``SYNC_INTERVAL_SECONDS=2``); pydantic-settings' own ``_env_file=None`` etc. pass
    through. Raises :class:`SettingsError` naming every bad variable and value.
    """
    fields = Settings.model_fields
    kwargs: dict[str, Any] = {}
    unknown: list[str] = []
    for key, value in overrides.items():
        if key.startswith("_"):
            kwargs[key] = value
        elif key.lower() in fields:
            kwargs[key.lower()] = value
        else:
            unknown.append(
                f"{key!r} is not a setting: use one of {', '.join(Settings.env_names())}"
            )
    if unknown:
        raise SettingsError(unknown)
    try:
        return Settings(**kwargs)
    except ValidationError as exc:
        raise SettingsError(describe_errors(Settings.model_fields, exc.errors())) from None

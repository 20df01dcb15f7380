"""The session model, as the frontend's TypeScript types spell it on the wire."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel

SessionType = Literal["text", "voice-ptt", "voice-vad"]
SessionState = Literal["idle", "active", "syncing", "ending", "error"]
TurnDetection = Literal["server", "client", "none"]
VoiceMode = Literal["push-to-talk", "continuous"]
ConnectionState = Literal["disconnected", "connecting", "connected", "reconnecting"]

SESSION_STATES: tuple[SessionState, ...] = get_args(SessionState)


def _iso_utc(value: datetime) -> str:
    # JavaScript's Date parses millisecond ISO 8601 with a Z suffix on every engine.
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


IsoDatetime = Annotated[datetime, PlainSerializer(_iso_utc, return_type=str)]


def utc_now() -> datetime:
    return datetime.now(UTC)


def _is_none(value: object) -> bool:
    return value is None


def omitted_when_none() -> Any:
    """An optional field: left out of the wire form when it has no value rather than sent as
    `null`, which a `field?: T` in the seed's types (and the contract's) does not allow."""
    return Field(default=None, exclude_if=_is_none)


class WireModel(BaseModel):
    """Base for everything that crosses the wire: camelCase aliases, closed and immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
    )

    def to_wire(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True)


class InboundModel(WireModel):
    """Sent by the frontend: strict, so `"yes"` is not taken for `true`."""

    model_config = ConfigDict(strict=True)


class AudioSettings(InboundModel):
    echo_cancellation: bool = True
    noise_suppression: bool = True
    auto_gain_control: bool = True


class RoomConfig(InboundModel):
    """The seed's `LiveKitRoomConfig`: what the frontend applies to its own connection."""

    session_id: str = Field(min_length=1, max_length=128)
    session_type: SessionType | None
    turn_detection: TurnDetection
    voice_activity_enabled: bool
    adaptive_stream: bool = True
    dynacast: bool = True
    audio_settings: AudioSettings = AudioSettings()


class SessionConfig(WireModel):
    """The seed's `SessionConfig`, plus the session id and a revision that grows on every change."""

    session_id: str
    revision: int = Field(ge=0)
    type: SessionType | None
    state: SessionState
    started_at: IsoDatetime | None = None  # the seed's `startedAt: Date | null`: sent as null
    voice_mode: VoiceMode | None = omitted_when_none()
    is_muted: bool = False
    turn_detection: TurnDetection = "none"
    room_id: str | None = omitted_when_none()
    last_sync_at: IsoDatetime | None = omitted_when_none()
    sync_attempts: int = Field(default=0, ge=0)
    inconsistency_detected: bool = False
    voice_activity_enabled: bool = False


class SessionCorrections(WireModel):
    """The seed's `Partial<SessionConfig>`: only the fields a validation pass corrects (never
    to `null`: an unset field is not a correction)."""

    type: SessionType | None = omitted_when_none()
    state: SessionState | None = omitted_when_none()
    started_at: IsoDatetime | None = omitted_when_none()
    voice_mode: VoiceMode | None = omitted_when_none()
    is_muted: bool | None = omitted_when_none()
    turn_detection: TurnDetection | None = omitted_when_none()
    room_id: str | None = omitted_when_none()
    last_sync_at: IsoDatetime | None = omitted_when_none()
    sync_attempts: int | None = omitted_when_none()
    inconsistency_detected: bool | None = omitted_when_none()
    voice_activity_enabled: bool | None = omitted_when_none()


class RoomState(WireModel):
    """What the agent sees when it emits an event (`payload.roomState`): the room's name, its
    own link, and, when it has turn-taking, what that turn-taking actually does."""

    room_id: str
    connection_state: ConnectionState
    turn_detection: TurnDetection | None = omitted_when_none()
    audio_input_enabled: bool | None = omitted_when_none()


class ValidationResult(WireModel):
    """The seed's `SessionValidationResult`."""

    is_valid: bool
    inconsistencies: tuple[str, ...] = ()
    corrections: SessionCorrections = SessionCorrections()
    needs_resync: bool = False

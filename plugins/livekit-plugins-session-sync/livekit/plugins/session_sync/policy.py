"""The seed's type table and the allowed state transitions. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from .models import RoomConfig, SessionState, SessionType, TurnDetection, VoiceMode


@dataclass(frozen=True)
class TurnProfile:
    """How a session type takes turns, per the seed's table."""

    turn_detection: TurnDetection
    voice_mode: VoiceMode | None
    voice_activity_enabled: bool


_NO_SESSION = TurnProfile(turn_detection="none", voice_mode=None, voice_activity_enabled=False)

TURN_PROFILES: Mapping[SessionType, TurnProfile] = MappingProxyType(
    {
        "text": TurnProfile("none", None, False),
        "voice-ptt": TurnProfile("client", "push-to-talk", True),
        "voice-vad": TurnProfile("server", "continuous", True),
    }
)


def turn_profile(session_type: SessionType | None) -> TurnProfile:
    return _NO_SESSION if session_type is None else TURN_PROFILES[session_type]


# The one place that says which state may follow which. Staying in a state is always allowed.
ALLOWED_TRANSITIONS: Mapping[SessionState, frozenset[SessionState]] = MappingProxyType(
    {
        "idle": frozenset({"syncing", "active", "error"}),
        "syncing": frozenset({"active", "ending", "error", "idle"}),
        "active": frozenset({"syncing", "ending", "error"}),
        "ending": frozenset({"idle", "error"}),
        "error": frozenset({"syncing", "active", "ending", "idle"}),
    }
)

# States in which a session exists and its turn-taking is live.
LIVE_STATES: frozenset[SessionState] = frozenset({"active", "syncing"})


class TransitionError(Exception):
    """A state change the table does not allow."""

    def __init__(self, current: SessionState, requested: SessionState) -> None:
        self.current = current
        self.requested = requested
        self.allowed = tuple(sorted(ALLOWED_TRANSITIONS[current]))
        super().__init__(
            f"cannot move from '{current}' to '{requested}'; "
            f"allowed next states: {', '.join(self.allowed)}"
        )


def is_allowed(current: SessionState, requested: SessionState) -> bool:
    return current == requested or requested in ALLOWED_TRANSITIONS[current]


def check_transition(current: SessionState, requested: SessionState) -> None:
    if not is_allowed(current, requested):
        raise TransitionError(current, requested)


def expected_audio_input(
    session_type: SessionType | None,
    state: SessionState,
    *,
    muted: bool,
    ptt_pressed: bool,
) -> bool:
    """Whether the agent should be listening to the user's microphone right now."""
    if state not in LIVE_STATES or muted:
        return False
    if session_type == "voice-vad":
        return True
    if session_type == "voice-ptt":
        return ptt_pressed
    return False


def _js(flag: bool) -> str:
    return "true" if flag else "false"


def room_config_contradictions(
    room_config: RoomConfig, session_type: SessionType | None
) -> list[str]:
    """Where the frontend's connection settings disagree with the session type's table row."""
    profile = turn_profile(session_type)
    problems: list[str] = []
    if room_config.session_type != session_type:
        problems.append(
            f"roomConfig.sessionType is {room_config.session_type!r} "
            f"but the session type is {session_type!r}"
        )
    if room_config.turn_detection != profile.turn_detection:
        problems.append(
            f"roomConfig.turnDetection is {room_config.turn_detection!r}; "
            f"a {session_type!r} session uses {profile.turn_detection!r}"
        )
    if room_config.voice_activity_enabled != profile.voice_activity_enabled:
        problems.append(
            f"roomConfig.voiceActivityEnabled is {_js(room_config.voice_activity_enabled)}; "
            f"a {session_type!r} session needs {_js(profile.voice_activity_enabled)}"
        )
    return problems

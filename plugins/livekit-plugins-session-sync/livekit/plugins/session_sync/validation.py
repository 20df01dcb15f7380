"""The consistency checks: (session, what the room shows) -> what is wrong, how to fix it. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from .models import (
    ConnectionState,
    SessionConfig,
    SessionCorrections,
    TurnDetection,
    ValidationResult,
)
from .policy import LIVE_STATES, expected_audio_input, turn_profile
from .protocol import encode_attributes, published_session_attributes

if TYPE_CHECKING:
    from .turn_taking import TurnTakingObservation


class Repair(StrEnum):
    """Corrections that are not config fields but actions on the turn-taking. (Stale
    attributes need none: the commit that records a correction republishes them.)"""

    REAPPLY_TURN_TAKING = "reapply_turn_taking"


@dataclass(frozen=True)
class Observation:
    """What the room and the agent actually show right now."""

    connection_state: ConnectionState
    room_name: str
    published_attributes: Mapping[str, str]
    # None when there is no turn-taking to observe (a synchronizer without an agent).
    audio_input_enabled: bool | None = None
    turn_detection: TurnDetection | None = None

    @classmethod
    def of(
        cls,
        room: tuple[ConnectionState, str],
        published: Mapping[str, str],
        seen: TurnTakingObservation | None,
    ) -> Observation:
        """From the room's (connection state, name), our attributes and the turn-taking."""
        return cls(
            connection_state=room[0],
            room_name=room[1],
            published_attributes=published,
            audio_input_enabled=seen.audio_input_enabled if seen else None,
            turn_detection=seen.turn_detection if seen else None,
        )


@dataclass(frozen=True)
class Inconsistency:
    check: str
    message: str
    corrections: Mapping[str, Any] = field(default_factory=dict)
    repair: Repair | None = None


@dataclass(frozen=True)
class Verdict:
    inconsistencies: tuple[Inconsistency, ...]

    @property
    def is_valid(self) -> bool:
        return not self.inconsistencies

    @property
    def corrections(self) -> dict[str, Any]:
        """Config field corrections, by python field name."""
        merged: dict[str, Any] = {}
        for item in self.inconsistencies:
            merged.update(item.corrections)
        return merged

    @property
    def repairs(self) -> frozenset[Repair]:
        return frozenset(i.repair for i in self.inconsistencies if i.repair is not None)

    def to_result(self) -> ValidationResult:
        return ValidationResult(
            is_valid=self.is_valid,
            inconsistencies=tuple(i.message for i in self.inconsistencies),
            corrections=SessionCorrections(**self.corrections),
            needs_resync=not self.is_valid,
        )


def _check_connection(config: SessionConfig, room: ConnectionState) -> Inconsistency | None:
    state = config.state
    if room == "disconnected" and state in LIVE_STATES:
        return Inconsistency(
            "connection", f"Session {state} but room disconnected", {"state": "error"}
        )
    if room == "reconnecting" and state == "active":
        return Inconsistency(
            "connection", "Session active but room reconnecting", {"state": "syncing"}
        )
    if room == "connected" and state == "syncing" and config.type is not None:
        return Inconsistency(
            "connection", "Session syncing but room connected", {"state": "active"}
        )
    return None


def _check_room_id(config: SessionConfig, room_name: str) -> Inconsistency | None:
    if config.room_id != room_name:
        return Inconsistency(
            "room_id",
            f"Room ID mismatch: expected {room_name!r}, got {config.room_id!r}",
            {"room_id": room_name},
        )
    return None


def _check_type_fields(config: SessionConfig) -> list[Inconsistency]:
    profile = turn_profile(config.type)
    expected = (
        ("turn_detection", "Turn detection", profile.turn_detection),
        ("voice_mode", "Voice mode", profile.voice_mode),
        ("voice_activity_enabled", "Voice activity", profile.voice_activity_enabled),
    )
    return [
        Inconsistency(
            field,
            f"{label} mismatch: expected {want}, got {getattr(config, field)}",
            {field: want},
        )
        for field, label, want in expected
        if getattr(config, field) != want
    ]


def _check_turn_taking(
    config: SessionConfig, observed: Observation, *, ptt_pressed: bool
) -> list[Inconsistency]:
    found: list[Inconsistency] = []
    expected_td = turn_profile(config.type).turn_detection
    # Outside a live session only the microphone matters: it must be off.
    live = config.state in LIVE_STATES
    if live and observed.turn_detection is not None and observed.turn_detection != expected_td:
        found.append(
            Inconsistency(
                "agent_turn_detection",
                f"Agent turn detection is {observed.turn_detection}; "
                f"a {config.type} session needs {expected_td}",
                repair=Repair.REAPPLY_TURN_TAKING,
            )
        )
    if observed.audio_input_enabled is not None:
        expected_audio = expected_audio_input(
            config.type, config.state, muted=config.is_muted, ptt_pressed=ptt_pressed
        )
        if observed.audio_input_enabled != expected_audio:
            found.append(
                Inconsistency(
                    "audio_input",
                    f"Agent audio input is {'on' if observed.audio_input_enabled else 'off'}; "
                    f"expected {'on' if expected_audio else 'off'}",
                    repair=Repair.REAPPLY_TURN_TAKING,
                )
            )
    return found


def _check_attributes(
    config: SessionConfig,
    observed: Observation,
    *,
    ptt_pressed: bool,
    expected: Mapping[str, str] | None,
) -> Inconsistency | None:
    if observed.connection_state != "connected":
        return None  # nothing can be published until the link is back
    if expected is None:
        expected = encode_attributes(config, ptt_pressed=ptt_pressed)
    actual = published_session_attributes(observed.published_attributes)
    if actual != expected:
        stale = sorted(
            k for k in expected.keys() | actual.keys() if expected.get(k) != actual.get(k)
        )
        return Inconsistency(
            "attributes",
            f"Published attributes differ from the session: {', '.join(stale)}",
        )
    return None


def validate(
    config: SessionConfig,
    observed: Observation,
    *,
    ptt_pressed: bool,
    expected_attributes: Mapping[str, str] | None = None,
) -> Verdict:
    """`expected_attributes`: the attributes of `config` and `ptt_pressed` as the owner
    already encoded them (`EncodedSession.attributes`); encoded here when not given."""
    found: list[Inconsistency] = []
    for single in (
        _check_connection(config, observed.connection_state),
        _check_room_id(config, observed.room_name),
    ):
        if single is not None:
            found.append(single)
    found.extend(_check_type_fields(config))
    found.extend(_check_turn_taking(config, observed, ptt_pressed=ptt_pressed))
    attrs = _check_attributes(
        config, observed, ptt_pressed=ptt_pressed, expected=expected_attributes
    )
    if attrs is not None:
        found.append(attrs)
    return Verdict(tuple(found))

"""The vocabulary of change: the steps a plan is made of, and the commit that applies them to
the state. Pure: no asyncio, no I/O."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from .models import RoomConfig, SessionConfig, SessionState, SessionType
from .policy import LIVE_STATES, check_transition, expected_audio_input, turn_profile
from .protocol import EventType
from .state import SyncState
from .turn_taking import TurnTakingTarget, UserTurnCall
from .validation import Repair, Verdict


class Keep(Enum):
    KEEP = "keep"


KEEP = Keep.KEEP
"""A field a commit leaves as it is."""


# -- steps --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Commit:
    """Replace the state. With `changes` (even empty) the config gets a new revision and is
    published; without, only the other fields change (validation's own bookkeeping)."""

    changes: Mapping[str, Any] | None = None
    event: EventType | None = "session_state_sync"
    ptt_pressed: bool | None = None
    room_config: RoomConfig | Keep | None = KEEP
    sync_enabled: bool | None = None
    settle: bool = False
    """Set the state to `active`, or `syncing` while the link is down (read at commit time)."""
    detail: str | None = None
    keep_error: bool = False
    """Leave an `error` state as it is (a correction whose turn-taking change just failed)."""


@dataclass(frozen=True)
class ApplyTurnTaking:
    """A failure moves the session to `error` and refuses the command, unless tolerated."""

    target: TurnTakingTarget
    tolerate_failure: bool = False


@dataclass(frozen=True)
class UserTurn:
    """A failure is logged; the press state still moves on with the plan."""

    call: UserTurnCall


@dataclass(frozen=True)
class Silence:
    """Close the microphone for good; failures are logged and never keep a session alive."""

    cancel_press: bool


@dataclass(frozen=True)
class Emit:
    event: EventType
    trigger: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class Republish:
    """Publish the attributes again without a change (after a join or a reconnect)."""


@dataclass(frozen=True)
class SendSnapshot:
    destination: str | None = None
    """One participant, or None for everyone."""


Step = Commit | ApplyTurnTaking | UserTurn | Silence | Emit | Republish | SendSnapshot


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...] = ()

    @property
    def states(self) -> tuple[SessionState, ...]:
        """The states the plan's commits set, in order (`settle` shown as `active`)."""
        found: list[SessionState] = []
        for step in self.steps:
            if isinstance(step, Commit) and step.changes is not None:
                if step.settle:
                    found.append("active")
                elif "state" in step.changes:
                    found.append(step.changes["state"])
        return tuple(found)


@dataclass(frozen=True)
class Context:
    """What a plan may depend on besides the state."""

    room_name: str
    now: datetime
    new_session_id: str
    unavailable: Callable[[SessionType], str | None] = field(default=lambda _type: None)


# -- applying a commit --------------------------------------------------------------------


def apply_commit(state: SyncState, commit: Commit, *, connected: bool) -> SyncState:
    """The state after `commit`. Raises `TransitionError` for a state change not allowed."""
    config = state.config
    if commit.changes is not None:
        changes = dict(commit.changes)
        if commit.keep_error and config.state == "error":
            changes.pop("state", None)
        if commit.settle:
            changes["state"] = settled_state(connected=connected)
        # Validated from the fields as they are: a dump first would copy and convert each.
        merged = {**config.__dict__, **changes, "revision": config.revision + 1}
        config = SessionConfig.model_validate(merged)
        check_transition(state.config.state, config.state)
    return SyncState(
        config=config,
        room_config=state.room_config if commit.room_config is KEEP else commit.room_config,
        ptt_pressed=state.ptt_pressed if commit.ptt_pressed is None else commit.ptt_pressed,
        sync_enabled=state.sync_enabled if commit.sync_enabled is None else commit.sync_enabled,
    )


def settled_state(*, connected: bool) -> SessionState:
    """`active` once a change is done, unless the link is down: then `syncing` until the
    reconnect brings it back."""
    return "active" if connected else "syncing"


def type_fields(session_type: SessionType | None) -> dict[str, Any]:
    profile = turn_profile(session_type)
    return {
        "type": session_type,
        "turn_detection": profile.turn_detection,
        "voice_mode": profile.voice_mode,
        "voice_activity_enabled": profile.voice_activity_enabled,
    }


def target(
    session_type: SessionType | None, *, muted: bool, ptt: bool, live: bool = True
) -> TurnTakingTarget:
    return TurnTakingTarget(
        session_type=session_type,
        turn_detection=turn_profile(session_type).turn_detection,
        audio_input_enabled=expected_audio_input(
            session_type, "active" if live else "idle", muted=muted, ptt_pressed=ptt
        ),
    )


def plan_correction(state: SyncState, verdict: Verdict, trigger: str, *, now: datetime) -> Plan:
    """Repair what validation found, record it, and report each finding."""
    config = state.config
    corrections = verdict.corrections
    steps: list[Step] = []
    if Repair.REAPPLY_TURN_TAKING in verdict.repairs or "state" in corrections:
        live = corrections.get("state", config.state) in LIVE_STATES
        wanted = target(config.type, muted=config.is_muted, ptt=state.ptt_pressed, live=live)
        steps.append(ApplyTurnTaking(wanted, tolerate_failure=True))
    recorded = {
        **corrections,
        "last_sync_at": now,
        "sync_attempts": config.sync_attempts + 1,
        "inconsistency_detected": True,
    }
    steps.append(Commit(recorded, event=None, keep_error=True))
    steps.extend(
        Emit("session_inconsistency", f"{trigger}:{item.check}", item.message)
        for item in verdict.inconsistencies
    )
    return Plan(tuple(steps))

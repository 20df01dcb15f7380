"""The synchronizer's narrow view of the agent's turn-taking."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .models import SessionType, TurnDetection


@dataclass(frozen=True)
class TurnTakingTarget:
    """What the agent's turn-taking must be for the session as it now stands."""

    session_type: SessionType | None
    turn_detection: TurnDetection
    audio_input_enabled: bool


@dataclass(frozen=True)
class TurnTakingObservation:
    """What the agent's turn-taking actually is."""

    turn_detection: TurnDetection
    audio_input_enabled: bool


class TurnTakingPort(Protocol):
    """Drives the agent's turn detection and audio input. Implemented over `AgentSession`
    by the worker, and in memory by `session_sync.testing`."""

    def observe(self) -> TurnTakingObservation: ...

    def unavailable_reason(self, session_type: SessionType | None) -> str | None:
        """Why this agent cannot run `session_type` at all (say, no speech-to-text for a voice
        type), or None. Asked before anything changes, so a refusal leaves the state as is."""
        ...

    async def apply(self, target: TurnTakingTarget) -> None:
        """Make the turn-taking match the target. An open user turn is committed first
        when the turn detection changes, so nothing the user said is lost."""
        ...

    async def start_user_turn(self) -> None:
        """A push-to-talk press begins: stop the agent speaking, drop any stale input."""
        ...

    async def end_user_turn(self) -> None:
        """A press ends: commit what the user said. Must not wait for the transcript."""
        ...

    async def cancel_user_turn(self) -> None:
        """A press is cancelled: discard what the user said."""
        ...

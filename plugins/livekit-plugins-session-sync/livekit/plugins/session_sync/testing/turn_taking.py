"""An in-memory `TurnTakingPort` that records what the synchronizer asked of it."""

from __future__ import annotations

import asyncio

from ..models import SessionType, TurnDetection
from ..turn_taking import TurnTakingObservation, TurnTakingTarget


class InMemoryTurnTaking:
    """`delay`: seconds each `apply` takes, as a real session's does; while it runs, other
    commands, room events and sends interleave. None (the default) never yields."""

    def __init__(self, *, delay: float | None = None) -> None:
        self.delay = delay
        self.applying = 0  # `apply` calls under way
        self.turn_detection: TurnDetection = "none"
        self.audio_input_enabled = False
        self.user_turn_open = False
        self.calls: list[str] = []
        # Session types this agent cannot run, with the reason it gives.
        self.unavailable: dict[SessionType, str] = {}
        # Set to make the next `apply` fail, as a broken model or session would.
        self.fail_next_apply: Exception | None = None
        # Set to make the next start/end/cancel of a user turn fail, as a closed session would.
        self.fail_next_turn_call: Exception | None = None

    def unavailable_reason(self, session_type: SessionType | None) -> str | None:
        return self.unavailable.get(session_type) if session_type else None

    def observe(self) -> TurnTakingObservation:
        return TurnTakingObservation(self.turn_detection, self.audio_input_enabled)

    async def apply(self, target: TurnTakingTarget) -> None:
        self.calls.append(
            f"apply:{target.session_type}:{target.turn_detection}:{target.audio_input_enabled}"
        )
        if self.delay is not None:
            self.applying += 1
            try:
                await asyncio.sleep(self.delay)
            finally:
                self.applying -= 1
        if self.fail_next_apply is not None:
            err, self.fail_next_apply = self.fail_next_apply, None
            raise err
        if target.turn_detection != self.turn_detection and self.user_turn_open:
            self.user_turn_open = False
            self.calls.append("commit")
        self.turn_detection = target.turn_detection
        self.audio_input_enabled = target.audio_input_enabled

    def _maybe_fail_turn_call(self) -> None:
        if self.fail_next_turn_call is not None:
            err, self.fail_next_turn_call = self.fail_next_turn_call, None
            raise err

    async def start_user_turn(self) -> None:
        self.calls.append("start")
        self._maybe_fail_turn_call()
        self.user_turn_open = True

    async def end_user_turn(self) -> None:
        self.calls.append("commit")
        self._maybe_fail_turn_call()
        self.user_turn_open = False

    async def cancel_user_turn(self) -> None:
        self.calls.append("clear")
        self._maybe_fail_turn_call()
        self.user_turn_open = False

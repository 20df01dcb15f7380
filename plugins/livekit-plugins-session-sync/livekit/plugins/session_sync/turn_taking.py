"""The synchronizer's narrow view of the agent's turn-taking."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from .log import logger
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


UserTurnCall = Literal["start_user_turn", "end_user_turn", "cancel_user_turn"]
SILENT = TurnTakingTarget(session_type=None, turn_detection="none", audio_input_enabled=False)


class TurnTakingDriver:
    """How the synchronizer uses a port that may be absent (a synchronizer without an agent).
    Only `apply` raises: the other calls must not stop the session's state moving on."""

    def __init__(self, port: TurnTakingPort | None) -> None:
        self._port = port

    def observe(self) -> TurnTakingObservation | None:
        return self._port.observe() if self._port is not None else None

    def unavailable_reason(self, session_type: SessionType) -> str | None:
        return self._port.unavailable_reason(session_type) if self._port is not None else None

    async def apply(self, target: TurnTakingTarget) -> None:
        if self._port is not None:
            await self._port.apply(target)

    async def user_turn(self, call: UserTurnCall, trigger: str) -> None:
        """A failure is logged; the press state still moves on, so the microphone follows
        the published state rather than a half-done call."""
        if self._port is None:
            return
        try:
            await getattr(self._port, call)()
        except Exception:
            logger.exception("user turn call %s failed", call, extra={"trigger": trigger})

    async def silence(self, *, cancel_press: bool, trigger: str) -> None:
        """Close the microphone for good. A failure here must not keep a session alive."""
        if self._port is None:
            return
        if cancel_press:
            await self.user_turn("cancel_user_turn", trigger)
        for attempt in (1, 2):  # once more: a session must not be left listening
            try:
                await self._port.apply(SILENT)
                return
            except Exception:
                logger.exception(
                    "turning the agent's turn-taking off failed (attempt %d)",
                    attempt,
                    extra={"trigger": trigger},
                )


class PressGuard:
    """Ends a push-to-talk press held too long: a lost release must not leave the microphone
    open. Each press has a number, so a late expiry cannot end a newer press."""

    def __init__(self, seconds: float | None, expire: Callable[[int], None]) -> None:
        self._seconds = seconds
        self._expire = expire
        self._handle: asyncio.TimerHandle | None = None
        self.press = 0

    def arm(self) -> None:
        self.cancel()
        self.press += 1
        if self._seconds is not None:
            loop = asyncio.get_running_loop()
            self._handle = loop.call_later(self._seconds, self._expire, self.press)

    def follow(self, was_pressed: bool, pressed: bool) -> None:
        """Arm on a press, disarm on its release."""
        if pressed and not was_pressed:
            self.arm()
        elif was_pressed and not pressed:
            self.cancel()

    def retry(self, press: int, seconds: float) -> None:
        """Expire the same press again later (the agent was too busy to end it)."""
        if press == self.press:
            loop = asyncio.get_running_loop()
            self._handle = loop.call_later(seconds, self._expire, press)

    def expired(self, press: int, pressed: bool) -> bool:
        """Whether `press`, whose time ran out, is still the one held (not released, nor a
        newer press with its own guard); logs that it is ending."""
        if not pressed or press != self.press:
            return False
        logger.warning("push-to-talk held for %.0f s; ending the press", self._seconds)
        return True

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

"""The session-sync turn-taking port over a running `AgentSession`: text, push-to-talk and VAD."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Literal

from livekit.agents import AgentSession, stt
from livekit.agents.utils import is_given
from livekit.agents.voice.events import UserInputTranscribedEvent, UserStateChangedEvent
from livekit.agents.voice.turn import EndpointingOptions, TurnDetectionMode

from livekit.plugins.session_sync import (
    SessionType,
    TurnDetection,
    TurnTakingObservation,
    TurnTakingTarget,
)

from .hearing import PressHearing

logger = logging.getLogger("session-sync.turns")

MANUAL: Literal["manual"] = "manual"

MANUAL_MIN_ENDPOINTING_DELAY = 0.0
"""A manual turn ends when the app says so: once the transcript is final, nothing is left to
wait for. The framework's manual commit still runs its end-of-utterance path, which would
otherwise sleep the endpointing minimum delay (0.5 s by default) before committing."""


@dataclass(frozen=True)
class PushToTalkTimers:
    transcript_timeout: float = 5.0
    """How long a released press waits for words still on their way before committing
    anyway. A recogniser that can flush answers at once; one that cannot is waited for only
    when the press's events show words still coming."""
    stt_flush_duration: float = 2.0
    """Silence fed to an STT that cannot flush on demand, to draw out the final transcript."""


def framework_turn_detection(
    turn_detection: TurnDetection, server_mode: TurnDetectionMode
) -> TurnDetectionMode:
    """The framework's mode for a session-sync turn detection: the agent decides only for VAD."""
    return server_mode if turn_detection == "server" else MANUAL


def effective_stt(session: AgentSession[Any]) -> stt.STT[Any] | None:
    """The speech-to-text the framework runs: the agent's own, when it set one."""
    try:
        agent = session.current_agent
    except RuntimeError:  # not started yet
        return session.stt
    return agent.stt if is_given(agent.stt) else session.stt


def can_flush(recogniser: stt.STT[Any] | None) -> bool:
    """Whether the framework can ask this STT for its final transcript on demand (a
    non-streaming one is wrapped in the framework's stream adapter, which cannot)."""
    if recogniser is None:
        return False
    capabilities = recogniser.capabilities
    return capabilities.streaming and capabilities.manual_flush


def effective_turn_detection(session: AgentSession[Any]) -> TurnDetectionMode | None:
    """The mode the framework runs: the agent's own, when it set one, else the session's."""
    try:
        agent = session.current_agent
    except RuntimeError:  # not started yet
        return session.turn_detection
    return agent.turn_detection if is_given(agent.turn_detection) else session.turn_detection


class AgentSessionTurnTaking:
    """Drives an `AgentSession`'s turn detection and audio input for the session type.

    `server_mode` is what "the agent decides" means here: an end-of-turn model instance,
    or "vad" for VAD-only endpointing. The session's endpointing minimum delay, as it was
    built, is what VAD keeps; manual turns (push-to-talk, and a text session's mid-press
    switch) commit without it.
    """

    def __init__(
        self,
        session: AgentSession[Any],
        *,
        server_mode: TurnDetectionMode,
        timers: PushToTalkTimers | None = None,
    ) -> None:
        self._session = session
        self._server_mode = server_mode
        self._timers = timers or PushToTalkTimers()
        self._session_type: SessionType | None = None
        self._pending_commit: asyncio.Future[str] | None = None
        self._server_min_delay = session.options.endpointing["min_delay"]
        self._hearing = PressHearing()
        self._press_overlaps = False
        session.on("user_state_changed", self._on_user_state)
        session.on("user_input_transcribed", self._on_transcribed)

    def _on_user_state(self, event: UserStateChangedEvent) -> None:
        self._hearing.on_user_state(event.new_state)

    def _on_transcribed(self, event: UserInputTranscribedEvent) -> None:
        self._hearing.on_transcript(event.transcript, final=event.is_final)

    @property
    def session_type(self) -> SessionType | None:
        return self._session_type

    def unavailable_reason(self, session_type: SessionType | None) -> str | None:
        if session_type in ("voice-ptt", "voice-vad") and self._session.stt is None:
            return (
                "it has no speech-to-text (set LIVEKIT_API_KEY and LIVEKIT_API_SECRET, "
                "and STT_MODEL)"
            )
        return None

    def observe(self) -> TurnTakingObservation:
        """What the framework is doing now, read from the session, not from the last apply."""
        session = self._session
        mode = effective_turn_detection(session)
        if mode is not None and mode != MANUAL:
            observed: TurnDetection = "server"
        elif session.output.audio is not None:
            # Manual turns: the app decides them in a voice session, which speaks its
            # answers; a text session answers in text only and has no turns to decide.
            observed = "client" if session.output.audio_enabled else "none"
        else:
            # Nothing to tell the two apart by (no speaker at all): trust the last apply.
            observed = "client" if self._session_type == "voice-ptt" else "none"
        return TurnTakingObservation(
            turn_detection=observed, audio_input_enabled=session.input.audio_enabled
        )

    async def apply(self, target: TurnTakingTarget) -> None:
        session = self._session
        mode = framework_turn_detection(target.turn_detection, self._server_mode)
        leaving_server = session.turn_detection not in (None, MANUAL) and mode == MANUAL
        if leaving_server and session.user_state == "speaking":
            # The user is mid-sentence as VAD hands over: keep those words as a turn.
            self._commit()
        if session.turn_detection != mode:
            session.update_options(turn_detection=mode)
        min_delay = MANUAL_MIN_ENDPOINTING_DELAY if mode == MANUAL else self._server_min_delay
        if session.options.endpointing["min_delay"] != min_delay:
            session.update_options(endpointing_opts=EndpointingOptions(min_delay=min_delay))
        session.input.set_audio_enabled(target.audio_input_enabled)
        if session.output.audio is not None:
            # Text sessions answer in text only, so no speech is synthesized (or billed).
            session.output.set_audio_enabled(target.session_type in ("voice-ptt", "voice-vad"))
        self._session_type = target.session_type

    def drift_audio_input(self) -> bool:
        """Flip the microphone without telling the session (the console's /drift), so the
        validation can be watched finding and repairing it. Returns the new state."""
        enabled = not self._session.input.audio_enabled
        self._session.input.set_audio_enabled(enabled)
        return enabled

    async def start_user_turn(self) -> None:
        session = self._session
        if session.current_speech is not None:
            session.interrupt(force=True)
        # While the last press's commit still waits for its transcript, the events that
        # come next may be its own: this press then waits for its words the framework's way.
        self._press_overlaps = not (self._pending_commit is None or self._pending_commit.done())
        if not self._press_overlaps:
            # Drops words of a cancelled or abandoned press, and resets the STT stream so a
            # late final transcript from before cannot land in this turn.
            session.clear_user_turn()
        self._hearing.reset(session.user_state)

    async def end_user_turn(self) -> None:
        self._commit()

    async def cancel_user_turn(self) -> None:
        self._session.clear_user_turn()
        self._hearing.reset(self._session.user_state)

    def _commit(self) -> None:
        # Not awaited: the final transcript may take a moment, and the press's end must be
        # published at once. The framework bounds the wait with `transcript_timeout`, and asks
        # a recogniser that can flush for its final transcript. No wait at all when the
        # press's events show there is nothing left to hear: for a recogniser that cannot
        # flush, which says nothing about silence and would be waited on for the whole
        # timeout; and for one that can, once words were heard and all of them are final,
        # which saves the flush's round trip. A press with no final yet asks one that can.
        timeout = self._timers.transcript_timeout
        hearing = self._hearing
        if (
            not self._press_overlaps
            and not hearing.words_pending()
            and (hearing.heard_words() or not can_flush(effective_stt(self._session)))
        ):
            timeout = 0.0
        committed: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        def start(_: object = None) -> None:
            try:
                framework = self._session.commit_user_turn(
                    transcript_timeout=timeout,
                    stt_flush_duration=self._timers.stt_flush_duration,
                )
            except RuntimeError as e:  # the session closed meanwhile
                committed.set_exception(e)
                return
            framework.add_done_callback(lambda done: _settle(committed, done))

        previous = self._pending_commit
        if previous is not None and not previous.done():
            # The framework's commit cancels one still waiting for its transcript, and the
            # earlier press's words would then fold into this turn: one after the other.
            previous.add_done_callback(start)
        else:
            start()
        self._pending_commit = committed
        committed.add_done_callback(_log_commit_failure)


def _settle(target: asyncio.Future[str], source: asyncio.Future[str]) -> None:
    if target.done():
        return
    if source.cancelled():
        target.cancel()
    elif (exc := source.exception()) is not None:
        target.set_exception(exc)
    else:
        target.set_result(source.result())


def _log_commit_failure(future: asyncio.Future[str]) -> None:
    if not future.cancelled() and (exc := future.exception()) is not None:
        logger.error("committing the user's turn failed", exc_info=exc)

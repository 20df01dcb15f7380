"""How a job's session is built: the AgentSession with its turn-taking port, and the session
synchronizer that keeps it in step with the app. The worker and the console both build here."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from livekit.agents import Agent, AgentSession, StopResponse, llm

from livekit.plugins.session_sync import (
    AgentStateSource,
    RoomPort,
    SessionStore,
    SessionSyncEvent,
    SessionSynchronizer,
    SessionType,
    TurnTakingTarget,
    expected_audio_input,
    turn_profile,
)

from .responder import OfflineResponder
from .session_type import ChosenType
from .settings import Settings
from .speech_models import LoadedModels
from .turns import AgentSessionTurnTaking, PushToTalkTimers, framework_turn_detection

logger = logging.getLogger("agent.worker")
event_logger = logging.getLogger("agent.events")


class SessionSyncAgent(Agent):
    async def on_user_turn_completed(
        self, turn_ctx: llm.ChatContext, new_message: llm.ChatMessage
    ) -> None:
        # An empty push-to-talk press (or a cleared one) must not make the agent talk.
        if not (new_message.text_content or "").strip():
            raise StopResponse()


@dataclass
class Prewarmed:
    settings: Settings
    models: LoadedModels


def build_session(
    settings: Settings,
    models: LoadedModels,
    session_type: SessionType,
    **overrides: Any,
) -> tuple[AgentSession[Any], AgentSessionTurnTaking]:
    """An AgentSession whose turn-taking starts as the session type says, and its port."""
    options: dict[str, Any] = {
        "llm": settings.llm_model or OfflineResponder(),
        "stt": models.speech_to_text(settings.effective_stt_model),
        "tts": models.text_to_speech(settings.effective_tts_model),
        "vad": models.vad,
        **overrides,
    }
    server_mode = models.server_turn_detection()
    initial = framework_turn_detection(turn_profile(session_type).turn_detection, server_mode)
    with _quiet_default_turn_detector():
        session: AgentSession[Any] = AgentSession(
            turn_handling={"turn_detection": initial}, **options
        )
    timers = PushToTalkTimers(
        transcript_timeout=settings.ptt_transcript_timeout_seconds,
        stt_flush_duration=settings.ptt_stt_flush_seconds,
    )
    return session, AgentSessionTurnTaking(session, server_mode=server_mode, timers=timers)


class _DefaultDetectorWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("LIVEKIT_INFERENCE_URL is set but")


@contextmanager
def _quiet_default_turn_detector() -> Iterator[None]:
    """Justified: `AgentSession.__init__` builds `inference.TurnDetector()` as the eager
    default of `turn_handling.get("turn_detection", ...)` even when one is given, and drops it;
    in console and dev mode without keys it warns about keys that nothing here uses."""
    framework_logger = logging.getLogger("livekit.agents")
    quiet = _DefaultDetectorWarning()
    framework_logger.addFilter(quiet)
    try:
        yield
    finally:
        framework_logger.removeFilter(quiet)


def create_sync(
    settings: Settings,
    room: RoomPort,
    turns: AgentSessionTurnTaking,
    *,
    linked_identity: str,
    store: SessionStore | None = None,
    log_events: bool = False,
    agent_state: AgentStateSource | None = None,
) -> SessionSynchronizer:
    sync = SessionSynchronizer(
        room,
        turn_taking=turns,
        linked_identity=linked_identity,
        options=settings.sync_options(),
        store=store,
        agent_state=agent_state,
    )
    if log_events:  # the console shows each event; a worker's metrics and traces say enough
        sync.on_event(log_event)
    return sync


def log_event(event: SessionSyncEvent) -> None:
    """Log each sync event as it is emitted."""
    state = event.payload.frontend_state
    detail = f" - {event.payload.detail}" if event.payload.detail else ""
    event_logger.info(
        "#%d %s (%s): %s/%s rev %d%s",
        event.seq,
        event.type,
        event.payload.trigger,
        state.type or "none",
        state.state,
        state.revision,
        detail,
    )


def runnable_type(turns: AgentSessionTurnTaking, chosen: ChosenType) -> ChosenType:
    """A job must not start in a type it cannot run (voice without speech-to-text)."""
    reason = turns.unavailable_reason(chosen.session_type)
    if reason is None:
        return chosen
    logger.warning(
        "cannot start the %s session chosen by %s: %s; starting a text session instead",
        chosen.session_type,
        chosen.source,
        reason,
    )
    return ChosenType("text", f"{chosen.source}, unavailable here")


async def start_turn_taking(turns: AgentSessionTurnTaking, session_type: SessionType) -> None:
    """Right after `AgentSession.start`: a text session must not stream audio to STT even
    for the moment before the synchronizer starts."""
    profile = turn_profile(session_type)
    await turns.apply(
        TurnTakingTarget(
            session_type=session_type,
            turn_detection=profile.turn_detection,
            audio_input_enabled=expected_audio_input(
                session_type, "active", muted=False, ptt_pressed=False
            ),
        )
    )


async def start_session_sync(
    settings: Settings,
    room: RoomPort,
    turns: AgentSessionTurnTaking,
    *,
    linked_identity: str,
    chosen: ChosenType,
    on_close: Callable[[Callable[[], Coroutine[None, None, None]]], None],
    store: SessionStore | None = None,
    log_events: bool = False,
    agent_state: AgentStateSource | None = None,
) -> SessionSynchronizer:
    """Right after `AgentSession.start`: turn-taking for a type this agent can run, then the
    synchronizer, whose close is registered before it starts so a failed start still closes.
    `agent_state` (the session's `agent_state`) puts `lk.agent.state` in every update of the
    session's attributes, for frontends built on LiveKit's agent hooks."""
    chosen = runnable_type(turns, chosen)
    await start_turn_taking(turns, chosen.session_type)
    sync = create_sync(
        settings,
        room,
        turns,
        linked_identity=linked_identity,
        store=store,
        log_events=log_events,
        agent_state=agent_state,
    )
    on_close(sync.aclose)
    await sync.start(chosen.session_type, trigger=f"join:{chosen.source}")
    return sync

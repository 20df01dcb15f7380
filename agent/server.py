"""The worker: prewarm loads the models once; each job runs one agent kept in step by the plugin."""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from livekit import api, rtc
from livekit.agents import (
    Agent,
    AgentServer,
    AgentSession,
    JobContext,
    JobExecutorType,
    JobProcess,
    StopResponse,
    llm,
    room_io,
)

from livekit.plugins.session_sync import (
    ATTR_AGENT_STATE,
    ATTR_REQUESTED_TYPE,
    AgentStateSource,
    LiveKitRoom,
    ProtocolError,
    RoomMetadataStore,
    RoomPort,
    SessionStore,
    SessionSyncEvent,
    SessionSynchronizer,
    SessionType,
    TurnTakingTarget,
    expected_audio_input,
    turn_profile,
)

from .heap import keep_heap
from .models import LoadedModels, plan_turn_detector, shared_models
from .responder import OfflineResponder
from .room_echo import attribute_echoed
from .session_type import ChosenType, choose_session_type
from .settings import Settings, load_settings
from .turns import AgentSessionTurnTaking, PushToTalkTimers, framework_turn_detection

logger = logging.getLogger("agent.worker")
event_logger = logging.getLogger("agent.events")

PREWARM_TIMEOUT_SECONDS = 60.0
"""How long a job process may take to start and load the models. The framework's 10 s is
too short on a small busy machine (on two shared cores under load, well over 10 s here): a
prewarm cut off is started again, and again, and the jobs waiting meanwhile get no process.
A worker registers once its first processes are warm, or after this long: so not more."""

_running: dict[str, SessionSynchronizer] = {}
"""The synchronizer of each job running in this process, by job id, until the job ends."""


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


def prewarm(proc: JobProcess) -> None:
    """Runs once per job process, or once per job under the thread executor: the models come
    from the process, loaded by the first prewarm or inherited from the forkserver."""
    settings = load_settings()
    plan = plan_turn_detector(settings.turn_detector, fallback=settings.turn_detector_fallback)
    proc.userdata["prewarmed"] = Prewarmed(settings, shared_models(settings, plan))
    keep_heap(settings.heap_options())


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
    """AgentSession builds a default cloud turn detector even when one is given, and drops it;
    without keys that detector warns about keys that nothing here uses."""
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


def leave_when_user_gone(ctx: JobContext, identity: str, grace_seconds: float) -> None:
    """The session survives a brief drop of its user; the job ends if they stay away."""
    pending: list[asyncio.TimerHandle] = []

    def cancel() -> None:
        while pending:
            pending.pop().cancel()

    def on_left(participant: rtc.RemoteParticipant) -> None:
        if participant.identity == identity:
            cancel()
            pending.append(
                asyncio.get_running_loop().call_later(
                    grace_seconds, lambda: ctx.shutdown(reason="user did not return")
                )
            )

    def on_joined(participant: rtc.RemoteParticipant) -> None:
        if participant.identity == identity:
            cancel()

    ctx.room.on("participant_disconnected", on_left)
    ctx.room.on("participant_connected", on_joined)
    ctx.add_shutdown_callback(lambda: _cancelled(cancel))


async def _cancelled(cancel: Callable[[], None]) -> None:
    cancel()


async def entrypoint(ctx: JobContext) -> None:
    prewarmed: Prewarmed = ctx.proc.userdata["prewarmed"]
    settings, models = prewarmed.settings, prewarmed.models
    if ctx.is_fake_job():
        from .console import run_console  # the console's in-memory room stays out of production

        await run_console(ctx, settings, models)
        return

    await ctx.connect()
    participant = await ctx.wait_for_participant()
    chosen = choose_session_type(
        [
            (
                f"participant attribute {ATTR_REQUESTED_TYPE}",
                participant.attributes.get(ATTR_REQUESTED_TYPE),
            ),
            ("dispatch metadata", ctx.job.metadata),
            ("room metadata", ctx.room.metadata),
        ],
        settings.default_session_type,
    )
    session, turns = build_session(settings, models, chosen.session_type)
    await session.start(
        SessionSyncAgent(instructions=settings.agent_instructions),
        room=ctx.room,
        # The session outlives a user's brief disconnect; RoomIO relinks them when they rejoin.
        room_options=room_io.RoomOptions(
            participant_identity=participant.identity, close_on_disconnect=False
        ),
    )
    leave_when_user_gone(ctx, participant.identity, settings.rejoin_grace_seconds)
    # The framework publishes the agent's state on its own: the session's first attribute
    # updates must follow it, so the last change a page sees names the state (protocol 2.3).
    await attribute_echoed(ctx.room, ATTR_AGENT_STATE, session.agent_state, timeout=5.0)
    _running[ctx.job.id] = await start_session_sync(
        settings,
        LiveKitRoom(ctx.room),
        turns,
        linked_identity=participant.identity,
        chosen=chosen,
        on_close=ctx.add_shutdown_callback,
        store=room_metadata_store(ctx),
        agent_state=lambda: session.agent_state,
    )


def room_metadata_store(ctx: JobContext) -> RoomMetadataStore:
    """The session's record in the room metadata, so that an agent replacing this one after
    a crash continues the session; written with the server API."""

    async def write(metadata: str) -> None:
        request = api.UpdateRoomMetadataRequest(room=ctx.room.name, metadata=metadata)
        await ctx.api.room.update_room_metadata(request)

    return RoomMetadataStore(read=lambda: ctx.room.metadata, write=write)


async def end_session_sync(ctx: JobContext) -> None:
    """The job is ending (its user did not return, or the worker is stopping): end the session
    and send its final state while the room is still connected. The framework runs this before
    it disconnects the room; shutdown callbacks run only after, when nothing can be sent."""
    sync = _running.pop(ctx.job.id, None)
    if sync is None:
        return
    if sync.config.state != "idle" and ctx.room.isconnected():
        try:
            await sync.request("session.end", trigger="agent_shutdown")
            # Once the room disconnects, an update still on its way is lost.
            revision = str(sync.config.revision)
            if not await attribute_echoed(ctx.room, "session.revision", revision, timeout=5.0):
                logger.warning("the final session state may not have reached the room")
        except ProtocolError as e:
            logger.warning("could not end the session before leaving: %s", e.message)
    await sync.aclose()  # sends what is queued


def build_server(settings: Settings) -> AgentServer:
    server = AgentServer(
        setup_fnc=prewarm,
        initialize_process_timeout=PREWARM_TIMEOUT_SECONDS,
        prometheus_port=settings.prometheus_port,
        log_level=settings.log_level,
        prometheus_multiproc_dir=_metrics_dir(settings),
        **_load_options(settings),
        **_health_port(settings),
        **executor_options(settings),
    )
    server.rtc_session(agent_name=settings.agent_name, on_session_end=end_session_sync)(entrypoint)
    return server


def _metrics_dir(settings: Settings) -> str | None:
    """Jobs run in child processes; Prometheus' multiprocess mode lets /metrics show their
    series. A PROMETHEUS_MULTIPROC_DIR from the environment is used as it is (the framework
    empties it at start); otherwise each worker gets a fresh directory of its own."""
    if settings.prometheus_port is None or os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return None
    return tempfile.mkdtemp(prefix="session-sync-metrics-")


EXECUTOR_TYPES = {"process": JobExecutorType.PROCESS, "thread": JobExecutorType.THREAD}
PRELOAD_MODULE = "agent.preload"


def executor_options(settings: Settings) -> dict[str, Any]:
    """JOB_EXECUTOR as the framework's executor. Job processes are forked from a forkserver
    that imports `agent.preload` first, so they share one copy of the models."""
    options: dict[str, Any] = {"job_executor_type": EXECUTOR_TYPES[settings.job_executor]}
    if settings.job_executor == "process":
        options["preload_modules"] = [PRELOAD_MODULE]
    return options


def _health_port(settings: Settings) -> dict[str, Any]:
    """Unset keeps the framework's choice: 8081 for `start`, a free port for `dev`."""
    return {} if settings.health_port is None else {"port": settings.health_port}


def _load_options(settings: Settings) -> dict[str, Any]:
    """The worker reports itself full by CPU use (the framework's default), or at MAX_JOBS."""
    limit = settings.max_jobs
    if limit is None:
        return {}

    def load(server: AgentServer) -> float:
        return min(len(server.active_jobs) / limit, 1.0)

    return {"load_fnc": load, "load_threshold": 1.0}

"""The worker: prewarm loads the models once; each job runs one agent kept in step by the plugin."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from livekit import api, rtc
from livekit.agents import (
    AgentServer,
    JobContext,
    JobExecutorType,
    JobProcess,
    room_io,
)
from livekit.agents import utils as agents_utils

from livekit.plugins.session_sync import (
    ATTR_AGENT_STATE,
    ATTR_REQUESTED_TYPE,
    LiveKitRoom,
    ProtocolError,
    RoomMetadataStore,
    SessionSynchronizer,
)

from .handover import HandoverServer, hand_over, handing_over, prepare_handover_mark
from .heap import keep_heap
from .load import OwnCpu, WorkerLoad
from .room_echo import attribute_echoed, room_connected
from .session import Prewarmed, SessionSyncAgent, build_session, start_session_sync
from .session_type import choose_session_type
from .settings import Settings, load_settings
from .speech_models import plan_turn_detector, shared_models

logger = logging.getLogger("agent.worker")

Entrypoint = Callable[[JobContext], Coroutine[None, None, None]]

PREWARM_TIMEOUT_SECONDS = 60.0
"""How long a job process may take to start and load the models. The framework's 10 s is
too short on a small busy machine (on two shared cores under load, well over 10 s here): a
prewarm cut off is started again, and again, and the jobs waiting meanwhile get no process.
A worker registers once its first processes are warm, or after this long: so not more."""

_running: dict[str, SessionSynchronizer] = {}
"""The synchronizer of each job running in this process, by job id, until the job ends."""


def prewarm(proc: JobProcess) -> None:
    """Runs once per job process, or once per job under the thread executor: the models come
    from the process, loaded by the first prewarm or inherited from the forkserver."""
    settings = load_settings()
    plan = plan_turn_detector(settings.turn_detector, fallback=settings.turn_detector_fallback)
    proc.userdata["prewarmed"] = Prewarmed(settings, shared_models(settings, plan))
    keep_heap(settings.heap_options())


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
        # The app shows when the agent last checked the session (the console does not).
        announce_clean_passes=True,
    )


def room_metadata_store(ctx: JobContext) -> RoomMetadataStore:
    """The session's record in the room metadata, so that an agent replacing this one after
    a crash continues the session; written with the server API."""

    async def write(metadata: str) -> None:
        request = api.UpdateRoomMetadataRequest(room=ctx.room.name, metadata=metadata)
        await ctx.api.room.update_room_metadata(request)

    return RoomMetadataStore(read=lambda: ctx.room.metadata, write=write)


FINAL_STATE_TIMEOUT_SECONDS = 5.0
"""How long a leaving agent waits for its link, then for the server to show its final state."""


async def end_session_sync(ctx: JobContext) -> None:
    """The job is ending (its user did not return, or the worker is stopping): end the session,
    or hand it on when a `start` worker drains (agent/handover.py), and send its final state
    while the room is still connected. The framework runs this before
    it disconnects the room; shutdown callbacks run only after, when nothing can be sent."""
    sync = _running.pop(ctx.job.id, None)
    if sync is None:
        logger.info("the job ends before its session started: nothing to end")
        return
    if handing_over() and sync.linked_identity in ctx.room.remote_participants:
        logger.info("the worker is stopping: handing the session on to another agent")
        await hand_over(sync)
        return
    if sync.config.state != "idle" and not await room_connected(
        ctx.room, timeout=FINAL_STATE_TIMEOUT_SECONDS
    ):
        logger.warning("the room is not connected: the session's end cannot be sent")
    elif sync.config.state != "idle":
        try:
            await sync.request("session.end", trigger="agent_shutdown")
            # Once the room disconnects, an update still on its way is lost.
            revision = str(sync.config.revision)
            if not await attribute_echoed(
                ctx.room, "session.revision", revision, timeout=FINAL_STATE_TIMEOUT_SECONDS
            ):
                logger.warning("the final session state may not have reached the room")
        except ProtocolError as e:
            logger.warning("could not end the session before leaving: %s", e.message)
    await sync.aclose()  # sends what is queued


_offered: contextvars.ContextVar[str] = contextvars.ContextVar("offered_room", default="")
"""The room of the job being offered, in the task that answers the offer."""


class SessionSyncServer(AgentServer):
    """The framework's server, saying at warning level why it refuses a job: livekit-agents
    1.8.9 turns an offer down in `_answer_availability`, through `_is_available`, before any
    `request_fnc` runs, and logs nothing."""

    worker_load: WorkerLoad | None = None

    async def _answer_availability(self, msg: Any, *, received_at: float | None = None) -> None:
        _offered.set(msg.job.room.name)  # this call is a task of its own
        await super()._answer_availability(msg, received_at=received_at)

    def _get_effective_load(self) -> float:
        """The load with the jobs accepted but not started yet counted as running ones.
        livekit-agents 1.8.9 counts each of those, while no job runs, as `load_threshold /
        num_idle_processes`: half the capacity on 2 cores, so an idle worker refused the third
        of several offers arriving at once, and the server, finding the other workers as
        busy, left that room without an agent. While jobs run it counts each at the running
        jobs' average, which let a worker accept past MAX_JOBS."""
        if self.worker_load is None:
            return super()._get_effective_load()
        return self.worker_load.with_accepted(getattr(self, "_reserved_slots", 0))

    def _is_available(self) -> bool:
        available = super()._is_available()
        if not available:
            if self._draining:
                why = "the worker is stopping (draining its jobs)"
            elif self.worker_load is not None and self.worker_load.full_because:
                why = self.worker_load.full_because
            else:
                why = "the jobs it has just accepted fill it"
            logger.warning("refused the job for room %r: %s", _offered.get() or "?", why)
        return available


class HandingOverServer(SessionSyncServer, HandoverServer):
    """ON_DRAIN=hand_over, with the same load and refusals."""


SessionEnd = Callable[[JobContext], Coroutine[None, None, None]]


def build_server(
    settings: Settings,
    job: Entrypoint = entrypoint,
    on_session_end: SessionEnd | None = end_session_sync,
) -> SessionSyncServer:
    """The worker, running `job` for each session and `on_session_end` as each job ends: the
    worker's own, or the console's, which joins an in-memory room instead and has no room
    session to end or hand on (None)."""
    if settings.on_drain == "hand_over":
        prepare_handover_mark()  # before the job processes start, so that they inherit it
    kind = HandingOverServer if settings.on_drain == "hand_over" else SessionSyncServer
    server = kind(
        setup_fnc=prewarm,
        initialize_process_timeout=PREWARM_TIMEOUT_SECONDS,
        prometheus_port=settings.prometheus_port,
        log_level=settings.log_level,
        # Multiprocess metrics: PROMETHEUS_MULTIPROC_DIR, set by `agent.prometheus_dir` at start.
        # Full at 1.0 in `dev` too: the framework's `dev` never reports a worker full.
        load_threshold=1.0,
        **_health_port(settings),
        **executor_options(settings),
    )
    server.worker_load = worker_load(settings, server)
    server.load_fnc = server.worker_load
    server.rtc_session(agent_name=settings.agent_name, on_session_end=on_session_end)(job)
    return server


def worker_load(settings: Settings, server: AgentServer) -> WorkerLoad:
    """Jobs against capacity (MAX_JOBS, or two per core), with CPU_GUARD on the worker's own
    processes; see `agent.load`."""
    cpus = agents_utils.hw.get_cpu_monitor().cpu_count()
    return WorkerLoad(
        capacity=settings.capacity(cpus),
        cpu_guard=settings.cpu_guard,
        cpu=OwnCpu(cpus).share,
        jobs=lambda: len(server.active_jobs),
    )


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

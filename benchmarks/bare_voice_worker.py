"""A bare voice worker for the benchmarks: the framework alone, with the worker's models.

    python -m benchmarks.bare_voice_worker start

What a plain livekit-agents worker does with the same models as `python -m agent start` in a
voice-vad session: silero VAD and pocketsphinx loaded in the process prewarm (as the
framework's examples load silero), the on-device end-of-turn model left to the framework's
own preload, and one `AgentSession` per job with the offline responder and no speech output.
No session sync. Read from the environment: the LiveKit keys, `AGENT_NAME` (explicit
dispatch) and `JOB_EXECUTOR` (`process` or `thread`).
"""

from __future__ import annotations

import os

from livekit.agents import (
    Agent,
    AgentServer,
    AgentSession,
    JobContext,
    JobExecutorType,
    JobProcess,
    cli,
    inference,
    room_io,
)
from livekit.plugins import silero

from agent.local_stt import LocalSTT, PocketSphinxModel
from agent.responder import OfflineResponder

EXECUTORS = {"process": JobExecutorType.PROCESS, "thread": JobExecutorType.THREAD}
MAX_JOBS = 32
"""Jobs are counted, not CPU: a shared machine is often above the framework's 70% mark."""


def prewarm(proc: JobProcess) -> None:
    proc.userdata["vad"] = silero.VAD.load()
    proc.userdata["stt_model"] = PocketSphinxModel()


async def entrypoint(ctx: JobContext) -> None:
    await ctx.connect()
    participant = await ctx.wait_for_participant()
    session: AgentSession[None] = AgentSession(
        vad=ctx.proc.userdata["vad"],
        stt=LocalSTT(ctx.proc.userdata["stt_model"], ctx.proc.userdata["vad"]),
        llm=OfflineResponder(),
        turn_handling={"turn_detection": inference.TurnDetector(version="v1-mini")},
    )
    await session.start(
        Agent(instructions="benchmark"),
        room=ctx.room,
        room_options=room_io.RoomOptions(participant_identity=participant.identity),
    )


def load(server: AgentServer) -> float:
    return min(len(server.active_jobs) / MAX_JOBS, 1.0)


def build_server() -> AgentServer:
    server = AgentServer(
        setup_fnc=prewarm,
        job_executor_type=EXECUTORS[os.environ.get("JOB_EXECUTOR", "process")],
        load_fnc=load,
        load_threshold=1.0,
        # Loading pocketsphinx in every new process takes seconds on a busy machine; the
        # framework's 10 s would kill and respawn processes mid-measurement.
        initialize_process_timeout=60.0,
        port=int(os.environ.get("HEALTH_PORT", "0")),
    )
    server.rtc_session(agent_name=os.environ.get("AGENT_NAME", ""))(entrypoint)
    return server


if __name__ == "__main__":
    cli.run_app(build_server())

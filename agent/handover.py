"""Rolling restarts that keep sessions: a `start` worker told to stop hands its jobs on.

The framework's drain stops taking jobs and then waits for the running ones to end, which
for a voice session can be hours. With `ON_DRAIN=hand_over` the worker instead asks each of
its jobs to end at once, marked as a hand-over: the job's agent tells the app the link is
interrupted, saves the session record (room metadata) and leaves *without* ending the
session. The server's `participant_left` webhook then reaches the dispatch service
(`agent/dispatcher.py`), which sees the record is still live and dispatches a new agent to
the room; the worker that is stopping reports itself full, so the new job goes to another
worker, whose agent continues the session from the record.

The worker and its job processes share no memory, so the hand-over is marked with a file in
a directory named in the environment before the job processes start: they inherit it.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from livekit.agents import AgentServer
from livekit.agents.types import NOT_GIVEN, NotGivenOr

from livekit.plugins.session_sync import SessionSynchronizer
from livekit.plugins.session_sync.plan import Emit, Plan

logger = logging.getLogger("agent.handover")

HANDOVER_DIR_ENV = "SESSION_SYNC_HANDOVER_DIR"
_MARK = "handing-over"
HANDOVER_TRIGGER = "handover"
"""The trigger of the `connection_interruption` the app receives from a leaving agent."""

_POLL_SECONDS = 0.2


def prepare_handover_mark() -> None:
    """Before the job processes start: a directory of this worker's own for the mark.

    Always a new one: a directory named in the environment the worker was started with
    belongs to another worker (its parent's, or one started earlier from the same shell), and
    a mark left there would hand on every session of this worker too.
    """
    directory = tempfile.mkdtemp(prefix="session-sync-handover-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    os.environ[HANDOVER_DIR_ENV] = directory


def _mark_path() -> Path | None:
    directory = os.environ.get(HANDOVER_DIR_ENV)
    return Path(directory) / _MARK if directory else None


def mark_handing_over() -> None:
    path = _mark_path()
    if path is not None:
        path.touch()


def handing_over() -> bool:
    """In a job: whether its worker is stopping and hands its sessions on."""
    path = _mark_path()
    return path is not None and path.exists()


class HandoverServer(AgentServer):
    """An AgentServer whose drain hands the running jobs on instead of waiting for them."""

    async def drain(self, timeout: NotGivenOr[int | None] = NOT_GIVEN) -> None:
        mark_handing_over()
        draining = asyncio.create_task(super().drain(timeout), name="session-sync-drain")
        asked: set[str] = set()
        closing: set[asyncio.Task[None]] = set()
        try:
            # Jobs still being launched when the drain began are handed on once they run.
            while not draining.done():
                if self.draining:
                    for job in self.active_jobs:
                        if job.job.id not in asked:
                            asked.add(job.job.id)
                            closing.add(asyncio.create_task(self._hand_on(job.job.id)))
                await asyncio.wait({draining}, timeout=_POLL_SECONDS)
            await draining
        finally:
            for task in closing:
                task.cancel()
            await asyncio.gather(*closing, return_exceptions=True)

    async def _hand_on(self, job_id: str) -> None:
        # As the framework ends a job the server terminates (`_handle_termination`).
        proc = self._proc_pool.get_by_job_id(job_id)
        if proc is not None:
            logger.info("handing the job on", extra={"job_id": job_id})
            await proc.aclose()


async def hand_over(sync: SessionSynchronizer) -> None:
    """In the job, before it leaves: the app hears the link is interrupted, the record keeps
    the session as it is (still live), and nothing else is published."""
    if sync.config.state in ("active", "syncing"):
        await sync.react(_interrupted, HANDOVER_TRIGGER)
    await sync.aclose()  # writes the record if it is behind, then sends what is queued


def _interrupted(_: Any) -> Plan:
    return Plan((Emit("connection_interruption"),))

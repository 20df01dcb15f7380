"""Commands waiting for the owner's lock: a bounded number, each run to completion in a task
kept here, so that a caller who stops waiting does not cut a command off half-way."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from .log import logger
from .protocol import CommandResult, ErrorCode, ProtocolError, decode_params
from .transitions import Incoming
from .turn_taking import PressGuard

RunLocked = Callable[[Incoming, str, int | None], Awaitable[CommandResult]]
"""Runs a command under the owner's lock: (command, trigger, push-to-talk press or None)."""


class CommandQueue:
    def __init__(self, run_locked: RunLocked, *, limit: int) -> None:
        self._run_locked = run_locked
        self._limit = limit
        self._pending = 0
        self._tasks: set[asyncio.Task[CommandResult]] = set()
        self._closed = False

    @property
    def tasks(self) -> set[asyncio.Task[CommandResult]]:
        return set(self._tasks)

    def close(self) -> None:
        """Refuse new commands; those already queued still run."""
        self._closed = True

    def submit(
        self, command: Incoming, trigger: str, *, press: int | None = None
    ) -> asyncio.Task[CommandResult]:
        """Queue `command` in a task kept here; raises (busy, unavailable) when it cannot."""
        self._take_place()
        task = asyncio.create_task(self._run(command, trigger, press), name=command.method)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    async def run_here(self, command: Incoming, trigger: str) -> CommandResult:
        """Run `command` in the caller's own task, which the owner keeps."""
        self._take_place()
        return await self._run(command, trigger, None)

    def _take_place(self) -> None:
        """A place among the commands waiting for the lock, released by `_run`."""
        if self._closed:
            raise ProtocolError(ErrorCode.UNAVAILABLE, "the agent is shutting down")
        if self._pending >= self._limit:
            raise ProtocolError(ErrorCode.BUSY, "too many commands waiting; retry shortly")
        self._pending += 1

    async def _run(self, command: Incoming, trigger: str, press: int | None) -> CommandResult:
        try:
            return await self._run_locked(command, trigger, press)
        finally:
            self._pending -= 1

    def _done(self, task: asyncio.Task[CommandResult]) -> None:
        self._tasks.discard(task)
        exc = None if task.cancelled() else task.exception()  # the caller may have gone
        if exc is not None and not isinstance(exc, ProtocolError):
            logger.error("session-sync command %s failed", task.get_name(), exc_info=exc)


def end_stuck_press(queue: CommandQueue, guard: PressGuard, press: int) -> None:
    """End a press held too long, through the pending limit like any command; the task's
    error, if any, is logged. When the queue is full the press still ends, a little later."""
    try:
        queue.submit(decode_params("session.ptt_end", {}), "ptt_max_duration", press=press)
    except ProtocolError as e:
        if e.code is ErrorCode.BUSY:
            guard.retry(press, 0.5)
        else:
            logger.warning("could not end a stuck push-to-talk press: %s", e.message)

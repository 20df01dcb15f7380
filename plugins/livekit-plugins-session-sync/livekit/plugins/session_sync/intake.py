"""Where everything that arrives waits, briefly and within bounds, to be let in.

The room hands the agent a burst of thousands of messages in one go (the SDK runs its queued
events back to back). Checking each one where it lands (rate limit, decoding, the refusal's
reply) would hold the event loop for seconds, so a landing only queues it. One pump task
takes the queues in turn, one message per sender and path per round, so a stranger's flood
never delays the user's commands (nor the user's own data flood its RPCs), and in slices of
a few milliseconds, so nothing else waits long. Between slices it lets the replies it made
go out before it makes more.

A lone message (nothing waiting, replies flowing) is let in where it lands, without the hop
through the pump: one per turn of the event loop, so the rest of a burst delivered in the
same turn still waits its slice.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .log import logger

# One lane's messages waiting: enough for a burst of ten thousand small ones.
MAX_WAITING_PER_LANE = 16_384
MAX_WAITING_BYTES_PER_LANE = 4 * 1024 * 1024
MAX_WAITING_LANES = 512
# Work done before the pump yields, and tasks it may wake in one slice (each then runs a
# step of its own before the pump goes on).
SLICE_SECONDS = 0.004
WAKES_PER_SLICE = 32

Lane = tuple[str | None, str]
"""A sender and the path its messages came by: each keeps its own order."""
Handler = Callable[[], bool]
"""Lets one message in (or refuses it); True when it woke a task to carry on with it."""


@dataclass(slots=True)
class _Queue:
    items: deque[tuple[int, Handler]]
    size: int = 0


class Intake:
    """Bounded, fair and time-sliced. `pause` runs between slices (it must yield); a slice
    also ends early once `backed_up()` says replies are piling up."""

    def __init__(
        self,
        pause: Callable[[], Awaitable[None]],
        *,
        on_dropped: Callable[[str | None], None],
        backed_up: Callable[[], bool],
        slice_seconds: float = SLICE_SECONDS,
    ) -> None:
        self._pause = pause
        self._on_dropped = on_dropped
        self._backed_up = backed_up
        self._slice = slice_seconds
        self._queues: dict[Lane, _Queue] = {}
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._let_in_this_turn = False
        self._open = False

    def put(self, lane: Lane, size: int, handler: Handler) -> bool:
        """Queue a message; False (and counted as dropped) when its lane is over a bound."""
        queue = self._queues.get(lane)
        if queue is None:
            if len(self._queues) >= MAX_WAITING_LANES:
                self._on_dropped(lane[0])
                return False
            queue = self._queues[lane] = _Queue(deque())
        if (
            len(queue.items) >= MAX_WAITING_PER_LANE
            or queue.size + size > MAX_WAITING_BYTES_PER_LANE
        ):
            self._on_dropped(lane[0])
            return False
        if not queue.items and self._may_let_in_now():
            del self._queues[lane]
            self._let_in(handler)
            return True
        queue.items.append((size, handler))
        queue.size += size
        self._ready.set()
        return True

    def _may_let_in_now(self) -> bool:
        # The lane just made (and empty) may be the only one; any other holds waiting messages.
        if self._let_in_this_turn or len(self._queues) > 1 or not self._open:
            return False
        if self._backed_up():
            return False
        self._let_in_this_turn = True
        asyncio.get_running_loop().call_soon(self._next_turn)
        return True

    def _next_turn(self) -> None:
        self._let_in_this_turn = False

    @property
    def waiting(self) -> int:
        return sum(len(q.items) for q in self._queues.values())

    def start(self) -> None:
        self._task = asyncio.create_task(self._pump(), name="session-sync-intake")
        self._open = True

    def cancel(self) -> None:
        """Take nothing more in; what still waits is dropped."""
        self._open = False
        if self._task is not None:
            self._task.cancel()
        self._queues.clear()

    @staticmethod
    def _let_in(handler: Handler) -> bool:
        try:
            return handler()
        except Exception:
            logger.exception("letting a session-sync message in failed")
            return False

    async def _pump(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self._queues:
                self._run_slice()
                await self._pause()

    def _run_slice(self) -> None:
        deadline = time.perf_counter() + self._slice
        wakes = 0
        while self._queues:
            # Round robin: the oldest message of the lane whose turn it is, which then goes
            # to the back of the line.
            lane = next(iter(self._queues))
            queue = self._queues.pop(lane)
            size, handler = queue.items.popleft()
            queue.size -= size
            if queue.items:
                self._queues[lane] = queue
            wakes += self._let_in(handler)
            if wakes >= WAKES_PER_SLICE or self._backed_up() or time.perf_counter() > deadline:
                return

"""How long the event loop was held: the longest single callback or task step (what asyncio's
debug mode reports as slow callbacks, without the cost of debug mode), and the longest gap a
1 ms ticker saw (everything run in one turn of the loop, the network's own work included).

Both in this thread's CPU time, which is the work that held the loop, and in wall time, which
on a shared machine also counts the time the process was not scheduled."""

from __future__ import annotations

import asyncio
import asyncio.events
import contextlib
import time
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass
from typing import Any


@dataclass
class LoopHold:
    longest_callback: float = 0.0
    longest_callback_wall: float = 0.0
    longest_gap: float = 0.0
    longest_gap_wall: float = 0.0
    _tick: tuple[float, float] = (0.0, 0.0)
    _restarted: bool = False

    def restart(self) -> None:
        """Forget what was seen so far (the harness's own work in the current step too)."""
        self.longest_callback = self.longest_callback_wall = 0.0
        self.longest_gap = self.longest_gap_wall = 0.0
        self._tick = (time.thread_time(), time.perf_counter())
        self._restarted = True


@contextlib.asynccontextmanager
async def watch_loop() -> AsyncIterator[LoopHold]:
    hold = LoopHold()
    handle_run = asyncio.events.Handle._run

    def timed_run(self: asyncio.events.Handle) -> None:
        cpu, wall = time.thread_time(), time.perf_counter()
        hold._restarted = False
        try:
            handle_run(self)
        finally:
            if not hold._restarted:  # a step that restarted the watch is not counted
                took = time.thread_time() - cpu
                hold.longest_callback = max(hold.longest_callback, took)
                took = time.perf_counter() - wall
                hold.longest_callback_wall = max(hold.longest_callback_wall, took)

    async def tick() -> None:
        hold._tick = (time.thread_time(), time.perf_counter())
        while True:
            await asyncio.sleep(0.001)
            now = (time.thread_time(), time.perf_counter())
            hold.longest_gap = max(hold.longest_gap, now[0] - hold._tick[0])
            hold.longest_gap_wall = max(hold.longest_gap_wall, now[1] - hold._tick[1])
            hold._tick = now

    asyncio.events.Handle._run = timed_run  # type: ignore[method-assign]
    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0.005)
    try:
        yield hold
    finally:
        ticker.cancel()
        await asyncio.gather(ticker, return_exceptions=True)
        asyncio.events.Handle._run = handle_run  # type: ignore[method-assign]


def post_all(sends: list[Coroutine[Any, Any, None]]) -> None:
    """Put every send on the wire at once, as a client whose queue flushes in one go: each
    in-memory send is done before its first await, which is all this runs of it."""
    for send in sends:
        try:
            send.send(None)
        except StopIteration:
            continue
        send.close()

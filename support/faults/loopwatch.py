"""How long the event loop was held: the longest single callback or task step (what asyncio's
debug mode reports as slow callbacks, without the cost of debug mode) and where it ran, and
the longest gap a 1 ms ticker saw (everything run in one turn of the loop, the network's own
work included). The longest garbage collection is shown beside them: it runs inside a step.

Both in this thread's CPU time, which is the work that held the loop, and in wall time, which
on a shared machine also counts the time the process was not scheduled."""

from __future__ import annotations

import asyncio
import asyncio.events
import contextlib
import gc
import time
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from typing import Any

# Steps at least this long (CPU) are also kept by where they ran; describing every step
# would cost more than most steps take.
NOTED_STEP = 0.001


@dataclass
class LoopHold:
    longest_callback: float = 0.0
    longest_callback_wall: float = 0.0
    longest_callback_at: str = ""
    """What ran in the longest step (CPU): a task's coroutine, or a callback."""
    longest_by_place: dict[str, float] = field(default_factory=dict)
    """The longest step (CPU) of each place that ran one of `NOTED_STEP` or more."""
    longest_gap: float = 0.0
    longest_gap_wall: float = 0.0
    longest_collection: float = 0.0
    """The longest garbage collection (CPU): it holds the loop inside whatever step ran it."""
    _tick: tuple[float, float] = (0.0, 0.0)
    _restarted: bool = False

    def note(self, took: float, place: str) -> None:
        if took > self.longest_callback:
            self.longest_callback, self.longest_callback_at = took, place
        if took >= NOTED_STEP:
            self.longest_by_place[place] = max(self.longest_by_place.get(place, 0.0), took)

    def places(self, count: int = 3) -> list[tuple[str, float]]:
        """The places of the longest steps, longest first."""
        ranked = sorted(self.longest_by_place.items(), key=lambda item: -item[1])
        return ranked[:count]

    def restart(self) -> None:
        """Forget what was seen so far (the harness's own work in the current step too)."""
        self.longest_callback = self.longest_callback_wall = 0.0
        self.longest_callback_at = ""
        self.longest_by_place = {}
        self.longest_gap = self.longest_gap_wall = 0.0
        self.longest_collection = 0.0
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
                if took > hold.longest_callback or took >= NOTED_STEP:
                    hold.note(took, _describe(self))
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

    collecting_since = 0.0

    def collection(phase: str, _: dict[str, int]) -> None:
        nonlocal collecting_since
        if phase == "start":
            collecting_since = time.thread_time()
        else:
            took = time.thread_time() - collecting_since
            hold.longest_collection = max(hold.longest_collection, took)

    asyncio.events.Handle._run = timed_run  # type: ignore[method-assign]
    gc.callbacks.append(collection)
    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0.005)
    try:
        yield hold
    finally:
        ticker.cancel()
        await asyncio.gather(ticker, return_exceptions=True)
        gc.callbacks.remove(collection)
        asyncio.events.Handle._run = handle_run  # type: ignore[method-assign]


def _describe(handle: asyncio.events.Handle) -> str:
    """A task step by its coroutine's name, any other callback by its own."""
    callback = handle._callback  # type: ignore[attr-defined]
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, asyncio.Task):
        return f"task {owner.get_coro().__qualname__}"  # type: ignore[union-attr]
    return f"callback {getattr(callback, '__qualname__', type(callback).__name__)}"


def post_all(sends: list[Coroutine[Any, Any, None]]) -> None:
    """Put every send on the wire at once, as a client whose queue flushes in one go: each
    in-memory send is done before its first await, which is all this runs of it."""
    for send in sends:
        try:
            send.send(None)
        except StopIteration:
            continue
        send.close()

"""Short garbage-collection pauses with hundreds of sessions in one process.

CPython's full collection walks every object the collector tracks, so its pause grows with
the heap: the framework's and the models' start-up heap, and every session's history and
recorded events. At a few hundred text sessions per process that is 150-600 ms, every few
seconds, and the process then spends a third of its CPU collecting.

So the process's heap is kept out of the collector's sight in steps:

- at start, the start-up heap is collected and frozen (`gc.freeze`: out of every collection);
- every `freeze_interval`, a young collection takes the short-lived garbage, then what
  survived it is frozen too. A full collection then walks only what is newer than the last
  freeze, and its pause stays short however many sessions are open;
- frozen objects are still freed by reference counting, but never searched for cycles: a
  cycle among them that becomes garbage (a session that ended, a reply that was under way
  at a freeze) waits for the next reclaim. Every `reclaim_interval` everything is unfrozen,
  collected in one full collection (the one long pause, rare enough to stay out of the reply
  p99), and frozen again.

One keeper per process, started by the first prewarm: under the thread executor every job
shares it. Under the process executor a process holds one job and ends with it, so by default
only its start-up heap is frozen (a full collection there walks one session's objects). The
keeper's thread only sleeps between steps; each step holds the GIL as an automatic collection
would.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from dataclasses import dataclass

logger = logging.getLogger("agent.heap")


@dataclass(frozen=True, slots=True)
class HeapOptions:
    freeze_interval: float
    """Seconds between freezes of what survived a young collection; 0: only at start."""
    reclaim_interval: float
    """Seconds between full reclaims of frozen garbage; 0: never (a process that lives
    for one job, which gives everything back when it exits)."""


def freeze_startup_heap() -> None:
    """What prewarm loaded lives as long as the process: collect the start-up garbage, then
    take the rest out of the collector's sight."""
    gc.collect()
    gc.freeze()


def freeze_survivors() -> int:
    """Collect the young generations, then freeze what survived; returns the frozen count."""
    gc.collect(1)
    gc.freeze()
    return gc.get_freeze_count()


def reclaim() -> int:
    """Unfreeze everything, free the cyclic garbage frozen meanwhile, freeze the rest again;
    returns the objects freed."""
    gc.unfreeze()
    freed = gc.collect()
    gc.freeze()
    return freed


class HeapKeeper:
    """Runs `freeze_survivors` and `reclaim` on their intervals in a daemon thread."""

    def __init__(self, options: HeapOptions) -> None:
        self._options = options
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self._options.freeze_interval <= 0 or self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="heap-keeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        options = self._options
        last_reclaim = time.monotonic()
        while not self._stop.wait(options.freeze_interval):
            try:
                due = time.monotonic() - last_reclaim >= options.reclaim_interval
                if options.reclaim_interval > 0 and due:
                    started = time.perf_counter()
                    freed = reclaim()
                    last_reclaim = time.monotonic()
                    logger.debug(
                        "reclaimed %d objects in %.0f ms",
                        freed,
                        (time.perf_counter() - started) * 1000,
                    )
                else:
                    freeze_survivors()
            except Exception:  # the thread must outlive one failed step
                logger.exception("a garbage-collection step failed")


_lock = threading.Lock()
_keeper: HeapKeeper | None = None


def keep_heap(options: HeapOptions) -> HeapKeeper:
    """Once per process: freeze the start-up heap and start the keeper. Later calls (a
    prewarm per job under the thread executor) return the same keeper: their full
    collection would pause the jobs already running."""
    global _keeper
    with _lock:
        if _keeper is None:
            freeze_startup_heap()
            _keeper = HeapKeeper(options)
            _keeper.start()
        return _keeper

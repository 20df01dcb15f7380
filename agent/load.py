"""The worker's load as LiveKit's dispatcher sees it: running jobs against capacity, with the
CPU that this worker's own processes use as a guard.

The framework's default counts the worker full above 70% of the whole machine's CPU, so on a
small machine shared with other work it refuses every job while its own jobs cost little. Here
a job costs its share of the capacity (`MAX_JOBS`, or two per core), and CPU only makes the
worker full when the worker and its job processes themselves use more than `CPU_GUARD` of the
machine. Every change between full and available is logged at warning level with its reason.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import psutil  # type: ignore[import-untyped]

logger = logging.getLogger("agent.load")

CPU_WINDOW_SECONDS = 5.0
"""CPU is averaged over this long: one busy moment must not flip the worker to full."""

SERVER_TARGET_LOAD = 0.7
"""LiveKit's server offers a job only to a worker whose reported load is below this
(`agents.target_load`, 0.7 by default in livekit-server 1.13: `JobRequestAffinity`). So a
worker with room for more reports its share of the capacity scaled into [0, 0.7), and 1 only
when it is full."""


@dataclass(frozen=True)
class Load:
    value: float
    """What the framework reports to the server: 0 idle, 1 full."""
    full_because: str | None = None
    """Why the worker is full, in words; None while it takes jobs."""


def judge(jobs: int, capacity: int, cpu_share: float | None, cpu_guard: float) -> Load:
    """The load for `jobs` running out of `capacity`, the worker's own CPU share of the machine
    (None before a window has passed) and the guard: below `SERVER_TARGET_LOAD` while there is
    room, 1 when full. Pure."""
    if jobs >= capacity:
        return Load(1.0, f"{jobs} of {capacity} jobs running (MAX_JOBS)")
    if cpu_share is not None and cpu_share >= cpu_guard:
        return Load(
            1.0,
            f"its processes use {cpu_share:.0%} of the machine's CPU over "
            f"{CPU_WINDOW_SECONDS:g} s, at or above CPU_GUARD={cpu_guard:g}",
        )
    return Load(SERVER_TARGET_LOAD * jobs / capacity)


class OwnCpu:
    """The CPU time used by this process and every process below it (the job processes and
    the forkserver), as a share of the machine's cores over the last few seconds."""

    def __init__(self, cpu_count: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._cpus = max(cpu_count, 0.01)
        self._clock = clock
        self._me = psutil.Process()
        self._last: dict[int, float] = {}
        self._used = 0.0
        self._samples: deque[tuple[float, float]] = deque()

    def share(self) -> float | None:
        now = self._clock()
        self._used += self._new_cpu_seconds()
        self._samples.append((now, self._used))
        while len(self._samples) > 2 and now - self._samples[1][0] >= CPU_WINDOW_SECONDS:
            self._samples.popleft()
        start, used_then = self._samples[0]
        if now - start < CPU_WINDOW_SECONDS:
            return None
        return (self._used - used_then) / (now - start) / self._cpus

    def _new_cpu_seconds(self) -> float:
        totals: dict[int, float] = {}
        for proc in [self._me, *self._children()]:
            try:
                times = proc.cpu_times()
            except psutil.Error:  # it ended while being read
                continue
            totals[proc.pid] = times.user + times.system
        added = sum(max(total - self._last.get(pid, 0.0), 0.0) for pid, total in totals.items())
        self._last = totals
        return added

    def _children(self) -> list[psutil.Process]:
        try:
            children: list[psutil.Process] = self._me.children(recursive=True)
            return children
        except psutil.Error:
            return []


class WorkerLoad:
    """The framework's `load_fnc`. It runs in an executor thread, every half second and before
    each job offer, so it keeps its own lock for the full/available transitions."""

    def __init__(
        self,
        capacity: int,
        cpu_guard: float,
        cpu: Callable[[], float | None],
        jobs: Callable[[], int],
    ) -> None:
        self.capacity = capacity
        self.cpu_guard = cpu_guard
        self._cpu = cpu
        self._jobs = jobs
        self._lock = threading.Lock()
        self._full_because: str | None = None
        self._cpu_share: float | None = None

    @property
    def full_because(self) -> str | None:
        return self._full_because

    def __call__(self) -> float:
        # The CPU reading walks the process tree: outside the lock, so that the lock is only
        # ever held briefly.
        cpu_share = self._cpu()
        with self._lock:
            self._cpu_share = cpu_share
            load = judge(self._jobs(), self.capacity, cpu_share, self.cpu_guard)
            if load.full_because != self._full_because:
                if load.full_because is not None:
                    logger.warning(
                        "worker full, taking no new jobs: %s; the server offers them to other "
                        "workers of this agent, or the room gets no agent",
                        load.full_because,
                    )
                else:
                    logger.info("worker takes jobs again (it was full: %s)", self._full_because)
                self._full_because = load.full_because
            return load.value

    def with_accepted(self, accepted: int) -> float:
        """The load once `accepted` jobs, said yes to but not started yet, run too: each costs
        its share of the capacity, as a running one does (CPU as last measured)."""
        # On the event loop, before each offer: no lock to wait for, only the last reading.
        return judge(self._jobs() + accepted, self.capacity, self._cpu_share, self.cpu_guard).value

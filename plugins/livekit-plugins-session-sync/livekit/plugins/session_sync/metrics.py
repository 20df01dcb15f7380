"""Prometheus metrics. The worker serves them with `AgentServer(prometheus_port=...)`."""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram

from .protocol import ATTR_REQUESTED_TYPE, METHODS

COMMANDS = Counter(
    "session_sync_commands_total",
    "Commands from the app, by method and outcome (ok or the error code)",
    ["method", "outcome"],
)
COMMAND_SECONDS = Histogram(
    "session_sync_command_duration_seconds",
    "From a command arriving to its reply, attributes and events being sent, by method",
    # Labelled, so that no value exists before the first command: in multiprocess mode an
    # unlabelled metric writes its file at import, and the worker empties the directory at start.
    ["method"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0),
)
INCONSISTENCIES = Counter(
    "session_sync_inconsistencies_total",
    "Inconsistencies found and corrected by validation, by check",
    ["check"],
)
EVENTS = Counter("session_sync_events_total", "Sync events emitted, by type", ["type"])


def method_label(method: str | None) -> str:
    """Only known names become labels, so a client cannot grow the series without bound.
    Commands asked for through the attribute count as `session.requestedType`."""
    return method if method in METHODS or method == ATTR_REQUESTED_TYPE else "unknown"


class MeasuredCommand:
    """One command's outcome and duration, recorded once it has one."""

    def __init__(self, method: str | None = None) -> None:
        self.method = method
        self.outcome = "cancelled"  # until the handler reaches an outcome
        self._started = time.perf_counter()

    def record(self) -> None:
        method = method_label(self.method)
        COMMANDS.labels(method, self.outcome).inc()
        COMMAND_SECONDS.labels(method).observe(time.perf_counter() - self._started)

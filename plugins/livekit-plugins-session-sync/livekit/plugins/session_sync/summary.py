"""Session analytics: what one session did, counted as it happens and summed up when it closes.

`SessionTally` is pure (no I/O, no asyncio; the clock is given): the owner's commit path tells
it every change of the session, validation what it found and corrected, and the inbound gate
every refused input and reconnect. `SessionSummaries` is the edge: it logs each closed
session's summary as one structured line and hands it to the deployment's callbacks.

A session runs from the commit that gives it a type to the one that takes it away
(`session.end`, the job ending it), or to the owner closing with it still open. What happens
while no session runs is left to the metrics.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict

from .log import logger
from .models import SessionConfig, SessionType

Reconnector = Literal["user", "agent"]
SummaryCallback = Callable[["SessionSummary"], None]


class SessionSummary(BaseModel):
    """One session, as the agent saw it. Durations are in seconds."""

    model_config = ConfigDict(frozen=True)

    session_id: str
    session_type: SessionType | None
    """The type when the summary was taken."""
    ended_by: str | None
    """The trigger of the change that closed it (`session.end`, `agent_shutdown`, ...), or
    None while it is still open."""
    duration_seconds: float
    seconds_by_type: dict[SessionType, float]
    switches: int
    """Changes of type within the session."""
    inconsistencies: int
    """Inconsistencies validation found."""
    corrections: int
    """Validation passes that corrected the session."""
    user_reconnects: int
    """The linked user back after dropping (a full reconnect, or a rejoin after leaving)."""
    agent_reconnects: int
    """The agent's own link back after dropping."""
    rejected_inputs: int
    """Commands, data messages and requested types refused, from anyone."""
    rejected_by_code: dict[str, int]

    def log_fields(self) -> dict[str, object]:
        """The fields of the log line (JSON-ready, none that `logging` reserves)."""
        return self.model_dump(mode="json")


@dataclass
class _Open:
    """The counts of the session that is open."""

    session_id: str
    opened: float
    type: SessionType | None
    type_since: float
    seconds: dict[SessionType, float] = field(default_factory=dict)
    switches: int = 0
    inconsistencies: int = 0
    corrections: int = 0
    reconnects: Counter[Reconnector] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)


class SessionTally:
    """Counts for the session that is open; pure."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._open: _Open | None = None

    # -- fed by the owner and the gate ------------------------------------------------------

    def committed(self, after: SessionConfig, trigger: str) -> SessionSummary | None:
        """The session after a commit; returns the summary of a session this change closed."""
        now = self._clock()
        current = after.session_id if after.type is not None else None
        closed = None
        if self._open is not None and current != self._open.session_id:
            closed, self._open = self._summary(self._open, now, ended_by=trigger), None
        if current is None:
            return closed
        if self._open is None:
            self._open = _Open(current, opened=now, type=after.type, type_since=now)
        elif after.type != self._open.type:
            self._open.seconds = _with_time(self._open, now)
            self._open.type, self._open.type_since = after.type, now
            self._open.switches += 1
        return closed

    def validated(self, inconsistencies: int) -> None:
        """A validation pass found `inconsistencies` (> 0) and corrected the session."""
        if self._open is not None:
            self._open.inconsistencies += inconsistencies
            self._open.corrections += 1

    def reconnected(self, who: Reconnector) -> None:
        if self._open is not None:
            self._open.reconnects[who] += 1

    def rejected(self, code: str) -> None:
        """An input refused with `code` (one of the protocol's error codes: a bounded set)."""
        if self._open is not None:
            self._open.rejected[code] += 1

    def closing(self, trigger: str) -> SessionSummary | None:
        """The owner is closing: the summary of the session still open, if any."""
        if self._open is None:
            return None
        closed, self._open = self._summary(self._open, self._clock(), ended_by=trigger), None
        return closed

    def summary(self) -> SessionSummary | None:
        """The open session so far, or None."""
        if self._open is None:
            return None
        return self._summary(self._open, self._clock(), ended_by=None)

    @staticmethod
    def _summary(session: _Open, now: float, *, ended_by: str | None) -> SessionSummary:
        return SessionSummary(
            session_id=session.session_id,
            session_type=session.type,
            ended_by=ended_by,
            duration_seconds=round(now - session.opened, 3),
            seconds_by_type={t: round(s, 3) for t, s in _with_time(session, now).items()},
            switches=session.switches,
            inconsistencies=session.inconsistencies,
            corrections=session.corrections,
            user_reconnects=session.reconnects["user"],
            agent_reconnects=session.reconnects["agent"],
            rejected_inputs=sum(session.rejected.values()),
            rejected_by_code=dict(sorted(session.rejected.items())),
        )


def _with_time(session: _Open, now: float) -> dict[SessionType, float]:
    """Seconds per type, the current type's time counted up to `now`."""
    seconds = dict(session.seconds)
    if session.type is not None:
        seconds[session.type] = seconds.get(session.type, 0.0) + now - session.type_since
    return seconds


class SessionSummaries:
    """The tally, and who hears of each closed session: one log line, then the callbacks."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.tally = SessionTally(clock)
        self._callbacks: list[SummaryCallback] = []

    def current(self) -> SessionSummary | None:
        """What the open session has done so far (None with no session)."""
        return self.tally.summary()

    def on_summary(self, callback: SummaryCallback) -> Callable[[], None]:
        """Call `callback` with each session's summary as it closes (after its log line).
        Returns the function that stops it."""
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback) if callback in self._callbacks else None

    def committed(self, after: SessionConfig, trigger: str) -> None:
        if (closed := self.tally.committed(after, trigger)) is not None:
            self._report(closed)

    def closing(self, trigger: str) -> None:
        if (closed := self.tally.closing(trigger)) is not None:
            self._report(closed)

    def _report(self, summary: SessionSummary) -> None:
        logger.info("session summary", extra=summary.log_fields())
        for callback in list(self._callbacks):
            try:
                callback(summary)
            except Exception:
                logger.exception("a session summary callback failed")

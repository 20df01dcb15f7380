"""Checking the session against what the room and the turn-taking show: the verdict, and the
periodic check. The correction a verdict calls for is planned by `plan.plan_correction`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from . import metrics
from .log import logger
from .models import SessionConfig
from .protocol import SessionEncoder
from .publisher import Publisher
from .room import RoomPort
from .turn_taking import TurnTakingDriver
from .validation import Observation, Verdict, validate


class SessionCheck:
    def __init__(
        self,
        room: RoomPort,
        publisher: Publisher,
        turns: TurnTakingDriver,
        encoder: SessionEncoder,
    ) -> None:
        self._room = room
        self._publisher = publisher
        self._turns = turns
        self._encoder = encoder

    def verdict(self, config: SessionConfig, *, ptt_pressed: bool) -> Verdict:
        encoded = self._encoder.encode(config, ptt_pressed=ptt_pressed)
        return validate(
            encoded.config,
            self._observe(),
            ptt_pressed=encoded.ptt_pressed,
            expected_attributes=encoded.attributes,
        )

    def _observe(self) -> Observation:
        # Attributes still queued (as a change's always are right after it) are on their
        # way, not drift; the room adapter covers those awaiting the echo.
        published = {**self._room.local_attributes(), **self._publisher.unsent_attributes()}
        room = (self._room.connection_state, self._room.name)
        return Observation.of(room, published, self._turns.observe())


def report_inconsistencies(verdict: Verdict) -> None:
    """Count and log each inconsistency a check found."""
    for item in verdict.inconsistencies:
        metrics.INCONSISTENCIES.labels(item.check).inc()
        logger.warning("session inconsistency: %s", item.message, extra={"check": item.check})


async def check_periodically(
    check: Callable[[str], Awaitable[object]],
    enabled: Callable[[], bool],
    *,
    initial_delay: float,
    interval: float,
    after_pass: Callable[[int], None] | None = None,
) -> None:
    """`check("initial")` after `initial_delay`, then `check("periodic")` every `interval`,
    whenever `enabled()`; a failed check is logged and the next one still runs. Then
    `after_pass(n)`, n counting the passes from 0, enabled or not."""
    await asyncio.sleep(initial_delay)
    trigger = "initial"
    passes = 0
    while True:
        if enabled():
            try:
                await check(trigger)
            except Exception:
                logger.exception("periodic validation failed")
        if after_pass is not None:
            after_pass(passes)
        passes += 1
        trigger = "periodic"
        await asyncio.sleep(interval)

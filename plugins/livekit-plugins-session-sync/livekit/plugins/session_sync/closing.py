"""Closing the session, in order: running commands finish (briefly), then the microphone goes
off, whatever the session was doing, even when the close is cancelled; then what is queued is
sent. The synchronizer owns the parts; this is only the sequence."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from .command_queue import CommandQueue
from .inbound import CommandGate
from .publisher import Publisher
from .resume import RecordKeeper
from .summary import SessionSummaries
from .turn_taking import PressGuard, TurnTakingDriver


@dataclass
class SessionCloser:
    queue: CommandQueue
    gate: CommandGate
    press_guard: PressGuard
    turns: TurnTakingDriver
    keeper: RecordKeeper | None
    summaries: SessionSummaries
    publisher: Publisher
    running_grace: float
    """How long commands already running may take to finish."""
    _closing: asyncio.Future[None] | None = field(default=None, init=False)

    async def aclose(
        self, timer: asyncio.Task[None] | None, ptt_pressed: Callable[[], bool]
    ) -> None:
        """Close once; a second call returns once the first is done."""
        if self._closing is not None:
            await asyncio.shield(self._closing)
            return
        self._closing = asyncio.get_running_loop().create_future()
        try:
            await self._close(timer, ptt_pressed)
        finally:
            self._closing.set_result(None)

    async def _close(
        self, timer: asyncio.Task[None] | None, ptt_pressed: Callable[[], bool]
    ) -> None:
        self.queue.close()
        self.gate.close()
        self.press_guard.cancel()
        if timer is not None:
            timer.cancel()
        try:
            # Commands already running finish; those still waiting are refused with a reply.
            running = self.queue.tasks | self.gate.tasks
            if running:
                await asyncio.wait(running, timeout=self.running_grace)
        finally:
            tasks = [*self.gate.tasks, *self.queue.tasks, *([timer] if timer else [])]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            # Nothing can change the turn-taking any more: nobody is left to listen for.
            await self.turns.silence(cancel_press=ptt_pressed(), trigger="agent_closed")
        if self.keeper is not None:
            await self.keeper.aclose()
        self.summaries.closing("agent_closed")
        await self.publisher.aclose()

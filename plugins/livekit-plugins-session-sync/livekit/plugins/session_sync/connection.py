"""How the session reacts to the room: the user joining or leaving, the agent's link
dropping, coming back or closing. Each reaction is planned from the state it finds, and run
by the owner under its lock like any command."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from .log import logger
from .models import ConnectionState
from .plan import Commit, Emit, Plan, Republish, SendSnapshot, Silence, Step
from .policy import LIVE_STATES
from .protocol import CommandResult
from .room import INTENTIONAL_DISCONNECT_REASONS
from .state import SyncState
from .summary import SessionTally
from .transitions import plan_ptt_release

Planner = Callable[[SyncState], Plan]


class Owner(Protocol):
    """What the reactions need from the session's owner."""

    @property
    def state(self) -> SyncState: ...

    async def react(self, planner: Planner, trigger: str) -> None: ...

    async def request(
        self, method: str, params: Mapping[str, Any] | None = None, *, trigger: str | None = None
    ) -> CommandResult: ...


def plan_reconnecting(state: SyncState) -> Plan:
    # Queued: nothing can be sent until the link is back.
    steps: list[Emit | Commit] = [Emit("connection_interruption")]
    if state.config.state == "active":
        steps.append(Commit({"state": "syncing"}, event="room_state_change"))
    return Plan(tuple(steps))


def plan_reconnected(state: SyncState) -> Plan:
    back_to = "active" if state.config.type is not None else "idle"
    if state.config.state == "syncing":
        settle: Commit | Republish = Commit({"state": back_to}, event=None)
    else:
        settle = Republish()
    return Plan((settle, SendSnapshot(), Emit("session_state_sync")))


def plan_disconnected(state: SyncState, reason: str | None) -> Plan:
    if state.config.state not in LIVE_STATES:
        return Plan((Emit("room_state_change"),))
    intentional = reason in INTENTIONAL_DISCONNECT_REASONS
    return Plan(
        (
            Silence(cancel_press=state.ptt_pressed),
            Commit(
                {"state": "ending" if intentional else "error"},
                event="room_state_change",
                ptt_pressed=False,
            ),
        )
    )


def plan_left(state: SyncState) -> Plan:
    steps: tuple[Step, ...] = ()
    if state.ptt_pressed and state.live and state.config.type == "voice-ptt":
        # The release will never come: keep what was said rather than listen on.
        steps = plan_ptt_release(state, cancel=False).steps
    return Plan((*steps, Emit("room_state_change")))


def plan_joined(identity: str, trigger: str) -> Plan:
    return Plan((Republish(), SendSnapshot(identity), Emit("room_state_change", trigger)))


class ConnectionReactions:
    """The linked user's comings and goings, and the agent's own link.

    A leave counts only once the user has stayed away for `leave_grace` seconds: back
    sooner, it was a reconnect (`participant_reconnected`), and a held press goes on. Leaves
    and joins reach the app in the order they happened."""

    def __init__(self, owner: Owner, *, leave_grace: float, tally: SessionTally) -> None:
        self._owner = owner
        self._tally = tally
        self._grace = leave_grace
        self._away = False  # left, and the leave not acted on yet
        self._back = asyncio.Event()
        self._linked_left = False  # a leave was acted on
        self._order = asyncio.Lock()  # a rejoin is reported after the leave before it

    def left(self) -> None:
        """Noted when the event arrives, so a rejoin reacted to later is seen as one."""
        self._away = True
        self._back.clear()

    async def leaving(self) -> None:
        if self._grace > 0:
            try:
                await asyncio.wait_for(self._back.wait(), self._grace)
                return  # back in time: a reconnect, not a leave
            except TimeoutError:
                pass
        if self._back.is_set() or not self._away:
            return  # came back as the grace ran out
        self._away, self._linked_left = False, True  # before any await: a join now waits
        async with self._order:
            # One step under the lock: the release and the leave are told together.
            await self._owner.react(plan_left, "participant_left")

    async def joined(self, identity: str, then: Callable[[], Awaitable[None]]) -> None:
        if self._away:
            self._away = False
            self._back.set()
            trigger = "participant_reconnected"
        else:
            trigger = "participant_rejoined" if self._linked_left else "participant_joined"
        if trigger != "participant_joined":
            self._tally.reconnected("user")
        async with self._order:
            await self._owner.react(lambda _: plan_joined(identity, trigger), trigger)
        await then()

    async def connection_changed(self, state: ConnectionState, reason: str | None) -> None:
        # One line per change of the agent's own link: rare, and what an operator looks for.
        logger.info("agent link %s%s", state, f" ({reason})" if reason else "")
        if state == "reconnecting":
            await self._owner.react(plan_reconnecting, "reconnecting")
        elif state == "connected":
            self._tally.reconnected("agent")
            await self._owner.react(plan_reconnected, "reconnected")
        elif state == "disconnected":
            trigger = f"disconnected:{reason or 'UNKNOWN_REASON'}"
            await self._owner.react(lambda s: plan_disconnected(s, reason), trigger)

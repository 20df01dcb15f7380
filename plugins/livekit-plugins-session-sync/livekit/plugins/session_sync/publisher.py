"""Everything the agent sends: attributes, numbered events, snapshots and replies.

The owner only enqueues, while it holds the session lock; two sender tasks, owned here and
cancelled on close, send outside that lock: one for data (events, snapshots, replies, in
order) and one for attributes (only the latest matters). They are apart because LiveKit
carries them apart (data channel and signalling), so a slow attribute update must not hold
back events or replies. A send that fails is retried a few times, then given up, so one bad
packet cannot hold back every later event.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from . import metrics
from .agent_state import AgentStateSource, restore, stamp
from .log import logger
from .models import RoomState, WireModel
from .options import SyncOptions
from .protocol import (
    ATTR_SEQ,
    EncodedSession,
    EventPayload,
    EventType,
    SessionSyncEvent,
    encode,
    encode_event,
)
from .room import RoomPort
from .turn_taking import TurnTakingObservation

EventCallback = Callable[[SessionSyncEvent], None]

REPLY_LIMIT = 1024
STRANGER_REPLY_LIMIT = 32


@dataclass
class _Outgoing:
    index: int
    data: bytes | None = None
    attributes: Mapping[str, str] | None = None
    destinations: tuple[str, ...] = ()
    failures: int = 0
    seq: int | None = None  # an event's
    # Attributes: only `lk.agent.state` (and the seq), after an update marked `thinking`.
    restore: bool = False
    follow: bool = False  # sent marked: a restore must follow


class Publisher:
    def __init__(
        self,
        room: RoomPort,
        *,
        topic: str,
        outbox_limit: int,
        io_timeout: float,
        max_attempts: int = 3,
        retry_delay: float = 0.2,
        agent_state: AgentStateSource | None = None,
    ) -> None:
        self._room = room
        self._agent_state = agent_state
        self._topic = topic
        self._io_timeout = io_timeout
        self._max_attempts = max_attempts
        self._retry_delay = retry_delay
        self._seq = 0
        self._listeners: list[EventCallback] = []
        # Held while the link is down; the oldest go first, and the gap in `seq` shows it.
        self._outbox: deque[_Outgoing] = deque(maxlen=outbox_limit)
        # Replies have their own room, so a burst of refusals never pushes events out; and
        # those to participants who are not the session's user have less, so a stranger's
        # flood never pushes out the user's.
        self._replies: deque[_Outgoing] = deque(maxlen=REPLY_LIMIT)
        self._stranger_replies: deque[_Outgoing] = deque(maxlen=STRANGER_REPLY_LIMIT)
        self._queues = (self._outbox, self._replies, self._stranger_replies)
        # The highest event seq sent or given up, and the one the attributes last carried.
        self._settled_seq = 0
        self._attributes_seq = 0
        self._latest_attributes: dict[str, str] | None = None
        # Attributes are never dropped for lack of room: only the latest matters.
        self._attributes: _Outgoing | None = None
        self._sending_attributes: _Outgoing | None = None
        self._indices = 0
        self._done = 0  # every item up to this index was sent or given up
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._attributes_ready = asyncio.Event()
        self._senders: list[asyncio.Task[None]] = []

    @classmethod
    def with_options(
        cls, room: RoomPort, options: SyncOptions, *, agent_state: AgentStateSource | None = None
    ) -> Publisher:
        return cls(
            room,
            topic=options.topic,
            outbox_limit=options.outbox_limit,
            io_timeout=options.io_timeout,
            agent_state=agent_state,
        )

    @property
    def seq(self) -> int:
        return self._seq

    def on_event(self, callback: EventCallback) -> Callable[[], None]:
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    def start(self) -> None:
        self._senders = [
            asyncio.create_task(self._send_loop(), name="session-sync-sender"),
            asyncio.create_task(self._attribute_loop(), name="session-sync-attributes"),
        ]

    async def aclose(self) -> None:
        """Send what is queued (for at most the I/O timeout), then stop the senders."""
        await self.drained()
        for sender in self._senders:
            sender.cancel()
        await asyncio.gather(*self._senders, return_exceptions=True)
        for _, waiter in self._waiters:
            waiter.cancel()

    # -- enqueueing: never blocks -------------------------------------------------------

    def publish_attributes(self, attributes: Mapping[str, str]) -> None:
        if not self._connected():
            return  # republished on reconnect
        self._latest_attributes = dict(attributes)
        if self._attributes is not None and not self._attributes.restore:
            # Not sent yet: send the latest in its place.
            self._attributes.attributes = dict(attributes)
        else:
            self._attributes = _Outgoing(0, attributes=dict(attributes))
        self._attributes_ready.set()

    def announce_state(self) -> None:
        """Mark the agent's state and set it back once more, with no session change: a
        frontend that began to follow the agent's attribute changes after the last ones
        (`useAgent` up to 2.9.23 starts from none) learns the state from these."""
        if self._agent_state is None or not self._connected() or self._attributes is not None:
            return  # an update already on its way carries the state
        self._attributes = _Outgoing(0, attributes={})
        self._attributes_ready.set()

    def emit(
        self,
        event_type: EventType,
        trigger: str,
        *,
        session: EncodedSession,
        seen: TurnTakingObservation | None,
        detail: str | None = None,
    ) -> None:
        config = session.config
        metrics.EVENTS.labels(event_type).inc()
        self._seq += 1
        room_state = RoomState(
            room_id=self._room.name,
            connection_state=self._room.connection_state,
            turn_detection=seen.turn_detection if seen else None,
            audio_input_enabled=seen.audio_input_enabled if seen else None,
        )
        event = SessionSyncEvent(
            type=event_type,
            seq=self._seq,
            payload=EventPayload(
                session_id=config.session_id,
                frontend_state=config,
                room_state=room_state,
                timestamp=int(time.time() * 1000),
                trigger=trigger,
                detail=detail,
            ),
        )
        for callback in list(self._listeners):
            try:
                callback(event)
            except Exception:
                logger.exception("session event listener failed")
        data = encode_event(event, session.wire)  # the config as already encoded
        self._enqueue(_Outgoing(self._next_index(), data=data, seq=self._seq))

    def broadcast(self, message: WireModel) -> None:
        """To everyone; held while the link is down and sent, in order, once it is back."""
        self._enqueue(_Outgoing(self._next_index(), data=encode(message)))

    def reply(self, message: WireModel, destination: str, *, stranger: bool = False) -> None:
        """To one participant. Not held: its request is gone with the link."""
        if self._connected():
            payload = encode(message)
            item = _Outgoing(self._next_index(), data=payload, destinations=(destination,))
            (self._stranger_replies if stranger else self._replies).append(item)
            self._wake.set()

    def replies_backed_up(self) -> bool:
        """Replies are being made faster than they go out (either queue over half full)."""
        return (
            len(self._replies) > REPLY_LIMIT // 2
            or len(self._stranger_replies) > STRANGER_REPLY_LIMIT // 2
        )

    def unsent_attributes(self) -> dict[str, str]:
        """Attributes queued but not yet set: on their way, so not drift."""
        merged: dict[str, str] = {}
        for item in (self._sending_attributes, self._attributes):
            if item is not None and item.attributes is not None:
                merged.update(item.attributes)
        return merged

    async def drained(self) -> None:
        """Wait until every message queued so far is sent or given up (or the link is down),
        so that a reply follows the events its command caused. Attributes travel apart."""
        mark = self._indices
        if self._done >= mark or not self._connected():
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append((mark, waiter))
        try:
            async with asyncio.timeout(self._io_timeout):
                await waiter
        except TimeoutError:
            pass  # a stalled link must not hold the reply forever
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove((mark, waiter))

    # -- the sender ---------------------------------------------------------------------

    def _connected(self) -> bool:
        return self._room.connection_state == "connected"

    def _next_index(self) -> int:
        self._indices += 1
        return self._indices

    def _enqueue(self, item: _Outgoing) -> None:
        self._outbox.append(item)  # a full outbox drops its oldest item
        self._wake.set()

    def _next(self) -> _Outgoing | None:
        """The oldest message queued, replies included."""
        heads = [queue[0] for queue in self._queues if queue]
        return min(heads, key=lambda item: item.index) if heads else None

    async def _send_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self._connected():
                # Replies are not held while the link is down.
                self._replies.clear()
                self._stranger_replies.clear()
            while self._connected() and (item := self._next()) is not None:
                sent = await self._send(item)
                if sent or item.failures >= self._max_attempts:
                    if not sent:
                        logger.error("gave up sending a session-sync message")
                    self._finish(item)
                    continue
                await asyncio.sleep(self._retry_delay * item.failures)
            if not self._connected():
                self._release_waiters()
            elif self._settled_seq > self._attributes_seq and self._latest_attributes:
                # The last events went out after the last attributes: tell their seq too, so
                # an app that lost them still learns it.
                self.publish_attributes(self._latest_attributes)

    async def _attribute_loop(self) -> None:
        while True:
            await self._attributes_ready.wait()
            self._attributes_ready.clear()
            while self._connected() and (item := self._attributes) is not None:
                self._attributes, self._sending_attributes = None, item
                sent = await self._send(item)
                self._sending_attributes = None
                if sent or item.failures >= self._max_attempts:
                    if not sent:
                        logger.error("gave up setting the session attributes")
                    elif item.follow and self._attributes is None:
                        self._attributes = _Outgoing(0, attributes={}, restore=True)
                    continue
                if self._attributes is None:  # nothing newer: try this one again
                    self._attributes = item
                await asyncio.sleep(self._retry_delay * item.failures)

    async def _send(self, item: _Outgoing) -> bool:
        try:
            async with asyncio.timeout(self._io_timeout):
                if item.attributes is not None:
                    self._attributes_seq = self._settled_seq
                    seq = {ATTR_SEQ: str(self._settled_seq)}
                    state = self._agent_state() if self._agent_state is not None else None
                    if item.restore:
                        update = restore(seq, state)
                    else:
                        update, item.follow = stamp({**item.attributes, **seq}, state)
                    await self._room.set_attributes(update)
                elif item.data is not None:
                    await self._room.send_data(
                        item.data, topic=self._topic, destinations=item.destinations
                    )
            return True
        except Exception:
            if self._connected():  # a send cut off by the link going down is not its fault
                item.failures += 1
            logger.exception("sending a session-sync message failed; kept for retry")
            return False

    def _finish(self, item: _Outgoing) -> None:
        for queue in self._queues:
            if queue and queue[0] is item:
                queue.popleft()
        self._done = max(self._done, item.index)
        if item.seq is not None:
            self._settled_seq = max(self._settled_seq, item.seq)
        for mark, waiter in list(self._waiters):
            if mark <= self._done and not waiter.done():
                waiter.set_result(None)

    def _release_waiters(self) -> None:
        for _, waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)

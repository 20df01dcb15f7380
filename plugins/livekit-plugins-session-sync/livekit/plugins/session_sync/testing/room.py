"""An in-memory LiveKit room for tests: many participants in one asyncio loop, no server.

It keeps the LiveKit semantics agent code depends on, as LiveKit server 1.13 and the Python
SDK show them: attribute merging and deletion, the data packet limit, RPC error codes and
deadlines, asynchronous delivery on two paths that may overtake each other, resumes and full
reconnects, and duplicate identities. Each `InMemoryRoom` is one participant's client and
implements `RoomPort`, so the code under test cannot tell it from `LiveKitRoom`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from livekit import rtc
from livekit.rtc.participant import PublishDataError

from ..log import logger
from ..models import ConnectionState
from ..room import AttributeEcho, RoomListener, RpcHandler
from .rpc import perform_rpc
from .server import InMemoryServer, ParticipantKind, checked_attributes

# A reliable data packet may be at most 64,000 bytes once encoded (the negotiated SCTP
# message size); the encoding adds the topic, identities and about 35 bytes of framing.
MAX_DATA_PACKET_BYTES = 64_000
_PACKET_FRAMING_BYTES = 35


class ReceivedData(NamedTuple):
    sender: str | None
    topic: str
    payload: bytes


class InMemoryRoom:
    """One participant's client of an `InMemoryServer` room; implements `RoomPort`.

    What it knows of the others (`remote_attributes`, `remote_identities`) is updated only
    when their events are delivered to it, as in the real SDK; data from a participant it
    does not know yet arrives with no sender. While reconnecting it neither sends nor
    receives: events meant for it are lost, and on `simulate_reconnected` it catches up on
    joins, leaves and attribute changes (as LiveKit does on resume).
    """

    def __init__(
        self,
        server: InMemoryServer,
        room_name: str,
        identity: str,
        attributes: dict[str, str],
        kind: ParticipantKind,
        can_update_own_metadata: bool = True,
    ) -> None:
        self._server = server
        self._name = room_name
        self._identity = identity
        self.kind: ParticipantKind = kind
        self.sid = server._next_sid()  # tells a rejoin apart from the same participant
        self._can_update = can_update_own_metadata
        self._state: ConnectionState = "connecting"
        self._attributes = attributes  # as the server holds them
        self._echoed = dict(attributes)  # as this client has been told them
        self._echo = AttributeEcho()
        self._seen: dict[str, tuple[str, dict[str, str]]] = {}  # identity -> (sid, attributes)
        self._listeners: list[RoomListener] = []
        self._rpc_handlers: dict[str, RpcHandler] = {}
        self.rpc_calls: dict[asyncio.Task[str], rtc.RpcInvocationData] = {}
        self.pending_calls: set[asyncio.Future[None]] = set()  # this client's, awaiting replies
        self._received: list[ReceivedData] = []

    # -- RoomPort --

    @property
    def name(self) -> str:
        return self._name

    @property
    def local_identity(self) -> str:
        return self._identity

    @property
    def connection_state(self) -> ConnectionState:
        return self._state

    def local_attributes(self) -> Mapping[str, str]:
        return dict(self._echo.view(self._echoed))

    def remote_attributes(self, identity: str) -> Mapping[str, str] | None:
        seen = self._seen.get(identity)
        return None if seen is None else dict(seen[1])

    async def set_attributes(self, attributes: Mapping[str, str]) -> None:
        """Merge into the current attributes; a key set to "" is deleted.

        Over the size limit raises `AttributesError`; without the grant it is ignored."""
        from .server import AttributesError

        if self._state != "connected":
            raise AttributesError(f"{self._identity} cannot set attributes while {self._state}")
        merged = checked_attributes({**self._attributes, **attributes})
        changed = {k: v for k, v in attributes.items() if self._attributes.get(k, "") != v}
        if not self._can_update:
            logger.debug("%s may not update its attributes; ignored", self._identity)
        elif changed:
            self._attributes = merged
            self._echo.sent(attributes)
            server = self._server
            server._signal(self, server.echo_delay, self._on_echo, dict(merged))
            for other in self._others():
                other._post_signal(other._on_attributes, self._identity, self.sid, changed)
        await asyncio.sleep(0)

    async def send_data(
        self, payload: bytes, *, topic: str, destinations: Sequence[str] = ()
    ) -> None:
        """Reliable data to every other participant, or only to `destinations`."""
        if isinstance(destinations, str):
            raise TypeError("destinations must be a sequence of identities, not a string")
        if self._state != "connected":
            raise PublishDataError(f"{self._identity} cannot publish data while {self._state}")
        size = (
            len(payload)
            + len(topic.encode())
            + len(self._identity.encode())
            + sum(len(d.encode()) + 2 for d in destinations)
            + _PACKET_FRAMING_BYTES
        )
        if size > MAX_DATA_PACKET_BYTES:
            raise PublishDataError(
                f"engine: internal error: data packet size ({size} bytes) exceeds the "
                f"negotiated maximum message size ({MAX_DATA_PACKET_BYTES} bytes)"
            )
        wanted = set(destinations)
        for other in self._others():
            if not wanted or other._identity in wanted:
                other._post(other._on_data, self._identity, topic, bytes(payload))
        await asyncio.sleep(0)

    def register_rpc(self, method: str, handler: RpcHandler) -> None:
        self._rpc_handlers[method] = handler

    def unregister_rpc(self, method: str) -> None:
        self._rpc_handlers.pop(method, None)

    def subscribe(self, listener: RoomListener) -> Callable[[], None]:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    # -- client-side extras --

    async def perform_rpc(
        self,
        *,
        destination_identity: str,
        method: str,
        payload: str,
        response_timeout: float | None = None,
        max_round_trip_latency: float | None = None,
    ) -> str:
        """As `rtc.LocalParticipant.perform_rpc`; raises `rtc.RpcError` with LiveKit's codes.

        The handler gets the caller's timeout less the round trip (at least 1 s), and is
        cancelled when that passes. Nobody answers for an absent participant: the caller
        gives up waiting for the acknowledgement (1501)."""
        return await perform_rpc(
            self,
            destination_identity=destination_identity,
            method=method,
            payload=payload,
            response_timeout=response_timeout,
            max_round_trip_latency=max_round_trip_latency,
        )

    def simulate_reconnecting(self) -> None:
        """The signal connection drops; the SDK will resume it as the same participant."""
        self._require("connected")
        self._state = "reconnecting"
        self._server._schedule(self._on_state, "reconnecting", None)

    def simulate_reconnected(self) -> None:
        self._require("reconnecting")
        self._state = "connected"
        self._server._schedule(self._on_state, "connected", None)

    async def simulate_full_reconnect(self) -> None:
        """The SDK gives up resuming and joins again, as LiveKit's full reconnect does.

        This client first sees every other participant leave (and its calls waiting for a
        reply fail with 1503, as the SDK's do), then `reconnecting`; the server replaces it
        with a new participant (a new sid: the others see a leave and a join) that the SDK
        joins with the attributes it had; then this client sees the others join again, then
        `connected`."""
        self._require("connected")
        for identity, (sid, _) in list(self._seen.items()):
            self._server._schedule(self._on_left, identity, sid)
        for call in self.pending_calls:
            if not call.done():
                call.set_result(None)  # the replies it waited for are forgotten: 1503
        self._state = "reconnecting"
        self._server._schedule(self._on_state, "reconnecting", None)
        await asyncio.sleep(0)
        members = self._server._rooms.get(self._name, {})
        old_sid = self.sid
        for other in self._others():
            other._post_signal(other._on_left, self._identity, old_sid)
        self.sid = self._server._next_sid()
        if members.get(self._identity) is self:
            del members[self._identity]
        self._admit(members)

    async def disconnect(self, reason: str = "CLIENT_INITIATED") -> None:
        """Leave the room; `reason` is a `rtc.DisconnectReason` name."""
        rtc.DisconnectReason.Value(reason)  # ValueError for an unknown reason
        self._leave(reason)
        await asyncio.sleep(0)

    def remote_identities(self) -> list[str]:
        """The other participants this client knows of."""
        return list(self._seen)

    def received_data(self, topic: str | None = None) -> list[ReceivedData]:
        """Every data packet delivered to this client, oldest first, optionally for one topic."""
        return [d for d in self._received if topic is None or d.topic == topic]

    # -- internals --

    def _admit(self, members: dict[str, InMemoryRoom]) -> None:
        """Enter the room: know who is here, and be announced to them."""
        rejoining = self._state == "reconnecting"
        present = {i: (m.sid, dict(m._attributes)) for i, m in members.items()}
        members[self._identity] = self
        self._state = "connected"
        if rejoining:  # a full reconnect: told of the others again, then connected
            for identity, (sid, attributes) in present.items():
                self._server._schedule(self._on_joined, identity, sid, attributes)
            self._server._schedule(self._on_state, "connected", None)
        else:
            self._seen = present
        for other in self._others():
            other._post_signal(
                other._on_joined,
                self._identity,
                self.sid,
                dict(self._attributes),
                delay=self._server.join_delay,
            )

    def _require(self, state: ConnectionState) -> None:
        if self._state != state:
            raise RuntimeError(f"{self._identity} is {self._state}, not {state}")

    def _others(self) -> list[InMemoryRoom]:
        members = self._server._rooms.get(self._name, {})
        return [m for m in members.values() if m is not self]

    def _post(self, handler: Callable[..., None], *args: Any) -> None:
        """On the data path. The network only reaches connected clients."""
        if self._state == "connected":
            self._server._schedule(handler, *args)

    def _post_signal(
        self, handler: Callable[..., None], *args: Any, delay: float | None = None
    ) -> None:
        """On the signalling path: in order, possibly later than data sent after it."""
        if self._state == "connected":
            wait = self._server.attribute_delay if delay is None else delay
            self._server._signal(self, wait, self._delivered, handler, args)

    def _delivered(self, handler: Callable[..., None], args: tuple[Any, ...]) -> None:
        if self._state == "connected":  # lost if the link dropped while it was on its way
            handler(*args)

    def _emit(self, call: Callable[[RoomListener], None]) -> None:
        for listener in list(self._listeners):
            try:
                call(listener)
            except Exception:
                self._server.listener_errors += 1
                logger.exception("room listener of %s raised", self._identity)

    def _leave(self, reason: str) -> None:
        if self._state == "disconnected":
            return
        self._state = "disconnected"
        members = self._server._rooms.get(self._name, {})
        if members.get(self._identity) is self:
            del members[self._identity]
        for task, invocation in self.rpc_calls.items():
            invocation.cancel_reason = rtc.RpcError.ErrorCode.RECIPIENT_DISCONNECTED
            task.cancel()
        self._server._schedule(self._on_state, "disconnected", reason)
        for other in members.values():
            other._post_signal(other._on_left, self._identity, self.sid)

    def _on_echo(self, attributes: dict[str, str]) -> None:
        if self._state == "connected":
            self._echoed = attributes

    def _on_state(self, state: ConnectionState, reason: str | None) -> None:
        if state == "disconnected":
            self._seen.clear()
        self._emit(lambda listener: listener.on_connection_state(state, reason))
        if state == "connected":
            self._catch_up()

    def _catch_up(self) -> None:
        present = {m._identity: m for m in self._others()}
        for identity, (sid, _) in list(self._seen.items()):
            if identity not in present or present[identity].sid != sid:
                self._on_left(identity, sid)
        for identity, member in present.items():
            if identity not in self._seen:
                self._on_joined(identity, member.sid, dict(member._attributes))
            else:
                known = self._seen[identity][1]
                diff = {k: "" for k in known if k not in member._attributes}
                self._on_attributes(identity, member.sid, {**diff, **member._attributes})
        self._echoed = dict(self._attributes)

    def _on_joined(self, identity: str, sid: str, attributes: dict[str, str]) -> None:
        if self._seen.get(identity, ("",))[0] == sid:
            return  # already known from a catch-up
        self._seen[identity] = (sid, attributes)
        self._emit(lambda listener: listener.on_participant_joined(identity))

    def _on_left(self, identity: str, sid: str) -> None:
        if self._seen.get(identity, ("",))[0] != sid:
            return
        del self._seen[identity]
        self._emit(lambda listener: listener.on_participant_left(identity))

    def _on_attributes(self, identity: str, sid: str, changed: Mapping[str, str]) -> None:
        seen = self._seen.get(identity)
        if seen is None or seen[0] != sid:
            return
        known = seen[1]
        actual = {k: v for k, v in changed.items() if known.get(k, "") != v}
        if not actual:
            return  # nothing new to this client (e.g. already caught up)
        for key, value in actual.items():
            if value:
                known[key] = value
            else:
                known.pop(key, None)
        self._emit(lambda listener: listener.on_participant_attributes(identity, actual))

    def _on_data(self, sender: str, topic: str, payload: bytes) -> None:
        # A sender this client has not been told of yet arrives anonymous, as in the SDK.
        known = sender if sender in self._seen else None
        self._received.append(ReceivedData(known, topic, payload))
        self._emit(lambda listener: listener.on_data(known, topic, payload))

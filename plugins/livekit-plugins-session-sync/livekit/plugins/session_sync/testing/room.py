"""An in-memory LiveKit room for tests: many participants in one asyncio loop, no server.

It keeps the LiveKit semantics that agent code depends on: attribute merging and deletion,
the data and RPC size limits and error codes, asynchronous in-order delivery, reconnection
and duplicate identities. Each `InMemoryRoom` is one participant's client and implements
`RoomPort`, so the code under test cannot tell it from `LiveKitRoom`.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, NamedTuple

from livekit import rtc
from livekit.rtc.participant import PublishDataError

from ..log import logger
from ..models import ConnectionState
from ..protocol import MAX_PACKET_BYTES
from ..room import RoomListener, RpcHandler

MAX_ATTRIBUTES_BYTES = 64 * 1024
DEFAULT_RPC_RESPONSE_TIMEOUT = 10.0
DEFAULT_MAX_ROUND_TRIP_LATENCY = 7.0  # the SDK's default wait for the request's ack

ParticipantKind = Literal["standard", "agent"]
_Code = rtc.RpcError.ErrorCode


class AttributesError(Exception):
    """`set_attributes` or `connect` was refused: too large, or the participant is not connected."""


class ReceivedData(NamedTuple):
    sender: str | None
    topic: str
    payload: bytes


def _rpc_error(code: rtc.RpcError.ErrorCode) -> rtc.RpcError:
    return rtc.RpcError(code, rtc.RpcError.ErrorMessage[code])


def _checked_attributes(attributes: Mapping[str, str]) -> dict[str, str]:
    kept = {k: v for k, v in attributes.items() if v != ""}  # LiveKit deletes keys set to ""
    size = sum(len(k.encode()) + len(v.encode()) for k, v in kept.items())
    if size > MAX_ATTRIBUTES_BYTES:
        raise AttributesError(f"attributes total {size} bytes, over {MAX_ATTRIBUTES_BYTES}")
    return kept


class InMemoryServer:
    """A hub of rooms. All deliveries run in the asyncio loop with `call_soon`, in order."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, InMemoryRoom]] = {}
        self._sids = itertools.count(1)
        self._pending = 0
        self.listener_errors = 0  # exceptions raised by listeners (logged, never propagated)

    async def connect(
        self,
        room_name: str,
        identity: str,
        *,
        attributes: Mapping[str, str] | None = None,
        kind: ParticipantKind = "standard",
    ) -> InMemoryRoom:
        """Join `room_name` as `identity`; returns once "connected".

        The client already knows the participants present, with no joined events for them
        (as with LiveKit's join response). An older participant with the same identity is
        disconnected with reason "DUPLICATE_IDENTITY".
        """
        initial = _checked_attributes(attributes or {})
        client = InMemoryRoom(self, room_name, identity, initial, kind)
        await asyncio.sleep(0)  # the join handshake is not instantaneous
        members = self._rooms.setdefault(room_name, {})
        if (older := members.get(identity)) is not None:
            older._leave("DUPLICATE_IDENTITY")
        client._seen = {i: (m.sid, dict(m._attributes)) for i, m in members.items()}
        members[identity] = client
        client._state = "connected"
        for other in client._others():
            other._post(other._on_joined, identity, client.sid, dict(client._attributes))
        return client

    def identities(self, room_name: str) -> list[str]:
        """Who is in the room now, as the server sees it (reconnecting participants included)."""
        return list(self._rooms.get(room_name, {}))

    def delete_room(self, room_name: str) -> None:
        for member in list(self._rooms.pop(room_name, {}).values()):
            member._leave("ROOM_DELETED")

    async def settle(self, *, max_rounds: int = 10_000) -> None:
        """Run the loop until no delivery is pending and tasks woken by them had turns to react."""
        quiet = 0
        for _ in range(max_rounds):
            quiet = quiet + 1 if self._pending == 0 else 0
            if quiet > 3:
                return
            await asyncio.sleep(0)
        raise RuntimeError(f"deliveries still pending after {max_rounds} loop rounds")

    def _schedule(self, fn: Callable[..., None], *args: Any) -> None:
        self._pending += 1
        asyncio.get_running_loop().call_soon(self._run, fn, args)

    def _run(self, fn: Callable[..., None], args: tuple[Any, ...]) -> None:
        self._pending -= 1
        fn(*args)


class InMemoryRoom:
    """One participant's client of an `InMemoryServer` room; implements `RoomPort`.

    What it knows of the others (`remote_attributes`, `remote_identities`) is updated only
    when their events are delivered to it, as in the real SDK. While reconnecting it neither
    sends nor receives: events meant for it are lost, and on `simulate_reconnected` it
    catches up on joins, leaves and attribute changes (as LiveKit does on resume).
    """

    def __init__(
        self,
        server: InMemoryServer,
        room_name: str,
        identity: str,
        attributes: dict[str, str],
        kind: ParticipantKind,
    ) -> None:
        self._server = server
        self._name = room_name
        self._identity = identity
        self.kind: ParticipantKind = kind
        self.sid = f"PA_{next(server._sids)}"  # tells a rejoin apart from the same participant
        self._state: ConnectionState = "connecting"
        self._attributes = attributes
        self._seen: dict[str, tuple[str, dict[str, str]]] = {}  # identity -> (sid, attributes)
        self._listeners: list[RoomListener] = []
        self._rpc_handlers: dict[str, RpcHandler] = {}
        self._rpc_calls: dict[asyncio.Task[str], rtc.RpcInvocationData] = {}
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
        return dict(self._attributes)

    def remote_attributes(self, identity: str) -> Mapping[str, str] | None:
        seen = self._seen.get(identity)
        return None if seen is None else dict(seen[1])

    async def set_attributes(self, attributes: Mapping[str, str]) -> None:
        """Merge into the current attributes; a key set to "" is deleted."""
        if self._state != "connected":
            raise AttributesError(f"{self._identity} cannot set attributes while {self._state}")
        merged = _checked_attributes({**self._attributes, **attributes})
        changed = {k: v for k, v in attributes.items() if self._attributes.get(k, "") != v}
        self._attributes = merged
        if changed:
            for other in self._others():
                other._post(other._on_attributes, self._identity, self.sid, changed)
        await asyncio.sleep(0)

    async def send_data(
        self, payload: bytes, *, topic: str, destinations: Sequence[str] = ()
    ) -> None:
        """Reliable data to every other participant, or only to `destinations`."""
        if isinstance(destinations, str):
            raise TypeError("destinations must be a sequence of identities, not a string")
        if self._state != "connected":
            raise PublishDataError(f"{self._identity} cannot publish data while {self._state}")
        if len(payload) > MAX_PACKET_BYTES:
            raise PublishDataError(f"packet of {len(payload)} bytes exceeds {MAX_PACKET_BYTES}")
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
        """As `rtc.LocalParticipant.perform_rpc`; raises `rtc.RpcError` with LiveKit's codes."""
        if len(payload.encode()) > MAX_PACKET_BYTES:
            raise _rpc_error(_Code.REQUEST_PAYLOAD_TOO_LARGE)
        if self._state != "connected":
            raise _rpc_error(_Code.SEND_FAILED)
        await asyncio.sleep(0)  # the request is in flight
        target = self._server._rooms.get(self._name, {}).get(destination_identity)
        if target is None or target is self:
            raise _rpc_error(_Code.RECIPIENT_NOT_FOUND)
        if target._state != "connected":
            # the request is lost and never acknowledged, so the caller gives up on the ack
            await asyncio.sleep(max_round_trip_latency or DEFAULT_MAX_ROUND_TRIP_LATENCY)
            raise _rpc_error(_Code.CONNECTION_TIMEOUT)
        timeout = DEFAULT_RPC_RESPONSE_TIMEOUT if response_timeout is None else response_timeout
        invocation = rtc.RpcInvocationData(
            str(uuid.uuid4()), self._identity, payload, timeout, method=method
        )
        task = target._invoke(invocation)
        # asyncio.wait never cancels the handler if this caller is cancelled, as over a network
        done, _ = await asyncio.wait([task], timeout=timeout)
        if not done:
            invocation.cancel_reason = _Code.RESPONSE_TIMEOUT
            task.cancel()
            raise _rpc_error(_Code.RESPONSE_TIMEOUT)
        if task.cancelled():  # by the target disconnecting, or a stray CancelledError
            raise _rpc_error(invocation.cancel_reason or _Code.APPLICATION_ERROR)
        return task.result()

    def simulate_reconnecting(self) -> None:
        self._require("connected")
        self._state = "reconnecting"
        self._server._schedule(self._on_state, "reconnecting", None)

    def simulate_reconnected(self) -> None:
        self._require("reconnecting")
        self._state = "connected"
        self._server._schedule(self._on_state, "connected", None)

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

    def _require(self, state: ConnectionState) -> None:
        if self._state != state:
            raise RuntimeError(f"{self._identity} is {self._state}, not {state}")

    def _others(self) -> list[InMemoryRoom]:
        members = self._server._rooms.get(self._name, {})
        return [m for m in members.values() if m is not self]

    def _post(self, handler: Callable[..., None], *args: Any) -> None:
        # the network only reaches connected clients; in-flight events still arrive in order
        if self._state == "connected":
            self._server._schedule(handler, *args)

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
        for task, invocation in self._rpc_calls.items():
            invocation.cancel_reason = _Code.RECIPIENT_DISCONNECTED
            task.cancel()
        self._server._schedule(self._on_state, "disconnected", reason)
        for other in members.values():
            other._post(other._on_left, self._identity, self.sid)

    def _invoke(self, invocation: rtc.RpcInvocationData) -> asyncio.Task[str]:
        async def answer() -> str:
            handler = self._rpc_handlers.get(invocation.method)
            if handler is None:
                raise _rpc_error(_Code.UNSUPPORTED_METHOD)
            try:
                response = await handler(invocation)
            except rtc.RpcError:
                raise
            except Exception:
                logger.warning("RPC handler for %s raised", invocation.method, exc_info=True)
                raise _rpc_error(_Code.APPLICATION_ERROR) from None
            if len(response.encode()) > MAX_PACKET_BYTES:
                raise _rpc_error(_Code.RESPONSE_PAYLOAD_TOO_LARGE)
            return response

        task = asyncio.get_running_loop().create_task(answer())
        self._rpc_calls[task] = invocation
        task.add_done_callback(lambda t: self._rpc_calls.pop(t, None))
        return task

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
        self._received.append(ReceivedData(sender, topic, payload))
        self._emit(lambda listener: listener.on_data(sender, topic, payload))

"""The synchronizer's narrow view of a LiveKit room, and its adapter over `livekit.rtc.Room`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Protocol

from livekit import rtc

from .models import ConnectionState

RpcHandler = Callable[[rtc.RpcInvocationData], Awaitable[str]]

# How long an attribute update may take to come back from the server before a difference
# counts as drift.
ECHO_GRACE_SECONDS = 5.0

# Disconnect reasons after which the session ends on purpose rather than failing.
INTENTIONAL_DISCONNECT_REASONS = frozenset(
    {"CLIENT_INITIATED", "ROOM_DELETED", "ROOM_CLOSED", "PARTICIPANT_REMOVED", "SERVER_SHUTDOWN"}
)


class RoomListener(Protocol):
    """What the room tells its user. Implementations must not raise."""

    def on_data(self, sender: str | None, topic: str, payload: bytes) -> None: ...

    def on_connection_state(self, state: ConnectionState, reason: str | None) -> None: ...

    def on_participant_joined(self, identity: str) -> None: ...

    def on_participant_left(self, identity: str) -> None: ...

    def on_participant_attributes(self, identity: str, changed: Mapping[str, str]) -> None: ...


class RoomPort(Protocol):
    """Everything the synchronizer needs from a room, and nothing more."""

    @property
    def name(self) -> str: ...

    @property
    def connection_state(self) -> ConnectionState: ...

    def local_attributes(self) -> Mapping[str, str]: ...

    def remote_attributes(self, identity: str) -> Mapping[str, str] | None:
        """The participant's attributes, or None when it is not in the room."""
        ...

    async def set_attributes(self, attributes: Mapping[str, str]) -> None: ...

    async def send_data(
        self, payload: bytes, *, topic: str, destinations: Sequence[str] = ()
    ) -> None: ...

    def register_rpc(self, method: str, handler: RpcHandler) -> None: ...

    def unregister_rpc(self, method: str) -> None: ...

    def subscribe(self, listener: RoomListener) -> Callable[[], None]:
        """Start delivering events to the listener; returns the function that stops it."""
        ...


class AttributeEcho:
    """Our own attribute update, until the server echoes it back.

    LiveKit shows a participant its own attributes only once the server has echoed the update,
    a moment after `set_attributes` returns. Until then what was sent counts as set, so the
    gap is never mistaken for drift; an update never echoed stops counting after a grace.
    """

    def __init__(self, grace_seconds: float | None = None) -> None:
        self._grace = grace_seconds
        self._awaiting: tuple[dict[str, str], float] | None = None

    def sent(self, attributes: Mapping[str, str]) -> None:
        self._awaiting = (dict(attributes), time.monotonic())

    def view(self, shown: Mapping[str, str]) -> Mapping[str, str]:
        """The attributes as set: what the room shows, with an update still in flight."""
        if self._awaiting is None:
            return shown
        sent, at = self._awaiting
        if all(shown.get(k, "") == v for k, v in sent.items()):
            self._awaiting = None  # the server has echoed it
        elif time.monotonic() - at < (ECHO_GRACE_SECONDS if self._grace is None else self._grace):
            return {k: v for k, v in {**shown, **sent}.items() if v != ""}
        else:
            self._awaiting = None  # never echoed: report what the room shows
        return shown


_RTC_STATES: Mapping[int, ConnectionState] = {
    rtc.ConnectionState.CONN_DISCONNECTED: "disconnected",
    rtc.ConnectionState.CONN_CONNECTED: "connected",
    rtc.ConnectionState.CONN_RECONNECTING: "reconnecting",
}


class LiveKitRoom:
    """`RoomPort` over a connected `livekit.rtc.Room`."""

    def __init__(self, room: rtc.Room) -> None:
        self._room = room
        # Follows the events this adapter forwards, so a listener never reads a state
        # older than the event it is handling.
        self._state: ConnectionState | None = None
        self._echo = AttributeEcho()

    @property
    def name(self) -> str:
        return self._room.name

    @property
    def local_identity(self) -> str:
        return self._room.local_participant.identity

    @property
    def connection_state(self) -> ConnectionState:
        if self._state is not None:
            return self._state
        return _RTC_STATES.get(self._room.connection_state, "disconnected")

    def local_attributes(self) -> Mapping[str, str]:
        return self._echo.view(self._room.local_participant.attributes)

    def remote_attributes(self, identity: str) -> Mapping[str, str] | None:
        participant = self._room.remote_participants.get(identity)
        return None if participant is None else participant.attributes

    async def set_attributes(self, attributes: Mapping[str, str]) -> None:
        """Done when the SDK acknowledges the update, or when the server echoes it back,
        whichever comes first: the SDK (livekit 1.1.21) sometimes never hands on the
        server's acknowledgement, and an update waiting for it holds up every later one."""
        update = dict(attributes)
        local = self._room.local_participant
        echoed = asyncio.Event()

        def on_changed(_: Mapping[str, str], participant: rtc.Participant) -> None:
            # "" removes an attribute, which then reads as "".
            shown = participant.attributes
            if participant.identity == local.identity and all(
                shown.get(key, "") == value for key, value in update.items()
            ):
                echoed.set()

        self._room.on("participant_attributes_changed", on_changed)
        acknowledged = asyncio.ensure_future(local.set_attributes(update))
        echo = asyncio.ensure_future(echoed.wait())
        try:
            await asyncio.wait({acknowledged, echo}, return_when=asyncio.FIRST_COMPLETED)
            if acknowledged.done():
                acknowledged.result()  # the SDK's error, if it refused the update
        finally:
            self._room.off("participant_attributes_changed", on_changed)
            for waiting in (acknowledged, echo):
                waiting.cancel()
            await asyncio.gather(acknowledged, echo, return_exceptions=True)
        self._echo.sent(update)

    async def send_data(
        self, payload: bytes, *, topic: str, destinations: Sequence[str] = ()
    ) -> None:
        await self._room.local_participant.publish_data(
            payload, reliable=True, topic=topic, destination_identities=list(destinations)
        )

    def register_rpc(self, method: str, handler: RpcHandler) -> None:
        self._room.local_participant.register_rpc_method(method, handler)

    def unregister_rpc(self, method: str) -> None:
        self._room.local_participant.unregister_rpc_method(method)

    async def perform_rpc(
        self,
        *,
        destination_identity: str,
        method: str,
        payload: str,
        response_timeout: float | None = None,
    ) -> str:
        """Call a method on another participant (what a frontend does; used by test clients)."""
        return await self._room.local_participant.perform_rpc(
            destination_identity=destination_identity,
            method=method,
            payload=payload,
            response_timeout=response_timeout,
        )

    def subscribe(self, listener: RoomListener) -> Callable[[], None]:
        room = self._room

        def data_received(packet: rtc.DataPacket) -> None:
            sender = packet.participant.identity if packet.participant else None
            listener.on_data(sender, packet.topic or "", packet.data)

        def reconnecting() -> None:
            self._state = "reconnecting"
            listener.on_connection_state("reconnecting", None)

        def reconnected() -> None:
            self._state = "connected"
            listener.on_connection_state("connected", None)

        def disconnected(reason: rtc.DisconnectReason.ValueType) -> None:
            self._state = "disconnected"
            listener.on_connection_state("disconnected", rtc.DisconnectReason.Name(reason))

        def participant_connected(p: rtc.RemoteParticipant) -> None:
            listener.on_participant_joined(p.identity)

        def participant_disconnected(p: rtc.RemoteParticipant) -> None:
            listener.on_participant_left(p.identity)

        def attributes_changed(changed: dict[str, str], p: rtc.Participant) -> None:
            if p.identity != room.local_participant.identity:
                listener.on_participant_attributes(p.identity, changed)

        handlers: list[tuple[str, Callable[..., None]]] = [
            ("data_received", data_received),
            ("reconnecting", reconnecting),
            ("reconnected", reconnected),
            ("disconnected", disconnected),
            ("participant_connected", participant_connected),
            ("participant_disconnected", participant_disconnected),
            ("participant_attributes_changed", attributes_changed),
        ]
        for event, handler in handlers:
            room.on(event, handler)  # type: ignore[arg-type]

        def unsubscribe() -> None:
            for event, handler in handlers:
                room.off(event, handler)  # type: ignore[arg-type]

        return unsubscribe

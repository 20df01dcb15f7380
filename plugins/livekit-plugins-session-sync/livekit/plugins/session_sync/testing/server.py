"""The hub of in-memory rooms, and the network timing between its participants."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .room import InMemoryRoom

ParticipantKind = Literal["standard", "agent"]

# LiveKit's default limit on one participant's attributes, per update.
MAX_ATTRIBUTES_BYTES = 64 * 1024


class AttributesError(Exception):
    """`connect` was refused: the attributes are too large."""


def checked_attributes(attributes: Mapping[str, str]) -> dict[str, str]:
    kept = {k: v for k, v in attributes.items() if v != ""}  # LiveKit deletes keys set to ""
    size = sum(len(k.encode()) + len(v.encode()) for k, v in kept.items())
    if size > MAX_ATTRIBUTES_BYTES:
        raise AttributesError(f"attributes total {size} bytes, over {MAX_ATTRIBUTES_BYTES}")
    return kept


class InMemoryServer:
    """A hub of rooms. Deliveries run in the asyncio loop, in order per path.

    As with LiveKit, joins, leaves and attribute updates travel on the signalling connection
    and data and RPC on the data channel, so the two paths can overtake each other:

    - `join_delay`: the server batches the joins of participants without tracks, so others
      learn of a join late, and meanwhile see its data with no sender;
    - `attribute_delay`: attribute updates (and leaves) reach the others this much later than
      data sent at the same moment;
    - `echo_delay`: a participant sees its own attribute update only when the server echoes it;
    - `rpc_payload_limit`: older clients cap an RPC payload at 15,360 bytes; the Python SDK
      with a current server has no such cap (None).
    """

    def __init__(
        self,
        *,
        join_delay: float = 0.0,
        attribute_delay: float = 0.0,
        echo_delay: float = 0.0,
        rpc_payload_limit: int | None = None,
    ) -> None:
        self.join_delay = join_delay
        self.attribute_delay = attribute_delay
        self.echo_delay = echo_delay
        self.rpc_payload_limit = rpc_payload_limit
        self._rooms: dict[str, dict[str, InMemoryRoom]] = {}
        self._sids = itertools.count(1)
        self._pending = 0
        self._signal_tail: dict[int, float] = {}  # per receiver: when its last signal arrives
        self.listener_errors = 0  # exceptions raised by listeners (logged, never propagated)
        self.metadata: dict[str, str] = {}
        """Each room's metadata, as the server API sets it."""

    async def connect(
        self,
        room_name: str,
        identity: str,
        *,
        attributes: Mapping[str, str] | None = None,
        kind: ParticipantKind = "standard",
        can_update_own_metadata: bool = True,
    ) -> InMemoryRoom:
        """Join `room_name` as `identity`; returns once "connected".

        `attributes` are the token's. The client already knows the participants present,
        with no joined events for them (as with LiveKit's join response). An older participant
        with the same identity is disconnected with reason "DUPLICATE_IDENTITY". Without
        `can_update_own_metadata` the server ignores its attribute updates, and the SDK
        raises nothing.
        """
        from .room import InMemoryRoom

        initial = checked_attributes(attributes or {})
        client = InMemoryRoom(self, room_name, identity, initial, kind, can_update_own_metadata)
        await asyncio.sleep(0)  # the join handshake is not instantaneous
        members = self._rooms.setdefault(room_name, {})
        if (older := members.get(identity)) is not None:
            older._leave("DUPLICATE_IDENTITY")
        client._admit(members)
        return client

    async def update_room_metadata(self, room_name: str, metadata: str) -> None:
        """As the server API's UpdateRoomMetadata."""
        await asyncio.sleep(0)
        self.metadata[room_name] = metadata

    def identities(self, room_name: str) -> list[str]:
        """Who is in the room now, as the server sees it (reconnecting participants included)."""
        return list(self._rooms.get(room_name, {}))

    def delete_room(self, room_name: str) -> None:
        for member in list(self._rooms.pop(room_name, {}).values()):
            member._leave("ROOM_DELETED")

    async def settle(self, *, max_rounds: int = 10_000) -> None:
        """Run the loop until no delivery is pending and tasks woken by them had turns to react.

        Deliveries held back by a delay are waited for too."""
        quiet = 0
        for _ in range(max_rounds):
            quiet = quiet + 1 if self._pending == 0 else 0
            if quiet > 4:
                return
            await asyncio.sleep(0 if self._pending == 0 or not self._delayed() else 0.001)
        raise RuntimeError(f"deliveries still pending after {max_rounds} loop rounds")

    def _delayed(self) -> bool:
        return bool(self.join_delay or self.attribute_delay or self.echo_delay)

    def _schedule(self, fn: Callable[..., None], *args: Any) -> None:
        self._pending += 1
        asyncio.get_running_loop().call_soon(self._run, fn, args)

    def _signal(self, receiver: object, delay: float, fn: Callable[..., None], *args: Any) -> None:
        """Deliver on the receiver's signalling path: in order, and `delay` late."""
        if delay <= 0 and not self._signal_tail.get(id(receiver)):
            self._schedule(fn, *args)
            return
        loop = asyncio.get_running_loop()
        when = max(loop.time() + delay, self._signal_tail.get(id(receiver), 0.0) + 1e-6)
        self._signal_tail[id(receiver)] = when
        self._pending += 1
        loop.call_at(when, self._run_signal, receiver, when, fn, args)

    def _run_signal(
        self, receiver: object, when: float, fn: Callable[..., None], args: tuple[Any, ...]
    ) -> None:
        if self._signal_tail.get(id(receiver)) == when:
            del self._signal_tail[id(receiver)]  # the path is empty again
        self._run(fn, args)

    def _run(self, fn: Callable[..., None], args: tuple[Any, ...]) -> None:
        self._pending -= 1
        fn(*args)

    def _next_sid(self) -> str:
        return f"PA_{next(self._sids)}"

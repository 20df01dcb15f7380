"""A frontend's side of the protocol, for tests: sends commands, records what comes back."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from livekit import rtc

from ..models import ConnectionState
from ..protocol import (
    ATTR_CONFIG,
    PROTOCOL_VERSION,
    REPEATABLE_METHODS,
    REPLY_LOST_RPC_CODES,
    TOPIC,
)
from ..room import RoomPort

RETRY_FIRST_DELAY = 0.25
RETRY_MAX_DELAY = 2.0
"""Backoff between sends of a command whose reply was lost: doubling, up to this."""


def retryable(method: str, rpc_code: int) -> bool:
    """A command worth sending again: it may be repeated, and only its reply was lost."""
    return method in REPEATABLE_METHODS and rpc_code in REPLY_LOST_RPC_CODES


class ClientRoom(RoomPort, Protocol):
    async def perform_rpc(
        self,
        *,
        destination_identity: str,
        method: str,
        payload: str,
        response_timeout: float | None = None,
    ) -> str: ...


class QuietListener:
    """A `RoomListener` that ignores everything; subclass it and override what you need."""

    def on_data(self, sender: str | None, topic: str, payload: bytes) -> None:
        pass

    def on_connection_state(self, state: ConnectionState, reason: str | None) -> None:
        pass

    def on_participant_joined(self, identity: str) -> None:
        pass

    def on_participant_left(self, identity: str) -> None:
        pass

    def on_participant_attributes(self, identity: str, changed: Mapping[str, str]) -> None:
        pass


async def eventually(
    predicate: Callable[[], bool], *, timeout: float = 2.0, message: str = "condition"
) -> None:
    """Wait until `predicate()` holds, yielding to the loop; fail with `message` after `timeout`."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        await asyncio.sleep(0.001)


class SessionSyncClient(QuietListener):
    """Speaks the session-sync protocol from the user's side, as a frontend app would.

    Everything received is kept as plain JSON dicts, exactly as a frontend would parse it.
    """

    def __init__(self, room: ClientRoom, agent_identity: str) -> None:
        self.room = room
        self.agent_identity = agent_identity
        self.events: list[dict[str, Any]] = []
        self.replies: dict[str, dict[str, Any]] = {}
        self.unsolicited: list[dict[str, Any]] = []
        self.connection_states: list[ConnectionState] = []
        self._ids = itertools.count(1)
        self._nonce = uuid.uuid4().hex[:8]
        self._unsubscribe = room.subscribe(self)

    def close(self) -> None:
        self._unsubscribe()

    # -- RoomListener ---------------------------------------------------------------------

    def on_data(self, sender: str | None, topic: str, payload: bytes) -> None:
        if topic != TOPIC or sender != self.agent_identity:
            return
        message = json.loads(payload)
        kind = message.get("type")
        if kind in ("ack", "error") and message.get("id") is not None:
            self.replies[message["id"]] = message
        elif kind in ("ack", "error", "snapshot"):
            self.unsolicited.append(message)
        else:
            self.events.append(message)

    def on_connection_state(self, state: ConnectionState, reason: str | None) -> None:
        self.connection_states.append(state)

    # -- what the agent shows -------------------------------------------------------------

    def agent_attributes_known(self) -> bool:
        """The agent is in this client's view of the room."""
        return self.room.remote_attributes(self.agent_identity) is not None

    def agent_attributes(self) -> dict[str, str]:
        return dict(self.room.remote_attributes(self.agent_identity) or {})

    def session(self) -> dict[str, Any]:
        """The session config as published in the agent's attributes."""
        raw = self.agent_attributes().get(ATTR_CONFIG)
        if raw is None:
            raise AssertionError("the agent has not published a session")
        parsed: dict[str, Any] = json.loads(raw)
        return parsed

    def events_of(self, event_type: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == event_type]

    # -- commands -------------------------------------------------------------------------

    async def call(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        retry_for: float = 0.0,
        ran: Callable[[dict[str, Any]], bool] | None = None,
    ) -> dict[str, Any]:
        """Send a command by RPC; returns the parsed result or raises `rtc.RpcError`.

        With `retry_for`, a command whose reply was lost on the way is not given up on for
        up to that many seconds, each attempt once this client's link is up and the agent is
        (back) in its view of the room, with backoff (protocol 6.4):
        - a repeatable command is sent again;
        - one that cannot be repeated (its result is the session) is sent again only when
          `ran` is given and says that a snapshot does not show it ran; when it does, the
          snapshot's session is the result. Without `ran`, its lost reply is raised: the
          caller reads the session and decides."""
        payload = json.dumps(dict(params or {}))
        deadline = time.monotonic() + retry_for
        delay = RETRY_FIRST_DELAY
        while True:
            try:
                reply = await self.room.perform_rpc(
                    destination_identity=self.agent_identity,
                    method=method,
                    payload=payload,
                    # The handler gets this less 7 s of round trip (at least 1 s): 3 s here.
                    response_timeout=10.0,
                )
            except rtc.RpcError as e:
                may_resend = retryable(method, e.code) or (
                    ran is not None and e.code in REPLY_LOST_RPC_CODES
                )
                if not may_resend or time.monotonic() + delay > deadline:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_DELAY)
                if not await self._agent_reachable(deadline):
                    raise
                if ran is not None and method not in REPEATABLE_METHODS:
                    remaining = max(deadline - time.monotonic(), 0.0)
                    snapshot = await self.call("session.snapshot", retry_for=remaining)
                    if ran(snapshot):
                        session: dict[str, Any] = snapshot["session"]
                        return session
                continue
            result: dict[str, Any] = json.loads(reply)
            return result

    async def _agent_reachable(self, deadline: float) -> bool:
        """Wait until this client is connected and knows the agent is in the room."""
        while time.monotonic() < deadline:
            room = self.room
            if room.connection_state == "connected" and self.agent_attributes_known():
                return True
            await asyncio.sleep(0.05)
        return False

    async def send(
        self, method: str, params: Mapping[str, Any] | None = None, *, request_id: str | None = None
    ) -> str:
        """Send a command as a data message; returns its request id."""
        # Unique in the room: a refusal of data from an unannounced sender goes to everyone.
        rid = request_id or f"req-{next(self._ids)}-{self._nonce}"
        message = {
            "type": "request",
            "id": rid,
            "method": method,
            "params": dict(params or {}),
            "v": PROTOCOL_VERSION,
        }
        await self.send_raw(json.dumps(message).encode())
        return rid

    async def send_raw(self, payload: bytes) -> None:
        await self.room.send_data(payload, topic=TOPIC, destinations=(self.agent_identity,))

    async def reply(self, request_id: str, *, timeout: float = 2.0) -> dict[str, Any]:
        await eventually(
            lambda: request_id in self.replies, timeout=timeout, message=f"reply to {request_id}"
        )
        return self.replies[request_id]

    async def request(
        self, method: str, params: Mapping[str, Any] | None = None, *, timeout: float = 2.0
    ) -> dict[str, Any]:
        """Send a data command and wait for its ack or error.

        Sent before the agent has been told of this participant (LiveKit announces joins a
        few seconds late), it is refused as `unknown_sender`; it is sent again until the
        agent knows us, as an app should."""
        deadline = time.monotonic() + timeout
        while True:
            reply = await self.reply(
                await self.send(method, params), timeout=max(deadline - time.monotonic(), 0.01)
            )
            details = reply.get("error", {}).get("details") or {}
            if details.get("reason") != "unknown_sender" or time.monotonic() > deadline:
                return reply
            await asyncio.sleep(0.2)

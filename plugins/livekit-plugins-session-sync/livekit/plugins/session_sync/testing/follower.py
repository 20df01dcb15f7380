"""An app that follows the agent's session by the contract's rules (docs/protocol.md 8.5).

`SessionSyncClient` records what arrives; `SessionFollower` holds what an app would show and
keeps it right whatever the network does:

1. on start, after its own reconnect and when a new agent appears: take a snapshot;
2. an event with `seq == lastSeq + 1` is applied and `lastSeq` moves on (over any later
   events that already came out of order);
3. an event with `seq <= lastSeq` is old: ignored for state;
4. an event past `lastSeq + 1`, or a `session.seq` attribute above `lastSeq`, means events
   were lost: take a snapshot and go on from its `seq`;
5. an unsolicited snapshot is applied and sets `lastSeq` (never back: a late copy of an
   older one cannot undo events applied since);
6. whatever carries it (attributes, events, snapshots), a session never replaces one with a
   higher `revision` of the same agent participant.

A snapshot that fails (rate limited, the agent unreachable) is tried again after a pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping
from typing import Any

from livekit import rtc

from ..models import ConnectionState
from ..protocol import ATTR_CONFIG, ATTR_PUSH_TO_TALK, ATTR_SEQ, TOPIC
from .client import ClientRoom, QuietListener

EVENT_TYPES = frozenset(
    {"session_state_sync", "room_state_change", "connection_interruption", "session_inconsistency"}
)


class SessionFollower(QuietListener):
    """`subscribe=False` leaves it to the caller to pass the room's callbacks on (through a
    lossy link, say)."""

    def __init__(
        self,
        room: ClientRoom,
        agent_identity: str,
        *,
        subscribe: bool = True,
        retry_delay: float = 0.05,
        rpc_timeout: float = 10.0,
    ) -> None:
        self.room = room
        self.agent_identity = agent_identity
        self.session: dict[str, Any] | None = None
        self.push_to_talk: bool | None = None
        self.last_seq: int | None = None
        self.snapshots = 0
        self.gaps = 0
        self.resets = 0
        self._ahead: set[int] = set()  # seqs applied out of order, above `last_seq`
        self._retry_delay = retry_delay
        self._rpc_timeout = rpc_timeout
        self._resync: asyncio.Task[None] | None = None
        self._again = False
        self._agent_present = room.remote_attributes(agent_identity) is not None
        self._reconnecting = False
        self._closed = False
        self._unsubscribe = room.subscribe(self) if subscribe else None

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Rule 1: begin from a snapshot (and from the attributes already known)."""
        self._from_attributes(self.room.remote_attributes(self.agent_identity) or {})
        self.resync()

    async def aclose(self) -> None:
        self._closed = True
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._resync is not None:
            self._resync.cancel()
            await asyncio.gather(self._resync, return_exceptions=True)

    @property
    def idle(self) -> bool:
        """No snapshot in flight or due."""
        return self._resync is None or self._resync.done()

    @property
    def revision(self) -> int | None:
        return None if self.session is None else int(self.session["revision"])

    # -- commands -----------------------------------------------------------------------

    async def call(self, method: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A command by RPC, its result merged as the contract says (8.8): the reply can come
        before the events the command caused, which are then applied by `seq` as they come
        and never replace the newer session the reply carried. Raises `rtc.RpcError`."""
        reply = await self.room.perform_rpc(
            destination_identity=self.agent_identity,
            method=method,
            payload=json.dumps(dict(params or {})),
            response_timeout=self._rpc_timeout,
        )
        result: dict[str, Any] = json.loads(reply)
        if method == "session.snapshot":
            self._on_snapshot(result)
        elif method != "session.validate":
            self._apply_session(result)
        return result

    # -- RoomListener -------------------------------------------------------------------

    def on_data(self, sender: str | None, topic: str, payload: bytes) -> None:
        if topic != TOPIC or sender != self.agent_identity:
            return
        try:
            message = json.loads(payload)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        kind = message.get("type")
        if kind in EVENT_TYPES:
            self._on_event(message)
        elif kind == "snapshot":
            self._on_snapshot(message)

    def on_participant_attributes(self, identity: str, changed: Mapping[str, str]) -> None:
        if identity == self.agent_identity:
            self._from_attributes(self.room.remote_attributes(identity) or {})

    def on_participant_joined(self, identity: str) -> None:
        if identity != self.agent_identity:
            return
        # A new agent participant (a restart, or the agent's own full reconnect): its seq and,
        # unless it continues the session, its revisions start again.
        self._agent_present = True
        self.resets += 1
        self.session, self.push_to_talk, self.last_seq = None, None, None
        self._ahead.clear()
        self._from_attributes(self.room.remote_attributes(identity) or {})
        self.resync()

    def on_participant_left(self, identity: str) -> None:
        if identity == self.agent_identity:
            self._agent_present = False

    def on_connection_state(self, state: ConnectionState, reason: str | None) -> None:
        if state == "reconnecting":
            self._reconnecting = True
        elif state == "connected" and self._reconnecting:
            self._reconnecting = False
            self.resync()  # rule 1: whatever was sent meanwhile is lost

    # -- the rules ----------------------------------------------------------------------

    def _on_event(self, event: Mapping[str, Any]) -> None:
        seq = event.get("seq")
        if not isinstance(seq, int) or self.last_seq is None:
            # Before the first snapshot only the revision rule applies.
            self._apply_session(event.get("payload", {}).get("frontendState"))
            return
        if seq <= self.last_seq or seq in self._ahead:
            return  # rule 3: old, or a duplicate
        self._apply_session(event.get("payload", {}).get("frontendState"))
        self._ahead.add(seq)
        if seq == self.last_seq + 1:
            self._advance(seq)  # rule 2
        else:
            self.gaps += 1
            self.resync()  # rule 4

    def _on_snapshot(self, snapshot: Mapping[str, Any]) -> None:
        seq = snapshot.get("seq")
        session = snapshot.get("session")
        if not isinstance(seq, int) or not isinstance(session, dict):
            return
        held = self.revision
        self._apply_session(session)
        if held is None or session.get("revision", -1) >= held:
            self.push_to_talk = bool(snapshot.get("pushToTalk"))
        self._advance(max(seq, self.last_seq or 0))  # rule 5

    def _from_attributes(self, attributes: Mapping[str, str]) -> None:
        raw = attributes.get(ATTR_CONFIG)
        if raw is not None:
            with contextlib.suppress(ValueError):
                config = json.loads(raw)
                held = self.revision
                applied = self._apply_session(config)
                # The press belongs to the revision it was published with.
                if applied or (held is not None and config.get("revision") == held):
                    self.push_to_talk = attributes.get(ATTR_PUSH_TO_TALK) == "pressed"
        published_seq = attributes.get(ATTR_SEQ, "")
        held_seq = self.last_seq
        if held_seq is not None and published_seq.isdigit() and int(published_seq) > held_seq:
            self.resync()  # rule 4: the last events were lost

    def _apply_session(self, session: object) -> bool:
        """Rule 6: only a higher revision replaces the session held."""
        if not isinstance(session, dict) or not isinstance(session.get("revision"), int):
            return False
        held = self.revision
        if held is not None and session["revision"] <= held:
            return False
        self.session = dict(session)
        return True

    def _advance(self, seq: int) -> None:
        while seq + 1 in self._ahead:
            seq += 1
        self.last_seq = seq
        self._ahead = {s for s in self._ahead if s > seq}

    # -- snapshots ----------------------------------------------------------------------

    def resync(self) -> None:
        """Take a snapshot; one at a time, and once more if asked again meanwhile."""
        if self._closed:
            return
        if self._resync is not None and not self._resync.done():
            self._again = True
            return
        self._resync = asyncio.create_task(self._take_snapshots(), name="session-follower-resync")

    async def _take_snapshots(self) -> None:
        failures = 0
        while True:
            self._again = False
            if not self._agent_present or self.room.connection_state != "connected":
                return  # taken again when the agent or the link comes back
            try:
                reply = await self.room.perform_rpc(
                    destination_identity=self.agent_identity,
                    method="session.snapshot",
                    payload="",
                    response_timeout=self._rpc_timeout,
                )
            except rtc.RpcError:
                failures += 1
                await asyncio.sleep(self._retry_delay * min(failures, 10))
                self._again = True
            else:
                self.snapshots += 1
                self._on_snapshot(json.loads(reply))
            if not self._again:
                return

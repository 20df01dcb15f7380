"""Carrying a session over to the agent that replaces one that died.

The agent keeps a small record of its session outside itself, in the room's metadata under
`sessionSync`. An agent that joins the room later (the first one crashed or was killed)
continues that session: the same `sessionId` and type, the press released, and revisions
above any the first agent could have published, because the record reserves revisions in
blocks before they are used.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Protocol

from pydantic import ValidationError

from .log import logger
from .models import SessionType, WireModel
from .plan import ApplyTurnTaking, Commit, Context, Plan, target, type_fields
from .state import SyncState

RECORD_KEY = "sessionSync"
REVISION_BLOCK = 1000
"""Revisions reserved per write: a new ceiling is written when half the block is used."""


class SessionRecord(WireModel):
    session_id: str
    session_type: SessionType
    is_muted: bool = False
    revision_ceiling: int
    """No revision above this has been published."""
    honoured_request: str | None = None
    """The last `session.requestedType` acted on, so a successor does not act on it again."""


def read_record(metadata: str) -> SessionRecord | None:
    """The record in room metadata, or None (no record, or metadata that is not ours)."""
    try:
        parsed = json.loads(metadata) if metadata.strip().startswith("{") else None
    except json.JSONDecodeError:
        return None
    raw = parsed.get(RECORD_KEY) if isinstance(parsed, dict) else None
    if raw is None:
        return None
    try:
        return SessionRecord.model_validate(raw)
    except ValidationError:
        logger.warning("ignoring an unreadable session record in the room metadata")
        return None


def write_record(metadata: str, record: SessionRecord | None) -> str:
    """Room metadata with the record set (or removed), keeping whatever else it holds.

    Metadata that is a bare session type (`voice-ptt`) becomes `{"sessionType": ...}`,
    which means the same to the agent."""
    text = metadata.strip()
    document: dict[str, object] = {}
    if text.startswith("{"):
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError:
            loaded = None
        if isinstance(loaded, dict):
            document = loaded
    elif text:
        document = {"sessionType": text}
    if record is None:
        document.pop(RECORD_KEY, None)
    else:
        document[RECORD_KEY] = record.to_wire()
    return json.dumps(document, separators=(",", ":")) if document else ""


class SessionStore(Protocol):
    """Where the record lives between agents."""

    def load(self) -> SessionRecord | None: ...

    async def save(self, record: SessionRecord | None) -> None: ...


class RoomMetadataStore:
    """The record in the room's metadata: read as the agent sees it, written with the
    server API (which needs the agent's API key)."""

    def __init__(self, read: Callable[[], str], write: Callable[[str], Awaitable[None]]) -> None:
        self._read = read
        self._write = write

    def load(self) -> SessionRecord | None:
        return read_record(self._read())

    async def save(self, record: SessionRecord | None) -> None:
        await self._write(write_record(self._read(), record))


def record_for(
    state: SyncState, previous: SessionRecord | None, honoured: str | None
) -> SessionRecord | None:
    """The record the state calls for: unchanged in `error`, none once the session ended."""
    config = state.config
    if config.state == "error":
        return previous
    if config.type is None or config.state not in ("active", "syncing"):
        return None
    ceiling = previous.revision_ceiling if previous else 0
    if config.revision > ceiling - REVISION_BLOCK // 2:
        ceiling = config.revision + REVISION_BLOCK
    return SessionRecord(
        session_id=config.session_id,
        session_type=config.type,
        is_muted=config.is_muted,
        revision_ceiling=ceiling,
        honoured_request=honoured,
    )


def plan_continue(record: SessionRecord, ctx: Context) -> Plan:
    """The recorded session, as the first thing this agent publishes: its id and type in
    `syncing` while the turn-taking is set, then `active`, muted as it was and the press
    released. An app never sees an empty session or another id in between (protocol 8.7).
    A type this agent cannot run is shown as that same session in `error`."""
    shown = {
        **type_fields(record.session_type),
        "session_id": record.session_id,
        "room_id": ctx.room_name,
        "is_muted": record.is_muted,
        "started_at": ctx.now,
    }
    reason = ctx.unavailable(record.session_type)
    if reason is not None:
        detail = f"this agent cannot run a {record.session_type} session: {reason}"
        return Plan((Commit({**shown, "state": "error"}, ptt_pressed=False, detail=detail),))
    return Plan(
        (
            Commit({**shown, "state": "syncing"}, ptt_pressed=False),
            ApplyTurnTaking(target(record.session_type, muted=record.is_muted, ptt=False)),
            Commit({}, settle=True),
        )
    )


class RecordKeeper:
    """Keeps the store in step with the session, off the session's lock: one writer task,
    the latest record wins, a failed write is retried."""

    def __init__(self, store: SessionStore, *, io_timeout: float, retry_delay: float = 1.0):
        self._store = store
        self._io_timeout = io_timeout
        self._retry_delay = retry_delay
        self._wanted: SessionRecord | None = None
        self._saved: SessionRecord | None = None
        self._dirty = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def load(self) -> SessionRecord | None:
        record = self._store.load()
        self._wanted = self._saved = record
        return record

    def start(self) -> None:
        self._task = asyncio.create_task(self._write_loop(), name="session-sync-record")

    def note(self, state: SyncState, honoured: str | None) -> None:
        wanted = record_for(state, self._wanted, honoured)
        if wanted != self._wanted:
            self._wanted = wanted
            self._dirty.set()

    async def aclose(self) -> None:
        """Write what is pending (briefly), then stop."""
        if self._task is None:
            return
        if self._wanted != self._saved:
            await self._save_once()
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _save_once(self) -> bool:
        wanted = self._wanted
        try:
            async with asyncio.timeout(self._io_timeout):
                await self._store.save(wanted)
        except Exception as e:  # the server API unreachable: the link is down, say
            logger.warning("saving the session record failed (%r); will retry", e)
            return False
        self._saved = wanted
        return True

    async def _write_loop(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            if self._wanted != self._saved and not await self._save_once():
                await asyncio.sleep(self._retry_delay)
                self._dirty.set()  # try again

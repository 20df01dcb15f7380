"""An agent that dies mid-session is replaced by one that continues it, on both backends."""

from __future__ import annotations

from livekit.plugins.session_sync import (
    SessionRecord,
    SessionStore,
    SessionSynchronizer,
    SyncOptions,
)
from livekit.plugins.session_sync.testing import InMemoryTurnTaking, SessionSyncClient

from .conftest import USER, Backend

OPTIONS = SyncOptions(initial_sync_delay=3600, validation_interval=3600)


class KillableStore:
    """A store that a killed agent can no longer write to, as a process gone is."""

    def __init__(self, store: SessionStore) -> None:
        self._store = store
        self.dead = False
        self.saved: list[SessionRecord | None] = []

    def load(self) -> SessionRecord | None:
        return self._store.load()

    async def save(self, record: SessionRecord | None) -> None:
        if not self.dead:
            await self._store.save(record)
            self.saved.append(record)


async def test_an_agent_replacing_a_dead_one_continues_the_session(backend: Backend) -> None:
    user_room = await backend.join(USER, attributes={"session.requestedType": "voice-vad"})
    first_room = await backend.join("agent-1", kind="agent")
    first_store = KillableStore(backend.metadata_store(first_room))
    first = SessionSynchronizer(
        first_room,
        turn_taking=InMemoryTurnTaking(),
        linked_identity=USER,
        options=OPTIONS,
        store=first_store,
    )
    app = SessionSyncClient(user_room, "agent-1")  # type: ignore[arg-type]
    await first.start("text")
    await backend.until(lambda: app.agent_attributes().get("session.type") == "voice-vad")
    await app.call("session.switch", {"sessionType": "voice-ptt"})
    pressed = await app.call("session.ptt_start")
    await backend.until(lambda: app.session() == pressed, "the press to show")
    await backend.until(
        lambda: (
            bool(first_store.saved)
            and first_store.saved[-1] is not None
            and first_store.saved[-1].session_type == "voice-ptt"
        ),
        "the record",
    )

    first_store.dead = True  # killed: nothing more from it reaches the store
    await backend.leave(first_room)
    await first.aclose()

    second_room = await backend.join("agent-2", kind="agent")
    turns = InMemoryTurnTaking()
    second = SessionSynchronizer(
        second_room,
        turn_taking=turns,
        linked_identity=USER,
        options=OPTIONS,
        store=backend.metadata_store(second_room),
    )
    app = SessionSyncClient(user_room, "agent-2")  # type: ignore[arg-type]
    await second.start("text")  # a record outranks the type the job would choose
    try:
        await backend.until(lambda: app.agent_attributes().get("session.state") == "active")
        session = app.session()
        assert session["sessionId"] == pressed["sessionId"]
        assert session["type"] == "voice-ptt"
        assert session["revision"] > pressed["revision"]
        assert app.agent_attributes()["session.pushToTalk"] == "released"
        assert not second.ptt_pressed and turns.audio_input_enabled is False
        assert second.config.type == "voice-ptt"  # the stale requested type is not re-applied
    finally:
        await second.aclose()

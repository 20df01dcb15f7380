"""An agent continuing a recorded session never shows the app anything but that session."""

from __future__ import annotations

import json
from typing import Any

from livekit.plugins.session_sync import (
    RoomMetadataStore,
    SessionRecord,
    SessionSynchronizer,
    SyncOptions,
)
from livekit.plugins.session_sync.resume import write_record
from livekit.plugins.session_sync.testing.room import InMemoryRoom, InMemoryServer
from livekit.plugins.session_sync.testing.turn_taking import InMemoryTurnTaking

from .conftest import ROOM, USER

OPTIONS = SyncOptions(initial_sync_delay=3600, validation_interval=3600)
RECORD = SessionRecord(
    session_id="the-users-session",
    session_type="voice-vad",
    is_muted=True,
    revision_ceiling=1003,
)


def store_of(server: InMemoryServer) -> RoomMetadataStore:
    async def write(metadata: str) -> None:
        await server.update_room_metadata(ROOM, metadata)

    return RoomMetadataStore(read=lambda: server.metadata.get(ROOM, ""), write=write)


async def replacement(
    server: InMemoryServer, turns: InMemoryTurnTaking
) -> tuple[InMemoryRoom, SessionSynchronizer, list[dict[str, Any]]]:
    """A new agent joining a room whose metadata holds `RECORD`; returns what it published:
    every attribute update it made, in order, as the session config it carried."""
    server.metadata[ROOM] = write_record('{"sessionType": "text"}', RECORD)
    room = await server.connect(ROOM, "agent-2", kind="agent")
    published: list[dict[str, Any]] = []
    set_attributes = room.set_attributes

    async def recording(attributes: Any) -> None:
        if "session.config" in attributes:
            published.append(json.loads(attributes["session.config"]))
        await set_attributes(attributes)

    room.set_attributes = recording  # type: ignore[method-assign]
    sync = SessionSynchronizer(
        room, turn_taking=turns, linked_identity=USER, options=OPTIONS, store=store_of(server)
    )
    return room, sync, published


async def test_a_continued_session_is_the_only_session_the_replacement_publishes() -> None:
    server = InMemoryServer()
    await server.connect(ROOM, USER)
    turns = InMemoryTurnTaking()
    _, sync, published = await replacement(server, turns)
    events: list[Any] = []
    sync.on_event(events.append)
    await sync.start("text")
    await server.settle()
    try:
        assert published, "the replacement published nothing"
        for config in published:
            assert config["sessionId"] == RECORD.session_id, config
            assert config["type"] == RECORD.session_type, config
            assert config["state"] in ("syncing", "active"), config
            assert config["revision"] > RECORD.revision_ceiling, config
        for event in events:
            session = event.payload.frontend_state
            assert (session.session_id, session.type) == (RECORD.session_id, "voice-vad")
            assert event.payload.trigger == "resumed", event.payload.trigger
        assert published[-1]["state"] == "active" and published[-1]["isMuted"] is True
        assert sync.config.is_muted and not turns.audio_input_enabled  # muted as it was
        assert turns.turn_detection == "server"
    finally:
        await sync.aclose()


async def test_a_record_this_agent_cannot_run_is_shown_as_that_session_in_error() -> None:
    server = InMemoryServer()
    await server.connect(ROOM, USER)
    turns = InMemoryTurnTaking()
    turns.unavailable["voice-vad"] = "no speech-to-text here"
    _, sync, published = await replacement(server, turns)
    await sync.start("text")
    await server.settle()
    try:
        assert published
        for config in published:
            assert (config["sessionId"], config["type"]) == (RECORD.session_id, "voice-vad")
        assert published[-1]["state"] == "error"
        assert not turns.audio_input_enabled
    finally:
        await sync.aclose()

"""What the app receives when the agent's link is slow or drops packets: commands are not
held up by sending, a failed send is retried, and one packet that never goes through does
not hold back the ones after it."""

import asyncio
from collections.abc import Sequence
from typing import Any

from livekit.plugins.session_sync import SessionSynchronizer, SyncOptions
from livekit.plugins.session_sync.testing import (
    InMemoryRoom,
    InMemoryServer,
    InMemoryTurnTaking,
    SessionSyncClient,
    eventually,
)


class UnreliableLink:
    """The agent's room, with sends that fail or stall on demand."""

    def __init__(self, room: InMemoryRoom) -> None:
        self._room = room
        self.failures_left = 0
        self.fail_when: Any = None  # a predicate on the payload: those sends always fail
        self.stalled = asyncio.Event()
        self.stalled.set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._room, name)

    async def send_data(
        self, payload: bytes, *, topic: str, destinations: Sequence[str] = ()
    ) -> None:
        await self.stalled.wait()
        if self.fail_when is not None and self.fail_when(payload):
            raise ConnectionError("packet refused")
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionError("link hiccup")
        await self._room.send_data(payload, topic=topic, destinations=destinations)


async def _setup(
    options: SyncOptions | None = None,
) -> tuple[InMemoryServer, UnreliableLink, SessionSynchronizer, SessionSyncClient]:
    server = InMemoryServer()
    link = UnreliableLink(await server.connect("r", "agent", kind="agent"))
    client = SessionSyncClient(await server.connect("r", "user"), "agent")
    sync = SessionSynchronizer(
        link,  # type: ignore[arg-type]
        turn_taking=InMemoryTurnTaking(),
        linked_identity="user",
        options=options or SyncOptions(initial_sync_delay=3600, validation_interval=3600),
    )
    await sync.start()
    await server.settle()
    return server, link, sync, client


async def test_commands_are_not_held_up_by_a_stalled_link() -> None:
    _server, link, sync, client = await _setup()
    try:
        link.stalled.clear()
        started = await asyncio.wait_for(
            sync.request("session.start", {"sessionType": "voice-vad"}), timeout=1.0
        )
        muted = await asyncio.wait_for(
            sync.request("session.set_muted", {"muted": True}), timeout=1.0
        )
        assert (started.state, muted.is_muted) == ("active", True)  # type: ignore[union-attr]
        link.stalled.set()
        await eventually(
            lambda: any(e["payload"]["frontendState"]["isMuted"] for e in client.events),
            message="the events, once the link moves",
        )
    finally:
        await sync.aclose()


async def test_an_event_whose_send_failed_is_retried() -> None:
    _server, link, sync, client = await _setup()
    try:
        link.failures_left = 1
        await sync.request("session.start", {"sessionType": "text"})
        await eventually(
            lambda: any(e["payload"]["trigger"] == "session.start" for e in client.events),
            message="the retried event",
        )
        seqs = [e["seq"] for e in client.events]
        assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
    finally:
        await sync.aclose()


async def test_a_packet_that_never_goes_through_does_not_block_later_events() -> None:
    _server, link, sync, client = await _setup()
    try:
        link.fail_when = lambda payload: b'"trigger":"doomed"' in payload
        await sync.request("session.sync", {"trigger": "doomed"})
        await sync.request("session.start", {"sessionType": "text"})
        await eventually(
            lambda: any(e["payload"]["trigger"] == "session.start" for e in client.events),
            timeout=5.0,
            message="the events after the lost one",
        )
        assert not any(e["payload"]["trigger"] == "doomed" for e in client.events)
    finally:
        await sync.aclose()


async def test_an_app_that_lost_the_last_events_learns_it_from_the_attributes() -> None:
    _server, link, sync, client = await _setup()
    try:
        await sync.request("session.start", {"sessionType": "text"})
        link.fail_when = lambda payload: b'"trigger":"doomed"' in payload
        await sync.request("session.sync", {"trigger": "doomed"})  # its event is lost
        latest = sync.snapshot().seq

        def told() -> bool:
            return client.agent_attributes().get("session.seq") == str(latest)

        await eventually(told, timeout=5.0, message="the latest seq in the attributes")
        assert client.events[-1]["seq"] < latest  # the app can see it missed something
    finally:
        await sync.aclose()

"""A live push-to-talk session whose agent goes away (its worker drains, or is killed) and
what the app must see: the same session continued by a new agent on another worker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from livekit.plugins.session_sync.testing import SessionSyncClient
from support.e2e_app import App, continued_by_a_new_agent, dispatch, join_app
from support.livekit_cluster import AgentTimeline, Cluster, registered, start_worker
from support.livekit_server import new_room_name
from support.worker_process import Worker

NEW_AGENT_DEADLINE = 240.0
"""Generous: the server notices a killed agent after its ping timeout, and a job on a busy
machine takes a while to start."""


@dataclass
class LiveSession:
    """A voice-ptt session mid-press, its agent on `first`, `second` registered beside it."""

    app: App
    timeline: AgentTimeline
    first: Worker
    second: Worker
    pressed: dict[str, Any]
    agent: str

    async def continued_by_a_new_agent(self) -> SessionSyncClient:
        """Wait for the new agent and check it continues the same session, press released."""
        return await continued_by_a_new_agent(
            self.app, self.agent, self.pressed, timeout=NEW_AGENT_DEADLINE
        )


@asynccontextmanager
async def press_in_a_live_session(cluster: Cluster, agent_name: str) -> AsyncIterator[LiveSession]:
    """The session's job goes to the first worker (the only one registered then); the second
    is started after, to take over. The app joins through the other node than the dispatch.
    On exit the app leaves and both workers stop."""
    live = await _start_live_session(cluster, agent_name)
    try:
        yield live
    finally:
        await live.app.leave()
        live.first.stop()
        live.second.stop()


async def _start_live_session(cluster: Cluster, agent_name: str) -> LiveSession:
    first = start_worker(cluster.nodes[0], agent_name)
    second: Worker | None = None
    try:
        await registered(first)
        room = new_room_name("e2e-handover")
        await dispatch(cluster.nodes[0], room, "voice-ptt", agent_name=agent_name)
        app = await join_app(cluster.nodes[1], room)
        timeline = AgentTimeline()
        timeline.follow(app.room)
        await app.until(lambda: app.client.session()["type"] == "voice-ptt", "voice-ptt")
        second = start_worker(cluster.nodes[1], agent_name)
        await registered(second)
        pressed = await app.call("session.ptt_start")
        await app.until(
            lambda: app.client.agent_attributes().get("session.pushToTalk") == "pressed",
            "the press",
        )
        # The press's event comes by data, not with the attributes: heard before the agent
        # goes, it is not taken for something the leaving agent said.
        await app.until(
            lambda: "session.ptt_start" in app.triggers(), "the press's session_state_sync"
        )
        await app.until(lambda: "sessionSync" in app.room.metadata, "the session's record")
        return LiveSession(app, timeline, first, second, pressed, app.agent)
    except BaseException:
        first.stop()
        if second is not None:
            second.stop()
        raise


def app_saw_one_session(live: LiveSession, since: float) -> None:
    """From `since` on, every session event the app heard is about the same live session: an
    interruption, then the session going on; never no session or another one."""
    heard = live.timeline.events(since)
    for message in heard:
        payload = message.body.get("payload", {})
        state = payload.get("frontendState", {})
        assert payload.get("sessionId") == live.pressed["sessionId"], message
        assert state.get("state") in ("active", "syncing"), message
        assert state.get("type") == "voice-ptt", message
    interruptions = [i for i, m in enumerate(heard) if m.body["type"] == "connection_interruption"]
    from_new = [i for i, m in enumerate(heard) if m.sender not in ("", live.agent)]
    assert all(i < j for i in interruptions for j in from_new), [
        (m.sender, m.body["type"], m.body["payload"]["trigger"]) for m in heard
    ]

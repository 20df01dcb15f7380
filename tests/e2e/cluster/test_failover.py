"""Crash failover: a worker's process group is killed mid-press; with nobody acting, the
server's webhook reaches the dispatch service and a new agent continues the session."""

from __future__ import annotations

import asyncio
import time

import pytest

from support.e2e_app import takes_commands_in_the_same_session
from support.livekit_cluster import Cluster, Dispatcher, kill_group

from .handover import app_saw_one_session, press_in_a_live_session

pytestmark = [pytest.mark.livekit_cluster]

CRASH_AGENT = "session-sync-crash"


async def test_a_killed_workers_session_is_continued_by_a_new_agent_nobody_asked_for(
    cluster: Cluster, dispatcher: Dispatcher
) -> None:
    async with press_in_a_live_session(cluster, CRASH_AGENT) as live:
        since = time.monotonic()
        kill_group(live.first)
        await asyncio.to_thread(live.first.wait, 30)
        client = await live.continued_by_a_new_agent()
        room = live.app.room.name
        assert live.second.count(f'"room": "{room}"') > 0, "the new job ran on the other worker"
        assert f"dispatched agent '{CRASH_AGENT}' to room {room}" in dispatcher.log()
        app_saw_one_session(live, since)
        await takes_commands_in_the_same_session(client, live.pressed)

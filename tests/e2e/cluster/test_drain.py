"""A rolling restart: SIGTERM to a worker mid-press hands its session to another worker."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest

from support.e2e_app import takes_commands_in_the_same_session
from support.livekit_cluster import Cluster, Dispatcher

from .handover import app_saw_one_session, press_in_a_live_session

pytestmark = [pytest.mark.livekit_cluster]

DRAIN_AGENT = "session-sync-drain"
CHECK_REPORTS = ("initial", "periodic")
"""Triggers of the sync a clean validation pass sends, the session unchanged (protocol 7.2)."""


async def test_a_draining_worker_hands_its_live_session_to_another_that_continues_it(
    cluster: Cluster, dispatcher: Dispatcher
) -> None:
    async with press_in_a_live_session(cluster, DRAIN_AGENT) as live:
        since = time.monotonic()
        live.first.signal(signal.SIGTERM)
        await live.first.output("draining worker")  # it stops taking jobs
        client = await live.continued_by_a_new_agent()
        room = live.app.room.name
        assert live.first.count("handing the job on") > 0
        # The worker stops once its job is handed on, without waiting for the session to end.
        assert await asyncio.to_thread(live.first.wait, 120) == 0
        assert live.second.count(f'"room": "{room}"') > 0, "the new job ran on the other worker"
        assert live.first.count("received job request", f'"room": "{room}"') == 1, (
            "the draining worker took a job"
        )
        assert f"dispatched agent '{DRAIN_AGENT}' to room {room}" in dispatcher.log()
        app_saw_one_session(live, since)
        # The old agent's last word is the hand-over; a clean periodic check that went out
        # just before restates the unchanged session, and is no interruption.
        last_words = [
            m
            for m in live.timeline.events(since)
            if m.sender == live.agent and m.body["payload"]["trigger"] not in CHECK_REPORTS
        ]
        assert [m.body["payload"]["trigger"] for m in last_words] in ([], ["handover"])
        await takes_commands_in_the_same_session(client, live.pressed)

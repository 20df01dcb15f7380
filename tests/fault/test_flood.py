"""Floods over every path: each message answered once, and the user answered throughout (the
benchmark runs 10,000 per path and measures how long the event loop was held)."""

import asyncio
import json

import pytest

from livekit.plugins.session_sync import TOPIC
from support.faults.flood import SCENARIOS, FloodPath, flood
from support.faults.flood_traffic import command_outcomes
from support.faults.loopwatch import post_all
from support.faults.rig import AGENT, ROOM, Replies, Rig


@pytest.mark.parametrize(("path", "flooder"), SCENARIOS)
async def test_a_burst_is_answered_once_per_message_and_the_user_throughout(
    path: FloodPath, flooder: str
) -> None:
    result = await flood(path, flooder, 1000)
    assert result.ok, result.escaped[:5]
    assert result.probes_answered == result.probes > 0


async def test_the_users_own_burst_gets_every_reply_however_long() -> None:
    # More replies than the reply queue holds (1024): they wait to go out, none is dropped.
    rig = await Rig.create()
    replies = Replies(AGENT)
    rig.user_room.subscribe(replies)
    try:
        body = {"type": "request", "method": "session.snapshot"}
        post_all(
            [
                rig.user_room.send_data(
                    json.dumps({**body, "id": f"b{i}"}).encode(), topic=TOPIC, destinations=(AGENT,)
                )
                for i in range(3000)
            ]
        )
        await rig.quiesce()
        ids = [r.get("id") for r in replies.received]
        assert len(ids) == len(set(ids)) == 3000
    finally:
        await rig.aclose()


async def test_a_burst_is_checked_in_slices_with_other_work_in_between() -> None:
    rig = await Rig.create()
    stranger = await rig.server.connect(ROOM, "stranger")
    await rig.quiesce()
    try:
        before = _refusals()
        refused_when_others_ran: list[float] = []
        post_all(
            [
                stranger.send_data(b'{"type":"request"}', topic=TOPIC, destinations=(AGENT,))
                for _ in range(2000)
            ]
        )
        # Scheduled after the whole burst landed: runs once the loop is free for others.
        asyncio.get_running_loop().call_soon(
            lambda: refused_when_others_ran.append(_refusals() - before)
        )
        await rig.quiesce()
        assert _refusals() - before == 2000
        assert refused_when_others_ran[0] < 2000 / 4
    finally:
        await rig.aclose()


def _refusals() -> float:
    outcomes = command_outcomes()
    return outcomes.get("forbidden", 0) + outcomes.get("rate_limited", 0)

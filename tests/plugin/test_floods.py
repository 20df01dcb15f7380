"""Under a flood the user is still answered: a stranger's burst never costs the user a
command, and every command in the user's own burst gets exactly one reply."""

import asyncio

import pytest

from livekit.plugins.session_sync import SyncOptions
from livekit.plugins.session_sync.testing import SessionSyncClient, eventually

from .conftest import AGENT, ROOM, Harness


async def test_a_strangers_flood_never_costs_the_user_a_command(harness: Harness) -> None:
    stranger = SessionSyncClient(await harness.server.connect(ROOM, "stranger"), AGENT)
    flood = [stranger.send("session.end", request_id=f"s{i}") for i in range(500)]
    # All in one burst: the agent receives them before it runs any of them.
    *_, rid = await asyncio.gather(
        *flood, harness.client.send("session.start", {"sessionType": "text"})
    )
    reply = await harness.client.reply(rid, timeout=5.0)
    assert reply["type"] == "ack"
    assert harness.sync.config.type == "text"


@pytest.mark.parametrize(
    "options", [SyncOptions(initial_sync_delay=3600, validation_interval=3600)]
)
async def test_every_command_in_a_burst_gets_exactly_one_reply(harness: Harness) -> None:
    ids = [f"b{i}" for i in range(300)]
    await asyncio.gather(*(harness.client.send("session.snapshot", request_id=i) for i in ids))
    await eventually(lambda: len(harness.client.replies) == 300, timeout=10.0, message="replies")
    codes = {
        r["error"]["code"] if r["type"] == "error" else "ok"
        for r in harness.client.replies.values()
    }
    assert codes <= {"ok", "rate_limited", "busy"}
    assert "ok" in codes and "rate_limited" in codes

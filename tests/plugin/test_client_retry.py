"""An app's command whose reply its own reconnect lost is sent again only when that is safe."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from livekit import rtc

from livekit.plugins.session_sync import REPEATABLE_METHODS, REPLY_LOST_RPC_CODES
from livekit.plugins.session_sync.testing.client import eventually, retryable

from .conftest import Harness

RECIPIENT_DISCONNECTED = rtc.RpcError.ErrorCode.RECIPIENT_DISCONNECTED


async def cut_off_by_a_full_reconnect(
    harness: Harness, method: str, params: dict[str, object]
) -> asyncio.Task[dict[str, Any]]:
    """Call `method` (retrying for 30 s) while the app's own link fully reconnects under it."""
    harness.turns.delay = 0.1  # the command is still running when the link drops
    call = asyncio.create_task(harness.client.call(method, params, retry_for=30))
    await eventually(lambda: harness.turns.applying > 0, timeout=5, message="the command")
    await harness.user_room.simulate_full_reconnect()
    return call


async def test_a_repeatable_command_lost_to_the_apps_own_full_reconnect_is_sent_again(
    harness: Harness,
) -> None:
    await harness.client.call("session.start", {"sessionType": "voice-vad"})
    call = await cut_off_by_a_full_reconnect(harness, "session.set_muted", {"muted": True})
    result = await asyncio.wait_for(call, 30)
    assert result["isMuted"] is True
    assert harness.sync.config.is_muted and not harness.turns.audio_input_enabled


async def test_a_command_that_cannot_be_repeated_is_not_sent_again(harness: Harness) -> None:
    await harness.client.call("session.start", {"sessionType": "voice-vad"})
    call = await cut_off_by_a_full_reconnect(harness, "session.end", {})
    with pytest.raises(rtc.RpcError) as lost:
        await asyncio.wait_for(call, 30)
    assert lost.value.code == RECIPIENT_DISCONNECTED
    # It ran once: the app reads the session rather than sending it again.
    await eventually(lambda: harness.sync.config.state == "idle", timeout=5, message="the end")


def ended(snapshot: dict[str, Any]) -> bool:
    return bool(snapshot["session"]["state"] == "idle")


async def test_a_lost_end_that_ran_is_read_back_from_a_snapshot_not_sent_again(
    harness: Harness,
) -> None:
    await harness.client.call("session.start", {"sessionType": "voice-vad"})
    harness.turns.delay = 0.1  # the command is still running when the link drops
    call = asyncio.create_task(harness.client.call("session.end", retry_for=30, ran=ended))
    await eventually(lambda: harness.turns.applying > 0, timeout=5, message="the end")
    await harness.user_room.simulate_full_reconnect()
    # Sent twice, the second would be refused `invalid_transition`, and that is final.
    session = await asyncio.wait_for(call, 30)
    assert (session["state"], session["type"]) == ("idle", None)


async def test_a_lost_end_that_never_reached_the_agent_is_sent_again(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await harness.client.call("session.start", {"sessionType": "voice-vad"})
    deliver = harness.user_room.perform_rpc
    lost: list[str] = []

    async def lose_the_first_end(**call: Any) -> str:
        if call["method"] == "session.end" and not lost:
            lost.append(call["method"])  # no acknowledgement in time: LiveKit's 1501
            raise rtc.RpcError(rtc.RpcError.ErrorCode.CONNECTION_TIMEOUT, "Connection timeout")
        return await deliver(**call)

    monkeypatch.setattr(harness.user_room, "perform_rpc", lose_the_first_end)
    session = await harness.client.call("session.end", retry_for=30, ran=ended)
    assert lost == ["session.end"]
    assert (session["state"], session["type"]) == ("idle", None)
    assert harness.sync.config.state == "idle"


async def test_a_repeatable_command_to_an_agent_gone_for_good_fails_once_the_time_is_up(
    harness: Harness,
) -> None:
    await harness.agent_room.disconnect()
    with pytest.raises(rtc.RpcError) as lost:
        await harness.client.call("session.snapshot", retry_for=0.5)
    assert lost.value.code in REPLY_LOST_RPC_CODES


def test_only_repeatable_commands_with_a_lost_reply_are_retried() -> None:
    assert retryable("session.snapshot", RECIPIENT_DISCONNECTED)
    assert not retryable("session.start", RECIPIENT_DISCONNECTED)
    assert not retryable("session.snapshot", 2409)  # the agent refused it: final
    assert not {"session.start", "session.end", "session.ptt_end"} & REPEATABLE_METHODS

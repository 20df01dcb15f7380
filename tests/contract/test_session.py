"""The protocol from the app's side, on both backends: the seed's four scenarios, every
command over RPC and data, the requested-type attribute, snapshots, and seq/revision rules."""

from __future__ import annotations

import json
from typing import Any

import pytest
from livekit import rtc

from livekit.plugins.session_sync import SyncOptions

from .conftest import USER, Session

COMMANDS: list[tuple[str, dict[str, Any], str]] = [
    # (method, params, the type the session must be running first)
    ("session.snapshot", {}, "text"),
    ("session.validate", {}, "text"),
    ("session.sync", {"trigger": "app"}, "text"),
    ("session.set_muted", {"muted": True}, "voice-vad"),
    ("session.set_sync_enabled", {"enabled": False}, "text"),
    ("session.ptt_start", {}, "voice-ptt"),
    ("session.ptt_cancel", {}, "voice-ptt"),
    ("session.ptt_end", {}, "voice-ptt"),
    ("session.switch", {"sessionType": "voice-vad"}, "text"),
    ("session.end", {}, "text"),
]


async def _start(session: Session, session_type: str) -> dict[str, Any]:
    result = await session.client.call("session.start", {"sessionType": session_type})
    await session.seen(result)
    return result


async def test_basic_session_sync(session: Session) -> None:
    client = session.client
    idle = client.session()
    assert (idle["state"], idle["type"]) == ("idle", None)

    result = await _start(session, "text")
    assert (result["type"], result["state"], result["turnDetection"]) == ("text", "active", "none")
    attrs = client.agent_attributes()
    assert (attrs["session.state"], attrs["session.type"]) == ("active", "text")
    assert attrs["session.revision"] == str(result["revision"])
    await session.until(lambda: bool(client.events_of("session_state_sync")), "a sync event")
    await session.until(
        lambda: client.events_of("session_state_sync")[-1]["payload"]["frontendState"] == result
    )
    assert session.turns.audio_input_enabled is False


async def test_voice_session_with_turn_detection(session: Session) -> None:
    client = session.client
    vad = await _start(session, "voice-vad")
    assert (vad["turnDetection"], vad["voiceMode"]) == ("server", "continuous")
    assert session.turns.audio_input_enabled is True

    reply = await client.request("session.switch", {"sessionType": "voice-ptt"}, timeout=15)
    assert reply["type"] == "ack" and reply["result"]["turnDetection"] == "client"
    assert session.turns.audio_input_enabled is False  # only while the button is held
    await client.call("session.ptt_start")
    assert session.turns.audio_input_enabled is True
    await session.until(lambda: client.agent_attributes().get("session.pushToTalk") == "pressed")
    await client.call("session.ptt_end")
    assert session.turns.calls[-1] == "commit"
    await session.until(lambda: client.agent_attributes().get("session.pushToTalk") == "released")


async def test_connection_interruption_recovery(session: Session) -> None:
    client = session.client
    await _start(session, "voice-vad")
    before = len(client.unsolicited)
    await session.backend.resume(session.agent_room)
    await session.until(lambda: len(client.unsolicited) > before, "a snapshot after the resume")
    snapshot = client.unsolicited[-1]
    assert snapshot["type"] == "snapshot"
    await session.until(lambda: client.session() == snapshot["session"])
    assert client.session()["state"] == "active"
    assert any(e["type"] == "connection_interruption" for e in client.events)


@pytest.mark.parametrize("options", [SyncOptions(initial_sync_delay=0.05, validation_interval=0.2)])
async def test_validation_with_auto_correction(session: Session) -> None:
    client = session.client
    await _start(session, "voice-ptt")
    session.turns.audio_input_enabled = True  # drift: the microphone opens outside a press
    await session.until(lambda: bool(client.events_of("session_inconsistency")), "a report")
    await session.until(lambda: session.turns.audio_input_enabled is False, "the repair")
    report = client.events_of("session_inconsistency")[0]["payload"]
    assert "audio input is on" in report["detail"]
    await session.until(lambda: client.session()["inconsistencyDetected"] is True)


@pytest.mark.parametrize("transport", ["rpc", "data"])
@pytest.mark.parametrize(("method", "params", "running"), COMMANDS)
async def test_every_command_is_answered_on_both_transports(
    session: Session, transport: str, method: str, params: dict[str, Any], running: str
) -> None:
    await _start(session, running)
    if method in ("session.ptt_end", "session.ptt_cancel"):
        await session.client.call("session.ptt_start")
    if transport == "rpc":
        result = await session.client.call(method, params)
    else:
        reply = await session.client.request(method, params, timeout=session.backend.timeout)
        assert (reply["type"], reply["method"]) == ("ack", method)
        result = reply["result"]
    assert isinstance(result, dict)
    if "revision" in result and "state" in result:  # a session config: the app sees it too
        await session.seen(result)


async def test_refusals_by_rpc_and_data_leave_the_session_intact(session: Session) -> None:
    client = session.client
    before = await _start(session, "voice-vad")
    with pytest.raises(rtc.RpcError) as err:
        await client.call("session.switch", {"sessionType": "hologram"})
    assert err.value.code == 2422 and json.loads(err.value.data or "{}")["problems"]
    with pytest.raises(rtc.RpcError) as err:
        await client.call("session.start", {"sessionType": "text"})
    assert err.value.code == 2409
    reply = await client.request("session.ptt_start", timeout=session.backend.timeout)
    assert reply["error"]["code"] == "wrong_session_type"
    reply = await client.request("session.reboot", timeout=session.backend.timeout)
    assert reply["error"]["code"] == "unknown_method"
    await client.send_raw(b'{"type": "request", ')
    await session.until(lambda: any(m["type"] == "error" for m in client.unsolicited))
    assert client.unsolicited[-1]["error"]["code"] == "malformed"
    assert client.session() == before


async def test_a_stranger_is_refused_on_both_transports(session: Session) -> None:
    before = await _start(session, "text")
    stranger = session.app(await session.backend.join("stranger"))
    await session.until(lambda: session.agent_room.remote_attributes("stranger") is not None)
    with pytest.raises(rtc.RpcError) as err:
        await stranger.call("session.end")
    assert err.value.code == 2403
    reply = await stranger.request("session.end", timeout=session.backend.timeout)
    assert reply["error"]["code"] == "forbidden"
    assert session.client.session() == before


async def test_requested_type_attribute_starts_the_session_and_bad_values_are_refused(
    session: Session,
) -> None:
    await session.user_room.set_attributes({"session.requestedType": "voice-vad"})
    await session.until(lambda: session.client.session()["type"] == "voice-vad")
    await session.user_room.set_attributes({"session.requestedType": "smoke-signals"})
    await session.until(lambda: any(m["type"] == "error" for m in session.client.unsolicited))
    assert session.client.unsolicited[-1]["error"]["code"] == "invalid_params"
    assert session.client.session()["type"] == "voice-vad"


async def test_requested_type_from_an_app_without_the_grant_is_never_seen(
    session: Session,
) -> None:
    app = await session.backend.join("no-grant", can_update_own_metadata=False)
    await session.until(lambda: session.agent_room.remote_attributes("no-grant") is not None)
    session.sync.link_participant("no-grant")
    await app.set_attributes({"session.requestedType": "voice-vad"})
    await session.user_room.set_attributes({"marker": "1"})
    await session.until(
        lambda: (session.agent_room.remote_attributes(USER) or {}) == {"marker": "1"}
    )
    assert session.sync.config.type is None  # the server dropped the update


async def test_seq_grows_by_one_and_revisions_never_go_back(session: Session) -> None:
    client = session.client
    await _start(session, "voice-vad")
    await client.call("session.set_muted", {"muted": True})
    await client.call("session.switch", {"sessionType": "text"})
    final = await client.call("session.snapshot")
    await session.until(lambda: client.events and client.events[-1]["seq"] == final["seq"])
    seqs = [e["seq"] for e in client.events]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    revisions = [
        e["payload"]["frontendState"]["revision"]
        for e in client.events
        if e["type"] == "session_state_sync"
    ]
    assert revisions == sorted(revisions)
    await session.seen(final["session"])  # attributes travel apart from events: they follow


async def test_rejoining_app_gets_a_snapshot_of_the_running_session(session: Session) -> None:
    await _start(session, "voice-vad")
    await session.backend.leave(session.user_room)
    again = session.app(await session.backend.join(USER))
    await session.until(lambda: bool(again.unsolicited), "a snapshot on rejoin")
    snapshot = again.unsolicited[-1]
    assert (snapshot["type"], snapshot["session"]["type"]) == ("snapshot", "voice-vad")
    assert (await again.call("session.set_muted", {"muted": True}))["isMuted"] is True


async def test_full_reconnect_of_the_app_is_not_a_leave(session: Session) -> None:
    client = session.client
    await _start(session, "voice-ptt")
    await client.call("session.ptt_start")
    await session.backend.full_reconnect(session.user_room)
    await session.until(lambda: session.agent_room.remote_attributes(USER) is not None)
    assert session.sync.ptt_pressed, "a full reconnect must not end the press"
    await client.call("session.ptt_end")
    assert session.turns.calls[-1] == "commit"
    triggers = [e["payload"].get("trigger") for e in client.events]
    assert "participant_left" not in triggers


async def test_full_reconnect_of_the_agent_republishes_its_attributes(session: Session) -> None:
    client = session.client
    started = await _start(session, "text")
    await session.backend.full_reconnect(session.agent_room)
    await session.until(lambda: client.agent_attributes().get("session.state") == "active")
    assert client.session()["sessionId"] == started["sessionId"]
    assert client.session()["revision"] >= started["revision"]


async def test_data_sent_before_the_agent_knows_the_sender_is_answered(session: Session) -> None:
    await _start(session, "text")
    await session.backend.leave(session.user_room)
    again = session.app(await session.backend.join(USER))
    first = await again.reply(await again.send("session.snapshot"), timeout=session.backend.timeout)
    # Announced late, the app's first data command may reach an agent that cannot tell who
    # sent it: it is refused as retryable rather than dropped, and the retry goes through.
    if first["type"] == "error":
        assert first["error"]["details"]["reason"] == "unknown_sender"
    reply = await again.request("session.snapshot", timeout=session.backend.timeout)
    assert reply["type"] == "ack"

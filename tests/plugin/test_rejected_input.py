"""Every class of bad input gets a clear error the app can act on, and the session is untouched."""

import json

import pytest
from livekit import rtc
from livekit.rtc.participant import PublishDataError

from livekit.plugins.session_sync import MAX_PACKET_BYTES, SyncOptions
from livekit.plugins.session_sync.testing import MAX_DATA_PACKET_BYTES

from .conftest import AGENT, ROOM, Harness


async def _started(harness: Harness, session_type: str = "voice-ptt") -> dict[str, object]:
    await harness.client.call("session.start", {"sessionType": session_type})
    await harness.settle()
    return harness.client.session()


async def _error_reply(harness: Harness, payload: bytes) -> dict[str, object]:
    await harness.client.send_raw(payload)
    await harness.settle()
    errors = [r for r in harness.client.unsolicited if r["type"] == "error"]
    errors += [r for r in harness.client.replies.values() if r["type"] == "error"]
    assert errors, "the agent sent no error"
    return errors[-1]


async def test_malformed_json_gets_an_error_and_changes_nothing(harness: Harness) -> None:
    before = await _started(harness)
    reply = await _error_reply(harness, b'{"type": "request", ')
    assert reply["error"]["code"] == "malformed"  # type: ignore[index]
    assert "not valid JSON" in reply["error"]["message"]  # type: ignore[index]
    assert harness.client.session() == before


async def test_unknown_message_type_gets_an_error(harness: Harness) -> None:
    before = await _started(harness)
    reply = await _error_reply(harness, json.dumps({"type": "subscribe", "id": "x1"}).encode())
    assert reply["id"] == "x1"
    assert reply["error"]["code"] == "unknown_type"  # type: ignore[index]
    assert harness.client.session() == before


async def test_unknown_method_gets_an_error_naming_it(harness: Harness) -> None:
    before = await _started(harness)
    reply = await harness.client.request("session.reboot")
    assert reply["type"] == "error"
    assert reply["error"]["code"] == "unknown_method"
    assert "session.reboot" in reply["error"]["message"]
    assert harness.client.session() == before


async def test_wrong_field_type_gets_an_error_naming_the_field(harness: Harness) -> None:
    before = await _started(harness)
    reply = await harness.client.request("session.set_muted", {"muted": "true"})
    assert reply["error"]["code"] == "invalid_params"
    assert reply["method"] == "session.set_muted"
    assert reply["error"]["details"]["problems"][0]["field"] == "muted"
    assert harness.client.session() == before


async def test_wrong_field_value_by_rpc_gets_an_rpc_error(harness: Harness) -> None:
    before = await _started(harness)
    with pytest.raises(rtc.RpcError) as err:
        await harness.client.call("session.switch", {"sessionType": "hologram"})
    assert err.value.code == 2422
    assert "sessionType" in err.value.message
    assert json.loads(err.value.data or "{}")["problems"]
    assert harness.client.session() == before


async def test_oversized_message_is_refused_with_the_limit(harness: Harness) -> None:
    before = await _started(harness)
    with pytest.raises(PublishDataError, match="maximum message size"):
        await harness.client.send_raw(b"x" * MAX_DATA_PACKET_BYTES)  # the room refuses it
    with pytest.raises(rtc.RpcError) as err:
        await harness.client.call("session.sync", {"trigger": "x" * MAX_PACKET_BYTES})
    assert err.value.code == 2413  # the agent's own limit: payload_too_large
    assert json.loads(err.value.data or "{}")["limit"] == MAX_PACKET_BYTES
    assert harness.client.session() == before


@pytest.mark.parametrize("options", [SyncOptions(max_inbound_bytes=512)])
async def test_message_over_the_agent_limit_gets_a_payload_error(harness: Harness) -> None:
    before = await _started(harness)
    payload = json.dumps(
        {"type": "request", "id": "big", "method": "session.sync", "params": {"trigger": "x" * 600}}
    ).encode()
    reply = await _error_reply(harness, payload)
    assert reply["error"]["code"] == "payload_too_large"  # type: ignore[index]
    assert reply["error"]["details"]["limit"] == 512  # type: ignore[index]
    assert harness.client.session() == before


async def test_command_from_another_participant_is_forbidden(harness: Harness) -> None:
    before = await _started(harness)
    from livekit.plugins.session_sync.testing.client import SessionSyncClient

    intruder = SessionSyncClient(await harness.server.connect(ROOM, "intruder"), AGENT)
    with pytest.raises(rtc.RpcError) as err:
        await intruder.call("session.end")
    assert err.value.code == 2403
    assert "intruder" in err.value.message
    reply = await intruder.request("session.end")
    assert reply["error"]["code"] == "forbidden"
    await harness.settle()
    assert harness.client.session() == before


async def test_disallowed_transition_names_the_state_and_what_is_allowed(
    harness: Harness,
) -> None:
    reply = await harness.client.request("session.end")
    assert reply["error"]["code"] == "invalid_transition"
    assert reply["error"]["details"]["state"] == "idle"
    assert "session.start" in reply["error"]["details"]["allowed"]
    before = await _started(harness)
    with pytest.raises(rtc.RpcError) as err:
        await harness.client.call("session.start", {"sessionType": "text"})
    assert err.value.code == 2409
    assert "session.switch" in err.value.message
    assert harness.client.session() == before


async def test_push_to_talk_outside_a_ptt_session_is_refused(harness: Harness) -> None:
    before = await _started(harness, "voice-vad")
    reply = await harness.client.request("session.ptt_start")
    assert reply["error"]["code"] == "wrong_session_type"
    assert "voice-ptt" in reply["error"]["message"]
    assert harness.client.session() == before


async def test_room_config_contradicting_the_type_is_reported_and_refused(
    harness: Harness,
) -> None:
    room_config = {
        "sessionId": "s-1",
        "sessionType": "voice-vad",
        "turnDetection": "server",
        "voiceActivityEnabled": False,
        "adaptiveStream": True,
        "dynacast": True,
        "audioSettings": {
            "echoCancellation": True,
            "noiseSuppression": True,
            "autoGainControl": True,
        },
    }
    reply = await harness.client.request(
        "session.start", {"sessionType": "voice-vad", "roomConfig": room_config}
    )
    assert reply["error"]["code"] == "invalid_params"
    assert "voiceActivityEnabled" in reply["error"]["message"]
    assert harness.client.session()["state"] == "idle"

    room_config["voiceActivityEnabled"] = True
    reply = await harness.client.request(
        "session.start", {"sessionType": "voice-vad", "roomConfig": room_config}
    )
    assert reply["type"] == "ack"
    assert reply["result"]["sessionId"] == "s-1"
    snapshot = await harness.client.call("session.snapshot")
    assert snapshot["roomConfig"] == room_config


@pytest.mark.parametrize("options", [SyncOptions(rate_per_second=0.001, rate_burst=3)])
async def test_flooding_client_is_rate_limited(harness: Harness) -> None:
    for _ in range(3):
        await harness.client.call("session.snapshot")
    with pytest.raises(rtc.RpcError) as err:
        await harness.client.call("session.snapshot")
    assert err.value.code == 2429


@pytest.mark.parametrize("options", [SyncOptions(rate_per_second=0.001, rate_burst=2)])
async def test_a_requested_type_already_acted_on_is_dropped_before_the_rate_limit(
    harness: Harness,
) -> None:
    await harness.user_room.set_attributes({"session.requestedType": "voice-vad"})
    await harness.settle()
    assert harness.client.session()["type"] == "voice-vad"
    await harness.client.call("session.snapshot")  # the last token: the user is now at its rate
    # Deleted and set again, LiveKit delivers the same value once more: no request, no reply.
    for value in ("", "voice-vad"):
        await harness.user_room.set_attributes({"session.requestedType": value})
        await harness.settle()
    errors = [m for m in harness.client.unsolicited if m["type"] == "error"]
    assert errors == []
    await harness.user_room.set_attributes({"session.requestedType": "text"})
    await harness.settle()
    assert harness.client.unsolicited[-1]["error"]["code"] == "rate_limited"


async def test_requested_type_attribute_starts_and_bad_values_are_refused(
    harness: Harness,
) -> None:
    await harness.user_room.set_attributes({"session.requestedType": "voice-vad"})
    await harness.settle()
    assert harness.client.session()["type"] == "voice-vad"

    await harness.user_room.set_attributes({"session.requestedType": "smoke-signals"})
    await harness.settle()
    error = harness.client.unsolicited[-1]
    assert error["type"] == "error"
    assert error["error"]["code"] == "invalid_params"
    assert harness.client.session()["type"] == "voice-vad"


async def test_type_the_agent_cannot_run_is_refused_before_anything_changes(
    harness: Harness,
) -> None:
    before = await _started(harness, "text")
    harness.turns.unavailable["voice-vad"] = "it has no speech-to-text"
    with pytest.raises(rtc.RpcError) as err:
        await harness.client.call("session.switch", {"sessionType": "voice-vad"})
    assert err.value.code == 2501
    assert "no speech-to-text" in err.value.message
    await harness.settle()
    assert harness.client.session() == before


async def test_relinking_moves_command_rights_to_the_new_participant(harness: Harness) -> None:
    from livekit.plugins.session_sync.testing import SessionSyncClient

    other = SessionSyncClient(await harness.server.connect(ROOM, "second-device"), AGENT)
    assert (await other.request("session.end"))["error"]["code"] == "forbidden"
    harness.sync.link_participant("second-device")
    assert (await other.call("session.start", {"sessionType": "text"}))["state"] == "active"
    assert (await harness.client.request("session.end"))["error"]["code"] == "forbidden"

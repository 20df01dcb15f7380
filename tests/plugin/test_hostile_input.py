"""Input built to break the agent still gets exactly one answer that fits LiveKit's limits,
and only messages that are exactly what the contract says are accepted."""

import json
from typing import Any

import pytest
from livekit import rtc

from livekit.plugins.session_sync import MAX_PACKET_BYTES

from .conftest import AGENT, Harness


async def _started(harness: Harness) -> dict[str, Any]:
    await harness.client.call("session.start", {"sessionType": "voice-ptt"})
    await harness.settle()
    return harness.client.session()


async def _only_reply(harness: Harness, payload: bytes) -> dict[str, Any]:
    """Send a raw message; the one reply it gets (errors without an id are unsolicited)."""
    before = len(harness.client.unsolicited) + len(harness.client.replies)
    await harness.client.send_raw(payload)
    await harness.settle()
    replies = harness.client.unsolicited + list(harness.client.replies.values())
    assert len(replies) == before + 1, "expected exactly one reply"
    reply: dict[str, Any] = (harness.client.unsolicited or [{}])[-1]
    if reply.get("type") != "error" or len(harness.client.unsolicited) <= before:
        reply = list(harness.client.replies.values())[-1]
    assert len(json.dumps(reply).encode()) < MAX_PACKET_BYTES
    return reply


async def _rpc_error(harness: Harness, method: str, payload: str) -> rtc.RpcError:
    with pytest.raises(rtc.RpcError) as err:
        await harness.user_room.perform_rpc(
            destination_identity=AGENT, method=method, payload=payload, response_timeout=5.0
        )
    error = err.value
    assert len(error.message.encode()) <= 256
    assert len((error.data or "").encode()) <= 15_360
    return error


DEEP = b"[" * 3000 + b"]" * 3000


async def test_deeply_nested_message_is_answered_as_malformed(harness: Harness) -> None:
    before = await _started(harness)
    reply = await _only_reply(harness, DEEP)
    assert reply["error"]["code"] == "malformed"
    assert "nested" in reply["error"]["message"]
    assert harness.client.session() == before


async def test_deeply_nested_rpc_is_refused_as_malformed(harness: Harness) -> None:
    error = await _rpc_error(harness, "session.snapshot", DEEP.decode())
    assert error.code == 2400


async def test_text_that_is_not_valid_unicode_is_answered(harness: Harness) -> None:
    before = await _started(harness)
    reply = await _only_reply(harness, json.dumps({"type": {"\udfff": 0}}).encode())
    assert reply["error"]["code"] == "malformed"
    request = {"type": "request", "id": "\udfff", "method": "session.snapshot"}
    reply = await _only_reply(harness, json.dumps(request).encode())
    assert reply["error"]["code"] == "malformed"
    assert harness.client.session() == before


async def test_huge_type_and_method_are_cut_in_the_answer(harness: Harness) -> None:
    reply = await _only_reply(harness, json.dumps({"type": "t" * 8000}).encode())
    assert reply["error"]["code"] == "unknown_type"
    assert len(reply["error"]["details"]["type"]) <= 64
    request = {"type": "request", "id": "r1", "method": "m" * 8000, "params": {}}
    reply = await _only_reply(harness, json.dumps(request).encode())
    assert reply["error"]["code"] == "unknown_method"
    assert len(reply["error"]["details"]["method"]) <= 64
    assert "…" in reply["error"]["message"]


async def test_thousands_of_problems_are_listed_up_to_a_limit(harness: Harness) -> None:
    params = {f"k{i}": 0 for i in range(1300)}
    request = {"type": "request", "id": "r1", "method": "session.snapshot", "params": params}
    reply = await _only_reply(harness, json.dumps(request).encode())
    problems = reply["error"]["details"]["problems"]
    assert reply["error"]["code"] == "invalid_params"
    assert len(problems) <= 21
    assert "more problems" in problems[-1]["problem"]

    error = await _rpc_error(harness, "session.snapshot", json.dumps(params))
    assert error.code == 2422
    assert "more problems" in json.loads(error.data or "{}")["problems"][-1]["problem"]


async def test_rpc_error_message_fits_in_256_bytes_whatever_the_script(
    harness: Harness,
) -> None:
    params = {"é" * 60 + str(i): 0 for i in range(5)}
    error = await _rpc_error(harness, "session.snapshot", json.dumps(params))
    assert error.code == 2422


@pytest.mark.parametrize(
    "payload",
    [
        b'\xef\xbb\xbf{"type":"request","id":"r1","method":"session.snapshot"}',
        '{"type":"request","id":"r1","method":"session.snapshot"}'.encode("utf-16"),
        b'{"type":"request","id":"r1","method":"session.start","params":{"session_type":"text"}}',
    ],
    ids=["utf-8 byte-order mark", "utf-16", "snake_case field"],
)
async def test_only_utf8_camel_case_json_is_accepted(harness: Harness, payload: bytes) -> None:
    before = harness.client.session()
    await harness.client.send_raw(payload)
    await harness.settle()
    assert harness.client.session() == before
    refused = harness.client.unsolicited + list(harness.client.replies.values())
    assert refused and refused[-1]["type"] == "error"


async def test_snake_case_room_config_is_refused(harness: Harness) -> None:
    room_config = {
        "session_id": "s-1",
        "sessionType": "text",
        "turnDetection": "none",
        "voiceActivityEnabled": False,
    }
    error = await _rpc_error(
        harness, "session.start", json.dumps({"sessionType": "text", "roomConfig": room_config})
    )
    assert error.code == 2422
    assert harness.client.session()["state"] == "idle"

"""Inbound messages are checked before they touch anything; outbound ones match the docs."""

import json

import pytest

from livekit.plugins.session_sync import MAX_PACKET_BYTES, ErrorCode, ProtocolError
from livekit.plugins.session_sync.protocol import (
    StartSessionParams,
    decode_request,
    decode_rpc,
    request_id_of,
)


def _request(method: str, params: object = None, **extra: object) -> bytes:
    body = {"type": "request", "id": "r1", "method": method, "params": params or {}, **extra}
    return json.dumps(body).encode()


def _refusal(payload: bytes) -> ProtocolError:
    with pytest.raises(ProtocolError) as err:
        decode_request(payload)
    return err.value


def test_well_formed_request_decodes() -> None:
    command = decode_request(_request("session.start", {"sessionType": "voice-vad"}))
    assert command.method == "session.start"
    assert command.request_id == "r1"
    assert isinstance(command.params, StartSessionParams)
    assert command.params.session_type == "voice-vad"


def test_malformed_json_is_refused() -> None:
    assert _refusal(b"{not json").code is ErrorCode.MALFORMED
    assert _refusal(b"\xff\xfe").code is ErrorCode.MALFORMED
    assert _refusal(b"[1, 2]").code is ErrorCode.MALFORMED


def test_unknown_message_type_is_refused() -> None:
    err = _refusal(json.dumps({"type": "hello", "id": "x"}).encode())
    assert err.code is ErrorCode.UNKNOWN_TYPE
    assert "hello" in err.message


def test_unknown_method_is_refused_with_the_known_ones() -> None:
    err = _refusal(_request("session.explode"))
    assert err.code is ErrorCode.UNKNOWN_METHOD
    assert "session.start" in err.details["known"]


def test_wrong_field_type_is_refused_naming_the_field() -> None:
    err = _refusal(_request("session.set_muted", {"muted": "yes"}))
    assert err.code is ErrorCode.INVALID_PARAMS
    assert "muted" in err.message


def test_wrong_session_type_value_is_refused() -> None:
    err = _refusal(_request("session.start", {"sessionType": "video"}))
    assert err.code is ErrorCode.INVALID_PARAMS
    assert "sessionType" in err.message


def test_unexpected_field_is_refused() -> None:
    err = _refusal(_request("session.end", {"force": True}))
    assert err.code is ErrorCode.INVALID_PARAMS
    assert "force" in err.message


def test_unsupported_protocol_version_is_refused() -> None:
    err = _refusal(_request("session.end", v=2))
    assert err.code is ErrorCode.UNSUPPORTED_VERSION
    assert "version" in err.message


def test_payload_over_the_packet_limit_is_refused_before_parsing() -> None:
    payload = b"{" + b" " * MAX_PACKET_BYTES + b"}"
    err = _refusal(payload)
    assert err.code is ErrorCode.PAYLOAD_TOO_LARGE
    assert err.details["limit"] == MAX_PACKET_BYTES


def test_empty_rpc_payload_means_no_params() -> None:
    assert decode_rpc("session.snapshot", "").method == "session.snapshot"


def test_request_id_is_recovered_from_a_bad_request() -> None:
    assert request_id_of(_request("session.explode")) == "r1"
    assert request_id_of(b"{nope") is None


def test_every_error_code_has_its_own_rpc_code_outside_livekits_range() -> None:
    from livekit.plugins.session_sync.protocol import rpc_code

    codes = [rpc_code(code) for code in ErrorCode]
    assert len(set(codes)) == len(codes)
    assert all(not 1001 <= code <= 1999 for code in codes)

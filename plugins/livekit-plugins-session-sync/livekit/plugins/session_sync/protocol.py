"""The wire protocol: commands, replies, events and attributes. Pure: no I/O."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, WithJsonSchema
from pydantic.alias_generators import to_camel

from .attributes import ATTR_CONFIG as ATTR_CONFIG
from .attributes import ATTR_ID as ATTR_ID
from .attributes import ATTR_MUTED as ATTR_MUTED
from .attributes import ATTR_PREFIX as ATTR_PREFIX
from .attributes import ATTR_PROTOCOL as ATTR_PROTOCOL
from .attributes import ATTR_PUSH_TO_TALK as ATTR_PUSH_TO_TALK
from .attributes import ATTR_REQUESTED_TYPE as ATTR_REQUESTED_TYPE
from .attributes import ATTR_REVISION as ATTR_REVISION
from .attributes import ATTR_SEQ as ATTR_SEQ
from .attributes import ATTR_STATE as ATTR_STATE
from .attributes import ATTR_TURN_DETECTION as ATTR_TURN_DETECTION
from .attributes import ATTR_TYPE as ATTR_TYPE
from .attributes import EncodedSession as EncodedSession
from .attributes import SessionEncoder as SessionEncoder
from .attributes import encode_attributes as encode_attributes
from .attributes import encode_session as encode_session
from .attributes import published_session_attributes as published_session_attributes
from .errors import MAX_DETAILS_BYTES as MAX_DETAILS_BYTES
from .errors import MAX_ECHO_CHARS as MAX_ECHO_CHARS
from .errors import MAX_NESTING, MAX_PROBLEMS
from .errors import MAX_RPC_ERROR_DATA_BYTES as MAX_RPC_ERROR_DATA_BYTES
from .errors import MAX_RPC_ERROR_MESSAGE_BYTES as MAX_RPC_ERROR_MESSAGE_BYTES
from .errors import ErrorBody as ErrorBody
from .errors import ErrorCode as ErrorCode
from .errors import ErrorReply as ErrorReply
from .errors import ProtocolError as ProtocolError
from .errors import RpcErrorCode as RpcErrorCode
from .errors import bounded_bytes as bounded_bytes
from .errors import bounded_details as bounded_details
from .errors import bounded_text as bounded_text
from .errors import echo as echo
from .errors import error_reply as error_reply
from .errors import rpc_code as rpc_code
from .errors import rpc_error_parts as rpc_error_parts
from .methods import METHODS as METHODS
from .methods import PROTOCOL_VERSION as PROTOCOL_VERSION
from .methods import REPEATABLE_METHODS as REPEATABLE_METHODS
from .methods import REPLY_LOST_RPC_CODES as REPLY_LOST_RPC_CODES
from .methods import Method as Method
from .methods import ProtocolVersion as ProtocolVersion
from .methods import known_method as known_method
from .models import (
    RoomConfig,
    RoomState,
    SessionConfig,
    SessionType,
    ValidationResult,
    WireModel,
    omitted_when_none,
)

TOPIC = "session-sync"

# LiveKit's limit for one reliable data packet and for an RPC payload (15 KiB).
MAX_PACKET_BYTES = 15 * 1024
EventType = Literal[
    "session_state_sync", "room_state_change", "connection_interruption", "session_inconsistency"
]

# -- commands -----------------------------------------------------------------------------


class Params(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True, strict=True
    )


class NoParams(Params):
    pass


class StartSessionParams(Params):
    session_type: SessionType
    session_id: str | None = Field(default=None, min_length=1, max_length=128)
    room_config: RoomConfig | None = None


class SwitchSessionParams(Params):
    session_type: SessionType
    room_config: RoomConfig | None = None


class SetMutedParams(Params):
    muted: bool


class SyncParams(Params):
    trigger: str = Field(default="manual", min_length=1, max_length=64)


class SetSyncEnabledParams(Params):
    enabled: bool


PARAMS_BY_METHOD: Mapping[Method, type[Params]] = {
    "session.start": StartSessionParams,
    "session.switch": SwitchSessionParams,
    "session.end": NoParams,
    "session.set_muted": SetMutedParams,
    "session.ptt_start": NoParams,
    "session.ptt_end": NoParams,
    "session.ptt_cancel": NoParams,
    "session.snapshot": NoParams,
    "session.validate": NoParams,
    "session.sync": SyncParams,
    "session.set_sync_enabled": SetSyncEnabledParams,
}


class Command(BaseModel):
    """A decoded, checked command, whichever way it arrived."""

    model_config = ConfigDict(frozen=True)

    method: Method
    params: Params
    request_id: str | None = None


class RequestEnvelope(Params):
    """A command sent as a data message on the `session-sync` topic."""

    type: Literal["request"]
    id: str = Field(min_length=1, max_length=64)
    # Decoded loosely so that an unknown method or version gets its own error code (6.1);
    # the schema tells an app what to send.
    method: Annotated[str, WithJsonSchema({"enum": list(METHODS)})]
    params: dict[str, Any] = Field(default_factory=dict)
    v: Annotated[int, WithJsonSchema({"const": PROTOCOL_VERSION})] = PROTOCOL_VERSION


def _describe(err: ValidationError) -> tuple[str, list[dict[str, Any]]]:
    found = err.errors(include_url=False, include_input=False)
    problems: list[dict[str, Any]] = [
        {"field": echo(".".join(str(p) for p in e["loc"]) or "(message)"), "problem": e["msg"]}
        for e in found[:MAX_PROBLEMS]
    ]
    text = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
    if len(found) > MAX_PROBLEMS:
        cut = f"{len(found) - MAX_PROBLEMS} more problems not listed"
        problems.append({"field": "(more)", "problem": cut})
        text += f"; and {cut}"
    return bounded_text(text), problems


def _check_size(payload: bytes | str, limit: int) -> bytes:
    # surrogatepass: a str that is not valid Unicode is measured here and refused when parsed.
    raw = payload.encode("utf-8", "surrogatepass") if isinstance(payload, str) else payload
    if len(raw) > limit:
        raise ProtocolError(
            ErrorCode.PAYLOAD_TOO_LARGE,
            f"message is {len(raw)} bytes; the limit is {limit}",
            {"size": len(raw), "limit": limit},
        )
    return raw


def _check_nesting(text: str) -> None:
    """Refuse deep nesting before parsing: the parser would recurse once per level."""
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_NESTING:
                raise ProtocolError(
                    ErrorCode.MALFORMED,
                    f"nested more than {MAX_NESTING} levels deep",
                    {"limit": MAX_NESTING},
                )
        elif ch in "]}":
            depth -= 1


def _parse_json(raw: bytes | str) -> Any:
    """Exactly what the contract says: UTF-8 (no byte-order mark) JSON, nested at most
    `MAX_NESTING` deep, whose text is valid Unicode (so any echo of it can be encoded)."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as e:
        raise ProtocolError(ErrorCode.MALFORMED, f"not UTF-8: {e.reason}") from None
    # The exact checks only when they could find something: fewer brackets than the limit
    # cannot nest past it, and only a \u escape can make a lone surrogate.
    if text.count("[") + text.count("{") > MAX_NESTING:
        _check_nesting(text)
    try:
        data = json.loads(text)
        if "\\u" in text:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ProtocolError(
            ErrorCode.MALFORMED, "text escapes a lone surrogate; not valid Unicode"
        ) from None
    except (json.JSONDecodeError, RecursionError) as e:
        raise ProtocolError(ErrorCode.MALFORMED, f"not valid JSON: {echo(str(e))}") from None
    return data


def decode_params(name: str, params: Any, request_id: str | None = None) -> Command:
    method = known_method(name)
    if method is None:
        raise ProtocolError(
            ErrorCode.UNKNOWN_METHOD,
            f"unknown method {echo(name)!r}",
            {"method": echo(name), "known": list(METHODS)},
        )
    params_type = PARAMS_BY_METHOD[method]
    if not isinstance(params, dict):
        raise ProtocolError(
            ErrorCode.INVALID_PARAMS, f"params of {method} must be a JSON object", method=method
        )
    try:
        # camelCase only, as the contract spells it; Python code may still use field names.
        parsed = params_type.model_validate(params, by_alias=True, by_name=False)
    except ValidationError as e:
        text, problems = _describe(e)
        raise ProtocolError(
            ErrorCode.INVALID_PARAMS,
            f"bad params for {method}: {text}",
            {"problems": problems},
            method=method,
        ) from None
    return Command(method=method, params=parsed, request_id=request_id)


def decode_rpc(method: str, payload: str, *, limit: int = MAX_PACKET_BYTES) -> Command:
    """An RPC payload is the params object itself; an empty payload means no params."""
    raw = _check_size(payload, limit)
    return decode_params(method, _parse_json(raw) if raw.strip() else {})


def decode_request(payload: bytes, *, limit: int = MAX_PACKET_BYTES) -> Command:
    raw = _check_size(payload, limit)
    data = _parse_json(raw)
    if not isinstance(data, dict):
        raise ProtocolError(ErrorCode.MALFORMED, "a message must be a JSON object")
    if data.get("type") != "request":
        kind = echo(data.get("type"))
        raise ProtocolError(
            ErrorCode.UNKNOWN_TYPE,
            f"unknown message type {kind!r}; the agent accepts 'request'",
            {"type": kind},
        )
    try:
        envelope = RequestEnvelope.model_validate(data, by_alias=True, by_name=False)
    except ValidationError as e:
        text, problems = _describe(e)
        raise ProtocolError(
            ErrorCode.INVALID_PARAMS, f"bad request: {text}", {"problems": problems}
        ) from None
    if envelope.v != PROTOCOL_VERSION:
        raise ProtocolError(
            ErrorCode.UNSUPPORTED_VERSION,
            f"protocol version {envelope.v} is not supported; this agent speaks {PROTOCOL_VERSION}",
            {"supported": [PROTOCOL_VERSION]},
        )
    return decode_params(envelope.method, envelope.params, envelope.id)


_SESSION_TYPE: TypeAdapter[SessionType] = TypeAdapter(SessionType)


def decode_requested_type(value: str, *, limit: int = MAX_PACKET_BYTES) -> SessionType:
    """The type the user asked for in their `session.requestedType` attribute."""
    _check_size(value, limit)
    try:
        return _SESSION_TYPE.validate_python(value)
    except ValidationError as e:
        _, problems = _describe(e)
        for problem in problems:
            problem["field"] = ATTR_REQUESTED_TYPE
        text = "; ".join(p["problem"] for p in problems)
        raise ProtocolError(
            ErrorCode.INVALID_PARAMS, f"bad {ATTR_REQUESTED_TYPE}: {text}", {"problems": problems}
        ) from None


def request_id_of(payload: bytes) -> str | None:
    """Best-effort request id from a message that failed to decode, so the error can name it."""
    try:
        data = _parse_json(payload)
    except ProtocolError:
        return None
    rid = data.get("id") if isinstance(data, dict) else None
    return rid if isinstance(rid, str) and len(rid) <= 64 else None


# -- outbound -----------------------------------------------------------------------------


class EventPayload(WireModel):
    session_id: str
    frontend_state: SessionConfig
    room_state: RoomState | None = omitted_when_none()
    timestamp: int
    trigger: str
    detail: str | None = omitted_when_none()
    """What was found (`session_inconsistency`), or why a change failed (`...:failed`)."""


class SessionSyncEvent(WireModel):
    """The seed's `SessionSyncEvent`, plus a per-agent sequence number and the protocol version."""

    type: EventType
    seq: int
    payload: EventPayload
    v: ProtocolVersion = PROTOCOL_VERSION


class Snapshot(WireModel):
    type: Literal["snapshot"] = "snapshot"
    seq: int
    session: SessionConfig
    room_config: RoomConfig | None = omitted_when_none()
    push_to_talk: bool
    sync_enabled: bool
    v: ProtocolVersion = PROTOCOL_VERSION


class Ack(WireModel):
    type: Literal["ack"] = "ack"
    id: str
    method: Method
    result: SessionConfig | Snapshot | ValidationResult
    v: ProtocolVersion = PROTOCOL_VERSION


CommandResult = SessionConfig | Snapshot | ValidationResult


def encode(message: WireModel) -> bytes:
    return json.dumps(message.to_wire(), separators=(",", ":")).encode()


def encode_event(event: SessionSyncEvent, frontend_state: Mapping[str, object]) -> bytes:
    """`encode(event)`, with the session already in its wire form (`EncodedSession.wire` of
    `event.payload.frontend_state`), so a change's config is serialised once, not twice."""
    wire = event.model_dump(mode="json", by_alias=True, exclude={"payload": {"frontend_state"}})
    payload = wire["payload"]
    wire["payload"] = {
        "sessionId": payload.pop("sessionId"),
        "frontendState": dict(frontend_state),  # json encodes dicts only
        **payload,
    }
    return json.dumps(wire, separators=(",", ":")).encode()

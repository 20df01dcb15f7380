"""The wire protocol: commands, replies, events and attributes. Pure: no I/O."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from enum import IntEnum, StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel

from .models import RoomConfig, SessionConfig, SessionType, ValidationResult, WireModel

PROTOCOL_VERSION = 1
TOPIC = "session-sync"

# LiveKit's limit for one reliable data packet and for an RPC payload (15 KiB).
MAX_PACKET_BYTES = 15 * 1024
# LiveKit's limits for an RPC error: the message is cut at 256 bytes, the data at 15 KiB.
MAX_RPC_ERROR_MESSAGE_BYTES = 256
MAX_RPC_ERROR_DATA_BYTES = 15 * 1024
# How deep a message may nest arrays and objects; a command needs 4 levels.
MAX_NESTING = 32
# What a refusal may echo of the input, and how many problems it lists.
MAX_ECHO_CHARS = 64
MAX_PROBLEMS = 20
# An error reply's details past this size are replaced by a note that they were cut.
MAX_DETAILS_BYTES = 4096

EventType = Literal[
    "session_state_sync", "room_state_change", "connection_interruption", "session_inconsistency"
]

# -- attributes ---------------------------------------------------------------------------

ATTR_PREFIX = "session."
ATTR_CONFIG = "session.config"
ATTR_REVISION = "session.revision"
ATTR_ID = "session.id"
ATTR_TYPE = "session.type"
ATTR_STATE = "session.state"
ATTR_TURN_DETECTION = "session.turnDetection"
ATTR_MUTED = "session.muted"
ATTR_PUSH_TO_TALK = "session.pushToTalk"
ATTR_PROTOCOL = "session.protocol"
# Set by the frontend on its own participant to ask for a session type.
ATTR_REQUESTED_TYPE = "session.requestedType"


def encode_attributes(config: SessionConfig, *, ptt_pressed: bool) -> dict[str, str]:
    """Every attribute the agent publishes, derived from one config so they never disagree."""
    return dict(_encoded_attributes(config, ptt_pressed))


# Validation compares against these on every pass; a revision is encoded once, not each time.
@functools.lru_cache(maxsize=64)
def _encoded_attributes(config: SessionConfig, ptt_pressed: bool) -> dict[str, str]:
    return {
        ATTR_CONFIG: json.dumps(config.to_wire(), separators=(",", ":")),
        ATTR_REVISION: str(config.revision),
        ATTR_ID: config.session_id,
        ATTR_TYPE: config.type or "none",
        ATTR_STATE: config.state,
        ATTR_TURN_DETECTION: config.turn_detection,
        ATTR_MUTED: "true" if config.is_muted else "false",
        ATTR_PUSH_TO_TALK: "pressed" if ptt_pressed else "released",
        ATTR_PROTOCOL: str(PROTOCOL_VERSION),
    }


def published_session_attributes(attributes: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in attributes.items() if k.startswith(ATTR_PREFIX)}


# -- errors -------------------------------------------------------------------------------


class ErrorCode(StrEnum):
    MALFORMED = "malformed"
    UNKNOWN_TYPE = "unknown_type"
    UNSUPPORTED_VERSION = "unsupported_version"
    UNKNOWN_METHOD = "unknown_method"
    INVALID_PARAMS = "invalid_params"
    FORBIDDEN = "forbidden"
    INVALID_TRANSITION = "invalid_transition"
    WRONG_SESSION_TYPE = "wrong_session_type"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    BUSY = "busy"
    INTERNAL = "internal"


class RpcErrorCode(IntEnum):
    """RPC error codes; LiveKit reserves 1001-1999 for its own."""

    MALFORMED = 2400
    FORBIDDEN = 2403
    UNKNOWN_METHOD = 2404
    UNKNOWN_TYPE = 2405
    UNSUPPORTED_VERSION = 2426
    INVALID_TRANSITION = 2409
    WRONG_SESSION_TYPE = 2412
    PAYLOAD_TOO_LARGE = 2413
    INVALID_PARAMS = 2422
    RATE_LIMITED = 2429
    BUSY = 2503
    UNAVAILABLE = 2501
    INTERNAL = 2500


def rpc_code(code: ErrorCode) -> int:
    return int(RpcErrorCode[code.name])


class ProtocolError(Exception):
    """An inbound message or command the agent refuses; the state is left as it was."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        details: Mapping[str, Any] | None = None,
        *,
        method: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = dict(details or {})
        self.method = method
        """The method the refused message named, when it named a known one."""


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


PARAMS_BY_METHOD: Mapping[str, type[Params]] = {
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
METHODS: tuple[str, ...] = tuple(PARAMS_BY_METHOD)


class Command(BaseModel):
    """A decoded, checked command, whichever way it arrived."""

    model_config = ConfigDict(frozen=True)

    method: str
    params: Params
    request_id: str | None = None


class RequestEnvelope(Params):
    """A command sent as a data message on the `session-sync` topic."""

    type: Literal["request"]
    id: str = Field(min_length=1, max_length=64)
    method: str
    params: dict[str, Any] = Field(default_factory=dict)
    v: int = PROTOCOL_VERSION


def echo(value: Any) -> str:
    """A client's value as an error may quote it: short, and always encodable."""
    text = value if isinstance(value, str) else repr(value)
    return bounded_text(text, MAX_ECHO_CHARS)


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
    _check_nesting(text)
    try:
        data = json.loads(text)
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ProtocolError(
            ErrorCode.MALFORMED, "text escapes a lone surrogate; not valid Unicode"
        ) from None
    except (json.JSONDecodeError, RecursionError) as e:
        raise ProtocolError(ErrorCode.MALFORMED, f"not valid JSON: {echo(str(e))}") from None
    return data


def decode_params(method: str, params: Any, request_id: str | None = None) -> Command:
    params_type = PARAMS_BY_METHOD.get(method)
    if params_type is None:
        raise ProtocolError(
            ErrorCode.UNKNOWN_METHOD,
            f"unknown method {echo(method)!r}",
            {"method": echo(method), "known": list(METHODS)},
        )
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
    room_state: dict[str, Any] | None = None
    timestamp: int
    trigger: str
    detail: str | None = None
    """What was found (`session_inconsistency`), or why a change failed (`...:failed`)."""


class SessionSyncEvent(WireModel):
    """The seed's `SessionSyncEvent`, plus a per-agent sequence number and the protocol version."""

    type: EventType
    seq: int
    payload: EventPayload
    v: int = PROTOCOL_VERSION


class Snapshot(WireModel):
    type: Literal["snapshot"] = "snapshot"
    seq: int
    session: SessionConfig
    room_config: RoomConfig | None
    push_to_talk: bool
    sync_enabled: bool
    v: int = PROTOCOL_VERSION


class Ack(WireModel):
    type: Literal["ack"] = "ack"
    id: str | None
    method: str
    result: SessionConfig | Snapshot | ValidationResult
    v: int = PROTOCOL_VERSION


class ErrorBody(WireModel):
    code: ErrorCode
    rpc_code: int
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorReply(WireModel):
    type: Literal["error"] = "error"
    id: str | None
    method: str | None
    error: ErrorBody
    v: int = PROTOCOL_VERSION


def error_reply(err: ProtocolError, *, request_id: str | None, method: str | None) -> ErrorReply:
    """An error reply that always fits in one packet, whatever the refused input was."""
    return ErrorReply(
        id=request_id,
        method=method,
        error=ErrorBody(
            code=err.code,
            rpc_code=rpc_code(err.code),
            message=bounded_text(err.message),
            details=bounded_details(err.details),
        ),
    )


def bounded_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """Error details as sent: past `MAX_DETAILS_BYTES` they are replaced by a note."""
    if len(json.dumps(details, ensure_ascii=False).encode()) <= MAX_DETAILS_BYTES:
        return dict(details)
    return {"truncated": True, "keys": sorted(details)[:MAX_PROBLEMS]}


def rpc_error_parts(err: ProtocolError) -> tuple[str, str]:
    """The message and data of an RPC error, within LiveKit's limits for each."""
    message = bounded_bytes(f"{err.code}: {err.message}", MAX_RPC_ERROR_MESSAGE_BYTES)
    data = json.dumps(bounded_details(err.details))
    return message, bounded_bytes(data, MAX_RPC_ERROR_DATA_BYTES)


CommandResult = SessionConfig | Snapshot | ValidationResult


def bounded_text(text: str, limit: int = 300) -> str:
    """Bounded text for the wire: an event must always fit in one data packet."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bounded_bytes(text: str, limit: int) -> str:
    """Text whose UTF-8 encoding is at most `limit` bytes, cut at a character boundary."""
    raw = text.encode()
    if len(raw) <= limit:
        return text
    return raw[: limit - len("…".encode())].decode(errors="ignore") + "…"


def encode(message: WireModel) -> bytes:
    return json.dumps(message.to_wire(), separators=(",", ":")).encode()

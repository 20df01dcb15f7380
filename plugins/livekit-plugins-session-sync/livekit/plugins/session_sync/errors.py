"""Refusals: the error codes, and error replies that always fit LiveKit's limits. Pure."""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import IntEnum, StrEnum
from typing import Any, Literal

from pydantic import Field

from .methods import PROTOCOL_VERSION, Method, ProtocolVersion, known_method
from .models import WireModel, omitted_when_none

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


# -- codes -------------------------------------------------------------------------------


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


def echo(value: Any) -> str:
    """A client's value as an error may quote it: short, and always encodable."""
    text = value if isinstance(value, str) else repr(value)
    return bounded_text(text, MAX_ECHO_CHARS)


class ErrorBody(WireModel):
    code: ErrorCode
    rpc_code: int
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorReply(WireModel):
    type: Literal["error"] = "error"
    id: str | None = omitted_when_none()
    """The request's id, when it could be read."""
    method: Method | None = omitted_when_none()
    """The method, when the request named a known one and got that far (6.3)."""
    error: ErrorBody
    v: ProtocolVersion = PROTOCOL_VERSION


def error_reply(err: ProtocolError, *, request_id: str | None, method: str | None) -> ErrorReply:
    """An error reply that always fits in one packet, whatever the refused input was."""
    return ErrorReply(
        id=request_id,
        method=known_method(method),
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


def bounded_text(text: str, limit: int = 300) -> str:
    """Bounded text for the wire: an event must always fit in one data packet."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bounded_bytes(text: str, limit: int) -> str:
    """Text whose UTF-8 encoding is at most `limit` bytes, cut at a character boundary."""
    raw = text.encode()
    if len(raw) <= limit:
        return text
    return raw[: limit - len("…".encode())].decode(errors="ignore") + "…"

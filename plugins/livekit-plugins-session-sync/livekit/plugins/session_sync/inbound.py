"""From a packet or RPC arriving to a command reaching the session's owner: who may send,
how often, how big, decoding, the reply, and the metrics."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable

from livekit import rtc

from . import metrics
from .log import logger
from .models import WireModel
from .protocol import (
    Ack,
    Command,
    CommandResult,
    ErrorCode,
    ProtocolError,
    bounded_text,
    decode_request,
    decode_rpc,
    error_reply,
    request_id_of,
    rpc_code,
)
from .rate_limit import RateLimiter

Execute = Callable[[Command, str], Awaitable[CommandResult]]
Reply = Callable[[WireModel, str], Awaitable[None]]


class CommandGate:
    def __init__(
        self,
        *,
        limiter: RateLimiter,
        max_inbound_bytes: int,
        linked: Callable[[], str | None],
        execute: Execute,
        reply: Reply,
    ) -> None:
        self._limiter = limiter
        self._max_bytes = max_inbound_bytes
        self._linked = linked
        self._execute = execute
        self._reply = reply

    def admit(self, sender: str, size: int) -> None:
        """Checks that come before decoding: how often, who sent it, how big."""
        if not self._limiter.allow(sender):
            raise ProtocolError(ErrorCode.RATE_LIMITED, "too many commands; slow down")
        linked = self._linked()
        if linked is None or sender != linked:
            raise ProtocolError(
                ErrorCode.FORBIDDEN,
                f"participant {sender!r} is not the session's linked user",
                {"sender": sender},
            )
        if size > self._max_bytes:
            raise ProtocolError(
                ErrorCode.PAYLOAD_TOO_LARGE,
                f"message is {size} bytes; the limit is {self._max_bytes}",
                {"size": size, "limit": self._max_bytes},
            )

    async def handle_data(self, sender: str, payload: bytes) -> None:
        """A request on the data topic: answered with an ack or an error, to the sender only."""
        command: Command | None = None
        measured = _Measured()
        try:
            self.admit(sender, len(payload))
            command = decode_request(payload, limit=self._max_bytes)
            measured.method = command.method
            result = await self._execute(command, command.method)
            await self._reply(
                Ack(id=command.request_id, method=command.method, result=result), sender
            )
            measured.outcome = "ok"
        except ProtocolError as e:
            rid = command.request_id if command else request_id_of(payload)
            method = command.method if command else e.method
            measured.method, measured.outcome = method, str(e.code)
            logger.warning(
                "refused a session-sync message from %s: %s",
                sender,
                e.message,
                extra={"code": str(e.code), "request_id": rid},
            )
            await self._reply(error_reply(e, request_id=rid, method=method), sender)
        except Exception:
            measured.outcome = str(ErrorCode.INTERNAL)
            logger.exception("session-sync command failed")
            err = ProtocolError(ErrorCode.INTERNAL, "the agent failed to handle the command")
            await self._reply(
                error_reply(err, request_id=request_id_of(payload), method=None), sender
            )
        finally:
            measured.record()

    async def handle_rpc(self, data: rtc.RpcInvocationData) -> str:
        """An RPC: answered with the result JSON, or an `RpcError` with our code."""
        measured = _Measured(data.method)
        try:
            self.admit(data.caller_identity, len(data.payload.encode()))
            command = decode_rpc(data.method, data.payload, limit=self._max_bytes)
            result = await self._execute(command, command.method)
            measured.outcome = "ok"
            return json.dumps(result.to_wire(), separators=(",", ":"))
        except ProtocolError as e:
            measured.outcome = str(e.code)
            logger.warning(
                "refused session-sync RPC %s from %s: %s",
                data.method,
                data.caller_identity,
                e.message,
                extra={"code": str(e.code)},
            )
            # LiveKit caps an RPC error message at 256 bytes; details travel in `data`.
            raise rtc.RpcError(
                rpc_code(e.code), bounded_text(f"{e.code}: {e.message}", 250), json.dumps(e.details)
            ) from None
        except Exception:
            measured.outcome = str(ErrorCode.INTERNAL)
            logger.exception("session-sync RPC %s failed", data.method)
            raise rtc.RpcError(
                rpc_code(ErrorCode.INTERNAL), "internal: the agent failed to handle the command"
            ) from None
        finally:
            measured.record()


class _Measured:
    """One command's outcome and duration, for the metrics."""

    def __init__(self, method: str | None = None) -> None:
        self.method = method
        self.outcome = "cancelled"  # until the handler reaches an outcome
        self._started = time.perf_counter()

    def record(self) -> None:
        metrics.COMMANDS.labels(metrics.method_label(self.method), self.outcome).inc()
        metrics.COMMAND_SECONDS.observe(time.perf_counter() - self._started)

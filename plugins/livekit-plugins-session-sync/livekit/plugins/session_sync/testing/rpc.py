"""RPC between in-memory participants, with LiveKit's codes, deadlines and timeouts."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

from livekit import rtc

from ..log import logger

if TYPE_CHECKING:
    from .room import InMemoryRoom

DEFAULT_RPC_RESPONSE_TIMEOUT = 15.0
DEFAULT_MAX_ROUND_TRIP_LATENCY = 7.0  # the SDK's default wait for the request's ack
MIN_RPC_HANDLER_SECONDS = 1.0

_Code = rtc.RpcError.ErrorCode


def rpc_error(code: rtc.RpcError.ErrorCode) -> rtc.RpcError:
    return rtc.RpcError(code, rtc.RpcError.ErrorMessage[code])


def rpc_handler_deadline(response_timeout: float, max_round_trip_latency: float) -> float:
    """What a handler gets of the caller's timeout: the SDK keeps the round trip for itself."""
    return max(response_timeout - max_round_trip_latency, MIN_RPC_HANDLER_SECONDS)


def as_received(err: rtc.RpcError) -> rtc.RpcError:
    """The error as the caller's SDK hands it over: rebuilt from the wire, where an error with
    no data (LiveKit's own, 1400-1505) carries `data == ""`, not `None`."""
    return rtc.RpcError(err.code, err.message, err.data or "")


async def perform_rpc(
    caller: InMemoryRoom,
    *,
    destination_identity: str,
    method: str,
    payload: str,
    response_timeout: float | None,
    max_round_trip_latency: float | None,
) -> str:
    try:
        return await _perform_rpc(
            caller,
            destination_identity=destination_identity,
            method=method,
            payload=payload,
            response_timeout=response_timeout,
            max_round_trip_latency=max_round_trip_latency,
        )
    except rtc.RpcError as err:
        raise as_received(err) from None


async def _perform_rpc(
    caller: InMemoryRoom,
    *,
    destination_identity: str,
    method: str,
    payload: str,
    response_timeout: float | None,
    max_round_trip_latency: float | None,
) -> str:
    server = caller._server
    limit = server.rpc_payload_limit
    if limit is not None and len(payload.encode()) > limit:
        raise rpc_error(_Code.REQUEST_PAYLOAD_TOO_LARGE)
    if caller.connection_state != "connected":
        raise rpc_error(_Code.SEND_FAILED)
    round_trip = (
        DEFAULT_MAX_ROUND_TRIP_LATENCY if max_round_trip_latency is None else max_round_trip_latency
    )
    timeout = DEFAULT_RPC_RESPONSE_TIMEOUT if response_timeout is None else response_timeout
    await asyncio.sleep(0)  # the request is in flight
    target = server._rooms.get(caller.name, {}).get(destination_identity)
    if target is None or target is caller or target.connection_state != "connected":
        await asyncio.sleep(round_trip)  # the request is lost and never acknowledged
        raise rpc_error(_Code.CONNECTION_TIMEOUT)
    invocation = rtc.RpcInvocationData(
        str(uuid.uuid4()),
        caller.local_identity,
        payload,
        rpc_handler_deadline(timeout, round_trip),
        method=method,
    )
    task = _invoke(target, invocation)
    # The caller's SDK forgets every participant on its own full reconnect, and with them the
    # replies it was waiting for: 1503, though the target never left.
    forgotten = asyncio.get_running_loop().create_future()
    caller.pending_calls.add(forgotten)
    try:
        # asyncio.wait never cancels the handler if this caller is cancelled, as over a network
        done, _ = await asyncio.wait(
            [task, forgotten], timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        caller.pending_calls.discard(forgotten)
    if forgotten in done:
        raise rpc_error(_Code.RECIPIENT_DISCONNECTED)
    if not done:
        raise rpc_error(_Code.RESPONSE_TIMEOUT)
    if task.cancelled():  # by the target disconnecting, or a stray CancelledError
        raise rpc_error(invocation.cancel_reason or _Code.APPLICATION_ERROR)
    return task.result()


def _invoke(target: InMemoryRoom, invocation: rtc.RpcInvocationData) -> asyncio.Task[str]:
    """Run the target's handler under its deadline, as the SDK does on the receiving side."""

    async def answer() -> str:
        handler = target._rpc_handlers.get(invocation.method)
        if handler is None:
            raise rpc_error(_Code.UNSUPPORTED_METHOD)
        try:
            response = await asyncio.wait_for(handler(invocation), invocation.response_timeout)
        except rtc.RpcError:
            raise
        except TimeoutError:
            raise rpc_error(_Code.RESPONSE_TIMEOUT) from None
        except Exception:
            logger.warning("RPC handler for %s raised", invocation.method, exc_info=True)
            raise rpc_error(_Code.APPLICATION_ERROR) from None
        limit = target._server.rpc_payload_limit
        if limit is not None and len(response.encode()) > limit:
            raise rpc_error(_Code.RESPONSE_PAYLOAD_TOO_LARGE)
        return response

    task = asyncio.get_running_loop().create_task(answer())
    target.rpc_calls[task] = invocation
    task.add_done_callback(lambda t: target.rpc_calls.pop(t, None))
    return task

"""An app's burst over a real LiveKit room: thousands of sends put to the SDK at once.

`rtc.LocalParticipant.perform_rpc`, `publish_data` and `set_attributes` each subscribe to the
SDK's event queue while they wait for their answer, and the SDK hands every event to every
subscriber: n of them in flight cost the caller's process work that grows with n², and the
calls would go out spread over that time instead of at once. A `Burst` sends
the very requests those methods build, through the same FFI, and matches every callback to
its request by async id with one subscription. What reaches the server is the same.
"""

from __future__ import annotations

import asyncio
import ctypes
from collections.abc import Mapping, Sequence
from typing import Any

from livekit import rtc
from livekit.rtc._ffi_client import FfiClient
from livekit.rtc._proto import ffi_pb2 as proto_ffi

_CALLBACKS = ("perform_rpc", "publish_data", "set_local_attributes")


class Burst:
    """Used as `async with Burst(room.local_participant) as burst:`; every send returns a
    future for its outcome (an RPC's result, or `rtc.RpcError`)."""

    def __init__(self, participant: rtc.LocalParticipant) -> None:
        self._handle = participant._ffi_handle.handle
        # async id -> the outcome's future, and what must stay alive until the callback
        self._waiting: dict[int, tuple[asyncio.Future[Any], object]] = {}
        self._queue: Any = None
        self._dispatcher: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Burst:
        self._queue = FfiClient.instance.queue.subscribe(
            asyncio.get_running_loop(), filter_fn=lambda e: e.WhichOneof("message") in _CALLBACKS
        )
        self._dispatcher = asyncio.create_task(self._dispatch(), name="burst-dispatch")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            await asyncio.gather(self._dispatcher, return_exceptions=True)
        FfiClient.instance.queue.unsubscribe(self._queue)
        for future, _ in self._waiting.values():
            future.cancel()
        self._waiting.clear()

    def perform_rpc(
        self,
        *,
        destination_identity: str,
        method: str,
        payload: str,
        response_timeout: float,
        max_round_trip_latency: float,
    ) -> asyncio.Future[str]:
        req = proto_ffi.FfiRequest()
        call = req.perform_rpc
        call.local_participant_handle = self._handle
        call.destination_identity = destination_identity
        call.method = method
        call.payload = payload
        call.response_timeout_ms = int(response_timeout * 1000)
        call.max_round_trip_latency_ms = int(max_round_trip_latency * 1000)
        resp = FfiClient.instance.request(req)
        return self._wait(resp.perform_rpc.async_id)

    def publish_data(
        self, payload: bytes, *, topic: str, destinations: Sequence[str] = ()
    ) -> asyncio.Future[None]:
        data = (ctypes.c_byte * len(payload)).from_buffer_copy(payload)
        req = proto_ffi.FfiRequest()
        send = req.publish_data
        send.local_participant_handle = self._handle
        send.data_ptr = ctypes.addressof(data)
        send.data_len = len(payload)
        send.reliable = True
        send.topic = topic
        send.destination_identities.extend(destinations)
        resp = FfiClient.instance.request(req)
        return self._wait(resp.publish_data.async_id, keep=data)

    def set_attributes(self, attributes: Mapping[str, str]) -> asyncio.Future[None]:
        req = proto_ffi.FfiRequest()
        update = req.set_local_attributes
        update.local_participant_handle = self._handle
        for key, value in attributes.items():
            entry = update.attributes.add()
            entry.key, entry.value = key, value
        resp = FfiClient.instance.request(req)
        return self._wait(resp.set_local_attributes.async_id)

    def _wait(self, async_id: int, keep: object = None) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[async_id] = (future, keep)
        return future

    async def _dispatch(self) -> None:
        while True:
            event = await self._queue.get()
            which = event.WhichOneof("message")
            done = getattr(event, which)
            waiting = self._waiting.pop(done.async_id, None)
            if waiting is None or waiting[0].done():
                continue  # another caller's, or given up
            future = waiting[0]
            if which == "perform_rpc":
                if done.HasField("error"):
                    future.set_exception(rtc.RpcError._from_proto(done.error))
                else:
                    future.set_result(done.payload)
            elif done.error:
                future.set_exception(RuntimeError(f"{which} failed: {done.error}"))
            else:
                future.set_result(None)

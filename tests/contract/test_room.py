"""What the room does, on both backends: the in-memory LiveKit must behave as the server does.

These pin down the LiveKit behaviour session sync depends on: data limits and destinations,
RPC codes and deadlines, attribute updates and their permissions, and full reconnects.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from livekit import rtc
from livekit.rtc.participant import PublishDataError

from livekit.plugins.session_sync.testing import QuietListener

from .conftest import Backend, JoinedRoom

Code = rtc.RpcError.ErrorCode


class Recorder(QuietListener):
    def __init__(self) -> None:
        self.log: list[str] = []
        self.data: list[tuple[str | None, bytes]] = []

    def on_data(self, sender: str | None, topic: str, payload: bytes) -> None:
        self.data.append((sender, payload))

    def on_connection_state(self, state: str, reason: str | None) -> None:  # type: ignore[override]
        self.log.append(state)

    def on_participant_joined(self, identity: str) -> None:
        self.log.append(f"joined:{identity}")

    def on_participant_left(self, identity: str) -> None:
        self.log.append(f"left:{identity}")


async def _pair(backend: Backend) -> tuple[JoinedRoom, JoinedRoom, Recorder, Recorder]:
    a, b = await backend.join("a", kind="agent"), await backend.join("b")
    seen_a, seen_b = Recorder(), Recorder()
    a.subscribe(seen_a)
    b.subscribe(seen_b)
    await backend.until(lambda: b.remote_attributes("a") is not None)
    await backend.until(lambda: a.remote_attributes("b") is not None)
    return a, b, seen_a, seen_b


async def test_reliable_data_up_to_the_packet_limit_arrives_with_its_sender(
    backend: Backend,
) -> None:
    a, _, _, seen_b = await _pair(backend)
    big = b"x" * 60_000
    await a.send_data(big, topic="t", destinations=("b",))
    await backend.until(lambda: seen_b.data == [("a", big)])
    with pytest.raises(PublishDataError):
        await a.send_data(b"x" * 70_000, topic="t")


async def test_data_with_a_destination_reaches_only_it(backend: Backend) -> None:
    a, _, _, seen_b = await _pair(backend)
    c = await backend.join("c")
    seen_c = Recorder()
    c.subscribe(seen_c)
    await backend.until(lambda: a.remote_attributes("c") is not None)
    await a.send_data(b"for c", topic="t", destinations=("c",))
    await a.send_data(b"for all", topic="t")
    await backend.until(lambda: len(seen_b.data) == 1 and len(seen_c.data) == 2)
    assert seen_b.data == [("a", b"for all")]


async def _rpc_error(caller: JoinedRoom, **kwargs: object) -> rtc.RpcError:
    with pytest.raises(rtc.RpcError) as err:
        await caller.perform_rpc(**kwargs)  # type: ignore[union-attr,arg-type]
    return err.value


async def _rpc_code(caller: JoinedRoom, **kwargs: object) -> int:
    return (await _rpc_error(caller, **kwargs)).code


async def test_rpc_codes_match_the_server(backend: Backend) -> None:
    a, b, _, _ = await _pair(backend)

    async def fails(data: rtc.RpcInvocationData) -> str:
        raise RuntimeError("boom")

    async def refuses(data: rtc.RpcInvocationData) -> str:
        raise rtc.RpcError(2409, "nope", '{"why": 1}')

    async def huge(data: rtc.RpcInvocationData) -> str:
        return "y" * 20_000

    a.register_rpc("fails", fails)
    a.register_rpc("refuses", refuses)
    a.register_rpc("huge", huge)
    call = {"destination_identity": "a", "payload": "{}"}
    missing = await _rpc_error(b, method="missing", **call)
    # LiveKit's own errors carry no data, which the SDK hands over as "" (not None).
    assert (missing.code, missing.data) == (Code.UNSUPPORTED_METHOD, "")
    assert await _rpc_code(b, method="fails", **call) == Code.APPLICATION_ERROR
    # The Python SDK with a current server carries payloads far over the old 15 KiB limit.
    assert len(await b.perform_rpc(method="huge", **call)) == 20_000  # type: ignore[union-attr,arg-type]
    assert (
        await _rpc_code(b, method="fails", destination_identity="a", payload="z" * 16_000)
        == Code.APPLICATION_ERROR
    )
    with pytest.raises(rtc.RpcError) as err:
        await b.perform_rpc(method="refuses", **call)  # type: ignore[union-attr,arg-type]
    assert (err.value.code, err.value.message, err.value.data) == (2409, "nope", '{"why": 1}')


async def test_rpc_handler_deadline_is_the_callers_timeout_less_the_round_trip(
    backend: Backend,
) -> None:
    a, b, _, _ = await _pair(backend)
    deadlines: list[float] = []

    async def record(data: rtc.RpcInvocationData) -> str:
        deadlines.append(data.response_timeout)
        return "ok"

    a.register_rpc("record", record)
    for timeout in (10.0, 5.0):
        reply = await b.perform_rpc(  # type: ignore[union-attr]
            destination_identity="a", method="record", payload="", response_timeout=timeout
        )
        assert reply == "ok"
    assert deadlines == [pytest.approx(3.0, abs=0.05), pytest.approx(1.0, abs=0.05)]


async def test_rpc_handler_past_its_deadline_is_cancelled_and_the_caller_gets_1502(
    backend: Backend,
) -> None:
    a, b, _, _ = await _pair(backend)
    cancelled = asyncio.Event()

    async def slow(data: rtc.RpcInvocationData) -> str:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "late"

    a.register_rpc("slow", slow)
    started = time.monotonic()
    code = await _rpc_code(
        b, destination_identity="a", method="slow", payload="", response_timeout=8.0
    )
    assert code == Code.RESPONSE_TIMEOUT
    assert cancelled.is_set()
    assert time.monotonic() - started < 8.0 + backend.timeout


async def test_rpc_to_an_absent_participant_times_out_without_an_answer(
    backend: Backend,
) -> None:
    _, b, _, _ = await _pair(backend)
    error = await _rpc_error(
        b,
        destination_identity="nobody",
        method="any",
        payload="",
        response_timeout=10.0,
    )
    assert (error.code, error.data) == (Code.CONNECTION_TIMEOUT, "")


async def test_attributes_merge_delete_and_reach_the_others(backend: Backend) -> None:
    a, b, _, _ = await _pair(backend)
    await a.set_attributes({"k1": "v1", "k2": "v2"})
    await backend.until(lambda: b.remote_attributes("a") == {"k1": "v1", "k2": "v2"})
    await a.set_attributes({"k1": "", "k3": "v3"})
    await backend.until(lambda: b.remote_attributes("a") == {"k2": "v2", "k3": "v3"})
    await backend.until(lambda: dict(a.local_attributes()) == {"k2": "v2", "k3": "v3"})


async def test_attributes_without_the_metadata_grant_are_refused_silently(
    backend: Backend,
) -> None:
    a, _, _, _ = await _pair(backend)
    app = await backend.join("no-grant", can_update_own_metadata=False)
    await backend.until(lambda: a.remote_attributes("no-grant") is not None)
    await app.set_attributes({"session.requestedType": "voice-vad"})  # no error raised
    marker = await backend.join("marker")
    await marker.set_attributes({"after": "1"})
    await backend.until(lambda: (a.remote_attributes("marker") or {}).get("after") == "1")
    assert a.remote_attributes("no-grant") == {}


async def test_full_reconnect_is_a_leave_and_a_new_join_that_keeps_attributes(
    backend: Backend,
) -> None:
    a, b, seen_a, seen_b = await _pair(backend)
    await b.set_attributes({"runtime": "yes"})
    await a.set_attributes({"agent": "yes"})
    await backend.until(lambda: (a.remote_attributes("b") or {}).get("runtime") == "yes")
    await backend.until(lambda: (b.remote_attributes("a") or {}).get("agent") == "yes")
    seen_a.log.clear()
    seen_b.log.clear()

    await backend.full_reconnect(b)
    await backend.until(lambda: "joined:b" in seen_a.log)
    await backend.until(lambda: "connected" in seen_b.log)
    assert seen_a.log == ["left:b", "joined:b"]
    assert seen_b.log == ["left:a", "reconnecting", "joined:a", "connected"]
    # the SDK joins the new participant with the attributes the old one had
    assert a.remote_attributes("b") == {"runtime": "yes"}
    assert dict(b.local_attributes()) == {"runtime": "yes"}
    assert b.remote_attributes("a") == {"agent": "yes"}


async def test_resume_keeps_the_participant_and_its_attributes(backend: Backend) -> None:
    a, b, seen_a, seen_b = await _pair(backend)
    await b.set_attributes({"runtime": "yes"})
    await backend.until(lambda: (a.remote_attributes("b") or {}).get("runtime") == "yes")
    seen_a.log.clear()
    await backend.resume(b)
    assert seen_b.log == ["reconnecting", "connected"]
    await asyncio.sleep(0.2)
    assert seen_a.log == []
    assert a.remote_attributes("b") == {"runtime": "yes"}

"""Floods: ten thousand messages in one burst over data, RPC or the attribute, from a stranger
or from the user's own app, while the user keeps sending commands. Every message and every
command gets its one answer; how long the event loop was held is measured against the same
burst into a room where nothing listens (the in-memory network's own share). What a flood
sends and how its answers are counted is in `flood_traffic`, shared with the floods over a
real server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import Any

from livekit import rtc

from livekit.plugins.session_sync import ATTR_REQUESTED_TYPE, TOPIC
from livekit.plugins.session_sync.testing import InMemoryServer

from .flood_traffic import (
    RPC_TIMEOUT,
    SCENARIOS,
    FloodPath,
    FloodResult,
    Outcomes,
    command_outcomes,
    flood_payloads,
    probe,
    requested_types,
    rpc_answered,
    wait_answered,
)
from .loopwatch import LoopHold, post_all, watch_loop
from .rig import AGENT, ROOM, USER, Replies, Rig, quiet_options

__all__ = ["SCENARIOS", "FloodPath", "FloodResult", "flood"]


async def flood(path: FloodPath, flooder: str, messages: int) -> FloodResult:
    result = FloodResult(path, flooder, messages)
    result.baseline = await _baseline(path, messages)
    rig = await Rig.create(quiet_options())  # the default rate limits
    await rig.sync.request("session.start", {"sessionType": "voice-vad"})
    await rig.quiesce()
    room = rig.user_room if flooder == "user" else await rig.server.connect(ROOM, flooder)
    replies = Replies(AGENT)
    room.subscribe(replies)
    user_replies = replies if flooder == "user" else Replies(AGENT)
    if flooder != "user":
        rig.user_room.subscribe(user_replies)
    await rig.quiesce()
    refusals_before = command_outcomes(ATTR_REQUESTED_TYPE)
    try:
        async with watch_loop() as hold:
            started = time.perf_counter()
            calls = _burst(room, path, messages)
            hold.restart()  # the burst is on the wire: from here on it is the agent's
            flooding = asyncio.Event()
            probes = asyncio.create_task(
                probe(rig.user_room, user_replies, result, flooding.is_set)
            )
            if calls:
                outcomes = await asyncio.gather(*calls, return_exceptions=True)
                result.answered = sum(rpc_answered(o, result) for o in outcomes)
            else:
                await wait_answered(
                    replies,
                    result,
                    outcomes=_attribute_outcomes,
                    before=refusals_before,
                )
            flooding.set()
            await probes
            result.seconds = time.perf_counter() - started
        result.hold = hold
        await rig.quiesce()
        result.escaped += rig.faults() + rig.mismatches()
    finally:
        await rig.aclose()
    return result


async def _attribute_outcomes() -> Outcomes:
    return command_outcomes(ATTR_REQUESTED_TYPE)


def _burst(room: Any, path: FloodPath, messages: int) -> list[asyncio.Task[str]]:
    if path == "data":
        post_all(
            [
                room.send_data(p, topic=TOPIC, destinations=(AGENT,))
                for p in flood_payloads(messages)
            ]
        )
        return []
    if path == "attribute":
        values = requested_types(messages)
        post_all([room.set_attributes({ATTR_REQUESTED_TYPE: v}) for v in values])
        return []
    return [
        asyncio.create_task(
            room.perform_rpc(
                destination_identity=AGENT,
                method="session.snapshot",
                payload="",
                response_timeout=RPC_TIMEOUT,
            )
        )
        for _ in range(messages)
    ]


async def _baseline(path: FloodPath, messages: int) -> LoopHold:
    """The same burst into a room where the agent runs nothing (RPC: answered at once)."""
    server = InMemoryServer()
    agent = await server.connect(ROOM, AGENT, kind="agent")
    user = await server.connect(ROOM, USER)

    async def bare(_: rtc.RpcInvocationData) -> str:
        return "{}"

    agent.register_rpc("session.snapshot", bare)
    await server.settle()
    async with watch_loop() as hold:
        calls = _burst_bare(user, path, messages)
        hold.restart()
        if calls:
            await asyncio.gather(*calls, return_exceptions=True)
        await server.settle(max_rounds=10**6)
    return hold


def _burst_bare(user: Any, path: FloodPath, messages: int) -> list[asyncio.Task[str]]:
    sends: list[Coroutine[Any, Any, None]]
    if path == "data":
        payloads = flood_payloads(messages)
        sends = [user.send_data(p, topic=TOPIC, destinations=(AGENT,)) for p in payloads]
    elif path == "attribute":
        sends = [user.set_attributes({ATTR_REQUESTED_TYPE: f"type-{i}"}) for i in range(messages)]
    else:
        return [
            asyncio.create_task(
                user.perform_rpc(destination_identity=AGENT, method="session.snapshot", payload="")
            )
            for _ in range(messages)
        ]
    post_all(sends)
    return []

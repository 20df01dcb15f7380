"""Floods over a real LiveKit server: the agent in a process of its own (`flood_agent`), the
user's app and a stranger here, with the Python SDK. Each message must get its one answer
and the user be answered throughout, as in `flood`; how long the agent's event loop was held
is what the agent measured in its own process, beside the same burst into an agent that does
nothing (the SDK's own share)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from livekit import rtc

from livekit.plugins.session_sync import ATTR_REQUESTED_TYPE, TOPIC
from livekit.plugins.session_sync.room import LiveKitRoom

from ..livekit_server import ServerInfo, new_room_name
from .burst import Burst
from .flood_agent import hold_from
from .flood_traffic import (
    RPC_TIMEOUT,
    FloodPath,
    FloodResult,
    Outcomes,
    flood_payloads,
    probe,
    requested_types,
    rpc_answered,
    wait_answered,
)
from .rig import AGENT, USER, Replies

REPO = Path(__file__).resolve().parents[2]
STRANGER = "stranger"
START_TIMEOUT = 60.0  # the agent process's imports and join, on a busy machine
ANSWER_TIMEOUT = 30.0  # for one control command
# The SDK's default is 7 s for a call to reach the agent and its receipt to come back; the
# receipt is the SDK's own (sent before the handler runs), so a slow machine, never the
# agent, could miss it.
ROUND_TRIP = 60.0
# The SDK fails an attribute update that the server has not acknowledged within 5 s, the
# wait for its turn to be sent included: ten thousand at once would mostly fail before they
# left the app. It keeps this many on their way, as fast as the server takes them.
ATTRIBUTES_IN_FLIGHT = 100
# The bare agent counts what arrives; a burst that stops arriving for this long is all in.
ARRIVALS_STALL = 10.0


class AgentProcess:
    """`flood_agent` in a child process, driven over its stdin and stdout."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process

    @classmethod
    @contextlib.asynccontextmanager
    async def running(
        cls, info: ServerInfo, room: str, *, bare: bool
    ) -> AsyncIterator[AgentProcess]:
        env = {
            **os.environ,
            "LIVEKIT_URL": info.url,
            "LIVEKIT_API_KEY": info.api_key,
            "LIVEKIT_API_SECRET": info.api_secret,
        }
        args = ["-m", "support.faults.flood_agent", room, USER, *(["--bare"] if bare else [])]
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *args,
            cwd=REPO,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=2**20,  # a report is one line
        )
        agent = cls(process)
        try:
            await agent._answer(START_TIMEOUT)
            yield agent
        finally:
            await agent._stop()

    async def ask(self, command: str) -> dict[str, Any]:
        assert self._process.stdin is not None
        self._process.stdin.write(command.encode() + b"\n")
        await self._process.stdin.drain()
        return await self._answer(ANSWER_TIMEOUT)

    async def outcomes(self) -> Outcomes:
        answer: Outcomes = (await self.ask("outcomes"))["outcomes"]
        return answer

    async def arrived(self, path: FloodPath) -> int:
        return int((await self.ask("outcomes"))["received"].get(path, 0))

    async def _answer(self, timeout: float) -> dict[str, Any]:
        assert self._process.stdout is not None
        async with asyncio.timeout(timeout):
            while line := await self._process.stdout.readline():
                if line.startswith(b"{"):
                    answer: dict[str, Any] = json.loads(line)
                    return answer
                sys.stderr.buffer.write(line)  # not ours: a library's output
        raise RuntimeError(f"the agent process exited ({await self._process.wait()})")

    async def _stop(self) -> None:
        process = self._process
        if process.returncode is None and process.stdin is not None:
            with contextlib.suppress(ConnectionError):
                process.stdin.write(b"stop\n")
                await process.stdin.drain()
        try:
            async with asyncio.timeout(15):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


class ProbingUser:
    """The user's probes as `UserRoom`, sent like the burst: the SDK's own calls would each
    be handed every event of the burst while they wait."""

    def __init__(self, burst: Burst) -> None:
        self._burst = burst

    async def perform_rpc(
        self,
        *,
        destination_identity: str,
        method: str,
        payload: str,
        response_timeout: float | None = None,
    ) -> str:
        return await self._burst.perform_rpc(
            destination_identity=destination_identity,
            method=method,
            payload=payload,
            response_timeout=response_timeout or RPC_TIMEOUT,
            max_round_trip_latency=ROUND_TRIP,
        )

    async def send_data(
        self, payload: bytes, *, topic: str, destinations: tuple[str, ...] = ()
    ) -> None:
        await self._burst.publish_data(payload, topic=topic, destinations=destinations)


async def flood_on_server(
    info: ServerInfo, path: FloodPath, flooder: str, messages: int, *, baseline: bool = True
) -> FloodResult:
    result = FloodResult(path, flooder, messages)
    if baseline:
        bare = FloodResult(path, flooder, messages)
        await _session(info, bare, bare=True)
        result.baseline, result.baseline_probe_worst = bare.hold, bare.probe_worst
    await _session(info, result, bare=False)
    return result


async def _session(info: ServerInfo, result: FloodResult, *, bare: bool) -> None:
    """A new room, its agent process, and one flood into it."""
    async with (
        _rooms(info, result.flooder) as (name, user, flooding_room),
        AgentProcess.running(info, name, bare=bare) as agent,
    ):
        for room in (user,) if flooding_room is user else (user, flooding_room):
            await _agent_joined(room, active=not bare)
        await _flood(agent, user, flooding_room, result, bare=bare)


async def _flood(
    agent: AgentProcess, user: rtc.Room, flooding_room: rtc.Room, result: FloodResult, *, bare: bool
) -> None:
    path, messages = result.path, result.messages
    replies = Replies(AGENT)
    LiveKitRoom(flooding_room).subscribe(replies)
    user_replies = replies if flooding_room is user else Replies(AGENT)
    if flooding_room is not user:
        LiveKitRoom(user).subscribe(user_replies)
    before = await agent.outcomes()
    await agent.ask("watch")
    started = time.perf_counter()
    async with contextlib.AsyncExitStack() as stack:
        burst = await stack.enter_async_context(Burst(flooding_room.local_participant))
        user_burst = burst
        if flooding_room is not user:
            user_burst = await stack.enter_async_context(Burst(user.local_participant))
        sends = _burst(burst, path, messages)
        flooding = asyncio.Event()
        probes = asyncio.create_task(
            probe(ProbingUser(user_burst), user_replies, result, flooding.is_set)
        )
        try:
            outcomes = await asyncio.gather(*sends, return_exceptions=True)
            if path == "rpc":
                result.answered = sum(rpc_answered(o, result) for o in outcomes)
            else:
                result.app_errors = [str(e) for e in outcomes if e is not None]
                arrived = await _all_arrived(agent, path, messages)
                if bare:
                    result.answered = arrived
                else:
                    # The SDK reports some attribute updates as failed that the server applied
                    # all the same (their acknowledgement was lost): what counts is what
                    # reached the agent. Data has no such count (the user's probes are data
                    # too), and the SDK's report is taken.
                    result.lost = (
                        messages - arrived if path == "attribute" else len(result.app_errors)
                    )
                    await wait_answered(
                        replies,
                        result,
                        outcomes=agent.outcomes,
                        before=before,
                        poll=0.05,
                    )
            flooding.set()
            await probes
        finally:
            probes.cancel()
            await asyncio.gather(probes, return_exceptions=True)
    result.seconds = time.perf_counter() - started
    report = await agent.ask("report")
    result.hold = hold_from(report["hold"])
    result.escaped += report["faults"]


def _burst(burst: Burst, path: FloodPath, messages: int) -> list[asyncio.Future[Any]]:
    if path == "data":
        return [
            burst.publish_data(p, topic=TOPIC, destinations=(AGENT,))
            for p in flood_payloads(messages)
        ]
    if path == "attribute":
        window = asyncio.Semaphore(ATTRIBUTES_IN_FLIGHT)

        async def request(value: str) -> None:
            async with window:
                await burst.set_attributes({ATTR_REQUESTED_TYPE: value})

        return [asyncio.ensure_future(request(v)) for v in requested_types(messages)]
    return [
        burst.perform_rpc(
            destination_identity=AGENT,
            method="session.snapshot",
            payload="",
            response_timeout=RPC_TIMEOUT,
            max_round_trip_latency=ROUND_TRIP,
        )
        for _ in range(messages)
    ]


async def _all_arrived(agent: AgentProcess, path: FloodPath, messages: int) -> int:
    """How many of the burst reached the bare agent, once all did or they stopped coming."""
    arrived, last_change = 0, time.perf_counter()
    while arrived < messages and time.perf_counter() - last_change < ARRIVALS_STALL:
        await asyncio.sleep(0.05)
        now = await agent.arrived(path)
        if now != arrived:
            arrived, last_change = now, time.perf_counter()
    return arrived


@contextlib.asynccontextmanager
async def _rooms(info: ServerInfo, flooder: str) -> AsyncIterator[tuple[str, rtc.Room, rtc.Room]]:
    """A new room with the user in it, and the stranger when it is the one flooding."""
    name = new_room_name("flood")
    user = await info.join(name, USER)
    joined = [user]
    try:
        if flooder != USER:
            joined.append(await info.join(name, flooder))
        yield name, user, joined[-1]
    finally:
        for room in joined:
            await room.disconnect()


async def _agent_joined(room: rtc.Room, *, active: bool) -> None:
    """Until the agent is in the room (and its session runs, when `active`)."""
    async with asyncio.timeout(START_TIMEOUT):
        while True:
            agent = room.remote_participants.get(AGENT)
            if agent is not None and (
                not active or agent.attributes.get("session.state") == "active"
            ):
                return
            await asyncio.sleep(0.05)

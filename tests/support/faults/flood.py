"""Floods: ten thousand messages in one burst over data, RPC or the attribute, from a stranger
or from the user's own app, while the user keeps sending commands. Every message and every
command gets its one answer; how long the event loop was held is measured against the same
burst into a room where nothing listens (the in-memory network's own share)."""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Literal

from livekit import rtc

from livekit.plugins.session_sync import ATTR_REQUESTED_TYPE, TOPIC
from livekit.plugins.session_sync.metrics import COMMANDS
from livekit.plugins.session_sync.testing import InMemoryServer, eventually

from .loopwatch import LoopHold, post_all, watch_loop
from .rig import AGENT, ROOM, USER, Replies, Rig, quiet_options

FloodPath = Literal["data", "rpc", "attribute"]
SCENARIOS: tuple[tuple[FloodPath, str], ...] = (
    ("data", "stranger"),
    ("data", "user"),
    ("rpc", "stranger"),
    ("rpc", "user"),
    ("attribute", "user"),
)
PROBE_EVERY = 0.15  # the user stays within its own rate (10 a second)
# Long enough that only the agent, never a slow machine, leaves a call unanswered.
RPC_TIMEOUT = 600.0
VALID_EVERY = 50  # of the attribute flood's values, one in this many is a session type
# LiveKit's codes for a call that never got its answer: none may happen.
UNANSWERED_RPC = {1500, 1501, 1502, 1503, 2500}


@dataclass
class FloodResult:
    path: FloodPath
    flooder: str
    messages: int
    answered: int = 0
    duplicates: int = 0
    probes: int = 0
    probes_answered: int = 0
    probes_ok: int = 0
    probe_worst: float = 0.0
    seconds: float = 0.0
    hold: LoopHold = field(default_factory=LoopHold)
    baseline: LoopHold = field(default_factory=LoopHold)
    escaped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Everything answered once; a stranger's flood cost the user nothing."""
        user_served = self.flooder == "user" or self.probes_ok == self.probes
        return (
            self.answered == self.messages
            and not self.duplicates
            and self.probes_answered == self.probes
            and user_served
            and not self.escaped
        )


def _flood_payloads(count: int) -> list[bytes]:
    """Requests with unique ids: commands, refusals of every kind, and garbage."""
    made = []
    for i in range(count):
        rid = f"fl-{i}"
        kind = i % 5
        if kind == 0:
            body: Any = {"type": "request", "id": rid, "method": "session.snapshot"}
        elif kind == 1:
            body = {"type": "request", "id": rid, "method": "session.set_muted", "params": {}}
        elif kind == 2:
            body = {"type": "request", "id": rid, "method": "session.nope"}
        elif kind == 3:
            body = {"type": "request", "id": rid, "method": "session.sync", "params": {"x": 1}}
        else:
            made.append(b"\xff not json " + rid.encode())
            continue
        made.append(json.dumps(body).encode())
    return made


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
    refusals_before = _outcomes(ATTR_REQUESTED_TYPE)
    try:
        async with watch_loop() as hold:
            started = time.perf_counter()
            calls = _burst(rig, room, path, messages)
            hold.restart()  # the burst is on the wire: from here on it is the agent's
            flooding = asyncio.Event()
            probes = asyncio.create_task(_probe(rig, user_replies, result, flooding.is_set))
            if calls:
                outcomes = await asyncio.gather(*calls, return_exceptions=True)
                result.answered = sum(_rpc_answered(o, result) for o in outcomes)
            else:
                await _answered(rig, replies, path, messages, result, refusals_before)
            flooding.set()
            await probes
            result.seconds = time.perf_counter() - started
        result.hold = hold
        await rig.quiesce()
        result.escaped += rig.faults() + rig.mismatches()
    finally:
        await rig.aclose()
    return result


def _burst(rig: Rig, room: Any, path: FloodPath, messages: int) -> list[asyncio.Task[str]]:
    if path == "data":
        post_all(
            [
                room.send_data(p, topic=TOPIC, destinations=(AGENT,))
                for p in _flood_payloads(messages)
            ]
        )
        return []
    if path == "attribute":
        values = [
            ("text", "voice-vad")[i // VALID_EVERY % 2] if i % VALID_EVERY == 0 else f"type-{i}"
            for i in range(messages)
        ]
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


def _rpc_answered(outcome: object, result: FloodResult) -> bool:
    if isinstance(outcome, rtc.RpcError) and outcome.code in UNANSWERED_RPC:
        result.escaped.append(f"an RPC went unanswered: {outcome.code} {outcome.message}")
        return False
    return isinstance(outcome, (str, rtc.RpcError))


async def _answered(
    rig: Rig,
    replies: Replies,
    path: FloodPath,
    messages: int,
    result: FloodResult,
    before: dict[str, float],
) -> None:
    """Wait until every data message has its reply, or every attribute change its outcome."""
    deadline = time.perf_counter() + RPC_TIMEOUT
    while time.perf_counter() < deadline:
        if path == "data":
            flood_replies = [r for r in replies.received if not str(r.get("id")).startswith("p")]
            ids = [r.get("id") for r in flood_replies if r.get("id") is not None]
            result.duplicates = len(ids) - len(set(ids))
            result.answered = len(flood_replies)
        else:
            # Each change is let in once: refused with one error, acted on, or (a type it
            # acted on already) nothing to do, as the contract says (2.2).
            outcomes = _outcomes(ATTR_REQUESTED_TYPE)
            handled = sum(outcomes.values()) - sum(before.values())
            refused = handled - (outcomes.get("ok", 0) - before.get("ok", 0))
            errors = [r for r in replies.received if r.get("id") is None]
            valid = (messages + VALID_EVERY - 1) // VALID_EVERY
            if handled >= messages - valid and len(errors) == refused:
                result.answered = messages  # the rest are repeats of a type already running
        if result.answered >= messages:
            return
        await asyncio.sleep(0.01)
    result.escaped.append(f"only {result.answered} of {messages} answered in time")


async def _probe(rig: Rig, replies: Replies, result: FloodResult, done: Callable[[], bool]) -> None:
    """The user's own commands, RPC and data in turn, until the flood is answered."""
    n = 0
    while not done() or n == 0:
        n += 1
        result.probes += 1
        sent = time.perf_counter()
        if n % 2:
            try:
                await rig.user_room.perform_rpc(
                    destination_identity=AGENT,
                    method="session.snapshot",
                    payload="",
                    response_timeout=RPC_TIMEOUT,
                )
                result.probes_ok += 1
                result.probes_answered += 1
            except rtc.RpcError as e:
                result.probes_answered += e.code not in UNANSWERED_RPC
        else:
            rid = f"p-{n}"
            body = {"type": "request", "id": rid, "method": "session.snapshot"}
            await rig.user_room.send_data(
                json.dumps(body).encode(), topic=TOPIC, destinations=(AGENT,)
            )
            try:
                await eventually(functools.partial(_has_reply, replies, rid), timeout=RPC_TIMEOUT)
            except AssertionError:
                result.escaped.append(f"the user's {rid} was never answered")
            else:
                reply = next(r for r in replies.received if r.get("id") == rid)
                result.probes_answered += 1
                result.probes_ok += reply["type"] == "ack"
        result.probe_worst = max(result.probe_worst, time.perf_counter() - sent)
        await asyncio.sleep(PROBE_EVERY)


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
        payloads = _flood_payloads(messages)
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


def _outcomes(method: str | None = None) -> dict[str, float]:
    """The commands counted so far, by outcome (for one method, or all)."""
    counts: dict[str, float] = {}
    for family in COMMANDS.collect():
        for sample in family.samples:
            if sample.name.endswith("_total") and method in (None, sample.labels["method"]):
                outcome = sample.labels["outcome"]
                counts[outcome] = counts.get(outcome, 0.0) + sample.value
    return counts


def _has_reply(replies: Replies, rid: str) -> bool:
    return any(r.get("id") == rid for r in replies.received)

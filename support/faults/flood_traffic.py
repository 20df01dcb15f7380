"""What a flood sends and how its answers are counted, wherever the agent runs: in this
process on the in-memory room (`flood`) or in a process of its own on a real LiveKit server
(`flood_server`)."""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from livekit import rtc

from livekit.plugins.session_sync import TOPIC
from livekit.plugins.session_sync.metrics import COMMANDS
from livekit.plugins.session_sync.testing import eventually

from .loopwatch import LoopHold
from .rig import AGENT, Replies

FloodPath = Literal["data", "rpc", "attribute"]
SCENARIOS: tuple[tuple[FloodPath, str], ...] = (
    ("data", "stranger"),
    ("data", "user"),
    ("rpc", "stranger"),
    ("rpc", "user"),
    ("attribute", "user"),
)
LOOP_HOLD_TARGET_MS = 50.0  # no callback or task step may hold the agent's loop this long
PROBE_EVERY = 0.15  # the user stays within its own rate (10 a second)
PROBE_ID_PREFIX = "p-"  # the user's own requests; the flood's are "fl-"
# Long enough that only the agent, never a slow machine, leaves a call unanswered.
RPC_TIMEOUT = 600.0
VALID_EVERY = 50  # of the attribute flood's values, one in this many is a session type
# LiveKit's codes for a call that never got its answer: none may happen.
UNANSWERED_RPC = {1500, 1501, 1502, 1503, 2500}

Outcomes = dict[str, float]
"""Commands counted by the agent's metrics, by outcome."""


class UserRoom(Protocol):
    """What the user's app does during a flood: the in-memory room and `LiveKitRoom` both."""

    async def perform_rpc(
        self,
        *,
        destination_identity: str,
        method: str,
        payload: str,
        response_timeout: float | None = None,
    ) -> str: ...

    async def send_data(
        self, payload: bytes, *, topic: str, destinations: tuple[str, ...] = ()
    ) -> None: ...


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
    baseline_probe_worst: float = 0.0
    escaped: list[str] = field(default_factory=list)
    lost: int = 0
    """Messages that never reached the agent (the app's SDK gave up on them): the agent
    cannot answer them, so they are shown, not counted against it."""
    app_errors: list[str] = field(default_factory=list)
    """Sends the app's SDK reported as failed, whether or not they reached the agent."""

    @property
    def expected(self) -> int:
        return self.messages - self.lost

    @property
    def ok(self) -> bool:
        """Everything answered once; a stranger's flood cost the user nothing."""
        user_served = self.flooder == "user" or self.probes_ok == self.probes
        return (
            self.expected <= self.answered <= self.messages
            and not self.duplicates
            and self.probes_answered == self.probes
            and user_served
            and not self.escaped
        )

    @property
    def name(self) -> str:
        return f"Flood, {self.path} from the {self.flooder}"

    @property
    def met(self) -> bool:
        """`ok`, and no step held the agent's loop for the target or longer."""
        return self.ok and self.hold.longest_callback * 1000 < LOOP_HOLD_TARGET_MS

    def describe(self) -> str:
        """One row of a benchmark's table, beside the burst into a room where nothing
        listens (its probe only where it was measured)."""
        hold, base = self.hold, self.baseline
        beside = (
            f", nothing listening {self.baseline_probe_worst:.2f} s"
            if self.baseline_probe_worst
            else ""
        )
        text = (
            f"{self.answered}/{self.messages} answered once; the user {self.probes_answered}"
            f"/{self.probes} ({self.probes_ok} ok, slowest {self.probe_worst:.2f} s{beside}); "
            f"longest step **{_ms(hold.longest_callback)}** CPU "
            f"({_ms(hold.longest_callback_wall)} wall), longest ticker gap "
            f"{_ms(hold.longest_gap)} CPU ({_ms(hold.longest_gap_wall)} wall); nothing "
            f"listening: step {_ms(base.longest_callback)}, gap {_ms(base.longest_gap)} CPU; "
            f"all answered in {self.seconds:.1f} s"
        )
        if self.lost:
            text += f"; {self.lost} never reached the agent"
        return text


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def flood_payloads(count: int) -> list[bytes]:
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


def requested_types(count: int) -> list[str]:
    """The attribute flood's values: mostly refused, one in `VALID_EVERY` a session type."""
    return [
        ("text", "voice-vad")[i // VALID_EVERY % 2] if i % VALID_EVERY == 0 else f"type-{i}"
        for i in range(count)
    ]


def rpc_answered(outcome: object, result: FloodResult) -> bool:
    if isinstance(outcome, rtc.RpcError) and outcome.code in UNANSWERED_RPC:
        result.escaped.append(f"an RPC went unanswered: {outcome.code} {outcome.message}")
        return False
    return isinstance(outcome, (str, rtc.RpcError))


def command_outcomes(method: str | None = None) -> Outcomes:
    """The commands this process's agent counted so far, by outcome (for one method, or all)."""
    counts: Outcomes = {}
    for family in COMMANDS.collect():
        for sample in family.samples:
            if sample.name.endswith("_total") and method in (None, sample.labels["method"]):
                outcome = sample.labels["outcome"]
                counts[outcome] = counts.get(outcome, 0.0) + sample.value
    return counts


async def wait_answered(
    replies: Replies,
    result: FloodResult,
    *,
    outcomes: Callable[[], Awaitable[Outcomes]],
    before: Outcomes,
    poll: float = 0.01,
) -> None:
    """Wait until every data message has its reply, or every attribute change its outcome
    (`outcomes`: the agent's counts for the attribute, `before`: those before the flood)."""
    deadline = time.perf_counter() + RPC_TIMEOUT
    path, messages, expected = result.path, result.messages, result.expected
    while time.perf_counter() < deadline:
        if path == "data":
            flood_replies = [
                r for r in replies.received if not str(r.get("id")).startswith(PROBE_ID_PREFIX)
            ]
            ids = [r.get("id") for r in flood_replies if r.get("id") is not None]
            result.duplicates = len(ids) - len(set(ids))
            result.answered = len(flood_replies)
        else:
            # Each change is let in once: refused with one error, acted on, or (a type it
            # acted on already) nothing to do, as the contract says (2.2).
            counted = await outcomes()
            handled = sum(counted.values()) - sum(before.values())
            refused = handled - (counted.get("ok", 0) - before.get("ok", 0))
            errors = [r for r in replies.received if r.get("id") is None]
            valid = (messages + VALID_EVERY - 1) // VALID_EVERY
            if handled >= expected - valid and len(errors) == refused:
                result.answered = expected  # the rest are repeats of a type already running
        if result.answered >= expected:
            return
        await asyncio.sleep(poll)
    result.escaped.append(f"only {result.answered} of {messages} answered in time")


async def probe(
    user: UserRoom, replies: Replies, result: FloodResult, done: Callable[[], bool]
) -> None:
    """The user's own commands, RPC and data in turn, until the flood is answered."""
    n = 0
    while not done() or n == 0:
        n += 1
        result.probes += 1
        sent = time.perf_counter()
        if n % 2:
            try:
                await user.perform_rpc(
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
            rid = f"{PROBE_ID_PREFIX}{n}"
            body = {"type": "request", "id": rid, "method": "session.snapshot"}
            await user.send_data(json.dumps(body).encode(), topic=TOPIC, destinations=(AGENT,))
            try:
                await eventually(functools.partial(_has_reply, replies, rid), timeout=RPC_TIMEOUT)
            except AssertionError:
                result.escaped.append(f"the user's {rid} was never answered")
            else:
                reply = replies.first_by_id[rid]
                result.probes_answered += 1
                result.probes_ok += reply["type"] == "ack"
        result.probe_worst = max(result.probe_worst, time.perf_counter() - sent)
        await asyncio.sleep(PROBE_EVERY)


def _has_reply(replies: Replies, rid: str) -> bool:
    return rid in replies.first_by_id

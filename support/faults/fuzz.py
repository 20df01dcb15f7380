"""Fuzzing: seeded inputs over data, RPC and the attribute, each checked for one answer and,
when refused, for no change at all to the session, its numbering or its attributes."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from livekit import rtc

from livekit.plugins.session_sync import ATTR_REQUESTED_TYPE, METHODS, TOPIC

from .inputs import Input, inputs
from .rig import AGENT, Replies, Rig, quiet_options

# What an RPC may answer: our codes but `internal`, and LiveKit's for an unknown method.
RPC_REFUSALS = {2400, 2403, 2404, 2409, 2412, 2413, 2422, 2429, 2501, 2503}
BATCH = 16


@dataclass
class FuzzReport:
    inputs: int = 0
    by_path: Counter[str] = field(default_factory=Counter)
    refused: int = 0
    accepted: int = 0
    codes: Counter[str] = field(default_factory=Counter)
    escaped: list[str] = field(default_factory=list)
    changed_by_refused: list[str] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not (self.escaped or self.changed_by_refused or self.unanswered)

    def problems(self) -> list[str]:
        return [*self.escaped, *self.changed_by_refused, *self.unanswered][:20]


async def fuzz(count: int, *, seed: int = 1) -> FuzzReport:
    """Run `count` inputs against one agent: refused ones in batches (every one must be
    refused and the session not move), well-formed ones one at a time."""
    # Admission lets everything through, so that every input reaches the decoder.
    rig = await Rig.create(quiet_options(rate_per_second=1e9, rate_burst=10**9))
    replies = Replies(AGENT)
    rig.user_room.subscribe(replies)
    report = FuzzReport()
    started = time.perf_counter()
    try:
        batch: list[Input] = []
        for item in inputs(seed, count):
            if item.invalid:
                batch.append(item)
                if len(batch) < BATCH:
                    continue
            if batch:
                await _run(rig, replies, batch, report)
                batch = []
            if not item.invalid:
                await _run(rig, replies, [item], report)
        if batch:
            await _run(rig, replies, batch, report)
        report.escaped += rig.faults()
    finally:
        report.seconds = time.perf_counter() - started
        await rig.aclose()
    return report


async def _run(rig: Rig, replies: Replies, batch: list[Input], report: FuzzReport) -> None:
    before, seen = rig.view(), len(replies.received)
    rpc_calls: list[tuple[Input, asyncio.Task[str]]] = []
    expected_replies = 0
    for item in batch:
        report.inputs += 1
        report.by_path[item.path] += 1
        if item.path == "data":
            assert isinstance(item.payload, bytes)
            await rig.user_room.send_data(item.payload, topic=TOPIC, destinations=(AGENT,))
            expected_replies += 1
        elif item.path == "rpc":
            assert isinstance(item.payload, str) and item.method is not None
            call = rig.user_room.perform_rpc(
                destination_identity=AGENT,
                method=item.method,
                payload=item.payload,
                response_timeout=10.0,
            )
            rpc_calls.append((item, asyncio.create_task(call)))
        else:
            assert isinstance(item.payload, str)
            current = (rig.user_room.local_attributes()).get(ATTR_REQUESTED_TYPE)
            if current == item.payload:
                report.inputs -= 1  # not a change: LiveKit delivers nothing
                report.by_path[item.path] -= 1
                continue
            await rig.user_room.set_attributes({ATTR_REQUESTED_TYPE: item.payload})
            await rig.server.settle()  # each change reaches the agent on its own
            expected_replies += item.invalid
    answers = [await _rpc_answer(item, task, report) for item, task in rpc_calls]
    await rig.quiesce()
    new = replies.received[seen:]
    refused = sum(1 for r in new if r["type"] == "error") + answers.count(False)
    for reply in new:
        code = reply["error"]["code"] if reply["type"] == "error" else "ok"
        report.codes[code] += 1
        if code == "internal":
            report.escaped.append(f"internal error for {batch[0].kind}: {reply}")
    # Each input has its own id (others, such as "", are refused as unreadable ids).
    ids = [str(r.get("id")) for r in new if str(r.get("id")).startswith("fz-")]
    if len(ids) != len(set(ids)):
        report.unanswered.append(f"a request answered twice: {sorted(ids)}")
    kind = ",".join(sorted({f"{i.path}:{i.kind}" for i in batch}))
    if batch[0].invalid:
        if len(new) != expected_replies:
            report.unanswered.append(f"{len(new)} replies for {expected_replies} ({kind})")
        if any(r["type"] != "error" for r in new) or any(answers):
            report.changed_by_refused.append(f"invalid input accepted ({kind})")
        report.refused += len(batch)
    else:
        item = batch[0]
        answered = len(new) + len(answers)
        # An attribute change acted on has no reply: its events and attributes show it.
        if not (0 if item.path == "attribute" else 1) <= answered <= 1:
            report.unanswered.append(f"{answered} answers for one well-formed {item.path}")
        report.refused += refused
        report.accepted += 1 - refused
    if refused == len(batch) and rig.view() != before:
        report.changed_by_refused.append(f"the session moved after refused input ({kind})")


async def _rpc_answer(item: Input, task: asyncio.Task[str], report: FuzzReport) -> bool:
    """True if the call was accepted; a refusal must carry one of our codes."""
    try:
        await task
        return True
    except rtc.RpcError as e:
        report.codes[str(e.code)] += 1
        allowed: Any = RPC_REFUSALS | ({1400} if item.method not in METHODS else set())
        if e.code not in allowed:
            report.escaped.append(f"RPC {item.method} ({item.kind}) answered {e.code} {e.message}")
        return False

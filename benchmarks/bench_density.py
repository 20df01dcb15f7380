"""Text sessions per worker process. Not a test.

Each variant runs in a fresh process that starts as a worker does (settings, models, the
prewarm), then grows to 100, 200, 300 and 400 live text sessions. Every session sends one
message every 2 s (phases spread at random) and times its reply from a fake LLM that
answers at once and keeps nothing (so the harness's own cost stays out of the figures),
from `generate_reply` until the reply is done. Per level: the reply p50/p99, the replies
done of those due, the process's CPU time per reply, the longest full garbage collection
and the share of the time spent in collections of every generation.

Variants, one after the other on the same machine:

- bare: `AgentSession` with the same models and fake LLM, the worker's models loaded as
  prewarm loads them but no `gc.freeze()`;
- bare, frozen: the same, with the start-up heap frozen as the worker's prewarm does;
- ours, unfrozen: the worker's sessions (`build_session`, the turn-taking port, a
  synchronizer over an in-memory room pair, periodic validation on), prewarm without the
  freeze;
- ours: the same, after the worker's own `prewarm` with `JOB_EXECUTOR=thread` (how a worker
  runs many sessions in one process), which freezes the start-up heap and starts the heap
  keeper (`agent.heap`: what survives a young collection is frozen every
  `GC_FREEZE_INTERVAL_SECONDS`). After the last level, one reclaim (`agent.heap.reclaim`,
  every `GC_RECLAIM_INTERVAL_SECONDS` in a worker) is timed at that many sessions.

Exits non-zero when "ours" misses 300 sessions at a reply p99 of 100 ms with at least 95%
of the replies due answered. The machine's load average is printed with the table: the
CPU per reply and the ours/bare ratio hold under load, the latencies do not.

    uv run python -m benchmarks.bench_density                    # all variants, ~6 min
    uv run python -m benchmarks.bench_density --variants bare,ours --seconds 6
    uv run python -m benchmarks.bench_density --levels 100,200    # fewer levels
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any, NoReturn, cast

from livekit.agents import NOT_GIVEN, Agent, AgentSession, JobProcess, NotGivenOr, llm
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions

from agent.heap import freeze_startup_heap, reclaim
from agent.server import prewarm
from agent.session import Prewarmed, SessionSyncAgent, build_session, start_session_sync
from agent.session_type import ChosenType
from agent.settings import Settings, load_settings
from agent.speech_models import LoadedModels, load_models, plan_turn_detector
from livekit.plugins.session_sync import SessionSynchronizer
from livekit.plugins.session_sync.testing import InMemoryServer

LEVELS = (100, 200, 300, 400)
INTERVAL = 2.0
TARGET_SESSIONS = 300
TARGET_P99_MS = 100.0
VARIANTS = ("bare", "bare-frozen", "ours-unfrozen", "ours")


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


class BenchLLM(llm.LLM[Any]):
    """Answers "echo: <the last message>" at once. Unlike the tests' EchoLLM it keeps no
    record of the prompts, whose growth would be the harness's cost, not the worker's."""

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> llm.LLMStream:
        return _BenchStream(self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options)


class _BenchStream(llm.LLMStream):
    async def _run(self) -> None:
        last = self._chat_ctx.items[-1] if self._chat_ctx.items else None
        said = last.text_content if last is not None and last.type == "message" else ""
        self._event_ch.send_nowait(
            llm.ChatChunk(
                id="echo", delta=llm.ChoiceDelta(role="assistant", content=f"echo: {said}")
            )
        )


class _Proc:
    """What prewarm uses of a `JobProcess`."""

    def __init__(self) -> None:
        self.userdata: dict[str, Any] = {}


@dataclass
class Load:
    replies_ms: list[float] = field(default_factory=list)
    gc_pauses_ms: list[float] = field(default_factory=list)
    gc_total_ms: float = 0.0
    events: int = 0
    _gc_started: float = 0.0

    def on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
            return
        pause = (time.perf_counter() - self._gc_started) * 1000
        self.gc_total_ms += pause  # every generation
        if info.get("generation") == 2:
            self.gc_pauses_ms.append(pause)


async def talk(session: AgentSession[Any], load: Load, index: int) -> None:
    await asyncio.sleep(random.uniform(0, INTERVAL))
    next_at = time.perf_counter()
    while True:
        started = time.perf_counter()
        handle = session.generate_reply(user_input=f"message {index}")
        await handle
        load.replies_ms.append((time.perf_counter() - started) * 1000)
        next_at += INTERVAL
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))


async def open_bare(models: LoadedModels) -> tuple[AgentSession[Any], list[Any]]:
    session: AgentSession[Any] = AgentSession(llm=BenchLLM(), vad=models.vad)
    await session.start(Agent(instructions="benchmark"))
    return session, []


async def open_ours(
    settings: Settings, models: LoadedModels, load: Load
) -> tuple[AgentSession[Any], list[Any]]:
    session, turns = build_session(settings, models, "text", llm=BenchLLM(), stt=None, tts=None)
    await session.start(SessionSyncAgent(instructions="benchmark"))
    server = InMemoryServer()
    agent_room = await server.connect("room", "agent", kind="agent")
    await server.connect("room", "user")
    closers: list[Any] = []
    sync: SessionSynchronizer = await start_session_sync(
        settings,
        agent_room,
        turns,
        linked_identity="user",
        chosen=ChosenType("text", "benchmark"),
        on_close=closers.append,
    )

    def count(_: Any) -> None:
        load.events += 1

    sync.on_event(count)
    return session, closers


async def child(variant: str, seconds: float, levels: tuple[int, ...]) -> NoReturn:
    if variant == "ours":
        os.environ.setdefault("JOB_EXECUTOR", "thread")  # many sessions in one process
        proc = _Proc()
        prewarm(cast(JobProcess, proc))
        prewarmed: Prewarmed = proc.userdata["prewarmed"]
        settings, models = prewarmed.settings, prewarmed.models
    else:
        settings = load_settings()
        plan = plan_turn_detector(settings.turn_detector, fallback=settings.turn_detector_fallback)
        models = load_models(settings, plan)
        if variant == "bare-frozen":
            freeze_startup_heap()
    progress(f"{variant}: started as a worker")
    load = Load()
    gc.callbacks.append(load.on_gc)
    talkers: list[asyncio.Task[None]] = []
    sessions: list[tuple[AgentSession[Any], list[Any]]] = []
    rows: list[dict[str, Any]] = []
    for level in levels:
        while len(sessions) < level:
            if variant.startswith("bare"):
                opened = await open_bare(models)
            else:
                opened = await open_ours(settings, models, load)
            sessions.append(opened)
            talkers.append(asyncio.create_task(talk(opened[0], load, len(sessions))))
        progress(f"{variant}: {level} sessions open")
        await asyncio.sleep(INTERVAL)  # the new sessions' first messages settle in
        load.replies_ms.clear()
        load.gc_pauses_ms.clear()
        load.gc_total_ms = 0.0
        load.events = 0
        cpu_started = time.process_time()
        await asyncio.sleep(seconds)
        cpu = time.process_time() - cpu_started
        replies = list(load.replies_ms)
        rows.append(
            {
                "sessions": level,
                "replies": len(replies),
                "p50": percentile(replies, 50),
                "p99": percentile(replies, 99),
                "gc_max": max(load.gc_pauses_ms, default=0.0),
                "gc_full": len(load.gc_pauses_ms),
                "due": round(level * seconds / INTERVAL),
                "cpu_ms_per_reply": cpu * 1000 / max(1, len(replies)),
                "cpu_share": cpu / seconds,
                "gc_share": load.gc_total_ms / 1000 / seconds,
                "load": os.getloadavg()[0],
                "events_per_s": load.events / seconds,
            }
        )
        progress(f"{variant}: {rows[-1]}")
    if variant == "ours":
        # The one long pause the keeper leaves: unfreeze, collect everything, freeze again.
        started = time.perf_counter()
        rows[-1]["reclaim_freed"] = reclaim()
        rows[-1]["reclaim_ms"] = (time.perf_counter() - started) * 1000
    # Hundreds of sessions closing one by one take minutes on a busy machine, and nothing
    # is measured then: the figures are out, the process ends here.
    print(json.dumps(rows), flush=True)
    os._exit(0)


def progress(line: str) -> None:
    print(time.strftime("%H:%M:%S"), line, file=sys.stderr, flush=True)


def run_child(variant: str, seconds: float, levels: tuple[int, ...]) -> list[dict[str, Any]]:
    command = [sys.executable, "-m", "benchmarks.bench_density", "--child", variant]
    out = subprocess.run(
        [*command, "--seconds", str(seconds), "--levels", ",".join(map(str, levels))],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return cast(list[dict[str, Any]], json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description="Text sessions per worker process")
    parser.add_argument("--seconds", type=float, default=12.0, help="measured per level")
    parser.add_argument("--child", choices=VARIANTS)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)), help="sessions per level")
    args = parser.parse_args()
    levels = tuple(int(n) for n in args.levels.split(","))
    if args.child:
        logging.basicConfig(level=logging.WARNING)
        asyncio.run(child(args.child, args.seconds, levels))  # prints its rows, then exits

    started_load = os.getloadavg()
    variants = args.variants.split(",")
    results = {variant: run_child(variant, args.seconds, levels) for variant in variants}
    print(f"\nText sessions per process, one message per session every {INTERVAL:.0f} s")
    print(
        "(reply p50 / p99 in ms; replies done of those due; the process's CPU ms per reply; "
        "longest full GC pause in ms; share of the time in GC, all generations)\n"
    )
    names = list(results)
    print("| Sessions | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for i, level in enumerate(levels):
        cells = []
        for name in names:
            row = results[name][i]
            cells.append(
                f"{row['p50']:.0f} / **{row['p99']:.0f}**, {row['replies']}/{row['due']}, "
                f"CPU {row['cpu_ms_per_reply']:.2f} ms, GC {row['gc_max']:.0f} "
                f"({row['gc_share']:.0%})"
            )
        print(f"| {level} | " + " | ".join(cells) + " |")
    if "bare" in results and "ours" in results:
        ratios = [
            o["cpu_ms_per_reply"] / b["cpu_ms_per_reply"]
            for o, b in zip(results["ours"], results["bare"], strict=True)
        ]
        print("\nCPU per reply, ours / bare: " + ", ".join(f"{r:.2f}" for r in ratios))
    ended_load = os.getloadavg()
    print(
        "load average (1, 5, 15 min) at the start "
        + ", ".join(f"{x:.2f}" for x in started_load)
        + "; at the end "
        + ", ".join(f"{x:.2f}" for x in ended_load)
    )

    def knee(rows: list[dict[str, Any]]) -> int:
        """The most sessions before the first level over the target (or, starved of CPU,
        that answered fewer than 95% of the replies due)."""
        reached = 0
        for row in rows:
            if row["p99"] > TARGET_P99_MS or row["replies"] < 0.95 * row["due"]:
                break
            reached = row["sessions"]
        return reached

    print()
    for name in names:
        print(f"{name}: {knee(results[name])} sessions at reply p99 <= {TARGET_P99_MS:.0f} ms")
    if "ours" in results:
        events = max(r["events_per_s"] for r in results["ours"])
        print(f"ours: at most {events:.1f} session-sync events per second across all sessions")
        last = results["ours"][-1]
        if "reclaim_ms" in last:
            print(
                f"ours: one reclaim of frozen garbage at {last['sessions']} sessions: "
                f"{last['reclaim_ms']:.0f} ms, {last['reclaim_freed']} objects freed"
            )
        reached = knee(results["ours"])
        ok = reached >= TARGET_SESSIONS
        print(
            f"Target: ours >= {TARGET_SESSIONS} sessions at p99 <= {TARGET_P99_MS:.0f} ms: "
            f"{'met' if ok else 'MISSED'}"
        )
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

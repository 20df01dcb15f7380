"""Benchmark of the session-sync plugin on the in-memory LiveKit room. Not a test.

Measures, in one run:

1. command latency inside the agent: from the moment the agent-side handler receives a
   command (the RPC handler the synchronizer registered, or the room's data callback) to
   the moment the agent's attributes are set *and* its event is sent. Instrumented by
   wrapping the agent room's `register_rpc`, `set_attributes` and `send_data` and by a room
   listener subscribed before the synchronizer; no plugin code is changed.
   Commands: `session.set_muted` true/false in a voice-vad session and
   `session.ptt_start`/`session.ptt_end` in a voice-ptt session, by RPC and by data message.
2. one validation pass: `SessionSynchronizer.validate()` and the pure `validation.validate`,
   on one session, and in turn across 200 live sessions in the process (as their periodic
   validations run), each at its own revision.
3. memory per extra idle session: N synchronizers, each with its own in-memory room pair
   and turn-taking, started and left idle; tracemalloc and RSS deltas.

Timings on shared machines are noisy: read the percentiles of one run, and never turn these
figures into test assertions.

    uv run python benchmarks/bench_sync.py            # full run
    uv run python benchmarks/bench_sync.py --quick    # a few seconds
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import logging
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from livekit import rtc

from livekit.plugins.session_sync import SessionSynchronizer, SessionType, SyncOptions
from livekit.plugins.session_sync.protocol import encode_attributes
from livekit.plugins.session_sync.room import RpcHandler
from livekit.plugins.session_sync.testing import (
    InMemoryRoom,
    InMemoryServer,
    InMemoryTurnTaking,
    QuietListener,
    SessionSyncClient,
)
from livekit.plugins.session_sync.validation import Observation, validate

ROOM = "bench-room"
AGENT = "agent"
USER = "user"

# No rate limit and no timer in the way of a latency run; validation is measured on its own.
LATENCY_OPTIONS = SyncOptions(
    initial_sync_delay=3600,
    validation_interval=3600,
    rate_per_second=1e9,
    rate_burst=1_000_000_000,
)

TARGET_COMMAND_P99_US = 1_000.0
TARGET_VALIDATION_US = 50.0
TARGET_SESSION_BYTES = 100 * 1024


# -- helpers ----------------------------------------------------------------------------------


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile, q in [0, 100]."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def rss_bytes() -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@dataclass
class Row:
    name: str
    measured: str
    target: str
    ok: bool | None  # None: informational, no target


@dataclass
class Probe:
    """Timestamps of one command's way through the agent (perf_counter_ns)."""

    received: int | None = None
    attributes_set: int | None = None
    event_sent: int | None = None
    samples_us: list[float] = field(default_factory=list)
    incomplete: int = 0

    def arm(self) -> None:
        self.received = self.attributes_set = self.event_sent = None

    def on_received(self) -> None:
        if self.received is None:
            self.received = time.perf_counter_ns()

    def record(self) -> None:
        if self.received is None or self.attributes_set is None or self.event_sent is None:
            self.incomplete += 1
            return
        done = max(self.attributes_set, self.event_sent)
        self.samples_us.append((done - self.received) / 1_000)


class DataProbe(QuietListener):
    """A room listener subscribed before the synchronizer: sees each data packet first."""

    def __init__(self, probe: Probe) -> None:
        self._probe = probe

    def on_data(self, sender: str | None, topic: str, payload: bytes) -> None:
        self._probe.on_received()


def instrument(agent_room: InMemoryRoom, probe: Probe) -> None:
    """Wrap the agent room's methods the synchronizer calls; must run before `start()`."""
    register_rpc = agent_room.register_rpc
    set_attributes = agent_room.set_attributes
    send_data = agent_room.send_data

    def timed_register_rpc(method: str, handler: RpcHandler) -> None:
        async def timed(data: rtc.RpcInvocationData) -> str:
            probe.on_received()
            return await handler(data)

        register_rpc(method, timed)

    async def timed_set_attributes(attributes: Mapping[str, str]) -> None:
        await set_attributes(attributes)
        probe.attributes_set = time.perf_counter_ns()

    async def timed_send_data(
        payload: bytes, *, topic: str, destinations: Sequence[str] = ()
    ) -> None:
        await send_data(payload, topic=topic, destinations=destinations)
        if not destinations and probe.event_sent is None:  # the first broadcast: the event
            probe.event_sent = time.perf_counter_ns()

    agent_room.register_rpc = timed_register_rpc  # type: ignore[method-assign]
    agent_room.set_attributes = timed_set_attributes  # type: ignore[method-assign]
    agent_room.send_data = timed_send_data  # type: ignore[method-assign]
    agent_room.subscribe(DataProbe(probe))


class WaitingClient(SessionSyncClient):
    """The test client, plus an event set whenever something arrives from the agent."""

    def __init__(self, room: InMemoryRoom, agent_identity: str) -> None:
        super().__init__(room, agent_identity)
        self.reply_arrived = asyncio.Event()

    def on_data(self, sender: str | None, topic: str, payload: bytes) -> None:
        super().on_data(sender, topic, payload)
        self.reply_arrived.set()


@dataclass
class Bench:
    server: InMemoryServer
    agent_room: InMemoryRoom
    user_room: InMemoryRoom
    turns: InMemoryTurnTaking
    sync: SessionSynchronizer
    client: WaitingClient
    probe: Probe


async def open_bench(session_type: SessionType) -> Bench:
    server = InMemoryServer()
    user_room = await server.connect(ROOM, USER)
    agent_room = await server.connect(ROOM, AGENT, kind="agent")
    probe = Probe()
    instrument(agent_room, probe)
    turns = InMemoryTurnTaking()
    sync = SessionSynchronizer(
        agent_room, turn_taking=turns, linked_identity=USER, options=LATENCY_OPTIONS
    )
    client = WaitingClient(user_room, AGENT)
    await sync.start(session_type)
    await server.settle()
    return Bench(server, agent_room, user_room, turns, sync, client, probe)


# -- 1. command latency -----------------------------------------------------------------------

Command = tuple[str, dict[str, Any]]


async def run_commands(
    bench: Bench, commands: Sequence[Command], *, via: str, warmup: int
) -> tuple[list[float], list[float], int]:
    """Returns (in-agent latencies µs, app round trips µs, errors)."""
    client = bench.client
    round_trips: list[float] = []
    errors = 0
    for i, (method, params) in enumerate(commands):
        bench.probe.arm()
        start = time.perf_counter_ns()
        if via == "rpc":
            try:
                await client.call(method, params)
            except rtc.RpcError:
                errors += 1
        else:
            client.reply_arrived.clear()
            rid = await client.send(method, params)
            while rid not in client.replies:
                await client.reply_arrived.wait()
                client.reply_arrived.clear()
            if client.replies.pop(rid)["type"] != "ack":
                errors += 1
        end = time.perf_counter_ns()
        await bench.server.settle()
        if i < warmup:
            bench.probe.arm()
            continue
        bench.probe.record()
        round_trips.append((end - start) / 1_000)
        client.events.clear()  # keep the client's memory flat over thousands of commands
    samples = bench.probe.samples_us
    bench.probe.samples_us = []
    return samples, round_trips, errors


async def bench_latency(count: int, warmup: int) -> tuple[list[Row], dict[str, list[float]]]:
    half = count // 2
    workloads: list[tuple[SessionType, str, list[Command]]] = [
        (
            "voice-vad",
            "set_muted",
            [("session.set_muted", {"muted": i % 2 == 0}) for i in range(half + warmup)],
        ),
        (
            "voice-ptt",
            "ptt start/end",
            [
                ("session.ptt_start" if i % 2 == 0 else "session.ptt_end", {})
                for i in range(half + warmup)
            ],
        ),
    ]
    per_path: dict[str, list[float]] = {}
    trips: dict[str, list[float]] = {}
    rows: list[Row] = []
    total_errors = 0
    incomplete = 0
    for via in ("rpc", "data"):
        for session_type, label, commands in workloads:
            bench = await open_bench(session_type)
            gc.collect()
            samples, round_trips, errors = await run_commands(
                bench, commands, via=via, warmup=warmup
            )
            incomplete += bench.probe.incomplete
            total_errors += errors
            per_path[f"{via} {label}"] = samples
            trips.setdefault(via, []).extend(round_trips)
            await bench.sync.aclose()
    everything = [s for samples in per_path.values() for s in samples]
    for name, samples in [*per_path.items(), ("all commands", everything)]:
        p99 = percentile(samples, 99)
        rows.append(
            Row(
                f"command in agent, {name} (n={len(samples)})",
                f"p50 {percentile(samples, 50):7.1f}  p95 {percentile(samples, 95):7.1f}  "
                f"p99 {p99:7.1f} µs",
                f"p99 < {TARGET_COMMAND_P99_US:.0f} µs",
                p99 < TARGET_COMMAND_P99_US,
            )
        )
    for via, samples in trips.items():
        rows.append(
            Row(
                f"app round trip, {via} (n={len(samples)})",
                f"p50 {percentile(samples, 50):7.1f}  p95 {percentile(samples, 95):7.1f}  "
                f"p99 {percentile(samples, 99):7.1f} µs",
                "(info)",
                None,
            )
        )
    if total_errors or incomplete:
        rows.append(
            Row(
                "commands refused / not fully observed",
                f"{total_errors} / {incomplete}",
                "0 / 0",
                total_errors == 0 and incomplete == 0,
            )
        )
    return rows, per_path


# -- 2. validation ----------------------------------------------------------------------------


def time_calls(fn: Callable[[], object], iterations: int) -> list[float]:
    samples: list[float] = []
    clock = time.perf_counter_ns
    for _ in range(iterations):
        start = clock()
        fn()
        samples.append((clock() - start) / 1_000)
    return samples


async def bench_validation(iterations: int) -> list[Row]:
    rows: list[Row] = []
    validated: list[SessionType] = ["voice-vad", "voice-ptt"]
    for session_type in validated:
        bench = await open_bench(session_type)
        sync = bench.sync
        assert sync.validate().is_valid, "the benchmark session should start consistent"
        turns = bench.turns.observe()
        observation = Observation(
            connection_state=bench.agent_room.connection_state,
            room_name=bench.agent_room.name,
            published_attributes=bench.agent_room.local_attributes(),
            audio_input_enabled=turns.audio_input_enabled,
            turn_detection=turns.turn_detection,
        )
        config, pressed = sync.config, sync.ptt_pressed
        cases: list[tuple[str, Callable[[], object]]] = [
            ("SessionSynchronizer.validate()", sync.validate),
            (
                "validation.validate(...)",
                functools.partial(
                    validate,
                    config,
                    observation,
                    ptt_pressed=pressed,
                    expected_attributes=encode_attributes(config, ptt_pressed=pressed),
                ),
            ),
        ]
        for name, fn in cases:
            time_calls(fn, max(100, iterations // 10))  # warm-up
            gc.collect()
            samples = time_calls(fn, iterations)
            mean = statistics.fmean(samples)
            p99 = percentile(samples, 99)
            measured = f"p50 {percentile(samples, 50):6.1f}"
            rows.append(
                Row(
                    f"{name}, {session_type}: mean",
                    f"{mean:6.1f} µs ({measured})",
                    f"< {TARGET_VALIDATION_US:.0f} µs",
                    mean < TARGET_VALIDATION_US,
                )
            )
            rows.append(
                Row(
                    f"{name}, {session_type}: p99",
                    f"{p99:6.1f} µs",
                    f"< {TARGET_VALIDATION_US:.0f} µs",
                    p99 < TARGET_VALIDATION_US,
                )
            )
        await sync.aclose()
    return rows


async def bench_live_validation(sessions: int, rounds: int) -> list[Row]:
    """Periodic validation as a busy process runs it: `sessions` live sessions, each at its
    own revision, validated in turn, so no pass finds the previous pass's session."""
    benches: list[Bench] = []
    kinds: tuple[SessionType, ...] = ("text", "voice-vad", "voice-ptt")
    for i in range(sessions):
        bench = await open_bench(kinds[i % len(kinds)])
        for _ in range(i % 5):  # different revisions, as sessions of different ages have
            await bench.sync.request("session.sync", {"trigger": "bench"})
        benches.append(bench)
    await asyncio.sleep(0)
    assert all(b.sync.validate().is_valid for b in benches), "sessions should start consistent"
    validators = [b.sync.validate for b in benches]
    for fn in validators:  # warm-up
        fn()
    gc.collect()
    samples: list[float] = []
    cpu_samples: list[float] = []  # the pass's own CPU time: what a busy machine leaves out
    clock, cpu = time.perf_counter_ns, time.thread_time_ns
    for _ in range(rounds):
        for fn in validators:
            start, cpu_start = clock(), cpu()
            fn()
            cpu_samples.append((cpu() - cpu_start) / 1_000)
            samples.append((clock() - start) / 1_000)
    for bench in benches:
        await bench.sync.aclose()
    p99 = percentile(samples, 99)
    name = f"SessionSynchronizer.validate(), {sessions} live sessions in turn"
    return [
        Row(
            f"{name}: mean (n={len(samples)})",
            f"{statistics.fmean(samples):6.1f} µs (p50 {percentile(samples, 50):6.1f})",
            f"< {TARGET_VALIDATION_US:.0f} µs",
            statistics.fmean(samples) < TARGET_VALIDATION_US,
        ),
        Row(
            f"{name}: p99",
            f"{p99:6.1f} µs",
            f"< {TARGET_VALIDATION_US:.0f} µs",
            p99 < TARGET_VALIDATION_US,
        ),
        Row(
            f"{name}: CPU time p99",
            f"{percentile(cpu_samples, 99):6.1f} µs (p50 {percentile(cpu_samples, 50):6.1f})",
            "(info)",
            None,
        ),
    ]


# -- 3. memory per idle session ---------------------------------------------------------------


@dataclass
class Idle:
    server: InMemoryServer
    rooms: tuple[InMemoryRoom, InMemoryRoom]
    turns: InMemoryTurnTaking | None
    sync: SessionSynchronizer | None


async def make_idle(index: int, *, with_sync: bool, session_type: SessionType | None) -> Idle:
    server = InMemoryServer()
    room = f"room-{index}"
    user_room = await server.connect(room, USER)
    agent_room = await server.connect(room, AGENT, kind="agent")
    if not with_sync:
        return Idle(server, (agent_room, user_room), None, None)
    turns = InMemoryTurnTaking()
    sync = SessionSynchronizer(agent_room, turn_taking=turns, linked_identity=USER)
    await sync.start(session_type)
    await server.settle()
    return Idle(server, (agent_room, user_room), turns, sync)


POPULATIONS: dict[str, tuple[bool, SessionType | None]] = {
    "rooms": (False, None),
    "idle": (True, None),
    "active": (True, "voice-vad"),
}


async def build_population(n: int, kind: str) -> list[Idle]:
    with_sync, session_type = POPULATIONS[kind]
    population = [
        await make_idle(i, with_sync=with_sync, session_type=session_type) for i in range(n)
    ]
    await asyncio.sleep(0)
    gc.collect()
    return population


async def traced_bytes_per_item(n: int, kind: str) -> float:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    population = await build_population(n, kind)
    traced = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    await close_population(population)
    return traced / n


async def rss_probe(n: int, kind: str) -> None:
    """Run in a fresh process, so freed memory from earlier phases cannot hide the growth."""
    await build_population(10, kind)  # import-time and first-use allocations
    gc.collect()
    before = rss_bytes()
    population = await build_population(n, kind)
    print((rss_bytes() - before) / n)
    await close_population(population)


def rss_bytes_per_item(n: int, kind: str) -> float:
    done = subprocess.run(
        [sys.executable, __file__, "--rss-probe", kind, "--sessions", str(n)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


async def measure_population(n: int, kind: str) -> tuple[float, float]:
    """Bytes per item by tracemalloc (in this process) and by RSS (in a fresh one)."""
    traced = await traced_bytes_per_item(n, kind)
    rss = await asyncio.to_thread(rss_bytes_per_item, n, kind)
    return traced, rss


async def close_population(population: list[Idle]) -> None:
    for item in population:
        if item.sync is not None:
            await item.sync.aclose()


async def bench_memory(n: int) -> list[Row]:
    rows: list[Row] = []
    base_traced, base_rss = await measure_population(n, "rooms")
    rows.append(
        Row(
            f"in-memory room pair alone (n={n})",
            f"{base_traced / 1024:6.1f} KiB traced, {base_rss / 1024:6.1f} KiB RSS",
            "(baseline)",
            None,
        )
    )
    for label, kind in (("state idle", "idle"), ("voice-vad active", "active")):
        traced, rss = await measure_population(n, kind)
        own = traced - base_traced
        rows.append(
            Row(
                f"idle session, {label}, incl. room pair (n={n})",
                f"{traced / 1024:6.1f} KiB traced, {rss / 1024:6.1f} KiB RSS",
                f"< {TARGET_SESSION_BYTES // 1024} KiB",
                traced < TARGET_SESSION_BYTES,
            )
        )
        rows.append(
            Row(
                f"  of which the synchronizer + turn-taking, {label}",
                f"{own / 1024:6.1f} KiB traced",
                f"< {TARGET_SESSION_BYTES // 1024} KiB",
                own < TARGET_SESSION_BYTES,
            )
        )
    return rows


# -- report -----------------------------------------------------------------------------------


def print_table(rows: Sequence[Row]) -> None:
    name_w = max(len(r.name) for r in rows)
    measured_w = max(len(r.measured) for r in rows)
    target_w = max(len(r.target) for r in rows)
    header = f"{'metric':<{name_w}}  {'measured':<{measured_w}}  {'target':<{target_w}}  result"
    print(header)
    print("-" * len(header))
    for r in rows:
        mark = "info" if r.ok is None else ("PASS" if r.ok else "FAIL")
        print(f"{r.name:<{name_w}}  {r.measured:<{measured_w}}  {r.target:<{target_w}}  {mark}")


async def main_async(args: argparse.Namespace) -> None:
    commands = args.commands or (400 if args.quick else 4000)
    iterations = args.iterations or (2_000 if args.quick else 20_000)
    sessions = args.sessions or (200 if args.quick else 1000)
    warmup = 50 if args.quick else 200

    started = time.perf_counter()
    rows: list[Row] = []
    latency_rows, _ = await bench_latency(commands, warmup)
    rows += latency_rows
    rows += await bench_validation(iterations)
    rows += await bench_live_validation(args.live_sessions, max(5, iterations // 200))
    rows += await bench_memory(sessions)
    elapsed = time.perf_counter() - started

    print(
        f"session-sync benchmark: {commands} commands per path (half set_muted, half ptt), "
        f"{iterations} validation passes per case, {sessions} idle sessions; "
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {elapsed:.1f} s"
    )
    print()
    print_table(rows)
    failed = [r.name for r in rows if r.ok is False]
    print()
    print("all targets met" if not failed else f"{len(failed)} target(s) missed")
    if failed:
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a short run (a few seconds)")
    parser.add_argument("--commands", type=int, default=0, help="commands per path")
    parser.add_argument("--iterations", type=int, default=0, help="validation passes per case")
    parser.add_argument("--sessions", type=int, default=0, help="idle sessions to create")
    parser.add_argument(
        "--live-sessions", type=int, default=200, help="live sessions validated in turn"
    )
    parser.add_argument("--rss-probe", choices=sorted(POPULATIONS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.rss_probe:
        asyncio.run(rss_probe(args.sessions or 1000, args.rss_probe))
        return
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()

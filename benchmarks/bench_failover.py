"""How long a session goes without an agent when its worker drains (SIGTERM) or is killed
(SIGKILL of its process group), on a two-node cluster with the dispatch service. Not a test.

One voice-ptt session lives through every round. Each round presses the button, then stops
the worker whose agent runs the session; a new agent on another worker continues it (the
same session id, checked every round). Three workers run over the two nodes: a fresh one
takes the stopped one's place while the next round goes on (as in a rolling restart), and a
round waits only until some other worker is registered. The app's side measures, on its own clock:

- old last -> new first: the last message or attribute change from the old agent to the first
  from the new one (for a kill, the old agent's last word came at any time before it);
- signal -> new first: from the signal to the new agent's first message;
- signal -> active: from the signal until the new agent shows the session active.

p50 and p99 by nearest rank (over 20 rounds the p99 is the slowest round). The drain's gap
is the job hand-over, the webhook, the dispatch and a job start; a kill's adds the time the
server takes to notice a participant is gone (its 15 s ping timeout, see
docs/deployment.md).

    scripts/with-livekit-cluster uv run --no-sync python -m benchmarks.bench_failover \\
        [--rounds 20] [--modes drain,kill]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import signal
import sys
import time
from dataclasses import dataclass, field

from livekit.plugins.session_sync import LiveKitRoom
from livekit.plugins.session_sync.testing import SessionSyncClient, eventually
from support.e2e_app import App, agent_in_room_other_than, dispatch, join_app
from support.livekit_cluster import (
    AgentTimeline,
    Cluster,
    cluster_from_env,
    kill_group,
    registered,
    running_dispatcher,
    start_worker,
)
from support.livekit_server import new_room_name
from support.worker_process import Worker

AGENT = "session-sync-bench-failover"
NEW_AGENT_DEADLINE = 240.0
SLOTS = 3


@dataclass
class Round:
    old_last_to_new_first: float
    signal_to_new_first: float
    signal_to_active: float


@dataclass
class Bench:
    cluster: Cluster
    workers: list[Worker]
    app: App
    timeline: AgentTimeline
    session_id: str
    results: dict[str, list[Round]] = field(default_factory=dict)

    def host(self, agent: str) -> int:
        job = agent.removeprefix("agent-")
        for slot, worker in enumerate(self.workers):
            if worker.count(job) > 0:
                return slot
        raise AssertionError(f"no worker ran job {job}")

    async def one_round(self, mode: str) -> Round:
        app = self.app
        old = app.agent
        await app.call("session.ptt_start")
        await app.until(
            lambda: app.client.agent_attributes().get("session.pushToTalk") == "pressed",
            "the press",
        )
        slot = self.host(old)
        stopping = self.workers[slot]
        await eventually(
            lambda: any(
                w.count("registered worker") > 0 for i, w in enumerate(self.workers) if i != slot
            ),
            timeout=NEW_AGENT_DEADLINE,
            message="another worker registered",
        )
        signalled = time.monotonic()
        if mode == "drain":
            stopping.signal(signal.SIGTERM)
        else:
            kill_group(stopping)
        await eventually(
            lambda: agent_in_room_other_than(app.room, old) is not None,
            timeout=NEW_AGENT_DEADLINE,
            message="a new agent",
        )
        new = agent_in_room_other_than(app.room, old)
        assert new is not None
        client = SessionSyncClient(LiveKitRoom(app.room), new)
        await eventually(
            lambda: client.agent_attributes().get("session.state") == "active",
            timeout=NEW_AGENT_DEADLINE,
            message="the new agent's session",
        )
        active = time.monotonic()
        assert client.session()["sessionId"] == self.session_id, "the session was not continued"
        app.client.close()
        app.client = client
        old_last = self.timeline.last_from(old) or signalled
        new_first = self.timeline.first_after(old_last, excluding=old) or active
        # A fresh worker takes the stopped one's place while the next round goes on, as in a
        # rolling restart; the round waits only for some other worker to be registered.
        await asyncio.to_thread(stopping.wait, 120)
        stopping.stop()
        node = self.cluster.nodes[slot % len(self.cluster.nodes)]
        self.workers[slot] = start_worker(node, AGENT)
        return Round(new_first - old_last, max(0.0, new_first - signalled), active - signalled)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def report(results: dict[str, list[Round]]) -> None:
    print()
    print(
        "| stop | rounds | old last -> new first p50 / p99 | signal -> new first p50 / p99 "
        "| signal -> active p50 / p99 |"
    )
    print("|---|---|---|---|---|")
    for mode, rounds in results.items():
        cells = []
        columns = (
            [r.old_last_to_new_first for r in rounds],
            [r.signal_to_new_first for r in rounds],
            [r.signal_to_active for r in rounds],
        )
        for values in columns:
            cells.append(f"{percentile(values, 50):.2f} s / {percentile(values, 99):.2f} s")
        name = "SIGTERM (drain)" if mode == "drain" else "SIGKILL (group)"
        print(f"| {name} | {len(rounds)} | {' | '.join(cells)} |")


async def main(args: argparse.Namespace) -> int:
    found = cluster_from_env()
    if not isinstance(found, Cluster):
        print(
            f"{found}; run under: scripts/with-livekit-cluster uv run --no-sync python -m "
            "benchmarks.bench_failover"
        )
        return 2
    modes = [m for m in args.modes.split(",") if m]
    if not modes or any(m not in ("drain", "kill") for m in modes):
        print(f"--modes takes drain and/or kill, not {args.modes!r}")
        return 2
    # Every round sends one room a new agent: no per-room limit on how many.
    with running_dispatcher(found, DISPATCHER_MAX_AGENTS_PER_ROOM="0"):
        # Three workers over the two nodes: one stopped, one taking over, one starting.
        nodes = found.nodes
        workers = [start_worker(nodes[i % len(nodes)], AGENT) for i in range(SLOTS)]
        app: App | None = None
        try:
            await registered(*workers)
            room = new_room_name("bench-failover")
            await dispatch(found.nodes[0], room, "voice-ptt", agent_name=AGENT)
            app = await join_app(found.nodes[1], room)
            timeline = AgentTimeline()
            timeline.follow(app.room)
            await app.until(lambda: app.client.session()["type"] == "voice-ptt", "voice-ptt")
            bench = Bench(found, workers, app, timeline, app.client.session()["sessionId"])
            for mode in modes:
                rounds = bench.results.setdefault(mode, [])
                for index in range(args.rounds):
                    result = await bench.one_round(mode)
                    rounds.append(result)
                    print(
                        f"{mode} {index + 1}/{args.rounds}: old last -> new first "
                        f"{result.old_last_to_new_first:.2f} s, signal -> active "
                        f"{result.signal_to_active:.2f} s",
                        flush=True,
                    )
            report(bench.results)
        finally:
            if app is not None:
                await app.leave()
            for worker in workers:
                worker.stop()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20, help="stops of each kind (20)")
    parser.add_argument("--modes", default="drain,kill", help="drain, kill or both (both)")
    sys.exit(asyncio.run(main(parser.parse_args())))

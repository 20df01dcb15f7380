"""Benchmark of the real worker on a real LiveKit server, seen from the app. Not a test.

Starts `python -m agent start` (explicit dispatch, offline models), joins its room as the
user with the Python SDK, and measures the time from the app sending a command to the app
seeing the agent's attributes for its result: `session.sync` (one commit, a new revision) by
RPC and by data message, alternately, at the agent's command rate (10 a second). The clock
starts before the send and stops when the attribute update with the result's revision (or a
later one) arrives at the app, whichever of it and the reply comes first.

    scripts/with-livekit-server uv run --no-sync python benchmarks/bench_e2e.py [-n 240]

Timings on shared machines are noisy: read the percentiles of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from livekit import api, rtc

REPO = Path(__file__).resolve().parents[1]
AGENT_NAME = "session-sync-bench"
RATE = 10.0  # commands a second the agent accepts from one participant
TIMEOUT = 30.0


def worker_env() -> dict[str, str]:
    return {
        **os.environ,
        "AGENT_NAME": AGENT_NAME,
        "TURN_DETECTOR": "vad-only",
        "STT_MODEL": "none",
        "TTS_MODEL": "none",
        "LLM_MODEL": "none",
        "MAX_JOBS": "4",
    }


def spawn_worker() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "agent", "start", "--log-level", "info"],
        cwd=REPO,
        env=worker_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its job processes are stopped with it
    )


async def registered(worker: subprocess.Popen[bytes]) -> None:
    def read_until_registered() -> None:
        assert worker.stdout is not None
        for line in worker.stdout:
            if b"registered worker" in line:
                return
        raise RuntimeError("the worker exited before it registered")

    await asyncio.wait_for(asyncio.to_thread(read_until_registered), 180)
    # Keep reading, so the worker never blocks on a full pipe.
    asyncio.get_running_loop().run_in_executor(None, lambda: worker.stdout and worker.stdout.read())


def stop(worker: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(10)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Attributes:
    """When each revision of the agent's attributes reached the app."""

    def __init__(self, room: rtc.Room) -> None:
        self.arrivals: list[tuple[int, float]] = []
        self._changed = asyncio.Event()
        room.on("participant_attributes_changed", self._on_changed)

    def _on_changed(self, changed: dict[str, str], participant: rtc.Participant) -> None:
        if "session.revision" in changed:
            self.arrivals.append((int(changed["session.revision"]), time.perf_counter()))
            self._changed.set()

    async def seen(self, revision: int, since: float) -> float:
        """When the first attribute update at `revision` or later arrived after `since`."""
        while True:
            for rev, at in self.arrivals:
                if rev >= revision and at >= since:
                    return at
            self._changed.clear()
            await asyncio.wait_for(self._changed.wait(), TIMEOUT)


async def measure(url: str, key: str, secret: str, n: int) -> dict[str, list[float]]:
    room_name = f"bench-e2e-{uuid.uuid4().hex[:8]}"
    async with api.LiveKitAPI(url, key, secret) as lkapi:
        await lkapi.agent_dispatch.create_dispatch(
            api.CreateAgentDispatchRequest(
                agent_name=AGENT_NAME, room=room_name, metadata='{"sessionType": "text"}'
            )
        )
    token = (
        api.AccessToken(key, secret)
        .with_identity("bench-app")
        .with_grants(api.VideoGrants(room_join=True, room=room_name))
        .to_jwt()
    )
    room = rtc.Room()
    attributes = Attributes(room)
    replies: dict[str, asyncio.Future[dict[str, object]]] = {}

    def on_data(packet: rtc.DataPacket) -> None:
        if packet.topic != "session-sync":
            return
        message = json.loads(packet.data)
        future = replies.get(str(message.get("id")))
        if future is not None and not future.done():
            future.set_result(message)

    room.on("data_received", on_data)
    await room.connect(url, token)
    try:
        agent = await wait_for_agent(room)
        latencies: dict[str, list[float]] = {"rpc": [], "data": []}
        for i in range(n):
            transport = "rpc" if i % 2 == 0 else "data"
            started = time.perf_counter()
            params = {"trigger": f"bench-{i}"}
            if transport == "rpc":
                raw = await room.local_participant.perform_rpc(
                    destination_identity=agent,
                    method="session.sync",
                    payload=json.dumps(params),
                    response_timeout=10.0,
                )
                revision = int(json.loads(raw)["revision"])
            else:
                request_id = f"bench-{i}"
                future = replies[request_id] = asyncio.get_running_loop().create_future()
                message = {"type": "request", "id": request_id, "method": "session.sync"}
                payload = json.dumps({**message, "params": params, "v": 1}).encode()
                await room.local_participant.publish_data(
                    payload, topic="session-sync", destination_identities=[agent]
                )
                try:
                    reply = await asyncio.wait_for(future, TIMEOUT)
                finally:
                    del replies[request_id]
                result = reply.get("result")
                assert isinstance(result, dict), reply
                revision = int(result["revision"])
            seen = await attributes.seen(revision, started)
            latencies[transport].append(seen - started)
            await asyncio.sleep(max(0.0, started + 1 / RATE - time.perf_counter()))
        return latencies
    finally:
        await room.disconnect()


async def wait_for_agent(room: rtc.Room) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for identity, participant in room.remote_participants.items():
            if participant.attributes.get("session.state") == "active":
                return identity
        await asyncio.sleep(0.05)
    raise RuntimeError("no agent with an active session joined")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=240, help="commands to send (half by RPC)")
    args = parser.parse_args()
    needed = ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")
    missing = [name for name in needed if not os.environ.get(name)]
    if missing:
        raise SystemExit(
            f"set {', '.join(missing)}, or run: scripts/with-livekit-server uv run --no-sync "
            "python benchmarks/bench_e2e.py"
        )
    url, key, secret = (os.environ[name] for name in needed)
    worker = spawn_worker()
    try:
        await registered(worker)
        latencies = await measure(url, key, secret, args.n)
    finally:
        stop(worker)
    rows = [*latencies.items(), ("all", latencies["rpc"] + latencies["data"])]
    print(f"command -> the app sees its attributes, real server at {url} (session.sync)")
    print(f"{'transport':<10} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, values in rows:
        print(
            f"{name:<10} {len(values):>5} {percentile(values, 0.5) * 1000:>8.1f} "
            f"{percentile(values, 0.99) * 1000:>8.1f} {max(values) * 1000:>8.1f}"
        )


if __name__ == "__main__":
    asyncio.run(main())

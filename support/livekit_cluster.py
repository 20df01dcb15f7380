"""A LiveKit cluster for the multi-node, drain and failover tests and their benchmark.

`scripts/with-livekit-cluster` runs Redis and two server nodes sharing it and names them in
LIVEKIT_NODE_URLS; both post their webhooks to LIVEKIT_WEBHOOK_PORT, where the dispatch
service (`python -m agent.dispatcher`) started here listens. Workers and the app are those of
the e2e tests (`support/worker_process.py`, `support/e2e_app.py`). The tests' fixtures, which
skip without a cluster, are in `tests/e2e/cluster/conftest.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from livekit import rtc

from livekit.plugins.session_sync import TOPIC
from support.livekit_server import ServerInfo
from support.worker_process import LOGS, REPO, STARTED, Worker

WORKER_REGISTERS = 300.0
"""A `start` worker registers once its job processes are warm: minutes on a busy machine."""


@dataclass(frozen=True)
class Cluster:
    nodes: tuple[ServerInfo, ...]
    webhook_port: int


def _reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def cluster_from_env() -> Cluster | str:
    """The cluster `scripts/with-livekit-cluster` started, or what is missing."""
    urls = os.environ.get("LIVEKIT_NODE_URLS", "").split()
    key, secret = os.environ.get("LIVEKIT_API_KEY"), os.environ.get("LIVEKIT_API_SECRET")
    port = os.environ.get("LIVEKIT_WEBHOOK_PORT", "")
    if len(urls) < 2 or not key or not secret or not port.isdigit():
        return "needs a LiveKit cluster: LIVEKIT_NODE_URLS (two nodes) and the keys not set"
    if not all(_reachable(int(url.rsplit(":", 1)[1])) for url in urls):
        return f"not every node answers: {urls}"
    return Cluster(tuple(ServerInfo(url, key, secret) for url in urls), int(port))


def cluster_worker_env(node: ServerInfo, agent_name: str, **settings: str) -> dict[str, str]:
    return {
        "LIVEKIT_URL": node.url,
        "LIVEKIT_API_KEY": node.api_key,
        "LIVEKIT_API_SECRET": node.api_secret,
        "AGENT_NAME": agent_name,
        "MAX_JOBS": "16",  # count jobs: a shared machine is often above the CPU mark
        "HEALTH_PORT": "0",  # several `start` workers on one machine
        "STT_MODEL": "local",  # voice-ptt with no keys and no network
        "REJOIN_GRACE_SECONDS": "10",
        **settings,
    }


def start_worker(node: ServerInfo, agent_name: str, **settings: str) -> Worker:
    """A `start` worker on `node`; wait for it with `registered`."""
    return Worker("start", cluster_worker_env(node, agent_name, **settings))


async def registered(*workers: Worker) -> None:
    await asyncio.gather(
        *(w.output("registered worker", timeout=WORKER_REGISTERS) for w in workers)
    )


def kill_group(worker: Worker) -> None:
    """SIGKILL the worker and every job process it started: no goodbye from any of them."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.process.pid, signal.SIGKILL)


class Dispatcher:
    """`python -m agent.dispatcher` on the cluster's webhook port; its log is kept."""

    def __init__(self, cluster: Cluster, **settings: str) -> None:
        node = cluster.nodes[0]
        env = {
            **os.environ,
            "LIVEKIT_URL": node.url,
            "LIVEKIT_API_KEY": node.api_key,
            "LIVEKIT_API_SECRET": node.api_secret,
            "DISPATCHER_PORT": str(cluster.webhook_port),
            **settings,
        }
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log_path = LOGS / f"e2e-dispatcher-{time.strftime('%H%M%S')}-{os.getpid()}.log"
        STARTED.append(self.log_path)
        self._log = self.log_path.open("w")
        self.port = cluster.webhook_port
        self.process = subprocess.Popen(
            [sys.executable, "-m", "agent.dispatcher"],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not _reachable(self.port):
            if self.process.poll() is not None:
                raise AssertionError(f"the dispatcher exited: {self.log_path}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the dispatcher never listened: {self.log_path}")
            time.sleep(0.1)

    def log(self) -> str:
        return Path(self.log_path).read_text()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self._log.close()


@contextlib.contextmanager
def running_dispatcher(cluster: Cluster, **settings: str) -> Iterator[Dispatcher]:
    """The dispatch service, with `settings` (`DISPATCHER_...`) on top of the cluster's."""
    dispatcher = Dispatcher(cluster, **settings)
    try:
        dispatcher.wait_ready()
        yield dispatcher
    finally:
        dispatcher.stop()


@dataclass
class Heard:
    at: float
    """time.monotonic() when the app received it."""
    sender: str
    kind: str
    """"event" (a session-sync message) or "attributes" (the agent's attributes changed)."""
    body: dict[str, Any]


@dataclass
class AgentTimeline:
    """Everything an app hears from agents, with the time and the sender: which agent spoke
    last, and when the next one first did."""

    heard: list[Heard] = field(default_factory=list)

    def follow(self, room: rtc.Room) -> None:
        def on_data(packet: rtc.DataPacket) -> None:
            sender = packet.participant.identity if packet.participant else ""
            if packet.topic == TOPIC:
                self.heard.append(Heard(time.monotonic(), sender, "event", json.loads(packet.data)))

        def on_attributes(changed: dict[str, str], participant: rtc.Participant) -> None:
            if participant.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT:
                self.heard.append(
                    Heard(time.monotonic(), participant.identity, "attributes", changed)
                )

        room.on("data_received", on_data)
        room.on("participant_attributes_changed", on_attributes)

    def last_from(self, agent: str) -> float | None:
        times = [h.at for h in self.heard if h.sender == agent]
        return max(times) if times else None

    def first_from(self, agent: str) -> float | None:
        times = [h.at for h in self.heard if h.sender == agent]
        return min(times) if times else None

    def first_after(self, since: float, excluding: str) -> float | None:
        """When an agent other than `excluding` was first heard after `since` (an event that
        came before LiveKit announced its sender has none, and counts)."""
        times = [h.at for h in self.heard if h.at >= since and h.sender != excluding]
        return min(times) if times else None

    def events(self, since: float = 0.0) -> list[Heard]:
        return [h for h in self.heard if h.kind == "event" and h.at >= since]

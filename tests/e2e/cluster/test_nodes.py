"""Two LiveKit nodes sharing Redis, a worker registered on each: rooms opened through either
node get an agent, rooms spread over both workers, and the basic scenario runs in each."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from support.e2e_app import App, dispatch, join_app
from support.livekit_cluster import WORKER_REGISTERS, Cluster, start_worker
from support.livekit_server import ServerInfo, new_room_name
from support.worker_process import Worker

from .scenario import basic_session_sync

pytestmark = [pytest.mark.livekit_cluster]

CLUSTER_AGENT = "session-sync-cluster"
ROOMS = 20
OPENING_AT_ONCE = 5
"""Rooms opened at the same time: enough to overlap, few enough for two shared cores."""


@pytest.fixture(scope="module")
def workers(cluster: Cluster) -> Iterator[list[Worker]]:
    # Each job in a process of its own, as in production. On threads, ten jobs share one
    # interpreter, and on a loaded machine a job starting among them could answer LiveKit's
    # connect handshake too late: its room never connected ("timed out waiting for
    # ReadyForRoomEventRequest after ConnectCallback") and the app saw no session.
    started: list[Worker] = []
    try:
        for node in cluster.nodes:
            started.append(start_worker(node, CLUSTER_AGENT))
        for worker in started:
            worker.wait_for_output("registered worker", timeout=WORKER_REGISTERS)
        yield started
    finally:
        for worker in started:
            worker.stop()


async def open_room(node: ServerInfo, prefix: str) -> App:
    """What the app's backend and the app do, both through `node`."""
    room = new_room_name(prefix)
    await dispatch(node, room, "text", agent_name=CLUSTER_AGENT)
    return await join_app(node, room)


def workers_of(room: str, workers: list[Worker]) -> list[int]:
    """Which workers ran a job in `room` (by their logs)."""
    return [i for i, worker in enumerate(workers) if worker.count(f'"room": "{room}"') > 0]


async def test_rooms_opened_through_either_node_get_an_agent(
    cluster: Cluster, workers: list[Worker]
) -> None:
    for node in cluster.nodes:
        app = await open_room(node, "e2e-node")
        try:
            await basic_session_sync(app)
        finally:
            await app.leave()


async def test_twenty_rooms_spread_over_both_workers_each_running_the_basic_scenario(
    cluster: Cluster, workers: list[Worker]
) -> None:
    gate = asyncio.Semaphore(OPENING_AT_ONCE)
    apps: list[App] = []

    async def one_room(index: int) -> None:
        async with gate:
            app = await open_room(cluster.nodes[index % len(cluster.nodes)], f"e2e-spread{index}")
            apps.append(app)
            await basic_session_sync(app)

    try:
        await asyncio.gather(*(one_room(i) for i in range(ROOMS)))
        placed = {app.room.name: workers_of(app.room.name, workers) for app in apps}
        assert all(len(on) == 1 for on in placed.values()), f"each room on one worker: {placed}"
        used = {on[0] for on in placed.values()}
        assert used == set(range(len(workers))), f"rooms by worker: {placed}"
    finally:
        await asyncio.gather(*(app.leave() for app in apps), return_exceptions=True)

"""PROMETHEUS_PORT: the worker's /metrics shows what its jobs, in child processes, counted, and
the framework's own series, counted in the worker process."""

from __future__ import annotations

import asyncio
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from support.e2e_app import dispatch, join_app
from support.livekit_server import ServerInfo, new_room_name
from support.worker_process import Worker

pytestmark = [pytest.mark.livekit_server]


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def commands(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], method: str) -> float:
    key = ("session_sync_commands_total", (("method", method), ("outcome", "ok")))
    return samples.get(key, 0.0)


async def test_metrics_show_the_commands_and_events_of_the_jobs(
    info: ServerInfo, worker: Worker, metrics_port: int
) -> None:
    url = worker.metrics_url(metrics_port)
    before = commands(await asyncio.to_thread(scrape, url), "session.validate")
    room = new_room_name("e2e-metrics")
    await dispatch(info, room, "text")
    app = await join_app(info, room)
    try:
        await app.call("session.validate")
        reply = await app.request("session.validate")
        assert reply["type"] == "ack"
    finally:
        await app.leave()

    samples = await asyncio.to_thread(scrape, url)
    assert commands(samples, "session.validate") == before + 2
    assert samples[("session_sync_events_total", (("type", "session_state_sync"),))] >= 1
    assert any(name == "session_sync_command_duration_seconds_count" for name, _ in samples)


FRAMEWORK_SERIES = (
    "lk_agents_active_job_count",
    "lk_agents_worker_load",
    "lk_agents_child_process_count",
    "lk_agents_proc_initialize_duration_seconds_count",
)


async def test_metrics_show_the_frameworks_own_series_beside_session_syncs(
    info: ServerInfo, worker: Worker, metrics_port: int
) -> None:
    room = new_room_name("e2e-metrics-framework")
    await dispatch(info, room, "text")
    app = await join_app(info, room)
    try:
        await app.call("session.validate")  # the job has started once this is answered
        samples = await asyncio.to_thread(scrape, worker.metrics_url(metrics_port))
    finally:
        await app.leave()
    names = {name for name, _ in samples}
    missing = [series for series in FRAMEWORK_SERIES if series not in names]
    assert not missing, f"/metrics lacks the framework's {missing}"
    assert "session_sync_commands_total" in names

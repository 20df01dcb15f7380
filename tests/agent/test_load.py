"""The worker's load: jobs against capacity, its own CPU as a guard, and refusals said aloud."""

import inspect
import logging

import pytest
from livekit.agents import AgentServer

from agent.load import CPU_WINDOW_SECONDS, SERVER_TARGET_LOAD, OwnCpu, WorkerLoad, judge
from agent.server import SessionSyncServer, build_server
from agent.settings import load_settings


def test_each_job_costs_its_share_of_the_capacity_below_the_servers_target() -> None:
    assert judge(0, 4, None, 0.9).value == 0.0
    assert judge(1, 4, 0.2, 0.9).value == pytest.approx(SERVER_TARGET_LOAD / 4)
    # One place left: still below the load above which LiveKit's server offers no job.
    last = judge(3, 4, 0.5, 0.9)
    assert last.full_because is None and last.value < SERVER_TARGET_LOAD


def test_the_worker_is_full_at_capacity_and_says_so() -> None:
    load = judge(4, 4, 0.1, 0.9)
    assert load.value == 1.0
    assert load.full_because == "4 of 4 jobs running (MAX_JOBS)"


def test_its_own_cpu_above_the_guard_makes_it_full() -> None:
    load = judge(1, 4, 0.95, 0.9)
    assert load.value == 1.0
    assert load.full_because is not None and "95%" in load.full_because
    assert "CPU_GUARD=0.9" in load.full_because


def test_turning_full_is_logged_once_at_warning_with_the_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    jobs = [0]
    load = WorkerLoad(capacity=2, cpu_guard=0.9, cpu=lambda: 0.1, jobs=lambda: jobs[0])
    with caplog.at_level(logging.INFO, logger="agent.load"):
        assert load() == 0.0
        jobs[0] = 2
        assert load() == 1.0
        assert load() == 1.0
        jobs[0] = 1
        assert load() == pytest.approx(SERVER_TARGET_LOAD / 2)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "worker full" in warnings[0].getMessage()
    assert "2 of 2 jobs running" in warnings[0].getMessage()
    assert "takes jobs again" in caplog.records[-1].getMessage()


def test_own_cpu_is_averaged_over_a_window_and_counts_this_process() -> None:
    now = [0.0]
    cpu = OwnCpu(cpu_count=1.0, clock=lambda: now[0])
    assert cpu.share() is None  # no window yet
    now[0] = CPU_WINDOW_SECONDS
    share = cpu.share()
    assert share is not None and share >= 0.0  # a real measure of this test's process


def test_the_server_reports_load_by_jobs_and_is_full_at_one(clean_env: object) -> None:
    server = build_server(load_settings(max_jobs=3))
    assert isinstance(server, SessionSyncServer)
    assert server.worker_load is not None and server.worker_load.capacity == 3
    assert server.load_fnc is server.worker_load
    assert server._load_threshold == 1.0


def test_refusing_an_offer_is_logged_with_the_room_and_the_reason(
    clean_env: object, caplog: pytest.LogCaptureFixture
) -> None:
    # livekit-agents 1.8.9 decides an offer in `_answer_availability` through `_is_available`;
    # the override relies on both.
    source = inspect.getsource(AgentServer._answer_availability)
    assert "if not self._is_available():" in source

    server = build_server(load_settings(max_jobs=1))
    assert server.worker_load is not None
    server.worker_load._jobs = lambda: 1
    server.worker_load._cpu = lambda: None
    server._get_effective_load = server.worker_load  # type: ignore[method-assign]
    server._draining = False
    server._simulation = False
    server._devmode = False
    with caplog.at_level(logging.WARNING, logger="agent.worker"):
        assert server._is_available() is False
    assert "refused the job" in caplog.text and "1 of 1 jobs running" in caplog.text


def offered_server(
    monkeypatch: pytest.MonkeyPatch, max_jobs: int, running: int, accepted: int
) -> SessionSyncServer:
    """A `start` worker with `running` jobs and `accepted` more said yes to, not started yet."""
    server = build_server(load_settings(max_jobs=max_jobs))
    assert server.worker_load is not None
    server.worker_load._jobs = lambda: running
    server.worker_load._cpu = lambda: None
    monkeypatch.setattr(AgentServer, "active_jobs", property(lambda _: [object()] * running))
    server._worker_load = server.worker_load()
    server._reserved_slots = accepted
    server._draining = False
    server._simulation = False
    server._devmode = False
    return server


def test_an_idle_worker_takes_several_offers_arriving_at_once(
    clean_env: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Counted the framework's way, two accepted jobs filled an idle worker on 2 cores.
    server = offered_server(monkeypatch, max_jobs=16, running=0, accepted=3)
    assert server._is_available() is True


def test_jobs_accepted_but_not_started_count_against_max_jobs(
    clean_env: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert offered_server(monkeypatch, max_jobs=4, running=2, accepted=1)._is_available()
    # Two running and two on their way fill four places: a fifth is refused.
    assert not offered_server(monkeypatch, max_jobs=4, running=2, accepted=2)._is_available()

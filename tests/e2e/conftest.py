"""One shared worker for the e2e tests: `python -m agent start`, explicit dispatch, metrics on,
reaching the server through a relay the tests can cut."""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest

from support.e2e_app import AGENT_NAME
from support.livekit_server import ServerInfo
from support.worker_process import STARTED, Worker, free_port, running_worker

REJOIN_GRACE_SECONDS = 10.0
"""Short, so a user who leaves for good ends the job soon; long enough for an app's full
reconnect on a busy machine, which the agent must not take for leaving."""


START_LOAD = {"MAX_JOBS": "16"}
"""For `start` workers: room for every room the tests open at once, whatever the number of
cores (the default capacity is two jobs per core)."""


def worker_env(info: ServerInfo, **settings: str) -> dict[str, str]:
    return {
        "LIVEKIT_URL": info.url,
        "LIVEKIT_API_KEY": info.api_key,
        "LIVEKIT_API_SECRET": info.api_secret,
        **settings,
    }


@pytest.fixture(scope="session")
def metrics_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def worker(info: ServerInfo, metrics_port: int) -> Iterator[Worker]:
    env = worker_env(
        info,
        **START_LOAD,
        AGENT_NAME=AGENT_NAME,
        PROMETHEUS_PORT=str(metrics_port),
        REJOIN_GRACE_SECONDS=str(REJOIN_GRACE_SECONDS),
    )
    with running_worker("start", env, relayed=True) as running:
        yield running


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed and STARTED:
        report.sections.append(("worker logs", "\n".join(str(path) for path in STARTED)))
    return report

"""One shared worker for the e2e tests: `python -m agent start`, explicit dispatch, metrics on.

It runs in a network namespace of its own where the machine allows it (root, as under
`scripts/with-livekit-server`), so its link to the server can be cut.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from ..support.livekit_server import ServerInfo, require_server
from .app import AGENT_NAME
from .worker import Worker, can_isolate, free_port, running_worker

REJOIN_GRACE_SECONDS = 3.0
METRICS_PORT_IN_NAMESPACE = 9464


def worker_env(info: ServerInfo, **settings: str) -> dict[str, str]:
    return {
        "LIVEKIT_URL": info.url,
        "LIVEKIT_API_KEY": info.api_key,
        "LIVEKIT_API_SECRET": info.api_secret,
        # A shared machine is often above the framework's 70% CPU mark: count jobs instead.
        "MAX_JOBS": "16",
        **settings,
    }


@pytest.fixture(scope="session")
def info() -> ServerInfo:
    return require_server()


@pytest.fixture(scope="session")
def metrics_port() -> int:
    return METRICS_PORT_IN_NAMESPACE if can_isolate() else free_port()


@pytest.fixture(scope="session")
def worker(info: ServerInfo, metrics_port: int) -> Iterator[Worker]:
    env = worker_env(
        info,
        AGENT_NAME=AGENT_NAME,
        PROMETHEUS_PORT=str(metrics_port),
        REJOIN_GRACE_SECONDS=str(REJOIN_GRACE_SECONDS),
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with running_worker("start", env, isolated=can_isolate()) as running:
        yield running

"""The cluster's fixtures: the nodes of `scripts/with-livekit-cluster` and the dispatch
service listening for their webhooks."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from support.livekit_cluster import Cluster, Dispatcher, cluster_from_env, running_dispatcher

HOW_TO_RUN_CLUSTER = "run under: scripts/with-livekit-cluster uv run pytest -m livekit_cluster"


def require_cluster() -> Cluster:
    """The cluster under test, or skip (fail in CI) with the command that starts one."""
    found = cluster_from_env()
    if isinstance(found, Cluster):
        return found
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"{found} (CI must run every cluster test)", pytrace=False)
    pytest.skip(f"{found}; {HOW_TO_RUN_CLUSTER}")


@pytest.fixture(scope="session")
def cluster() -> Cluster:
    return require_cluster()


@pytest.fixture(scope="session")
def dispatcher(cluster: Cluster) -> Iterator[Dispatcher]:
    with running_dispatcher(cluster) as running:
        yield running

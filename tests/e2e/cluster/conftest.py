"""The cluster's fixtures: the nodes of `scripts/with-livekit-cluster` and the dispatch
service listening for their webhooks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .harness import Cluster, Dispatcher, require_cluster, running_dispatcher


@pytest.fixture(scope="session")
def cluster() -> Cluster:
    return require_cluster()


@pytest.fixture(scope="session")
def dispatcher(cluster: Cluster) -> Iterator[Dispatcher]:
    with running_dispatcher(cluster) as running:
        yield running

"""The hand-over mark belongs to one worker: a worker never inherits another's drain."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.handover import HANDOVER_DIR_ENV, handing_over, mark_handing_over, prepare_handover_mark


def test_a_worker_started_from_a_drained_workers_environment_does_not_hand_its_sessions_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A worker that drained earlier left its mark in a directory its environment names.
    monkeypatch.setenv(HANDOVER_DIR_ENV, str(tmp_path))
    mark_handing_over()
    assert handing_over()

    prepare_handover_mark()  # a new worker, started with that environment

    assert os.environ[HANDOVER_DIR_ENV] != str(tmp_path)
    assert not handing_over()


def test_the_mark_is_seen_once_the_worker_drains(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(HANDOVER_DIR_ENV, raising=False)
    prepare_handover_mark()
    assert not handing_over()
    mark_handing_over()
    assert handing_over()

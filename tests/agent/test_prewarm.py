"""Where the worker's models are loaded: once per process, whatever runs the jobs."""

import os
import threading
import time
from pathlib import Path
from typing import Any, cast

import pytest
from livekit.agents import JobExecutorType, JobProcess

from agent import heap, speech_models
from agent.__main__ import main
from agent.heap import HeapKeeper, HeapOptions
from agent.server import executor_options, prewarm
from agent.session import Prewarmed
from agent.settings import Settings, load_settings
from agent.speech_models import LoadedModels, TurnDetectorPlan, preload_shared_models


class _Proc:
    """What prewarm uses of a `JobProcess`: one per job under the thread executor."""

    def __init__(self) -> None:
        self.userdata: dict[str, Any] = {}


@pytest.fixture
def fresh_process(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> list[Settings]:
    """A process that has loaded nothing yet; records each load of the models."""
    monkeypatch.setattr(speech_models, "_process_models", {})
    # The heap of this test process is left alone: its keeper counts as started.
    monkeypatch.setattr(heap, "_keeper", HeapKeeper(HeapOptions(0, 0)))
    loads: list[Settings] = []

    def load(settings: Settings, plan: TurnDetectorPlan) -> LoadedModels:
        loads.append(settings)
        time.sleep(0.05)  # long enough for concurrent prewarms to overlap
        return LoadedModels(vad=cast(Any, object()), plan=plan)

    monkeypatch.setattr(speech_models, "load_models", load)
    return loads


def prewarmed(proc: _Proc) -> LoadedModels:
    value = proc.userdata["prewarmed"]
    assert isinstance(value, Prewarmed)
    return value.models


def test_every_job_prewarm_in_a_process_shares_one_load_of_the_models(
    fresh_process: list[Settings],
) -> None:
    procs = [_Proc() for _ in range(4)]
    threads = [threading.Thread(target=prewarm, args=(cast(JobProcess, p),)) for p in procs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(fresh_process) == 1
    assert len({id(prewarmed(p)) for p in procs}) == 1


def test_a_process_forked_after_the_preload_loads_nothing_in_its_prewarm(
    fresh_process: list[Settings],
) -> None:
    preload_shared_models()  # in the forkserver
    proc = _Proc()
    prewarm(cast(JobProcess, proc))  # in the job process

    assert len(fresh_process) == 1
    assert prewarmed(proc).plan.effective == "audio"


def test_a_failed_preload_leaves_the_load_to_the_prewarm(
    fresh_process: list[Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TURN_DETECTOR", "english")
    monkeypatch.setenv("TURN_DETECTOR_FALLBACK", "refuse")
    monkeypatch.setattr(speech_models, "missing_hub_files", lambda choice: "the model")

    preload_shared_models()

    assert fresh_process == []


def test_the_startup_heap_is_frozen_by_the_first_prewarm_only(
    fresh_process: list[Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(heap, "_keeper", None)
    monkeypatch.setenv("GC_FREEZE_INTERVAL_SECONDS", "0")  # no keeper thread in the tests
    freezes: list[None] = []
    monkeypatch.setattr(heap, "freeze_startup_heap", lambda: freezes.append(None))

    for _ in range(3):
        prewarm(cast(JobProcess, _Proc()))

    assert len(freezes) == 1


def test_job_executor_chooses_the_framework_executor(clean_env: Path) -> None:
    process = executor_options(load_settings())
    thread = executor_options(load_settings(job_executor="thread"))

    assert process == {
        "job_executor_type": JobExecutorType.PROCESS,
        "preload_modules": ["agent.preload"],
    }
    assert thread == {"job_executor_type": JobExecutorType.THREAD}


def test_the_worker_leaves_the_end_of_turn_preload_to_the_framework(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LIVEKIT_AGENTS_PRELOAD_LOCAL_INFERENCE", raising=False)

    with pytest.raises(SystemExit):
        main(["agent", "start"])  # stops for want of a server, after choosing the models

    assert "LIVEKIT_AGENTS_PRELOAD_LOCAL_INFERENCE" not in os.environ

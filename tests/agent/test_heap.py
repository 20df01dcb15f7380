"""The heap keeper: survivors frozen out of full collections, frozen garbage reclaimed."""

from __future__ import annotations

import gc
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agent import heap
from agent.heap import HeapKeeper, HeapOptions, freeze_survivors, keep_heap, reclaim
from agent.settings import SettingsError, load_settings


class _Node:
    """One half of a reference cycle: only the collector can free it."""

    def __init__(self) -> None:
        self.other: _Node | None = None


def _cycle() -> weakref.ref[_Node]:
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def _tracked(obj: object) -> bool:
    """Whether the collector still walks `obj` (frozen objects are out of its sight)."""
    return any(o is obj for o in gc.get_objects())


def _eventually(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.01)


@pytest.fixture(autouse=True)
def restore_the_heap() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_freezing_survivors_frees_young_cycles_and_freezes_what_lives() -> None:
    garbage = _cycle()
    alive = _Node()
    alive.other = alive

    freeze_survivors()

    assert garbage() is None
    assert not _tracked(alive)
    assert gc.get_freeze_count() > 0


def test_a_frozen_cycle_that_becomes_garbage_waits_for_the_reclaim() -> None:
    holder = [_Node()]
    holder[0].other = holder[0]
    watched = weakref.ref(holder[0])
    freeze_survivors()

    holder.clear()
    gc.collect()
    assert watched() is not None  # frozen: no collection looks at it

    assert reclaim() > 0
    assert watched() is None
    assert gc.get_freeze_count() > 0  # what lives is frozen again


def test_the_keeper_freezes_on_its_interval_and_reclaims_on_its_own() -> None:
    keeper = HeapKeeper(HeapOptions(freeze_interval=0.01, reclaim_interval=0.2))
    holder = [_Node()]
    holder[0].other = holder[0]
    watched = weakref.ref(holder[0])
    keeper.start()
    try:
        _eventually(lambda: not _tracked(holder[0]), "the object frozen")
        holder.clear()
        _eventually(lambda: watched() is None, "the frozen cycle reclaimed")
    finally:
        keeper.stop()
    assert not keeper.running


def test_a_keeper_with_no_freeze_interval_starts_no_thread() -> None:
    keeper = HeapKeeper(HeapOptions(freeze_interval=0, reclaim_interval=600))
    threads = threading.active_count()
    keeper.start()
    assert not keeper.running
    assert threading.active_count() == threads


def test_the_process_gets_one_keeper_and_one_start_up_freeze(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(heap, "_keeper", None)
    freezes: list[None] = []
    monkeypatch.setattr(heap, "freeze_startup_heap", lambda: freezes.append(None))
    options = HeapOptions(freeze_interval=60, reclaim_interval=0)

    keepers = [keep_heap(options) for _ in range(3)]
    try:
        assert len(freezes) == 1
        assert all(k is keepers[0] for k in keepers)
        assert keepers[0].running
    finally:
        keepers[0].stop()


def test_the_intervals_come_from_the_settings(clean_env: Path) -> None:
    options = load_settings(
        gc_freeze_interval_seconds=2, gc_reclaim_interval_seconds=0
    ).heap_options()
    assert options == HeapOptions(freeze_interval=2, reclaim_interval=0)


def test_only_a_process_shared_by_jobs_freezes_survivors_unless_told(clean_env: Path) -> None:
    assert load_settings(job_executor="thread").heap_options().freeze_interval == 5
    assert load_settings(job_executor="process").heap_options().freeze_interval == 0
    told = load_settings(job_executor="process", gc_freeze_interval_seconds=1)
    assert told.heap_options().freeze_interval == 1


def test_a_negative_interval_is_refused_by_name(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GC_RECLAIM_INTERVAL_SECONDS", "-1")
    with pytest.raises(SettingsError, match="GC_RECLAIM_INTERVAL_SECONDS"):
        load_settings()


def test_an_interval_under_a_second_is_refused_with_the_rule(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GC_FREEZE_INTERVAL_SECONDS", "0.01")
    with pytest.raises(SettingsError, match=r"GC_FREEZE_INTERVAL_SECONDS.*at least 1 second"):
        load_settings()

"""The job waits a while for its user to come back, then leaves."""

import asyncio
from types import SimpleNamespace
from typing import Any

from livekit import rtc

from agent.server import leave_when_user_gone
from livekit.plugins.session_sync.testing import eventually


class FakeJob:
    def __init__(self) -> None:
        self.room: rtc.EventEmitter[Any] = rtc.EventEmitter()
        self.shutdowns: list[str] = []
        self.callbacks: list[Any] = []

    def shutdown(self, reason: str = "") -> None:
        self.shutdowns.append(reason)

    def add_shutdown_callback(self, callback: Any) -> None:
        self.callbacks.append(callback)


async def test_user_who_stays_away_ends_the_job() -> None:
    job = FakeJob()
    leave_when_user_gone(job, "user", grace_seconds=0.05)  # type: ignore[arg-type]
    job.room.emit("participant_disconnected", SimpleNamespace(identity="someone-else"))
    job.room.emit("participant_disconnected", SimpleNamespace(identity="user"))
    await eventually(lambda: bool(job.shutdowns), timeout=30, message="the job to end")
    assert job.shutdowns == ["user did not return"]


async def test_user_who_rejoins_in_time_keeps_the_job() -> None:
    job = FakeJob()
    leave_when_user_gone(job, "user", grace_seconds=0.05)  # type: ignore[arg-type]
    job.room.emit("participant_disconnected", SimpleNamespace(identity="user"))
    job.room.emit("participant_connected", SimpleNamespace(identity="user"))
    await asyncio.sleep(0.1)
    assert job.shutdowns == []

"""A leaving agent waits for a link that is resuming before it sends its last state."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from livekit import rtc

from agent.room_echo import room_connected


class ResumingRoom(rtc.EventEmitter[str]):
    """A room whose link is resuming, as the SDK shows it: not connected until `reconnected`."""

    def __init__(self) -> None:
        super().__init__()
        self.connected = False

    def isconnected(self) -> bool:
        return self.connected

    def resume(self) -> None:
        self.connected = True
        self.emit("reconnected")


def as_room(room: ResumingRoom) -> rtc.Room:
    return cast(Any, room)


async def test_a_link_that_resumes_in_time_counts_as_connected() -> None:
    room = ResumingRoom()
    asyncio.get_running_loop().call_soon(room.resume)
    assert await room_connected(as_room(room), timeout=30.0)


async def test_a_link_that_stays_down_is_reported_once_the_wait_is_over() -> None:
    assert not await room_connected(as_room(ResumingRoom()), timeout=0.05)

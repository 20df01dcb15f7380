"""Waiting on the room: for the server to echo an attribute of the agent's, or for the link."""

from __future__ import annotations

import asyncio

from livekit import rtc


async def attribute_echoed(room: rtc.Room, key: str, value: str, *, timeout: float) -> bool:
    """Whether the server showed the agent's attribute `key` at `value` within `timeout`:
    the room shows an update only once the server has applied it."""
    echoed = asyncio.Event()

    def check(*_: object) -> None:
        if room.local_participant.attributes.get(key) == value:
            echoed.set()

    room.on("participant_attributes_changed", check)
    try:
        check()
        await asyncio.wait_for(echoed.wait(), timeout)
        return True
    except TimeoutError:
        return False
    finally:
        room.off("participant_attributes_changed", check)


async def room_connected(room: rtc.Room, *, timeout: float) -> bool:
    """Whether the room is connected, or reconnects within `timeout`: under load the SDK can be
    resuming its link just as the job ends, and what is sent then is lost."""
    if room.isconnected():
        return True
    reconnected = asyncio.Event()

    def on_reconnected(*_: object) -> None:
        reconnected.set()

    room.on("reconnected", on_reconnected)
    try:
        await asyncio.wait_for(reconnected.wait(), timeout)
    except TimeoutError:
        pass
    finally:
        room.off("reconnected", on_reconnected)
    return room.isconnected()

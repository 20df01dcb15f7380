"""Waiting for the server to echo one of the agent's own attributes."""

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

"""Reconnect cycles: the app's or the agent's link drops (a resume, or a full reconnect as a
new participant), some while push-to-talk is held and some in the middle of a switch. After
every cycle the agent's state, its attributes and the app's view must agree."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from livekit import rtc

from livekit.plugins.session_sync.testing import SessionFollower

from .rig import AGENT, Rig, quiet_options

LINKS = ("app-resume", "app-full", "agent-resume", "agent-full")
DURING = ("nothing", "press", "switch")
TYPES = ("text", "voice-ptt", "voice-vad")


@dataclass
class ReconnectReport:
    cycles: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    mismatched: list[str] = field(default_factory=list)
    escaped: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not (self.mismatched or self.escaped)


async def reconnect_cycles(cycles: int, *, seed: int = 1) -> ReconnectReport:
    rng = random.Random(seed)
    report = ReconnectReport()
    # A switch takes a couple of milliseconds, so a link can drop in the middle of one.
    rig = await Rig.create(quiet_options(rate_burst=10**6, rate_per_second=1e6), turn_delay=0.002)
    follower = SessionFollower(rig.user_room, AGENT, retry_delay=0.005)
    follower.start()
    started = time.perf_counter()
    try:
        await _call(rig, "session.start", {"sessionType": "voice-ptt"})
        for cycle in range(cycles):
            link, during = rng.choice(LINKS), rng.choice(DURING)
            report.kinds[f"{link} during {during}"] += 1
            report.cycles += 1
            found = await _cycle(rig, follower, rng, link, during)
            if found:
                report.mismatched.append(f"cycle {cycle} ({link}, {during}): {'; '.join(found)}")
        report.escaped += rig.faults()
    finally:
        report.seconds = time.perf_counter() - started
        await follower.aclose()
        await rig.aclose()
    return report


async def _cycle(
    rig: Rig, follower: SessionFollower, rng: random.Random, link: str, during: str
) -> list[str]:
    found: list[str] = []
    switch: asyncio.Task[Any] | None = None
    if during == "press":
        await _ready_to_press(rig)
        await _call(rig, "session.ptt_start")
    elif during == "switch":
        if rig.sync.config.type is None or rig.sync.config.state != "active":
            await _call(rig, "session.start", {"sessionType": rng.choice(TYPES)})
        target = rng.choice([t for t in TYPES if t != rig.sync.config.type])
        switch = asyncio.create_task(_call(rig, "session.switch", {"sessionType": target}))
        for _ in range(200):  # until the agent is changing its turn-taking
            if rig.turns.applying:
                break
            await asyncio.sleep(0.0002)
    await _drop(rig, link, rng)
    if switch is not None:
        await switch
    await rig.quiesce(also=lambda: follower.idle)
    found += rig.mismatches(follower)
    if during == "press":
        if not rig.sync.ptt_pressed:
            found.append("the press was lost")
        await _call(rig, "session.ptt_end")
        await rig.quiesce(also=lambda: follower.idle)
        found += rig.mismatches(follower)
    return found


async def _drop(rig: Rig, link: str, rng: random.Random) -> None:
    room = rig.user_room if link.startswith("app") else rig.agent_room
    if link.endswith("full"):
        await room.simulate_full_reconnect()
        return
    room.simulate_reconnecting()
    await asyncio.sleep(rng.choice([0, 0.001, 0.003]))
    room.simulate_reconnected()


async def _ready_to_press(rig: Rig) -> None:
    config = rig.sync.config
    if config.type is None or config.state != "active":
        await _call(rig, "session.start", {"sessionType": "voice-ptt"})
    elif config.type != "voice-ptt":
        await _call(rig, "session.switch", {"sessionType": "voice-ptt"})
    if rig.sync.config.is_muted:
        await _call(rig, "session.set_muted", {"muted": False})


async def _call(rig: Rig, method: str, params: dict[str, Any] | None = None) -> str | None:
    """The app's command; a refusal (the link was down, say) is part of the game."""
    if rig.user_room.connection_state != "connected":
        return None
    try:
        return await rig.user_room.perform_rpc(
            destination_identity=AGENT,
            method=method,
            payload=json.dumps(params or {}),
            response_timeout=10.0,
            max_round_trip_latency=0.05,  # the agent may be away: 1501 quickly
        )
    except rtc.RpcError:
        return None

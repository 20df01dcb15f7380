"""Loss: an app following the contract gets the agent's data through a link that drops,
duplicates and reorders a share of it; after each trial its view must equal the agent's."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from livekit import rtc

from livekit.plugins.session_sync import ProtocolError
from livekit.plugins.session_sync.models import ConnectionState
from livekit.plugins.session_sync.testing import SessionFollower, SessionSyncClient

from .rig import AGENT, Rig, quiet_options


@dataclass
class LinkFaults:
    drop: float = 0.15
    duplicate: float = 0.15
    reorder: float = 0.15
    delivered: int = 0
    dropped: int = 0
    duplicated: int = 0
    reordered: int = 0


class LossyLink:
    """Sits between the app's room and the follower: data from the agent may be dropped,
    delivered twice, or held back a few milliseconds (so later packets overtake it).
    Attributes and the app's own link events pass untouched: LiveKit's signalling is
    ordered and reliable, and an app's RPCs have their own retries."""

    def __init__(self, follower: SessionFollower, faults: LinkFaults, rng: random.Random):
        self.follower = follower
        self.faults = faults
        self.rng = rng
        self.held = 0

    def on_data(self, sender: str | None, topic: str, payload: bytes) -> None:
        faults, rng = self.faults, self.rng
        if sender != AGENT:
            self.follower.on_data(sender, topic, payload)
            return
        if rng.random() < faults.drop:
            faults.dropped += 1
            return
        copies = 1
        if rng.random() < faults.duplicate:
            faults.duplicated += 1
            copies = 2
        for _ in range(copies):
            if rng.random() < faults.reorder:
                faults.reordered += 1
                self._later(rng.uniform(0.0005, 0.004), sender, topic, payload)
            else:
                faults.delivered += 1
                self.follower.on_data(sender, topic, payload)

    def _later(self, delay: float, sender: str, topic: str, payload: bytes) -> None:
        self.held += 1

        def deliver() -> None:
            self.held -= 1
            self.faults.delivered += 1
            self.follower.on_data(sender, topic, payload)

        asyncio.get_running_loop().call_later(delay, deliver)

    def on_connection_state(self, state: ConnectionState, reason: str | None) -> None:
        self.follower.on_connection_state(state, reason)

    def on_participant_joined(self, identity: str) -> None:
        self.follower.on_participant_joined(identity)

    def on_participant_left(self, identity: str) -> None:
        self.follower.on_participant_left(identity)

    def on_participant_attributes(self, identity: str, changed: Mapping[str, str]) -> None:
        self.follower.on_participant_attributes(identity, changed)


# What the app and the agent do during a trial.
STEPS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("session.start", {"sessionType": "voice-ptt"}),
    ("session.start", {"sessionType": "text"}),
    ("session.switch", {"sessionType": "voice-ptt"}),
    ("session.switch", {"sessionType": "voice-vad"}),
    ("session.switch", {"sessionType": "text"}),
    ("session.set_muted", {"muted": True}),
    ("session.set_muted", {"muted": False}),
    ("session.ptt_start", {}),
    ("session.ptt_start", {}),
    ("session.ptt_end", {}),
    ("session.ptt_cancel", {}),
    ("session.sync", {"trigger": "app"}),
    ("session.validate", {}),
    ("session.set_sync_enabled", {"enabled": False}),
    ("session.end", {}),
    ("drift", {}),
    ("burst", {}),
)


@dataclass
class LossReport:
    trials: int = 0
    converged: int = 0
    events: int = 0
    faults: LinkFaults = field(default_factory=lambda: LinkFaults())
    snapshots: int = 0
    gaps: int = 0
    escaped: list[str] = field(default_factory=list)
    diverged: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.converged == self.trials and not self.escaped


async def loss_trials(trials: int, *, steps: int = 12, seed: int = 1) -> LossReport:
    report = LossReport()
    rng = random.Random(seed)
    started = time.perf_counter()
    for trial in range(trials):
        await _trial(trial, rng, steps, report)
    report.seconds = time.perf_counter() - started
    return report


async def _trial(trial: int, rng: random.Random, steps: int, report: LossReport) -> None:
    # Commands by the agent and the app come faster than the default rate: the app's own
    # snapshots would be refused (and retried) more than they are served.
    rig = await Rig.create(quiet_options(rate_burst=1000, rate_per_second=1000.0))
    follower = SessionFollower(rig.user_room, AGENT, subscribe=False, retry_delay=0.005)
    link = LossyLink(follower, report.faults, rng)
    unsubscribe = rig.user_room.subscribe(link)
    report.trials += 1
    try:
        follower.start()
        for _ in range(steps):
            await _step(rig, rng)
        await rig.quiesce(also=lambda: follower.idle and link.held == 0)
        found = rig.mismatches(follower)
        if found:
            report.diverged.append(f"trial {trial}: {'; '.join(found)}")
        else:
            report.converged += 1
        report.events += rig.sync.snapshot().seq
        report.snapshots += follower.snapshots
        report.gaps += follower.gaps
        report.escaped += [f"trial {trial}: {f}" for f in rig.faults()]
    finally:
        unsubscribe()
        await follower.aclose()
        await rig.aclose()


async def _step(rig: Rig, rng: random.Random) -> None:
    method, params = rng.choice(STEPS)
    if method == "drift":  # the agent's microphone flips behind the session's back
        rig.turns.audio_input_enabled = not rig.turns.audio_input_enabled
        await rig.sync.request("session.validate")
        return
    if method == "burst":  # several commands queued at once, by data
        for _ in range(rng.randrange(2, 6)):
            name, args = rng.choice(STEPS[:15])
            await _send(rig, name, args)
        return
    if rng.random() < 0.5:
        await _send(rig, method, params)
        return
    # A refusal by the session's state changes nothing: there is nothing to follow.
    with contextlib.suppress(rtc.RpcError, ProtocolError):
        await rig.user_room.perform_rpc(
            destination_identity=AGENT,
            method=method,
            payload=json.dumps(params),
            response_timeout=10,
        )


async def _send(rig: Rig, method: str, params: dict[str, Any]) -> None:
    client = SessionSyncClient(rig.user_room, AGENT)
    try:
        await client.send(method, params)
    finally:
        client.close()

"""Print a real example of every session-sync message, as Markdown, by running the plugin.

Drives a `SessionSynchronizer` through the in-memory LiveKit room from a simulated app and
records everything that crosses the wire, in order. The output is docs/protocol-examples.md,
below its marker line. It is the same on every run: ids come from a seeded generator, the wall
clock moves 1 ms per reading from a fixed start, and each step waits until nothing more
crosses the wire before the next begins.

    uv run python docs/gen_examples.py                                    # print to stdout
    uv run python docs/gen_examples.py --write docs/protocol-examples.md  # replace the examples
    uv run python docs/gen_examples.py --check docs/protocol-examples.md  # exit 1 if stale
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import difflib
import json
import logging
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

from livekit import rtc

from livekit.plugins.session_sync import (
    ATTR_REQUESTED_TYPE,
    TOPIC,
    SessionSyncEvent,
    SessionSynchronizer,
    SyncOptions,
    TurnTakingTarget,
)
from livekit.plugins.session_sync.testing import (
    InMemoryRoom,
    InMemoryServer,
    InMemoryTurnTaking,
    SessionSyncClient,
    eventually,
)

ROOM = "room-a"
AGENT = "agent"
USER = "user"
# No timer passes; a linked user away for 0.2 s has left (5 s by default).
QUIET = SyncOptions(initial_sync_delay=3600, validation_interval=3600, leave_grace=0.2)
START = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
WAIT = 30.0  # the longest any step may take, however loaded the machine
PLUGIN = "livekit.plugins.session_sync"


class ExampleClock:
    """The wall clock of the examples: each reading 1 ms after the last, from `START`."""

    def __init__(self) -> None:
        self._ms = int(START.timestamp() * 1000)

    def time(self) -> float:
        self._ms += 1
        return self._ms / 1000

    def utc_now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), UTC)


class _TimeModule:
    """`time` as the plugin sees it: the example clock's `time()`, the rest unchanged (the
    loop, timeouts and rate limits keep the real monotonic clock)."""

    def __init__(self, clock: ExampleClock) -> None:
        self.time = clock.time

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@contextlib.contextmanager
def deterministic(seed: int = 19) -> Iterator[None]:
    """Seeded ids and the example clock, wherever the plugin reads them."""
    ids = random.Random(seed)
    clock = ExampleClock()
    with contextlib.ExitStack() as stack:
        stack.enter_context(
            mock.patch.object(uuid, "uuid4", lambda: uuid.UUID(int=ids.getrandbits(128), version=4))
        )
        for name, module in list(sys.modules.items()):
            if not name.startswith(PLUGIN) or module is None:
                continue
            now = getattr(module, "utc_now", None)
            if callable(now) and getattr(now, "__module__", "").startswith(PLUGIN):
                stack.enter_context(mock.patch.object(module, "utc_now", clock.utc_now))
            if getattr(module, "time", None) is time:
                stack.enter_context(mock.patch.object(module, "time", _TimeModule(clock)))
        yield


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


@dataclass
class Transcript:
    """What crossed the wire in one scenario, in the order it happened."""

    title: str
    intro: str = ""
    entries: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, label: str, body: Any, *, raw: bool = False, lang: str = "json") -> None:
        self.entries.append((label, body if raw else _pretty(body), lang))

    def render(self) -> str:
        out = [f"### {self.title}", ""]
        if self.intro:
            out += [self.intro, ""]
        for label, body, lang in self.entries:
            out += [f"{label}", "", f"```{lang}", body, "```", ""]
        return "\n".join(out)


class SlowTurnTaking(InMemoryTurnTaking):
    """Turn-taking whose `apply` waits for a gate, to hold a command inside the agent."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.gate.set()

    async def apply(self, target: TurnTakingTarget) -> None:
        await self.gate.wait()
        await super().apply(target)


@dataclass
class Recorder:
    """Where the instrumented rooms write what crosses the wire; `None` records nothing."""

    log: Transcript | None = None
    crossed: int = 0  # packets sent either way, recorded or not
    from_agent: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Pair:
    server: InMemoryServer
    agent_room: InMemoryRoom
    user_room: InMemoryRoom
    turns: InMemoryTurnTaking
    sync: SessionSynchronizer
    client: SessionSyncClient
    recorder: Recorder

    @property
    def log(self) -> Transcript | None:
        return self.recorder.log

    async def settle(self) -> None:
        """Until nothing more crosses the wire: the room idle and no packet sent for a few
        rounds, so what a step causes is recorded before the next step begins."""
        quiet, crossed = 0, -1
        deadline = time.monotonic() + WAIT
        while quiet < 3:
            await self.server.settle()
            await asyncio.sleep(0.005)
            quiet = quiet + 1 if self.recorder.crossed == crossed else 0
            crossed = self.recorder.crossed
            if time.monotonic() > deadline:
                raise RuntimeError("the agent kept sending: the example never settled")

    async def until_agent_sends(self, what: str, test: Callable[[dict[str, Any]], bool]) -> None:
        await eventually(
            lambda: any(test(m) for m in self.recorder.from_agent), timeout=WAIT, message=what
        )
        await self.settle()

    def record_to(self, log: Transcript) -> Transcript:
        self.recorder.log = log
        return log

    async def rejoin(self, attributes: Mapping[str, str] | None = None) -> None:
        """Connect the app again with the same identity (a new participant)."""
        self.user_room = await self.server.connect(ROOM, USER, attributes=attributes)
        _record_app(self.user_room, self.recorder)
        self.client = SessionSyncClient(self.user_room, AGENT)
        await self.settle()

    # -- app -> agent --

    async def send(self, method: str, params: Mapping[str, Any] | None = None) -> None:
        """A data request; waits for its reply, which comes after the events it caused."""
        await self.client.reply(await self.client.send(method, params), timeout=WAIT)
        await self.settle()

    async def send_raw(self, payload: bytes) -> None:
        await self.client.send_raw(payload)
        await self.settle()

    async def rpc(self, method: str, params: Mapping[str, Any] | None = None) -> None:
        payload = "" if params is None else json.dumps(dict(params), separators=(",", ":"))
        await self.rpc_raw(method, payload)

    async def rpc_raw(self, method: str, payload: str, *, to: str = AGENT) -> None:
        """`perform_rpc` from the app; logs the call and its result or `RpcError`."""
        if self.log is not None:
            shown = payload if len(payload) <= 200 else payload[:60] + f"... ({len(payload)} bytes)"
            self.log.add(f"**app → agent**, RPC `{method}` to `{to}`, payload (a string):", shown)
        try:
            result = await self.user_room.perform_rpc(
                destination_identity=to, method=method, payload=payload, response_timeout=10.0
            )
        except rtc.RpcError as err:
            if self.log is not None:
                self.log.add(
                    "**agent → app**, RPC error (`RpcError` code / message / data):",
                    {"code": err.code, "message": err.message, "data": err.data},
                )
        else:
            if self.log is not None:
                self.log.add(
                    "**agent → app**, RPC result (the response string, parsed):", json.loads(result)
                )
        await self.settle()


def _record_agent(room: InMemoryRoom, rec: Recorder) -> None:
    """Record every data packet the agent sends."""
    send = room.send_data

    async def send_data(payload: bytes, *, topic: str, destinations: Sequence[str] = ()) -> None:
        rec.crossed += 1
        if topic == TOPIC:
            rec.from_agent.append(json.loads(payload))
        if rec.log is not None and topic == TOPIC:
            to = f"only to `{', '.join(destinations)}`" if destinations else "to everyone"
            rec.log.add(f"**agent → app**, data on `{topic}`, {to}:", json.loads(payload))
        await send(payload, topic=topic, destinations=destinations)

    room.send_data = send_data  # type: ignore[method-assign]


def _record_app(room: InMemoryRoom, rec: Recorder) -> None:
    """Record every request the app sends."""
    send = room.send_data

    async def send_data(payload: bytes, *, topic: str, destinations: Sequence[str] = ()) -> None:
        rec.crossed += 1
        if rec.log is not None and topic == TOPIC:
            try:
                body, lang = _pretty(json.loads(payload)), "json"
            except ValueError:
                body, lang = payload.decode(errors="replace"), "text"
            rec.log.add(f"**app → agent**, data on `{topic}`:", body, raw=True, lang=lang)
        await send(payload, topic=topic, destinations=destinations)

    room.send_data = send_data  # type: ignore[method-assign]


async def open_pair(
    options: SyncOptions = QUIET, *, turns: InMemoryTurnTaking | None = None
) -> Pair:
    server = InMemoryServer()
    # The user is in the room first and the agent is dispatched into it, as is usual.
    user_room = await server.connect(ROOM, USER)
    agent_room = await server.connect(ROOM, AGENT, kind="agent")
    turn_taking = turns or InMemoryTurnTaking()
    sync = SessionSynchronizer(
        agent_room, turn_taking=turn_taking, linked_identity=USER, options=options
    )
    client = SessionSyncClient(user_room, AGENT)
    recorder = Recorder()
    _record_agent(agent_room, recorder)
    _record_app(user_room, recorder)
    return Pair(server, agent_room, user_room, turn_taking, sync, client, recorder)


async def open_pair_agent_first(log: Transcript, user_attributes: Mapping[str, str]) -> Pair:
    """The agent is in the room and started before the app joins; the join is recorded."""
    server = InMemoryServer()
    agent_room = await server.connect(ROOM, AGENT, kind="agent")
    turns = InMemoryTurnTaking()
    sync = SessionSynchronizer(agent_room, turn_taking=turns, linked_identity=USER, options=QUIET)
    recorder = Recorder()
    _record_agent(agent_room, recorder)
    await sync.start()
    await server.settle()
    recorder.log = log
    log.add("**app**, joins the room with its own participant attributes:", dict(user_attributes))
    user_room = await server.connect(ROOM, USER, attributes=user_attributes)
    _record_app(user_room, recorder)
    pair = Pair(
        server, agent_room, user_room, turns, sync, SessionSyncClient(user_room, AGENT), recorder
    )
    await pair.settle()
    return pair


def _announces(trigger: str) -> Callable[[dict[str, Any]], bool]:
    def test(message: dict[str, Any]) -> bool:
        payload = message.get("payload")
        return (
            message.get("type") == "room_state_change"
            and isinstance(payload, dict)
            and payload.get("trigger") == trigger
        )

    return test


async def scenarios() -> list[Transcript]:
    logs: list[Transcript] = []

    # -- the normal life of a session ------------------------------------------------------
    p = await open_pair()
    log = p.record_to(Transcript("Agent start", "`SessionSynchronizer.start()` with no type."))
    await p.sync.start()
    await p.settle()
    log.add(
        "Agent participant attributes as the app sees them (idle):", p.client.agent_attributes()
    )
    logs.append(log)

    log = p.record_to(Transcript("session.start (data message), with roomConfig"))
    await p.send(
        "session.start",
        {
            "sessionType": "voice-ptt",
            "sessionId": "sess-42",
            "roomConfig": {
                "sessionId": "sess-42",
                "sessionType": "voice-ptt",
                "turnDetection": "client",
                "voiceActivityEnabled": True,
                "adaptiveStream": True,
                "dynacast": True,
                "audioSettings": {
                    "echoCancellation": True,
                    "noiseSuppression": True,
                    "autoGainControl": True,
                },
            },
        },
    )
    logs.append(log)

    log = p.record_to(Transcript("session.ptt_start (data message)"))
    await p.send("session.ptt_start")
    log.add("Agent participant attributes while the button is held:", p.client.agent_attributes())
    log.add(
        "`session.config` attribute, parsed:",
        json.loads(p.client.agent_attributes()["session.config"]),
    )
    logs.append(log)

    log = p.record_to(Transcript("session.ptt_end (RPC)"))
    await p.rpc("session.ptt_end")
    logs.append(log)

    log = p.record_to(Transcript("session.ptt_cancel (RPC, after a new press)"))
    await p.rpc("session.ptt_start")
    log.entries.clear()
    await p.rpc("session.ptt_cancel")
    logs.append(log)

    log = p.record_to(Transcript("session.set_muted (RPC)"))
    await p.rpc("session.set_muted", {"muted": True})
    logs.append(log)

    log = p.record_to(Transcript("session.snapshot (RPC, then data message)"))
    await p.rpc("session.snapshot")
    await p.send("session.snapshot")
    logs.append(log)

    log = p.record_to(
        Transcript(
            "session.validate (data message) after the agent's turn-taking drifted",
            "Before the request the agent's turn detection was changed behind the "
            "synchronizer's back (`turns.turn_detection = 'server'`).",
        )
    )
    p.turns.turn_detection = "server"
    await p.send("session.validate")
    logs.append(log)

    log = p.record_to(Transcript("session.validate (RPC), nothing wrong"))
    await p.rpc("session.validate")
    logs.append(log)

    log = p.record_to(Transcript("session.sync (data message)"))
    await p.send("session.sync", {"trigger": "app_foreground"})
    logs.append(log)

    log = p.record_to(Transcript("session.set_sync_enabled (RPC)"))
    await p.rpc("session.set_sync_enabled", {"enabled": False})
    await p.rpc("session.set_sync_enabled", {"enabled": True})
    logs.append(log)

    log = p.record_to(Transcript("session.switch (data message)"))
    await p.send("session.switch", {"sessionType": "voice-vad"})
    logs.append(log)

    log = p.record_to(Transcript("session.end (data message)"))
    await p.send("session.end")
    logs.append(log)

    log = p.record_to(
        Transcript(
            "The app's `session.requestedType` attribute",
            "The app sets `session.requestedType` on its own participant. No reply is sent "
            "on success; an error reply (with no `id`) on refusal.",
        )
    )
    log.add("**app**, own participant attributes set to:", {ATTR_REQUESTED_TYPE: "text"})
    await p.user_room.set_attributes({ATTR_REQUESTED_TYPE: "text"})
    await p.settle()
    log.add("**app**, own participant attributes set to:", {ATTR_REQUESTED_TYPE: "video"})
    await p.user_room.set_attributes({ATTR_REQUESTED_TYPE: "video"})
    await p.settle()
    logs.append(log)

    log = p.record_to(
        Transcript(
            "Agent link interrupted and resumed",
            "The agent's connection goes to reconnecting and back (a `text` session is "
            "active). Events emitted while the link is down are held in the outbox and sent, "
            "in order, when it is back; then a snapshot to everyone; then `session_state_sync`.",
        )
    )
    p.agent_room.simulate_reconnecting()
    await p.settle()
    log.add("(the agent is reconnecting; nothing has been sent)", {})
    p.agent_room.simulate_reconnected()
    await p.settle()
    logs.append(log)

    log = p.record_to(
        Transcript(
            "The app leaves and rejoins",
            "The app disconnects (`participant_left` is announced to whoever is still in the "
            "room, here nobody) and joins again with the same identity: it gets a snapshot "
            "addressed to it alone, then a `room_state_change` (`participant_rejoined`, as it "
            "has left before) to everyone. It joins without a `session.requestedType`, so "
            "nothing else happens.",
        )
    )
    await p.user_room.disconnect()
    await p.until_agent_sends("the agent to announce the leave", _announces("participant_left"))
    await p.rejoin()
    logs.append(log)

    log = p.record_to(
        Transcript(
            "The agent is disconnected",
            "The agent leaves the room unexpectedly (`SIGNAL_CLOSE`) during a live session. "
            "Its turn-taking is switched off first (here it already was: a `text` session), "
            "then the state becomes `error`. Nothing can reach the app any more; the event "
            "below is what `SessionSynchronizer.on_event` listeners receive (it is also put "
            "in the outbox).",
        )
    )
    seen: list[SessionSyncEvent] = []
    p.sync.on_event(seen.append)
    await p.agent_room.disconnect("SIGNAL_CLOSE")
    await p.settle()
    for event in seen:
        log.add("Event (listener only):", event.to_wire())
    logs.append(log)
    await p.sync.aclose()

    # -- the app joining after the agent, and leaving mid-press ----------------------------
    log = Transcript(
        "The app joins after the agent, carrying `session.requestedType`",
        "The agent is started with no type; then the app joins with `session.requestedType` "
        "already set. Its first join is announced as `participant_joined`, after the "
        "snapshot; then the requested type is applied as a `session.start` (no reply).",
    )
    p = await open_pair_agent_first(log, {ATTR_REQUESTED_TYPE: "voice-ptt"})
    logs.append(log)

    log = p.record_to(
        Transcript(
            "The app leaves while push-to-talk is held",
            "The same `voice-ptt` session; the app has pressed the button "
            "(`session.ptt_start`) and disconnects. The agent ends the press as a "
            "`session.ptt_end` with trigger `participant_left` (what was said is answered), "
            "then announces `participant_left`.",
        )
    )
    await p.send("session.ptt_start")
    log.entries.clear()
    await p.user_room.disconnect()
    await p.until_agent_sends("the agent to announce the leave", _announces("participant_left"))
    log.add("Agent participant attributes afterwards:", dict(p.agent_room.local_attributes()))
    logs.append(log)
    await p.sync.aclose()

    # -- timer-driven validation -----------------------------------------------------------
    # The first pass runs 3 s after the start: time enough to set the drift first on a slow
    # machine. Were it set too late, no pass would report it and the wait below would fail,
    # rather than the example changing.
    p = await open_pair(SyncOptions(initial_sync_delay=3.0, validation_interval=3600))
    await p.sync.start("voice-ptt")
    await p.settle()
    log = p.record_to(
        Transcript(
            "Periodic validation finds and corrects a drift",
            "A `voice-ptt` session; the agent's audio input is switched on behind the "
            "synchronizer's back before the first (initial) validation pass runs.",
        )
    )
    p.turns.audio_input_enabled = True
    await p.until_agent_sends(
        "the initial pass to report the drift",
        lambda m: (
            m.get("type") == "session_state_sync"
            and m.get("payload", {}).get("trigger") == "initial"
        ),
    )
    logs.append(log)
    await p.sync.aclose()

    # -- errors ----------------------------------------------------------------------------
    p = await open_pair()
    await p.sync.start("text")
    await p.settle()
    log = p.record_to(Transcript("Error replies (data messages)", "A `text` session is active."))
    await p.send_raw(b'{"type": "request", ')
    await p.send_raw(json.dumps({"type": "subscribe", "id": "x1"}).encode())
    await p.send("session.reboot")
    await p.send("session.set_muted", {"muted": "yes"})
    await p.send_raw(
        json.dumps(
            {"type": "request", "id": "req-v2", "method": "session.snapshot", "params": {}, "v": 2}
        ).encode()
    )
    await p.send("session.start", {"sessionType": "voice-vad"})
    await p.send("session.set_muted", {"muted": True})
    await p.send(
        "session.switch",
        {
            "sessionType": "voice-vad",
            "roomConfig": {
                "sessionId": p.sync.config.session_id,
                "sessionType": "voice-vad",
                "turnDetection": "client",
                "voiceActivityEnabled": True,
            },
        },
    )
    logs.append(log)

    log = p.record_to(Transcript("Error replies (RPC)", "The same `text` session."))
    await p.rpc("session.set_muted", {"muted": True})
    await p.rpc("session.switch", {"sessionType": "hologram"})
    await p.rpc("session.ptt_end")
    await p.rpc_raw("session.snapshot", "not json")
    await p.rpc_raw("session.snapshot", "null")
    await p.rpc("session.reboot")
    await p.rpc_raw("session.snapshot", "", to="nobody")
    await p.rpc_raw("session.sync", json.dumps({"trigger": "x" * 16_000}))
    logs.append(log)

    log = p.record_to(
        Transcript(
            "A participant that is not the linked user",
            "A third participant, `intruder`, sends a data request and an RPC.",
        )
    )
    intruder_room = await p.server.connect(ROOM, "intruder")
    intruder = SessionSyncClient(intruder_room, AGENT)
    log.add(
        "**intruder → agent**, data on `session-sync`:",
        {"type": "request", "id": "i-1", "method": "session.end", "params": {}, "v": 1},
    )
    await intruder.send("session.end", request_id="i-1")
    await p.settle()
    log.add("**intruder → agent**, RPC `session.end`, payload:", "")
    try:
        await intruder.call("session.end")
    except rtc.RpcError as err:
        log.add(
            "**agent → intruder**, RPC error:",
            {"code": err.code, "message": err.message, "data": err.data},
        )
    await p.settle()
    logs.append(log)

    log = p.record_to(
        Transcript(
            "payload_too_large",
            "A request over the agent's inbound limit (15 KiB by default), by data, by RPC or "
            "as the `session.requestedType` value (attributes may total 64 KiB).",
        )
    )
    big = "v" * 16_000
    log.add(
        "**app**, own participant attributes set to:",
        {ATTR_REQUESTED_TYPE: big[:20] + f"... ({len(big)} bytes)"},
    )
    await p.user_room.set_attributes({ATTR_REQUESTED_TYPE: big})
    await p.settle()
    logs.append(log)
    await p.sync.aclose()

    log = Transcript(
        "rate_limited",
        "A burst of 20 (the default `rate_burst`), refilled here at 0.01 commands/s instead "
        "of 10 so that the example does not depend on how fast it runs. 25 "
        "`session.snapshot` requests are sent at once; the first refusal is shown.",
    )
    p = await open_pair(
        SyncOptions(initial_sync_delay=3600, validation_interval=3600, rate_per_second=0.01)
    )
    await p.sync.start("text")
    await p.settle()
    for _ in range(25):
        await p.client.send("session.snapshot")
    await p.settle()
    refused = [r for r in p.client.replies.values() if r["type"] == "error"]
    log.add(f"{len(refused)} of 25 were refused; the first refusal:", refused[0])
    logs.append(log)
    await p.sync.aclose()

    slow = SlowTurnTaking()
    p = await open_pair(
        SyncOptions(initial_sync_delay=3600, validation_interval=3600, max_pending_commands=1),
        turns=slow,
    )
    await p.sync.start("voice-vad")
    await p.settle()
    log = p.record_to(
        Transcript(
            "busy",
            "`max_pending_commands=1`; the first command is held inside the agent (its "
            "turn-taking change is slow) when the second arrives.",
        )
    )
    slow.gate.clear()
    await p.client.send("session.set_muted", {"muted": True})
    await p.settle()
    await p.client.send("session.snapshot")
    await p.settle()
    slow.gate.set()
    await p.settle()
    logs.append(log)
    await p.sync.aclose()

    p = await open_pair()
    await p.sync.start("voice-vad")
    await p.settle()
    log = p.record_to(
        Transcript(
            "internal",
            "The agent's turn-taking fails (`RuntimeError('audio pipeline is gone')`) while "
            "muting: the session goes to `error`, announced by a `session_state_sync` whose "
            "trigger ends in `:failed`, and the command gets an `internal` error.",
        )
    )
    p.turns.fail_next_apply = RuntimeError("audio pipeline is gone")
    await p.send("session.set_muted", {"muted": True})
    log.add(
        "(the session stays in `error` until the app acts; here it starts the session again)",
        {"state": p.sync.config.state},
    )
    await p.rpc("session.start", {"sessionType": "voice-vad"})
    p.turns.fail_next_apply = RuntimeError("audio pipeline is gone")
    await p.rpc("session.set_muted", {"muted": True})
    logs.append(log)
    await p.sync.aclose()
    return logs


MARKER = "<!-- generated examples below: do not edit by hand -->"


def render() -> str:
    with deterministic():
        return "\n".join(t.render() for t in asyncio.run(scenarios()))


def _with_examples(text: str, rendered: str, path: Path) -> str:
    head, found, _ = text.partition(MARKER)
    if not found:
        raise SystemExit(f"{path} has no line {MARKER!r}")
    return f"{head}{MARKER}\n\n{rendered}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description="Print an example of every session-sync message.")
    action = parser.add_mutually_exclusive_group()
    action.add_argument(
        "--write",
        type=Path,
        metavar="EXAMPLES_MD",
        help=f"replace everything after the line {MARKER!r} in this file",
    )
    action.add_argument(
        "--check",
        type=Path,
        metavar="EXAMPLES_MD",
        help="exit 1, showing the difference, if this file is not what a fresh run writes",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    rendered = render()
    if args.write is None and args.check is None:
        print(rendered)
        return
    path: Path = args.write or args.check
    text = path.read_text()
    fresh = _with_examples(text, rendered, path)
    if args.write is not None:
        path.write_text(fresh)
        return
    if fresh != text:
        sys.stdout.writelines(
            difflib.unified_diff(
                text.splitlines(keepends=True),
                fresh.splitlines(keepends=True),
                f"{path} (committed)",
                f"{path} (fresh run)",
            )
        )
        raise SystemExit(
            f"{path} differs from a fresh run: "
            f"run `uv run python docs/gen_examples.py --write {path}` and commit it"
        )
    print(f"{path} is current")


if __name__ == "__main__":
    main()

"""Print a real example of every session-sync message, as Markdown, by running the plugin.

Drives a `SessionSynchronizer` through the in-memory LiveKit room from a simulated app and
records everything that crosses the wire, in order. The output is docs/protocol-examples.md,
below its marker line.

    uv run python docs/gen_examples.py                                   # print to stdout
    uv run python docs/gen_examples.py --write docs/protocol-examples.md  # replace the examples
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
)

ROOM = "room-a"
AGENT = "agent"
USER = "user"
QUIET = SyncOptions(initial_sync_delay=3600, validation_interval=3600)


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
        await self.server.settle()

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
        await self.client.send(method, params)
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
        if rec.log is not None and topic == TOPIC:
            to = f"only to `{', '.join(destinations)}`" if destinations else "to everyone"
            rec.log.add(f"**agent → app**, data on `{topic}`, {to}:", json.loads(payload))
        await send(payload, topic=topic, destinations=destinations)

    room.send_data = send_data  # type: ignore[method-assign]


def _record_app(room: InMemoryRoom, rec: Recorder) -> None:
    """Record every request the app sends."""
    send = room.send_data

    async def send_data(payload: bytes, *, topic: str, destinations: Sequence[str] = ()) -> None:
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
    await p.settle()
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
    await p.settle()
    log.add(
        "Agent participant attributes afterwards:",
        {k: v for k, v in p.agent_room.local_attributes().items() if k != "session.config"},
    )
    logs.append(log)
    await p.sync.aclose()

    # -- timer-driven validation -----------------------------------------------------------
    p = await open_pair(SyncOptions(initial_sync_delay=0.05, validation_interval=3600))
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
    await asyncio.sleep(0.1)
    await p.settle()
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
        "Default limits (10 commands/s, burst 20). 25 `session.snapshot` requests are sent "
        "at once; the first refusals are shown.",
    )
    p = await open_pair()
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


def main() -> None:
    parser = argparse.ArgumentParser(description="Print an example of every session-sync message.")
    parser.add_argument(
        "--write",
        type=Path,
        metavar="EXAMPLES_MD",
        help=f"replace everything after the line {MARKER!r} in this file",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    rendered = "\n".join(t.render() for t in asyncio.run(scenarios()))
    if args.write is None:
        print(rendered)
        return
    text = args.write.read_text()
    head, found, _ = text.partition(MARKER)
    if not found:
        raise SystemExit(f"{args.write} has no line {MARKER!r}")
    args.write.write_text(f"{head}{MARKER}\n\n{rendered}\n")


if __name__ == "__main__":
    main()

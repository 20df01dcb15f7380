"""The agent's side of a flood over a real LiveKit server, in a process of its own: a
`SessionSynchronizer` on an `rtc.Room` (through `LiveKitRoom`) with the user's identity
linked and the options of the in-memory floods (`quiet_options`, the default rate limits),
which watches its own event loop (`watch_loop`).

    python -m support.faults.flood_agent ROOM USER [--bare]

Reads LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET. Takes one command a line on stdin
and answers each with one JSON object a line on stdout (other output goes to stderr):

- on start `{"ready": true}`, once the session runs;
- `watch`: from now on the loop is watched; `{"watching": true}`;
- `outcomes`: `{"outcomes": {...}, "received": {...}}`, the attribute's commands counted by
  outcome, and the messages that reached the room by path;
- `report`: the watch ends; `{"hold": {...}, "faults": [...]}`, how long the loop was held
  and anything that went wrong (errors logged, a background task dead, attributes adrift);
- `stop`, or stdin closing: leave and exit.

`--bare`: no synchronizer; `session.snapshot` by RPC, and the user's probes on the data topic,
answered at once, and nothing else: the same burst into an agent that does nothing, which is
the SDK's (and the server's) own share.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import json
import logging
import os
import sys
from collections import Counter
from typing import Any

from livekit import rtc

from livekit.plugins.session_sync import ATTR_REQUESTED_TYPE, TOPIC, SessionSynchronizer
from livekit.plugins.session_sync.protocol import (
    encode_attributes,
    published_session_attributes,
    request_id_of,
)
from livekit.plugins.session_sync.room import LiveKitRoom
from livekit.plugins.session_sync.testing import InMemoryTurnTaking, QuietListener

from ..livekit_server import ServerInfo
from .flood_traffic import PROBE_ID_PREFIX, command_outcomes
from .loopwatch import LoopHold, watch_loop
from .rig import AGENT, ErrorWatch, dead_tasks, quiet_options

SETTLE_SECONDS = 10.0  # for the agent's attributes to catch up with its state after a flood


def say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


class Arrivals:
    """What reached the agent's room, by path (RPC: only the bare agent's)."""

    def __init__(self, room: rtc.Room) -> None:
        self.counts: Counter[str] = Counter()
        room.on("data_received", self._data)
        room.on("participant_attributes_changed", self._attributes)

    def _data(self, _: rtc.DataPacket) -> None:
        self.counts["data"] += 1

    def _attributes(self, changed: dict[str, str], _: rtc.Participant) -> None:
        if ATTR_REQUESTED_TYPE in changed:
            self.counts["attribute"] += 1

    def rpc(self) -> None:
        self.counts["rpc"] += 1


class ProbeAnswers(QuietListener):
    """The bare agent's one reply: an ack to each of the user's probes on the data topic."""

    def __init__(self, port: LiveKitRoom, user: str) -> None:
        self._port = port
        self._user = user
        self._marker = f'"id": "{PROBE_ID_PREFIX}'.encode()
        self._sending: set[asyncio.Task[None]] = set()

    def on_data(self, sender: str | None, topic: str, payload: bytes) -> None:
        # The bytes check first: the flood's messages are not parsed.
        if sender != self._user or topic != TOPIC or self._marker not in payload:
            return
        rid = request_id_of(payload)
        if rid is None:
            return
        reply = json.dumps({"type": "ack", "id": rid}).encode()
        task = asyncio.create_task(self._port.send_data(reply, topic=TOPIC, destinations=(sender,)))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def aclose(self) -> None:
        for task in self._sending:
            task.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)


class FloodAgent:
    """The synchronizer on the room (or, bare, the few answers above), and the commands."""

    def __init__(self, room: rtc.Room, user: str, *, bare: bool) -> None:
        self.room = room
        self.port = LiveKitRoom(room)
        self.arrivals = Arrivals(room)
        self.errors = ErrorWatch(("livekit", "asyncio"))  # the SDK's errors too
        self.probe_answers = ProbeAnswers(self.port, user) if bare else None
        self.sync = (
            None
            if bare
            else SessionSynchronizer(
                self.port,
                turn_taking=InMemoryTurnTaking(),
                linked_identity=user,
                options=quiet_options(),
            )
        )
        self._watch: contextlib.AsyncExitStack | None = None
        self._hold: LoopHold | None = None

    async def start(self) -> None:
        self.errors.install(asyncio.get_running_loop())
        if self.sync is not None:
            await self.sync.start()
            await self.sync.request("session.start", {"sessionType": "voice-vad"})
        if self.probe_answers is not None:
            self.port.subscribe(self.probe_answers)
            self.room.local_participant.register_rpc_method("session.snapshot", self._bare_rpc)

    async def _bare_rpc(self, _: rtc.RpcInvocationData) -> str:
        self.arrivals.rpc()
        return "{}"

    async def aclose(self) -> None:
        await self._stop_watching()
        if self.sync is not None:
            await self.sync.aclose()
        if self.probe_answers is not None:
            self.room.local_participant.unregister_rpc_method("session.snapshot")
            await self.probe_answers.aclose()
        self.errors.remove()

    async def handle(self, command: str) -> dict[str, Any]:
        if command == "watch":
            await self._stop_watching()
            self._watch = contextlib.AsyncExitStack()
            self._hold = await self._watch.enter_async_context(watch_loop())
            self._hold.restart()  # this command's own step is not counted
            return {"watching": True}
        if command == "outcomes":
            return {
                "outcomes": command_outcomes(ATTR_REQUESTED_TYPE),
                "received": dict(self.arrivals.counts),
            }
        if command == "report":
            hold = self._hold or LoopHold()
            await self._stop_watching()
            return {"hold": _figures(hold), "faults": await self._faults()}
        return {"error": f"unknown command {command!r}"}

    async def _stop_watching(self) -> None:
        if self._watch is not None:
            await self._watch.aclose()
            self._watch = None

    async def _faults(self) -> list[str]:
        found = list(self.errors.messages)
        if self.sync is None:
            return found
        found += dead_tasks()
        sync = self.sync
        for _ in range(int(SETTLE_SECONDS / 0.05)):
            wanted = encode_attributes(sync.config, ptt_pressed=sync.ptt_pressed)
            if published_session_attributes(self.port.local_attributes()) == wanted:
                break
            await asyncio.sleep(0.05)
        else:
            found.append("the agent's attributes differ from its state")
        if not sync.validate().is_valid:
            found.append(f"validation finds: {sync.validate().inconsistencies}")
        return found


def _figures(hold: LoopHold) -> dict[str, Any]:
    return {f.name: getattr(hold, f.name) for f in dataclasses.fields(hold) if f.name[0] != "_"}


def hold_from(figures: dict[str, Any]) -> LoopHold:
    """The `LoopHold` an agent reported."""
    return LoopHold(**figures)


async def _commands() -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


async def main(args: argparse.Namespace) -> None:
    info = ServerInfo(
        *(os.environ[k] for k in ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"))
    )
    room = await info.join(args.room, AGENT, kind="agent", agent=True)
    agent = FloodAgent(room, args.user, bare=args.bare)
    try:
        await agent.start()
        # As the worker's prewarm leaves it: the start-up heap out of the collector's sight.
        gc.collect()
        gc.freeze()
        say({"ready": True})
        commands = await _commands()
        while line := (await commands.readline()).decode().strip():
            if line == "stop":
                break
            say(await agent.handle(line))
    finally:
        await agent.aclose()
        await room.disconnect()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("room")
    parser.add_argument("user")
    parser.add_argument("--bare", action="store_true", help="nothing listens")
    # Refusals are logged at a bounded rate; the run's own checks read ERROR and above.
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(main(parser.parse_args()))

"""Samples of every message the agent sends, recorded while the tests run.

With `--wire-samples DIR` (or `SESSION_SYNC_WIRE_SAMPLES=DIR`), every message an agent's side
of the plugin sends in this test process is recorded by kind, as the exact text sent, and at
the end of the run written to `DIR/samples.json`. `clients/ts/scripts/check-seed-samples.mjs`
then checks each one under `tsc --strict` against the seed's TypeScript interfaces, and fails
when a kind the protocol knows has no sample.

Kinds: `event:<type>`, `snapshot` (a snapshot sent on its own), `ack:<method>` and `error`
(replies on the data topic), `rpc:<method>` (an RPC's result), `rpc-error` (an RPC error's
data) and `attribute:session.config` (the JSON inside that attribute). Each sample names the
agent's room (`InMemoryRoom`, or `LiveKitRoom` over an SDK room, as on a real server); a kind
keeps one sample per room and distinct shape (keys and JSON types, `null` included), at most
`PER_KIND`.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from livekit import rtc

from livekit.plugins.session_sync import inbound, publisher
from livekit.plugins.session_sync.protocol import ATTR_CONFIG

ENV = "SESSION_SYNC_WIRE_SAMPLES"
PER_KIND = 40
EVENT_TYPES = {
    "session_state_sync",
    "room_state_change",
    "connection_interruption",
    "session_inconsistency",
}


def _shape(value: Any, path: str = "") -> Iterator[str]:
    """Where each key sits and what JSON type it holds; array positions are not told apart."""
    if isinstance(value, dict):
        yield f"{path}{{}}"
        for key, item in value.items():
            yield from _shape(item, f"{path}.{key}")
    elif isinstance(value, list):
        yield f"{path}[]"
        for item in value:
            yield from _shape(item, f"{path}[]")
    else:
        yield f"{path}:{type(value).__name__}"


def kind_of_data(message: Any) -> str:
    kind = message.get("type") if isinstance(message, dict) else None
    if kind in EVENT_TYPES:
        return f"event:{kind}"
    if kind == "ack":
        return f"ack:{message.get('method')}"
    return str(kind)  # "snapshot", "error"; anything else shows up as an unknown kind


class Recorder:
    def __init__(self) -> None:
        self.samples: dict[str, list[dict[str, str]]] = {}
        self._shapes: set[tuple[str, str, frozenset[str]]] = set()
        self.seen: dict[str, int] = {}

    def add(self, kind: str, transport: str, text: str) -> None:
        self.seen[kind] = self.seen.get(kind, 0) + 1
        shape = (kind, transport, frozenset(_shape(json.loads(text))))
        kept = self.samples.setdefault(kind, [])
        if shape in self._shapes or len(kept) >= PER_KIND:
            return
        self._shapes.add(shape)
        kept.append({"transport": transport, "text": text})

    def write(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        out = directory / "samples.json"
        document = {"seen": dict(sorted(self.seen.items())), "samples": self.samples}
        out.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
        return out


def _transport(room: object) -> str:
    return type(room).__name__


def _wrap_send(
    recorder: Recorder, send: Callable[[Any, Any], Awaitable[bool]]
) -> Callable[[Any, Any], Awaitable[bool]]:
    @functools.wraps(send)
    async def recording_send(self: Any, item: Any) -> bool:
        transport = _transport(self._room)
        if item.data is not None:
            text = item.data.decode()
            recorder.add(kind_of_data(json.loads(text)), transport, text)
        elif item.attributes is not None and ATTR_CONFIG in item.attributes:
            recorder.add(f"attribute:{ATTR_CONFIG}", transport, item.attributes[ATTR_CONFIG])
        return await send(self, item)

    return recording_send


def _wrap_rpc(
    recorder: Recorder, handle: Callable[[Any, rtc.RpcInvocationData], Awaitable[str]]
) -> Callable[[Any, rtc.RpcInvocationData], Awaitable[str]]:
    @functools.wraps(handle)
    async def recording_rpc(self: Any, data: rtc.RpcInvocationData) -> str:
        transport = _transport(self._room)
        try:
            result = await handle(self, data)
        except rtc.RpcError as e:
            if e.data:  # the agent's `details`; an internal failure has none
                recorder.add("rpc-error", transport, e.data)
            raise
        recorder.add(f"rpc:{data.method}", transport, result)
        return result

    return recording_rpc


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--wire-samples",
        metavar="DIR",
        default=os.environ.get(ENV) or None,
        help=f"record every message the agent sends, by kind, into DIR/samples.json ({ENV})",
    )


_RECORDER = pytest.StashKey[tuple[Recorder, Path, Callable[[], None]]]()


def pytest_configure(config: pytest.Config) -> None:
    directory = config.getoption("--wire-samples", default=None)
    if not directory:
        return
    recorder = Recorder()
    patch = pytest.MonkeyPatch()
    send, handle = publisher.Publisher._send, inbound.CommandGate.handle_rpc
    patch.setattr(publisher.Publisher, "_send", _wrap_send(recorder, send))
    patch.setattr(inbound.CommandGate, "handle_rpc", _wrap_rpc(recorder, handle))
    restore = patch.undo
    config.stash[_RECORDER] = (recorder, Path(directory), restore)


def pytest_unconfigure(config: pytest.Config) -> None:
    found = config.stash.get(_RECORDER, None)
    if found is None:
        return
    recorder, directory, restore = found
    restore()
    out = recorder.write(directory)
    kept = sum(len(v) for v in recorder.samples.values())
    print(f"\nwire samples: {kept} of {sum(recorder.seen.values())} messages kept, in {out}")

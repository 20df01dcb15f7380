"""A worker with the keys of a self-hosted server uses the models on this machine and never
tries to reach another one: no LiveKit Inference, no LiveKit Cloud gateway, in `dev` too
(where livekit-agents would pick LiveKit Cloud's interruption and end-of-turn models)."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from livekit import rtc

from support.e2e_app import create_room, join_app
from support.livekit_server import ServerInfo, new_room_name
from support.worker_process import Worker, running_worker

from .conftest import worker_env

pytestmark = [pytest.mark.livekit_server]

# Loaded by every Python process of the worker (the worker, its forkserver and job processes
# inherit PYTHONPATH): each name resolved and each address connected to is written down.
RECORDER = """
import json, os, socket

_log = os.environ.get("SESSION_SYNC_NET_LOG")
if _log:
    def _record(kind, target):
        with open(_log, "a") as out:
            out.write(json.dumps([os.getpid(), kind, repr(target)]) + "\\n")

    _connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex
    _resolve = socket.getaddrinfo

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _record("connect", address[0])
        return _connect(self, address)

    def connect_ex(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _record("connect", address[0])
        return _connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        _record("resolve", host)
        return _resolve(host, *args, **kwargs)

    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
    socket.getaddrinfo = getaddrinfo
"""


def on_this_machine(target: str) -> bool:
    host = target.strip("'\"b")
    if host in ("localhost", "None", ""):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name to resolve: somewhere else
    # The namespace of scripts/with-livekit-server gives the server a private address here.
    return address.is_loopback or str(address) == os.environ.get("LIVEKIT_NODE_IP")


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    (tmp_path / "sitecustomize.py").write_text(RECORDER)
    return tmp_path


@pytest.fixture
def self_hosted_worker(info: ServerInfo, recorded: Path) -> Iterator[Worker]:
    env = worker_env(
        info,
        AGENT_NAME="",
        DEFAULT_SESSION_TYPE="voice-vad",
        # Every model left to its default, as a new user starts it (empty is unset).
        STT_MODEL="",
        TTS_MODEL="",
        LLM_MODEL="",
        TURN_DETECTOR="",
        PYTHONPATH=os.pathsep.join([str(recorded), os.environ.get("PYTHONPATH", "")]),
        SESSION_SYNC_NET_LOG=str(recorded / "net.log"),
    )
    with running_worker("dev", env) as running:
        yield running


async def test_a_worker_with_a_self_hosted_servers_keys_reaches_nothing_off_this_machine(
    info: ServerInfo, self_hosted_worker: Worker, recorded: Path
) -> None:
    worker = self_hosted_worker
    assert worker.count("models: this machine's", "is a self-hosted server") == 1
    assert worker.count("models for voice-vad: speech-to-text local pocketsphinx") == 1

    room = new_room_name("e2e-local")
    await create_room(info, room, "voice-vad")
    app = await join_app(info, room)
    try:
        await app.until(
            lambda: (
                app.client.session()["state"] == "active"
                and app.client.session()["type"] == "voice-vad"
            ),
            "a voice-vad session, which this worker runs on its own models",
        )
        # The agent answers aloud (espeak-ng) and in its transcript: every model has run.
        answers: list[str] = []

        def on_transcript(reader: rtc.TextStreamReader, identity: str) -> None:
            if identity == app.agent:
                asyncio.ensure_future(reader.read_all()).add_done_callback(
                    lambda done: answers.append(done.result())
                )

        app.room.register_text_stream_handler("lk.transcription", on_transcript)
        await app.room.local_participant.send_text("hello", topic="lk.chat")
        await app.until(lambda: any(a.strip() for a in answers), "the agent's answer")
    finally:
        await app.leave()

    records = [json.loads(line) for line in (recorded / "net.log").read_text().splitlines()]
    connects = [target for _, kind, target in records if kind == "connect"]
    assert any(on_this_machine(t) for t in connects), "the recorder saw no connection at all"
    elsewhere = sorted(
        {f"{kind} {target}" for _, kind, target in records if not on_this_machine(target)}
    )
    assert elsewhere == [], f"the worker tried to reach other machines: {elsewhere}"
    assert worker.count("adaptive interruption detector initialized") == 0

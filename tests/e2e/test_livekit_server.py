"""Opt-in: the plugin against a real LiveKit server, driven by a real client connection.

Runs when LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET are set, for example against
`livekit-server --dev` (URL ws://localhost:7880, key devkey, secret secret).
"""

import asyncio
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from livekit import api, rtc

from livekit.plugins.session_sync import LiveKitRoom, SessionSynchronizer, SyncOptions
from livekit.plugins.session_sync.testing import (
    InMemoryTurnTaking,
    SessionSyncClient,
    eventually,
)

REPO = Path(__file__).resolve().parents[2]
NEEDED = ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")
MISSING = [name for name in NEEDED if not os.environ.get(name)]

pytestmark = [
    pytest.mark.livekit_server,
    pytest.mark.skipif(
        bool(MISSING),
        reason=f"needs a LiveKit server: set {', '.join(MISSING)} to run it",
    ),
]


async def _join(room_name: str, identity: str) -> rtc.Room:
    token = (
        api.AccessToken(os.environ["LIVEKIT_API_KEY"], os.environ["LIVEKIT_API_SECRET"])
        .with_identity(identity)
        .with_grants(api.VideoGrants(room_join=True, room=room_name, can_update_own_metadata=True))
        .to_jwt()
    )
    room = rtc.Room()
    await room.connect(os.environ["LIVEKIT_URL"], token)
    return room


@pytest.fixture
async def rooms() -> AsyncIterator[tuple[rtc.Room, rtc.Room]]:
    name = f"session-sync-e2e-{uuid.uuid4().hex[:8]}"
    agent, user = await _join(name, "agent"), await _join(name, "user")
    yield agent, user
    await user.disconnect()
    await agent.disconnect()


async def test_protocol_round_trip_on_a_real_room(rooms: tuple[rtc.Room, rtc.Room]) -> None:
    agent_room, user_room = rooms
    turns = InMemoryTurnTaking()
    sync = SessionSynchronizer(
        LiveKitRoom(agent_room),
        turn_taking=turns,
        linked_identity="user",
        options=SyncOptions(initial_sync_delay=0.5, validation_interval=1.0),
    )
    client = SessionSyncClient(LiveKitRoom(user_room), "agent")
    await sync.start()
    try:
        await eventually(lambda: "session.config" in client.agent_attributes(), timeout=10)

        result = await client.call("session.start", {"sessionType": "voice-ptt"})
        assert result["type"] == "voice-ptt" and result["turnDetection"] == "client"
        await eventually(lambda: client.session()["state"] == "active", timeout=10)
        await eventually(lambda: bool(client.events_of("session_state_sync")), timeout=10)

        reply = await client.request("session.ptt_start", timeout=10)
        assert reply["type"] == "ack" and turns.audio_input_enabled

        with pytest.raises(rtc.RpcError) as err:
            await client.call("session.switch", {"sessionType": "hologram"})
        assert err.value.code == 2422

        turns.audio_input_enabled = False  # drift: the periodic check must repair it
        await eventually(lambda: bool(client.events_of("session_inconsistency")), timeout=10)
        await eventually(lambda: turns.audio_input_enabled, timeout=10)
        published = json.loads(client.agent_attributes()["session.config"])
        assert published == sync.config.to_wire()
    finally:
        client.close()
        await sync.aclose()


def _agent_identity(room: rtc.Room) -> str | None:
    for identity, participant in room.remote_participants.items():
        if "session.config" in participant.attributes:
            return identity
    return None


async def test_worker_joins_a_room_and_serves_the_app(tmp_path: object) -> None:
    """The real worker (`python -m agent start`) against the server, seen from an app."""
    env = {
        **os.environ,
        "AGENT_NAME": "",  # automatic dispatch to the new room
        "DEFAULT_SESSION_TYPE": "text",
        "TURN_DETECTOR": "vad-only",
        "STT_MODEL": "none",  # a plain server has no LiveKit Inference
        "TTS_MODEL": "none",
    }
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "agent", "start", env=env, cwd=str(REPO)
    )
    room = await _join(f"session-sync-e2e-{uuid.uuid4().hex[:8]}", "app-user")
    try:
        await eventually(lambda: _agent_identity(room) is not None, timeout=60)
        agent = _agent_identity(room)
        assert agent is not None
        client = SessionSyncClient(LiveKitRoom(room), agent)
        await eventually(lambda: client.session()["state"] == "active", timeout=10)
        assert client.session()["type"] == "text"

        replies: list[str] = []

        def on_transcription(reader: rtc.TextStreamReader, sender: str) -> None:
            async def read() -> None:
                replies.append(await reader.read_all())

            asyncio.get_running_loop().create_task(read())

        room.register_text_stream_handler("lk.transcription", on_transcription)
        await room.local_participant.send_text("hello there", topic="lk.chat")
        await eventually(lambda: any("offline responder" in r for r in replies), timeout=20)

        with pytest.raises(rtc.RpcError) as err:
            await client.call("session.switch", {"sessionType": "voice-vad"})
        assert err.value.code == 2501  # no speech-to-text on a plain server

        reply = await client.request("session.sync", {"trigger": "e2e"}, timeout=10)
        assert reply["type"] == "ack"
        await eventually(
            lambda: any(e["payload"]["trigger"] == "e2e" for e in client.events), timeout=10
        )
    finally:
        await room.disconnect()
        worker.terminate()
        await worker.wait()

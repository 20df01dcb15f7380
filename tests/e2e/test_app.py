"""The real worker serving one app in one room: the dispatch, chat, every command over RPC and
over data, and both sides' links dropping and coming back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from livekit import rtc

from support.e2e_app import App, dispatch, join_app, reconnect
from support.livekit_server import ServerInfo, new_room_name
from support.worker_process import Worker

pytestmark = [pytest.mark.livekit_server, pytest.mark.asyncio(loop_scope="module")]

ERROR_NAMES = {2409: "invalid_transition", 2412: "wrong_session_type", 2501: "unavailable"}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def app(info: ServerInfo, worker: Worker) -> AsyncIterator[App]:
    room = new_room_name("e2e-app")
    # The dispatch asks for voice; the room's metadata (read after it) for text.
    await dispatch(info, room, '{"sessionType": "voice-vad"}')
    joined = await join_app(info, room)
    try:
        await joined.until(lambda: joined.client.session()["state"] == "active", "a session")
        yield joined
    finally:
        await joined.leave()


async def send(
    app: App, transport: str, method: str, params: dict[str, Any] | None = None
) -> tuple[str, Any]:
    """A command as the app sends it: ("ok", result) or ("error", code name)."""
    if transport == "rpc":
        try:
            return "ok", await app.call(method, params)
        except rtc.RpcError as e:
            return "error", ERROR_NAMES.get(e.code, str(e.code))
    reply = await app.request(method, params)
    if reply["type"] == "ack":
        return "ok", reply["result"]
    return "error", reply["error"]["code"]


async def shows(app: App, session: dict[str, Any]) -> None:
    """The app's view of the agent's attributes reaches `session`."""
    await app.until(lambda: app.client.session() == session, f"the app to see {session}")


async def test_a_voice_session_the_agent_cannot_run_starts_as_text(
    app: App, worker: Worker
) -> None:
    session = app.client.session()
    assert (session["type"], session["state"]) == ("text", "active")
    # No speech-to-text here: the dispatch's voice-vad was read, refused and replaced by text.
    room = app.room.name
    assert worker.logged(room, "session type voice-vad taken from dispatch metadata")
    assert worker.logged(room, "cannot start the voice-vad session chosen by dispatch metadata")


async def test_a_chat_message_is_answered_on_the_transcription_stream(app: App) -> None:
    replies: list[str] = []

    def on_transcription(reader: rtc.TextStreamReader, sender: str) -> None:
        async def read() -> None:
            replies.append(await reader.read_all())

        asyncio.get_running_loop().create_task(read())

    app.room.register_text_stream_handler("lk.transcription", on_transcription)
    try:
        await app.room.local_participant.send_text("hello there", topic="lk.chat")
        await app.until(lambda: any("offline responder" in r for r in replies), "a reply")
    finally:
        app.room.unregister_text_stream_handler("lk.transcription")


@pytest.mark.parametrize("transport", ["rpc", "data"])
async def test_every_command_is_answered_and_its_effect_reaches_the_app(
    app: App, transport: str
) -> None:
    start = await app.call("session.snapshot")
    assert start["session"]["state"] == "active"

    outcome, snapshot = await send(app, transport, "session.snapshot")
    assert outcome == "ok" and snapshot["session"]["sessionId"] == start["session"]["sessionId"]

    outcome, verdict = await send(app, transport, "session.validate")
    assert outcome == "ok" and verdict["isValid"] is True

    trigger = f"e2e-{transport}"
    outcome, synced = await send(app, transport, "session.sync", {"trigger": trigger})
    assert outcome == "ok" and synced["revision"] > start["session"]["revision"]
    await shows(app, synced)
    await app.until(lambda: trigger in app.triggers(), "the sync event")

    for enabled in (False, True):
        outcome, _ = await send(app, transport, "session.set_sync_enabled", {"enabled": enabled})
        assert outcome == "ok"
        assert (await app.call("session.snapshot"))["syncEnabled"] is enabled

    # A text session has no microphone and no push-to-talk button.
    assert await send(app, transport, "session.set_muted", {"muted": True}) == (
        "error",
        "wrong_session_type",
    )
    for method in ("session.ptt_start", "session.ptt_end", "session.ptt_cancel"):
        assert await send(app, transport, method) == ("error", "wrong_session_type")
    # No speech-to-text on this agent: voice is refused before anything changes.
    assert await send(app, transport, "session.switch", {"sessionType": "voice-ptt"}) == (
        "error",
        "unavailable",
    )
    outcome, same = await send(app, transport, "session.switch", {"sessionType": "text"})
    assert outcome == "ok" and same["type"] == "text" and same["state"] == "active"

    outcome, ended = await send(app, transport, "session.end")
    assert outcome == "ok" and (ended["state"], ended["type"]) == ("idle", None)
    await shows(app, ended)
    assert await send(app, transport, "session.end") == ("error", "invalid_transition")

    outcome, started = await send(app, transport, "session.start", {"sessionType": "text"})
    assert outcome == "ok" and (started["state"], started["type"]) == ("active", "text")
    await shows(app, started)
    assert started["sessionId"] != start["session"]["sessionId"]
    await app.until(
        lambda: app.triggers()[-2:] == ["session.start", "session.start"], "syncing, then active"
    )


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(rtc.SimulateScenarioKind.SIMULATE_SIGNAL_RECONNECT, id="resume"),
        pytest.param(rtc.SimulateScenarioKind.SIMULATE_FULL_RECONNECT, id="full-reconnect"),
    ],
)
async def test_the_app_converges_after_its_own_link_drops(
    app: App, scenario: rtc.SimulateScenarioKind.ValueType
) -> None:
    before = (await app.converged())["session"]

    await reconnect(app, scenario)

    after = (await app.converged())["session"]
    assert (after["sessionId"], after["type"], after["state"]) == (
        before["sessionId"],
        "text",
        "active",
    )
    outcome, synced = await send(app, "data", "session.sync", {"trigger": "after-reconnect"})
    assert outcome == "ok"
    await shows(app, synced)


async def test_the_app_converges_after_the_agents_link_is_cut_and_restored(
    app: App, worker: Worker
) -> None:
    before = (await app.converged())["session"]
    interruptions = worker.count("agent link reconnecting")
    seen = len(app.heard)

    worker.cut_link()
    try:
        await worker.output("agent link reconnecting", after=interruptions, timeout=60)
    finally:
        worker.restore_link()

    def told_of_the_reconnect() -> bool:
        # Resumed, the agent's `reconnected` event arrives. Rejoined after a failed resume
        # (LiveKit's full reconnect), the event can be lost with the old connection; the
        # attributes' `session.seq`, past the last event heard, then tells the app (8.5).
        heard = app.heard[seen:]
        if any(m.get("payload", {}).get("trigger") == "reconnected" for m in heard):
            return True
        last_heard = max((m["seq"] for m in app.heard if "seq" in m), default=0)
        published = int(app.client.agent_attributes().get("session.seq", "0"))
        revision = int(app.client.agent_attributes().get("session.revision", "0"))
        return published > last_heard and revision > before["revision"]

    await app.until(told_of_the_reconnect, "the app to learn of the agent's reconnect")
    after = (await app.converged())["session"]
    assert (after["sessionId"], after["state"]) == (before["sessionId"], "active")
    assert after["revision"] > before["revision"]
    outcome, synced = await send(app, "rpc", "session.sync", {"trigger": "after-agent-cut"})
    assert outcome == "ok"
    await shows(app, synced)

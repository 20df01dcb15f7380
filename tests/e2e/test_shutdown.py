"""The job ends: the session's final state reaches the room before the agent leaves it."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest
from livekit import rtc

from support.e2e_app import AGENT_NAME, App, dispatch, join_app
from support.livekit_server import ServerInfo, new_room_name
from support.worker_process import Worker, running_worker

from .conftest import worker_env

pytestmark = [pytest.mark.livekit_server]

STOPPING_AGENT = f"{AGENT_NAME}-stop"


def timeline(app: App) -> list[str]:
    """The agent's `session.state` as `app` sees it change, then "left" when the agent leaves."""
    seen: list[str] = [app.client.agent_attributes()["session.state"]]

    def on_attributes(changed: dict[str, str], participant: rtc.Participant) -> None:
        if participant.identity == app.agent and "session.state" in changed:
            seen.append(changed["session.state"])

    def on_left(participant: rtc.RemoteParticipant) -> None:
        if participant.identity == app.agent:
            seen.append("left")

    app.room.on("participant_attributes_changed", on_attributes)
    app.room.on("participant_disconnected", on_left)
    return seen


ENDING = [("ending", "text"), ("idle", None)]


def shutdown_events(app: App) -> list[tuple[str, str | None]]:
    """The `agent_shutdown` events the app received. The attributes are the session's source
    of truth and always arrive; the last data packets sent before the agent disconnects can
    be lost with its connection, so these may stop short, never go out of order."""
    return [
        (m["payload"]["frontendState"]["state"], m["payload"]["frontendState"]["type"])
        for m in app.heard
        if m.get("type") == "session_state_sync" and m["payload"]["trigger"] == "agent_shutdown"
    ]


async def test_when_the_user_does_not_return_the_room_sees_the_session_end_first(
    info: ServerInfo, worker: Worker
) -> None:
    room = new_room_name("e2e-gone")
    await dispatch(info, room, "text")
    user = await join_app(info, room)
    # Someone else in the room: another device of the user, or a supervisor.
    other = await join_app(info, room, "app-observer")
    try:
        await other.until(lambda: other.client.session()["state"] == "active", "the session")
        seen = timeline(other)

        await user.leave()  # for good: the agent waits REJOIN_GRACE_SECONDS, then leaves

        await other.until(lambda: "left" in seen, "the agent to leave")
        assert seen[-2:] == ["idle", "left"], seen
        assert shutdown_events(other) == ENDING[: len(shutdown_events(other))]
    finally:
        await other.leave()
        await user.leave()


@pytest.fixture
def stopping_worker(info: ServerInfo) -> Iterator[Worker]:
    # `dev`, as a developer runs it and stops it with Ctrl+C. (A `start` worker told to stop
    # drains instead: it waits for its jobs to end, then stops.)
    with running_worker("dev", worker_env(info, AGENT_NAME=STOPPING_AGENT)) as running:
        yield running


async def test_when_the_worker_stops_the_app_sees_the_session_end_before_the_agent_leaves(
    info: ServerInfo, stopping_worker: Worker
) -> None:
    room = new_room_name("e2e-stop")
    await dispatch(info, room, agent_name=STOPPING_AGENT)
    app = await join_app(info, room)
    try:
        await app.until(lambda: app.client.session()["state"] == "active", "the session")
        seen = timeline(app)

        stopping_worker.signal(signal.SIGINT)

        await app.until(lambda: "left" in seen, "the agent to leave")
        assert seen[-2:] == ["idle", "left"], seen
        assert shutdown_events(app) == ENDING[: len(shutdown_events(app))]
    finally:
        await app.leave()

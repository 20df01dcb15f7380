"""Automatic dispatch: a worker without an agent name joins every new room, and the session
type comes from the user's token attribute, else the room's metadata. (Explicit dispatch and
its metadata: test_app.py.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.e2e_app import create_room, join_app
from support.livekit_server import ServerInfo, new_room_name
from support.worker_process import Worker, running_worker

from .conftest import worker_env

pytestmark = [pytest.mark.livekit_server]


@pytest.fixture
def auto_worker(info: ServerInfo) -> Iterator[Worker]:
    # One worker per test: on a busy machine, a worker still starting one job's process may
    # not answer the server's offer of the next room, and an automatic dispatch that finds
    # no worker is not retried.
    # `dev`, as a developer runs it (a second `start` worker would want the shared one's
    # health port). Voice by default, which this agent cannot run: a text session shows that
    # a source was read.
    env = worker_env(info, AGENT_NAME="", DEFAULT_SESSION_TYPE="voice-vad")
    with running_worker("dev", env) as running:
        yield running


async def test_the_users_token_attribute_chooses_the_session_type(
    info: ServerInfo, auto_worker: Worker
) -> None:
    room = new_room_name("e2e-auto")
    await create_room(info, room, '{"sessionType": "voice-ptt"}')
    app = await join_app(info, room, attributes={"session.requestedType": "text"})
    try:
        await app.until(lambda: app.client.session()["state"] == "active", "the session")
        assert app.client.session()["type"] == "text"
        assert auto_worker.logged(
            room, "session type text taken from participant attribute session.requestedType"
        )
        assert not auto_worker.logged(room, "cannot start")
    finally:
        await app.leave()


async def test_the_room_metadata_chooses_the_session_type_when_the_user_does_not(
    info: ServerInfo, auto_worker: Worker
) -> None:
    room = new_room_name("e2e-auto")
    await create_room(info, room, '{"sessionType": "text"}')
    app = await join_app(info, room)
    try:
        await app.until(lambda: app.client.session()["state"] == "active", "the session")
        assert app.client.session()["type"] == "text"
        assert auto_worker.logged(room, "session type text taken from room metadata")
        assert not auto_worker.logged(room, "cannot start")
    finally:
        await app.leave()

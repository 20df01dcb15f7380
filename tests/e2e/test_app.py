"""The real worker serving one app in one room: chat, every command, reconnects."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from ..support.livekit_server import ServerInfo, new_room_name
from .app import App, dispatch, join_app
from .worker import Worker

pytestmark = [pytest.mark.livekit_server, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def app(info: ServerInfo, worker: Worker) -> AsyncIterator[App]:
    room = new_room_name("e2e-app")
    await dispatch(info, room, '{"sessionType": "text"}')
    joined = await join_app(info, room)
    try:
        yield joined
    finally:
        await joined.leave()


async def test_the_session_starts_as_the_dispatch_metadata_says(app: App) -> None:
    await app.until(lambda: app.client.session()["state"] == "active", "an active session")
    assert app.client.session()["type"] == "text"
    assert "join:dispatch metadata" in app.triggers()

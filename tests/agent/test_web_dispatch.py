"""The page's endpoint brings the agent: an explicit dispatch per room, and another when none
has joined by the deadline (LiveKit's server offers a job once)."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from livekit.protocol.models import ParticipantInfo

SERVER = Path(__file__).resolve().parents[2] / "clients" / "web" / "server.py"


def load_endpoint() -> ModuleType:
    spec = importlib.util.spec_from_file_location("session_sync_web_server", SERVER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


endpoint = load_endpoint()


class FakeServerApi:
    """The two calls the dispatcher makes, with a room whose agent comes when told."""

    def __init__(self) -> None:
        self.dispatched: list[tuple[str, str]] = []
        self.agent_here = False
        self.user_here = True
        self.agent_dispatch = SimpleNamespace(create_dispatch=self._create_dispatch)
        self.room = SimpleNamespace(list_participants=self._list_participants)

    async def _create_dispatch(self, request: Any) -> None:
        self.dispatched.append((request.agent_name, request.room))

    async def _list_participants(self, request: Any) -> Any:
        here = [ParticipantInfo(kind=ParticipantInfo.Kind.AGENT)] if self.agent_here else []
        if self.user_here:
            here.append(ParticipantInfo(kind=ParticipantInfo.Kind.STANDARD))
        return SimpleNamespace(participants=here)


def config(agent_name: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("LIVEKIT_URL", "ws://127.0.0.1:7880")
    monkeypatch.setenv("LIVEKIT_API_KEY", "devkey")
    monkeypatch.setenv("LIVEKIT_API_SECRET", "secret")
    monkeypatch.setenv("AGENT_NAME", agent_name)
    made = endpoint.Config()
    made.agent_deadline, made.redispatches = 0.05, 2
    return made


async def test_a_token_dispatches_the_named_agent_once_while_it_is_on_its_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lk = FakeServerApi()
    dispatcher = endpoint.Dispatcher(config("session-sync", monkeypatch), lk)
    dispatcher.POLL_SECONDS = 0.01
    await dispatcher.token_made("r1")
    await dispatcher.token_made("r1")  # a second token while the first dispatch is watched
    assert lk.dispatched == [("session-sync", "r1")]
    lk.agent_here = True
    await asyncio.sleep(0.2)
    assert lk.dispatched == [("session-sync", "r1")]
    assert dispatcher.status("r1").agent_present is True
    await dispatcher.aclose()


async def test_no_agent_by_the_deadline_is_dispatched_again_then_reported(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    lk = FakeServerApi()
    dispatcher = endpoint.Dispatcher(config("session-sync", monkeypatch), lk)
    dispatcher.POLL_SECONDS = 0.01
    with caplog.at_level(logging.INFO, logger="session-sync-web"):
        await dispatcher.token_made("r2")
        for _ in range(100):
            if "still no agent" in caplog.text:
                break
            await asyncio.sleep(0.05)
    assert lk.dispatched == [("session-sync", "r2")] * 3
    assert dispatcher.status("r2").dispatches == 3
    assert "dispatching 'session-sync' again" in caplog.text
    assert "still no agent in room 'r2' after 3 dispatches" in caplog.text
    await dispatcher.aclose()


async def test_automatic_dispatch_is_relied_on_and_only_repeated_when_no_agent_came(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lk = FakeServerApi()
    dispatcher = endpoint.Dispatcher(config("", monkeypatch), lk)
    dispatcher.POLL_SECONDS = 0.01
    await dispatcher.token_made("r3")
    assert lk.dispatched == []
    for _ in range(100):
        if lk.dispatched:
            break
        await asyncio.sleep(0.02)
    assert lk.dispatched[0] == ("", "r3")
    await dispatcher.aclose()


async def test_an_agent_that_came_and_went_with_its_user_is_not_sent_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lk = FakeServerApi()
    dispatcher = endpoint.Dispatcher(config("session-sync", monkeypatch), lk)
    dispatcher.POLL_SECONDS = 0.01
    await dispatcher.token_made("r4")
    lk.agent_here = True
    await asyncio.sleep(0.03)  # seen within the deadline
    lk.agent_here = lk.user_here = False  # the call ended before the deadline
    await asyncio.sleep(0.3)
    assert lk.dispatched == [("session-sync", "r4")]
    await dispatcher.aclose()


async def test_a_room_its_user_left_is_not_sent_an_agent_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lk = FakeServerApi()
    lk.user_here = False
    dispatcher = endpoint.Dispatcher(config("session-sync", monkeypatch), lk)
    dispatcher.POLL_SECONDS = 0.01
    await dispatcher.token_made("r5")
    await asyncio.sleep(0.3)
    assert lk.dispatched == [("session-sync", "r5")]
    await dispatcher.aclose()

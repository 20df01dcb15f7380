"""Closing the synchronizer turns the agent's microphone off, whatever it was doing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from livekit.plugins.session_sync import SessionSynchronizer, SyncOptions
from livekit.plugins.session_sync.testing.client import eventually
from livekit.plugins.session_sync.testing.room import InMemoryRoom, InMemoryServer
from livekit.plugins.session_sync.testing.turn_taking import InMemoryTurnTaking

from .conftest import AGENT, ROOM, USER

OPTIONS = SyncOptions(initial_sync_delay=3600, validation_interval=3600)


@dataclass
class Agent:
    server: InMemoryServer
    room: InMemoryRoom
    turns: InMemoryTurnTaking
    sync: SessionSynchronizer

    def listening(self) -> bool:
        return self.turns.audio_input_enabled


@pytest.fixture
async def agent() -> AsyncIterator[Agent]:
    server = InMemoryServer()
    room = await server.connect(ROOM, AGENT, kind="agent")
    await server.connect(ROOM, USER)
    turns = InMemoryTurnTaking()
    sync = SessionSynchronizer(room, turn_taking=turns, linked_identity=USER, options=OPTIONS)
    await sync.start()
    await server.settle()
    yield Agent(server, room, turns, sync)
    await sync.aclose()


async def applying(agent: Agent) -> None:
    await eventually(lambda: agent.turns.applying > 0, timeout=5, message="a turn-taking change")


async def test_aclose_of_a_listening_voice_vad_session_turns_the_microphone_off(
    agent: Agent,
) -> None:
    await agent.sync.request("session.start", {"sessionType": "voice-vad"})
    assert agent.listening()
    await agent.sync.aclose()
    assert not agent.listening()


async def test_aclose_during_a_press_turns_the_microphone_off_and_drops_the_turn(
    agent: Agent,
) -> None:
    await agent.sync.request("session.start", {"sessionType": "voice-ptt"})
    await agent.sync.request("session.ptt_start")
    assert agent.listening() and agent.turns.user_turn_open
    await agent.sync.aclose()
    assert not agent.listening()
    assert not agent.turns.user_turn_open  # nobody is left to answer it


async def test_aclose_during_a_switch_to_voice_turns_the_microphone_off(agent: Agent) -> None:
    await agent.sync.request("session.start", {"sessionType": "text"})
    agent.turns.delay = 0.05
    switch = asyncio.create_task(agent.sync.request("session.switch", {"sessionType": "voice-vad"}))
    await applying(agent)
    await agent.sync.aclose()
    await asyncio.gather(switch, return_exceptions=True)
    assert not agent.listening()


async def test_aclose_during_a_press_still_being_applied_turns_the_microphone_off(
    agent: Agent,
) -> None:
    await agent.sync.request("session.start", {"sessionType": "voice-ptt"})
    agent.turns.delay = 0.05
    press = asyncio.create_task(agent.sync.request("session.ptt_start"))
    await applying(agent)
    await agent.sync.aclose()
    await asyncio.gather(press, return_exceptions=True)
    assert not agent.listening()
    assert not agent.turns.user_turn_open


async def test_aclose_with_the_link_down_turns_the_microphone_off(agent: Agent) -> None:
    await agent.sync.request("session.start", {"sessionType": "voice-vad"})
    agent.room.simulate_reconnecting()
    await agent.server.settle()
    assert agent.sync.config.state == "syncing" and agent.listening()
    await agent.sync.aclose()
    assert not agent.listening()


async def test_aclose_cancelled_while_a_command_finishes_still_turns_the_microphone_off(
    agent: Agent,
) -> None:
    await agent.sync.request("session.start", {"sessionType": "text"})
    agent.turns.delay = 0.2
    switch = asyncio.create_task(agent.sync.request("session.switch", {"sessionType": "voice-vad"}))
    await applying(agent)
    closing = asyncio.create_task(agent.sync.aclose())
    await asyncio.sleep(0.01)
    closing.cancel()  # a job's shutdown deadline, say
    await asyncio.gather(closing, switch, return_exceptions=True)
    assert not agent.listening()


async def test_a_second_aclose_returns_only_once_the_microphone_is_off(agent: Agent) -> None:
    await agent.sync.request("session.start", {"sessionType": "text"})
    agent.turns.delay = 0.05
    switch = asyncio.create_task(agent.sync.request("session.switch", {"sessionType": "voice-vad"}))
    await applying(agent)
    first = asyncio.create_task(agent.sync.aclose())
    await asyncio.sleep(0)
    await agent.sync.aclose()
    assert not agent.listening()
    await asyncio.gather(first, switch, return_exceptions=True)


async def test_aclose_turns_the_microphone_off_even_when_the_first_attempt_fails(
    agent: Agent,
) -> None:
    await agent.sync.request("session.start", {"sessionType": "voice-vad"})
    agent.turns.fail_next_apply = RuntimeError("the session is busy")
    await agent.sync.aclose()
    assert not agent.listening()


async def test_aclose_of_a_muted_or_text_session_leaves_the_microphone_off(agent: Agent) -> None:
    await agent.sync.request("session.start", {"sessionType": "voice-vad"})
    await agent.sync.request("session.set_muted", {"muted": True})
    assert not agent.listening()
    await agent.sync.aclose()
    assert not agent.listening()


async def test_nothing_turns_the_microphone_back_on_after_aclose(agent: Agent) -> None:
    await agent.sync.request("session.start", {"sessionType": "voice-ptt"})
    await agent.sync.aclose()
    with pytest.raises(Exception, match="shutting down"):
        await agent.sync.request("session.ptt_start")
    agent.room.simulate_reconnecting()
    await agent.server.settle()
    agent.room.simulate_reconnected()
    await agent.server.settle()
    assert not agent.listening()

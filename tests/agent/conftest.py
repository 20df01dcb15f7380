import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from livekit.agents import AgentSession
from livekit.plugins import silero

from agent.console import ConsoleAgent, show_voice_turns
from agent.console_commands import ConsoleCommands
from agent.console_mic import ConsoleMicrophone, console_speaker
from agent.handover import HANDOVER_DIR_ENV
from agent.session import SessionSyncAgent, build_session, start_session_sync
from agent.session_type import ChosenType
from agent.settings import Settings, load_settings
from agent.speech_models import LoadedModels, TurnDetectorPlan
from agent.turns import AgentSessionTurnTaking
from livekit.plugins.session_sync import SessionSynchronizer, SessionType
from livekit.plugins.session_sync.testing import InMemoryRoom, InMemoryServer, SessionSyncClient
from support.fakes import EchoLLM, FakeMicrophone, SilentTTS, TaggedSTT, TimedAudioOutput

WORDS = {1: "secret words", 2: "hello there", 3: "switch me"}


@pytest.fixture(scope="session")
def vad() -> silero.VAD:
    return silero.VAD.load()


@pytest.fixture(autouse=True)
def no_worker_directories_left_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker built in this process (`main`, `build_server`) names its hand-over mark
    directory in the environment: undone after each test, so that the workers later tests
    start do not inherit this process's."""
    monkeypatch.setenv(HANDOVER_DIR_ENV, "")
    monkeypatch.delenv(HANDOVER_DIR_ENV)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No setting in the environment, and a working directory without a `.env`."""
    names = set(Settings.env_names())
    for key in list(os.environ):
        if key.upper() in names:
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def settings(clean_env: Path) -> Settings:
    # A loaded CI machine can take seconds to decode a press with the local STT.
    return load_settings(
        initial_sync_delay_seconds=3600,
        sync_interval_seconds=3600,
        ptt_transcript_timeout_seconds=30,
    )


@dataclass
class Worker:
    session: AgentSession
    turns: AgentSessionTurnTaking
    sync: SessionSynchronizer
    client: SessionSyncClient
    server: InMemoryServer
    mic: FakeMicrophone
    speaker: TimedAudioOutput
    llm: EchoLLM
    stt: Any
    tts: SilentTTS
    agent_room: InMemoryRoom
    commands: ConsoleCommands
    """The console's slash commands on this worker (answered by the agent with `console=True`)."""

    async def settle(self) -> None:
        await self.server.settle()


WorkerFactory = Callable[..., Any]


@pytest.fixture
async def make_worker(settings: Settings, vad: silero.VAD) -> AsyncIterator[Callable[..., Any]]:
    """Builds the worker's real AgentSession on fakes, joined to an in-memory room."""
    started: list[Worker] = []

    async def make(
        session_type: SessionType,
        *,
        plan: TurnDetectorPlan | None = None,
        stt: Any = None,
        console: bool = False,
        voice_activity: Any = None,
    ) -> Worker:
        """`console=True`: the console's agent, microphone (`/say`) and no speaker."""
        models = LoadedModels(
            vad=voice_activity or vad, plan=plan or TurnDetectorPlan("vad-only", "vad-only")
        )
        fake_llm, fake_tts = EchoLLM(), SilentTTS()
        # stt="none": the agent has no speech-to-text.
        fake_stt = None if stt == "none" else stt or TaggedSTT(WORDS)
        server = InMemoryServer()
        agent_room = await server.connect("room", "agent", kind="agent")
        user_room = await server.connect("room", "user")
        client = SessionSyncClient(user_room, "agent")
        session, turns = build_session(
            settings,
            models,
            session_type,
            llm=fake_llm,
            stt=fake_stt,
            tts=fake_tts,
            aec_warmup_duration=None,
            user_away_timeout=None,
        )
        mic, speaker = FakeMicrophone(), TimedAudioOutput()
        console_mic = ConsoleMicrophone()
        commands = ConsoleCommands(
            client,
            agent_room=agent_room,
            turns=turns,
            say=await console_speaker(session, console_mic) if console else None,
        )
        agent: SessionSyncAgent = SessionSyncAgent(instructions="test")
        if console:
            agent = ConsoleAgent(instructions="test", commands=commands)
            session.input.audio = console_mic
            show_voice_turns(session)
        else:
            session.input.audio = mic
            session.output.audio = speaker
        await session.start(agent)
        closers: list[Any] = []
        sync = await start_session_sync(
            settings,
            agent_room,
            turns,
            linked_identity="user",
            chosen=ChosenType(session_type, "test"),
            on_close=closers.append,
        )
        assert closers == [sync.aclose]
        await server.settle()
        worker = Worker(
            session,
            turns,
            sync,
            client,
            server,
            mic,
            speaker,
            fake_llm,
            fake_stt,
            fake_tts,
            agent_room,
            commands,
        )
        started.append(worker)
        return worker

    yield make
    for worker in started:
        await worker.commands.aclose()
        await worker.sync.aclose()
        await worker.session.aclose()

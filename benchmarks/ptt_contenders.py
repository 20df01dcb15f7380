"""The two sessions `bench_ptt` compares, and what it stamps on them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from livekit import rtc
from livekit.agents import Agent, AgentSession, llm, stt, vad
from livekit.agents.voice.events import UserInputTranscribedEvent

from agent.session import SessionSyncAgent, build_session, start_session_sync
from agent.session_type import ChosenType
from agent.settings import load_settings
from agent.speech_models import LoadedModels, TurnDetectorPlan
from livekit.plugins.session_sync import SessionType
from livekit.plugins.session_sync.testing import InMemoryServer, SessionSyncClient
from support.fakes import EchoLLM, FakeMicrophone, SilentTTS, TimedAudioOutput, frame_tag
from support.streaming_stt import StreamingOnlySTT, final_transcript


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile, q in [0, 100]."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class Stamps:
    """The current press's release, last final transcript, commit and first reply audio
    (perf_counter), and the figures of the presses recorded so far."""

    released: float | None = None
    last_final: float | None = None
    committed: float | None = None
    first_audio: float | None = None
    commit_ms: list[float] = field(default_factory=list)
    audio_ms: list[float] = field(default_factory=list)
    overhead_ms: list[float] = field(default_factory=list)
    missed: int = 0

    def arm(self) -> None:
        self.released = self.last_final = self.committed = self.first_audio = None

    def clear(self) -> None:
        self.commit_ms.clear()
        self.audio_ms.clear()
        self.overhead_ms.clear()
        self.missed = 0

    def on_transcribed(self, event: UserInputTranscribedEvent) -> None:
        if event.is_final and event.transcript.strip() and self.committed is None:
            self.last_final = time.perf_counter()

    def on_committed(self) -> None:
        if self.released is not None and self.committed is None:
            self.committed = time.perf_counter()

    def on_audio(self) -> None:
        if self.committed is not None and self.first_audio is None:
            self.first_audio = time.perf_counter()

    async def answered(self, session: AgentSession[Any], timeout: float) -> None:
        """Until the reply has been heard and the agent listens again, or `timeout`."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            done = self.first_audio is not None
            if done and session.agent_state == "listening" and session.current_speech is None:
                return
            await asyncio.sleep(0.002)

    def record(self) -> None:
        if self.released is None or self.committed is None or self.first_audio is None:
            self.missed += 1
            return
        self.commit_ms.append((self.committed - self.released) * 1000)
        self.audio_ms.append((self.first_audio - self.released) * 1000)
        heard_all = max(self.released, self.last_final or self.released)
        self.overhead_ms.append(max(0.0, self.committed - heard_all) * 1000)


class StampingSpeaker(TimedAudioOutput):
    def __init__(self, stamps: Stamps) -> None:
        super().__init__()
        self._stamps = stamps

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        self._stamps.on_audio()
        await super().capture_frame(frame)


def stamping(base: type[Agent], stamps: Stamps) -> Agent:
    class Stamped(base):  # type: ignore[valid-type, misc]
        async def on_user_turn_completed(
            self, turn_ctx: llm.ChatContext, new_message: llm.ChatMessage
        ) -> None:
            stamps.on_committed()
            await super().on_user_turn_completed(turn_ctx, new_message)

    agent: Agent = Stamped(instructions="benchmark")
    return agent


@dataclass
class Contender:
    name: str
    session: AgentSession[Any]
    mic: FakeMicrophone
    stamps: Stamps
    press: Callable[[], Awaitable[Any]]
    release: Callable[[], Awaitable[Any]]
    closers: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)

    async def aclose(self) -> None:
        for close in self.closers:
            await close()
        await self.session.aclose()


def fakes(recogniser: stt.STT[Any]) -> dict[str, Any]:
    return {
        "llm": EchoLLM(),
        "stt": recogniser,
        "tts": SilentTTS(seconds=0.02),
        "aec_warmup_duration": None,
        "user_away_timeout": None,
    }


async def _start(session: AgentSession[Any], base: type[Agent], stamps: Stamps) -> FakeMicrophone:
    mic = FakeMicrophone()
    session.input.audio = mic
    session.output.audio = StampingSpeaker(stamps)
    session.on("user_input_transcribed", stamps.on_transcribed)
    await session.start(stamping(base, stamps))
    return mic


async def open_bare(
    voice_activity: vad.VAD, recogniser: stt.STT[Any], session_type: SessionType = "voice-ptt"
) -> Contender:
    stamps = Stamps()
    mode: Literal["manual", "vad"] = "manual" if session_type == "voice-ptt" else "vad"
    session: AgentSession[Any] = AgentSession(
        turn_handling={"turn_detection": mode}, vad=voice_activity, **fakes(recogniser)
    )
    mic = await _start(session, Agent, stamps)
    if mode == "manual":
        session.input.set_audio_enabled(False)

    async def press() -> None:
        if session.current_speech is not None:
            session.interrupt(force=True)
        session.clear_user_turn()
        session.input.set_audio_enabled(True)

    async def release() -> None:
        session.input.set_audio_enabled(False)
        session.commit_user_turn()

    name = "bare AgentSession, manual commit" if mode == "manual" else "bare AgentSession, vad"
    return Contender(name, session, mic, stamps, press, release)


async def open_ours(
    voice_activity: vad.VAD, recogniser: stt.STT[Any], session_type: SessionType = "voice-ptt"
) -> Contender:
    stamps = Stamps()
    settings = load_settings(
        _env_file=None, initial_sync_delay_seconds=3600, sync_interval_seconds=3600
    )
    models = LoadedModels(vad=voice_activity, plan=TurnDetectorPlan("vad-only", "vad-only"))
    session, turns = build_session(settings, models, session_type, **fakes(recogniser))
    mic = await _start(session, SessionSyncAgent, stamps)
    server = InMemoryServer()
    agent_room = await server.connect("bench", "agent", kind="agent")
    user_room = await server.connect("bench", "user")
    closers: list[Callable[[], Awaitable[Any]]] = []
    await start_session_sync(
        settings,
        agent_room,
        turns,
        linked_identity="user",
        chosen=ChosenType(session_type, "benchmark"),
        on_close=closers.append,
    )
    client = SessionSyncClient(user_room, "agent")
    await server.settle()

    async def press() -> None:
        await client.call("session.ptt_start")

    async def release() -> None:
        await client.call("session.ptt_end")

    name = f"session sync, {session_type}" + (
        " (session.ptt_end)" if session_type == "voice-ptt" else ""
    )
    return Contender(name, session, mic, stamps, press, release, closers)


class PromptSTT(StreamingOnlySTT):
    """The lower bound: a streaming STT that gives the final transcript of a tagged
    utterance on its first frame, so a release always finds it final."""

    def __init__(self, words: dict[int, str]) -> None:
        super().__init__(_PromptStream, interim_results=False, manual_flush=False)
        self.words = words


class _PromptStream(stt.RecognizeStream):
    async def _run(self) -> None:
        owner = self._stt
        assert isinstance(owner, PromptSTT)
        last = 0
        async for item in self._input_ch:
            if isinstance(item, self._FlushSentinel):
                continue
            tag = frame_tag(item)
            if tag and tag != last and tag in owner.words:
                self._event_ch.send_nowait(final_transcript(owner.words[tag]))
            last = tag

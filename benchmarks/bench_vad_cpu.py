"""CPU per second of audio in voice-vad sessions, ours against a bare session. Not a test.

    uv run python -m benchmarks.bench_vad_cpu                       # 3 rounds each, ~4 min
    uv run python -m benchmarks.bench_vad_cpu --rounds 1 --seconds 10   # a quick look

In one process, without a server: each round opens `--sessions` sessions of one contender,
feeds each a microphone in real time (`tests/fixtures/speech_hello.wav`, 3.4 s of speech
in 5.4 s, then 3 s of silence, in a loop) for `--seconds`, and divides the process CPU time
(`time.process_time()`: every thread, so silero's and the end-of-turn model's inference
threads too) spent while feeding by the audio seconds fed. Opening and closing sessions is
not counted. Rounds alternate between the contenders, so a busy neighbour weighs on both.

Every contender has the same models: one silero VAD (loaded once), the on-device audio
end-of-turn model (`inference.TurnDetector`, v1-mini) and fake STT, LLM and TTS that cost
nothing, so the figures are VAD, end-of-turn and the framework's turn handling:

- silero alone: a bare silero `VADStream` per microphone, no session (the floor);
- bare: an `AgentSession` with the end-of-turn model and no session sync;
- ours: the worker's own voice-vad session (`agent.session.build_session`) with session sync
  over the in-memory room, validation on its default timers.

The audio does not cross a LiveKit room here (no Opus decode, no resampling): that cost is
the same for both and is not session sync's. Rooms per core is 1 / (CPU-s per audio-s).
Exits non-zero when ours costs more than 10% over bare.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
import wave
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from livekit import rtc
from livekit.agents import Agent, AgentSession, inference, vad
from livekit.agents.voice import io
from livekit.plugins import silero

from agent.heap import freeze_startup_heap
from agent.session import SessionSyncAgent, build_session, start_session_sync
from agent.session_type import ChosenType
from agent.settings import load_settings
from agent.speech_models import LoadedModels, TurnDetectorPlan
from livekit.plugins.session_sync.testing import InMemoryServer
from support.fakes import EchoLLM, FixedSTT, SilentTTS, TimedAudioOutput

SPEECH = "tests/fixtures/speech_hello.wav"
GAP_SECONDS = 3.0
FRAME_MS = 20
TARGET_RATIO = 1.10
CONTENDERS = ("silero alone", "bare", "ours")


def speech_frames() -> list[rtc.AudioFrame]:
    with wave.open(SPEECH, "rb") as w:
        rate = w.getframerate()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    clip = np.concatenate([samples, np.zeros(int(rate * GAP_SECONDS), dtype=np.int16)])
    step = rate * FRAME_MS // 1000
    return [
        rtc.AudioFrame(clip[i : i + step].tobytes(), rate, 1, step)
        for i in range(0, len(clip) - step + 1, step)
    ]


class LoopMicrophone(io.AudioInput):
    """Frames handed out at real time, looping over the recording; counts what it fed."""

    def __init__(self, frames: list[rtc.AudioFrame], seconds: float) -> None:
        super().__init__(label="LoopMicrophone")
        self._frames = frames
        self._budget = int(seconds * 1000 / FRAME_MS)
        self.fed = 0
        self._next_at = 0.0
        self.done = asyncio.Event()

    async def __anext__(self) -> rtc.AudioFrame:
        if self.fed >= self._budget:
            self.done.set()
            await asyncio.Event().wait()  # silent until the session is closed
        now = time.perf_counter()
        self._next_at = max(self._next_at + FRAME_MS / 1000, now - 0.2) if self.fed else now
        await asyncio.sleep(max(0.0, self._next_at - now))
        frame = self._frames[self.fed % len(self._frames)]
        self.fed += 1
        return frame

    @property
    def fed_seconds(self) -> float:
        return self.fed * FRAME_MS / 1000


@dataclass
class Opened:
    mics: list[LoopMicrophone]
    turns: list[int]
    close: Callable[[], Awaitable[None]]
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


def fakes() -> dict[str, Any]:
    return {
        "llm": EchoLLM(),
        "stt": FixedSTT("hello can you tell me about the weather today"),
        "tts": SilentTTS(seconds=0.2),
        "aec_warmup_duration": None,
        "user_away_timeout": None,
    }


def count_turns(session: AgentSession[Any], turns: list[int]) -> None:
    def on_state(ev: Any) -> None:
        if ev.new_state == "thinking":
            turns[0] += 1

    session.on("agent_state_changed", on_state)


async def open_silero(voice: vad.VAD, frames: list[rtc.AudioFrame], seconds: float) -> Opened:
    mic = LoopMicrophone(frames, seconds)
    stream = voice.stream()
    turns = [0]

    async def feed() -> None:
        async for frame in mic:
            stream.push_frame(frame)

    async def drain() -> None:
        async for event in stream:
            if event.type == vad.VADEventType.END_OF_SPEECH:
                turns[0] += 1

    async def close() -> None:
        await stream.aclose()

    return Opened([mic], turns, close, [asyncio.create_task(feed()), asyncio.create_task(drain())])


async def open_bare(voice: vad.VAD, frames: list[rtc.AudioFrame], seconds: float) -> Opened:
    session: AgentSession[Any] = AgentSession(
        vad=voice,
        turn_handling={"turn_detection": inference.TurnDetector(version="v1-mini")},
        **fakes(),
    )
    mic = LoopMicrophone(frames, seconds)
    session.input.audio = mic
    session.output.audio = TimedAudioOutput()
    turns = [0]
    count_turns(session, turns)
    await session.start(Agent(instructions="benchmark"))
    return Opened([mic], turns, session.aclose)


async def open_ours(voice: vad.VAD, frames: list[rtc.AudioFrame], seconds: float) -> Opened:
    settings = load_settings(_env_file=None)
    models = LoadedModels(vad=voice, plan=TurnDetectorPlan("audio", "audio"))
    session, turns_port = build_session(settings, models, "voice-vad", **fakes())
    mic = LoopMicrophone(frames, seconds)
    session.input.audio = mic
    session.output.audio = TimedAudioOutput()
    turns = [0]
    count_turns(session, turns)
    await session.start(SessionSyncAgent(instructions="benchmark"))
    server = InMemoryServer()
    agent_room = await server.connect("bench", "agent", kind="agent")
    await server.connect("bench", "user")
    closers: list[Callable[[], Awaitable[None]]] = []
    await start_session_sync(
        settings,
        agent_room,
        turns_port,
        linked_identity="user",
        chosen=ChosenType("voice-vad", "benchmark"),
        on_close=closers.append,
    )

    async def close() -> None:
        for closer in closers:
            await closer()
        await session.aclose()

    return Opened([mic], turns, close)


OPENERS = {"silero alone": open_silero, "bare": open_bare, "ours": open_ours}


@dataclass
class Tally:
    cpu_seconds: float = 0.0
    audio_seconds: float = 0.0
    turns: int = 0

    @property
    def per_audio_second(self) -> float:
        return self.cpu_seconds / self.audio_seconds if self.audio_seconds else float("nan")


async def one_round(
    name: str, voice: vad.VAD, frames: list[rtc.AudioFrame], sessions: int, seconds: float
) -> Tally:
    opened = [await OPENERS[name](voice, frames, seconds) for _ in range(sessions)]
    mics = [mic for o in opened for mic in o.mics]
    await asyncio.sleep(0.5)  # the sessions' start-up work settles before counting
    # The microphones start at their first read; rebase them all on now.
    for mic in mics:
        mic.fed = 0
    started = time.process_time()
    await asyncio.gather(*(mic.done.wait() for mic in mics))
    await asyncio.sleep(0.3)  # the last frames' inference finishes
    cpu = time.process_time() - started
    tally = Tally(cpu, sum(m.fed_seconds for m in mics), sum(o.turns[0] for o in opened))
    for o in opened:
        for task in o.tasks:
            task.cancel()
        await asyncio.gather(*o.tasks, return_exceptions=True)
        await o.close()
    return tally


async def run(rounds: int, sessions: int, seconds: float) -> bool:
    voice = silero.VAD.load()
    freeze_startup_heap()
    frames = speech_frames()
    tallies = {name: Tally() for name in CONTENDERS}
    await one_round("bare", voice, frames, 1, 3.0)  # warm-up: imports, the model's first use
    for index in range(rounds):
        for name in CONTENDERS:
            tally = await one_round(name, voice, frames, sessions, seconds)
            total = tallies[name]
            total.cpu_seconds += tally.cpu_seconds
            total.audio_seconds += tally.audio_seconds
            total.turns += tally.turns
            print(
                time.strftime("%H:%M:%S"),
                f"round {index + 1}/{rounds} {name}: {tally.per_audio_second:.4f} CPU-s per "
                f"audio-s, {tally.turns} turns",
                file=sys.stderr,
                flush=True,
            )

    bare = tallies["bare"].per_audio_second
    print(
        f"\nvoice-vad CPU per audio second: {rounds} rounds x {sessions} sessions x "
        f"{seconds:.0f} s of audio each, alternating\n"
    )
    print("| Contender | CPU-s per audio-s | ratio to bare | rooms per core | turns |")
    print("|---|---|---|---|---|")
    for name, tally in tallies.items():
        cost = tally.per_audio_second
        print(f"| {name} | {cost:.4f} | {cost / bare:.2f} | {1 / cost:.1f} | {tally.turns} |")
    ratio = tallies["ours"].per_audio_second / bare
    heard = tallies["ours"].turns > 0 and tallies["bare"].turns > 0
    ok = ratio <= TARGET_RATIO and heard
    print(
        f"\nTarget: ours <= {TARGET_RATIO:.2f} x bare CPU per audio second, turns committed: "
        f"{'met' if ok else 'MISSED'} ({ratio:.2f})"
    )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description="voice-vad CPU per audio second")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sessions", type=int, default=4, help="concurrent, per round")
    parser.add_argument("--seconds", type=float, default=25.0, help="audio fed to each")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    before = os.getloadavg()[0]
    ok = asyncio.run(run(args.rounds, args.sessions, args.seconds))
    after = os.getloadavg()[0]
    print(
        f"load average (1 min) {before:.1f} at the start, {after:.1f} at the end, "
        f"on {os.cpu_count()} cores"
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

"""Push-to-talk latency on a real AgentSession with fake models. Not a test.

For each press: the press, 0.1 s of speech, the release. The fake speech-to-text gives its
final transcript as soon as it hears the words, so it is in before the release, and the
framework has no reason to wait for one. Both contenders run in one process whose start-up
heap is frozen, as the worker's prewarm leaves it. Measured from the release:

- committed: the agent's `on_user_turn_completed` is called with the user's turn;
- first reply audio: the first frame of the spoken answer reaches the speaker.

Side by side in one run, presses alternating between the two:

- bare: an `AgentSession` with `turn_detection="manual"` and its default turn handling; the
  release is `input.set_audio_enabled(False)` then `commit_user_turn()`;
- session sync: the worker's own session (`agent.session.build_session`) in a voice-ptt
  session, the release sent by the app as `session.ptt_end` through the in-memory room.

Exits non-zero when the session-sync p99 of release -> committed misses its target.

    uv run python -m benchmarks.bench_ptt                  # 200 presses each
    uv run python -m benchmarks.bench_ptt --presses 20     # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from livekit import rtc
from livekit.agents import NOT_GIVEN, Agent, AgentSession, NotGivenOr, llm, stt, utils, vad
from livekit.agents.language import LanguageCode
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions
from livekit.plugins import silero

from agent.heap import freeze_startup_heap
from agent.session import (
    SessionSyncAgent,
    build_session,
    start_session_sync,
)
from agent.session_type import ChosenType
from agent.settings import load_settings
from agent.speech_models import LoadedModels, TurnDetectorPlan
from livekit.plugins.session_sync.testing import InMemoryServer, SessionSyncClient
from support.fakes import EchoLLM, FakeMicrophone, SilentTTS, TimedAudioOutput, frame_tag

TARGET_COMMIT_P99_MS = 20.0
WORDS = {1: "what is the weather like", 2: "and what about tomorrow"}
SPEECH_SECONDS = 0.1


class PromptSTT(stt.STT[Any]):
    """Streaming STT that gives the final transcript of a tagged utterance on its first frame,
    and cannot flush on demand: a release finds the transcript already final."""

    def __init__(self, words: dict[int, str]) -> None:
        super().__init__(
            capabilities=stt.STTCapabilities(
                streaming=True, interim_results=False, manual_flush=False
            )
        )
        self.words = words

    async def _recognize_impl(
        self,
        buffer: utils.AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        raise NotImplementedError

    def stream(
        self,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> stt.RecognizeStream:
        return _PromptStream(stt=self, conn_options=conn_options)


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
                self._event_ch.send_nowait(
                    stt.SpeechEvent(
                        type=stt.SpeechEventType.FINAL_TRANSCRIPT,
                        alternatives=[
                            stt.SpeechData(language=LanguageCode("en"), text=owner.words[tag])
                        ],
                    )
                )
            last = tag


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile, q in [0, 100]."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class Stamps:
    """When the current press was released, committed and first heard back (perf_counter)."""

    released: float | None = None
    committed: float | None = None
    first_audio: float | None = None
    commit_ms: list[float] = field(default_factory=list)
    audio_ms: list[float] = field(default_factory=list)
    missed: int = 0

    def arm(self) -> None:
        self.released = self.committed = self.first_audio = None

    def on_committed(self) -> None:
        if self.released is not None and self.committed is None:
            self.committed = time.perf_counter()

    def on_audio(self) -> None:
        if self.released is not None and self.first_audio is None:
            self.first_audio = time.perf_counter()

    def record(self) -> None:
        if self.released is None or self.committed is None or self.first_audio is None:
            self.missed += 1
            return
        self.commit_ms.append((self.committed - self.released) * 1000)
        self.audio_ms.append((self.first_audio - self.released) * 1000)


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
    press: Callable[[], Any]
    release: Callable[[], Any]
    closers: list[Callable[[], Any]] = field(default_factory=list)


def fakes() -> dict[str, Any]:
    return {
        "llm": EchoLLM(),
        "stt": PromptSTT(WORDS),
        "tts": SilentTTS(seconds=0.02),
        "aec_warmup_duration": None,
        "user_away_timeout": None,
    }


def attach_io(session: AgentSession[Any], stamps: Stamps) -> FakeMicrophone:
    mic = FakeMicrophone()
    session.input.audio = mic
    session.output.audio = StampingSpeaker(stamps)
    return mic


async def open_bare(voice_activity: vad.VAD) -> Contender:
    stamps = Stamps()
    session: AgentSession[Any] = AgentSession(
        turn_handling={"turn_detection": "manual"}, vad=voice_activity, **fakes()
    )
    mic = attach_io(session, stamps)
    await session.start(stamping(Agent, stamps))
    session.input.set_audio_enabled(False)

    async def press() -> None:
        if session.current_speech is not None:
            session.interrupt(force=True)
        session.clear_user_turn()
        session.input.set_audio_enabled(True)

    async def release() -> None:
        session.input.set_audio_enabled(False)
        session.commit_user_turn()

    return Contender("bare AgentSession, manual commit", session, mic, stamps, press, release)


async def open_ours(voice_activity: vad.VAD) -> Contender:
    stamps = Stamps()
    settings = load_settings(
        _env_file=None, initial_sync_delay_seconds=3600, sync_interval_seconds=3600
    )
    models = LoadedModels(vad=voice_activity, plan=TurnDetectorPlan("vad-only", "vad-only"))
    session, turns = build_session(settings, models, "voice-ptt", **fakes())
    mic = attach_io(session, stamps)
    await session.start(stamping(SessionSyncAgent, stamps))
    server = InMemoryServer()
    agent_room = await server.connect("bench", "agent", kind="agent")
    user_room = await server.connect("bench", "user")
    closers: list[Callable[[], Any]] = []
    await start_session_sync(
        settings,
        agent_room,
        turns,
        linked_identity="user",
        chosen=ChosenType("voice-ptt", "benchmark"),
        on_close=closers.append,
    )
    client = SessionSyncClient(user_room, "agent")
    await server.settle()

    async def press() -> None:
        await client.call("session.ptt_start")

    async def release() -> None:
        await client.call("session.ptt_end")

    return Contender(
        "session sync, voice-ptt (session.ptt_end)",
        session,
        mic,
        stamps,
        press,
        release,
        closers,
    )


async def one_press(contender: Contender, timeout: float = 5.0) -> None:
    stamps = contender.stamps
    stamps.arm()
    await contender.press()
    # Alternate the utterances, so each press is news to the STT even if its stream lived on.
    await contender.mic.say(1 + len(stamps.commit_ms) % 2, seconds=SPEECH_SECONDS)
    stamps.released = time.perf_counter()
    await contender.release()
    deadline = time.perf_counter() + timeout
    session = contender.session
    while time.perf_counter() < deadline:
        answered = stamps.first_audio is not None and stamps.committed is not None
        if answered and session.agent_state == "listening" and session.current_speech is None:
            break
        await asyncio.sleep(0.002)
    stamps.record()


async def run(presses: int) -> bool:
    voice_activity = silero.VAD.load()
    freeze_startup_heap()
    contenders = [await open_bare(voice_activity), await open_ours(voice_activity)]
    for contender in contenders:  # warm up both paths
        for _ in range(3):
            await one_press(contender)
        contender.stamps.commit_ms.clear()
        contender.stamps.audio_ms.clear()
        contender.stamps.missed = 0
    for _ in range(presses):
        for contender in contenders:
            await one_press(contender)

    print(f"\nPush-to-talk, {presses} presses each, alternating; times from the release (ms)\n")
    header = (
        "| Path | Release -> committed p50 | p99 | Release -> first reply audio p50 | p99 "
        "| Missed |"
    )
    print(header)
    print("|---|---|---|---|---|---|")
    for c in contenders:
        s = c.stamps
        print(
            f"| {c.name} | {percentile(s.commit_ms, 50):.1f} | {percentile(s.commit_ms, 99):.1f} "
            f"| {percentile(s.audio_ms, 50):.1f} | {percentile(s.audio_ms, 99):.1f} "
            f"| {s.missed} |"
        )
    ours = contenders[1].stamps
    p99 = percentile(ours.commit_ms, 99)
    ok = ours.missed == 0 and p99 < TARGET_COMMIT_P99_MS
    verdict = "met" if ok else "MISSED"
    print(
        f"\nTarget: session sync release -> committed p99 < {TARGET_COMMIT_P99_MS:.0f} ms, "
        f"no missed press: {verdict} ({p99:.1f} ms, {ours.missed} missed)"
    )

    for c in contenders:
        for close in c.closers:
            await close()
        await c.session.aclose()
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--presses", type=int, default=200)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    ok = asyncio.run(run(args.presses))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

"""Fake STT, LLM, TTS and audio I/O for a real AgentSession, as upstream tests the framework.

Audio carries a tag: the first sample of each frame says which utterance it belongs to, so the
fake STT only ever "hears" what really reached it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from livekit import rtc
from livekit.agents import NOT_GIVEN, NotGivenOr, llm, stt, tts, utils, vad
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions
from livekit.agents.voice import io

from support.streaming_stt import StreamingOnlySTT, final_transcript

SAMPLE_RATE = 16000
FRAME_MS = 20
SAMPLES_PER_FRAME = SAMPLE_RATE * FRAME_MS // 1000


def tagged_frame(tag: int) -> rtc.AudioFrame:
    samples = np.zeros(SAMPLES_PER_FRAME, dtype=np.int16)
    samples[0] = tag
    return rtc.AudioFrame(samples.tobytes(), SAMPLE_RATE, 1, SAMPLES_PER_FRAME)


def frame_tag(frame: rtc.AudioFrame) -> int:
    return int(np.frombuffer(frame.data, dtype=np.int16)[0])


class TaggedSTT(StreamingOnlySTT):
    """Streaming STT that can flush on demand; transcribes each tag to its words."""

    def __init__(self, words: dict[int, str]) -> None:
        super().__init__(_TaggedStream, interim_results=False, manual_flush=True)
        self.words = words
        self.heard: list[int] = []


class _TaggedStream(stt.RecognizeStream):
    async def _run(self) -> None:
        owner = self._stt
        assert isinstance(owner, TaggedSTT)
        tags: list[int] = []
        async for item in self._input_ch:
            if isinstance(item, self._FlushSentinel):
                text = " ".join(owner.words[t] for t in tags if t in owner.words)
                tags.clear()
                # An empty final still answers the flush, as real STTs do.
                self._event_ch.send_nowait(final_transcript(text))
                continue
            tag = frame_tag(item)
            owner.heard.append(tag)
            if tag and tag not in tags:
                if not tags:
                    self._event_ch.send_nowait(
                        stt.SpeechEvent(type=stt.SpeechEventType.START_OF_SPEECH)
                    )
                tags.append(tag)


class FixedSTT(stt.STT[Any]):
    """Non-streaming STT returning one transcript; the session wraps it with VAD segmentation."""

    def __init__(self, transcript: str) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=False, interim_results=False))
        self.transcript = transcript

    async def _recognize_impl(
        self,
        buffer: utils.AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        return final_transcript(self.transcript)


class LateVAD(vad.VAD):
    """A VAD that hears a sound late, as real ones do after their minimum speech duration
    and inference: `lag` seconds after the first frame tagged `sound`, it reports the start
    of speech, and the end of it `lag` seconds after that. Other frames are silence."""

    def __init__(self, *, sound: int, lag: float) -> None:
        super().__init__(capabilities=vad.VADCapabilities(update_interval=FRAME_MS / 1000))
        self.sound = sound
        self.lag = lag
        self.reported: list[vad.VADEventType] = []

    def stream(self) -> vad.VADStream:
        return _LateVADStream(self)


class _LateVADStream(vad.VADStream):
    async def _main_task(self) -> None:
        owner = self._vad
        assert isinstance(owner, LateVAD)
        reports: set[asyncio.Task[None]] = set()
        in_sound = False
        async for item in self._input_ch:
            if isinstance(item, self._FlushSentinel):
                continue
            heard = frame_tag(item) == owner.sound
            if heard and not in_sound:
                task = asyncio.create_task(self._report(owner))
                reports.add(task)
                task.add_done_callback(reports.discard)
            in_sound = heard
        for task in list(reports):
            await task

    async def _report(self, owner: LateVAD) -> None:
        for kind in (vad.VADEventType.START_OF_SPEECH, vad.VADEventType.END_OF_SPEECH):
            await asyncio.sleep(owner.lag)
            event = vad.VADEvent(
                type=kind,
                samples_index=0,
                timestamp=time.time(),
                speech_duration=FRAME_MS / 1000,
                silence_duration=0.0,
            )
            with contextlib.suppress(utils.aio.ChanClosed):
                self._event_ch.send_nowait(event)
                owner.reported.append(kind)


class EchoLLM(llm.LLM[Any]):
    """Answers "echo: <what the user said>" and remembers every prompt it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.prompts: list[list[str]] = []

    def user_texts(self) -> list[str]:
        return [texts[-1] for texts in self.prompts if texts]

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> llm.LLMStream:
        users = [
            item.text_content or ""
            for item in chat_ctx.items
            if item.type == "message" and item.role == "user"
        ]
        self.prompts.append(users)
        return _EchoStream(self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options)


class _EchoStream(llm.LLMStream):
    async def _run(self) -> None:
        owner = self._llm
        assert isinstance(owner, EchoLLM)
        said = owner.prompts[-1][-1] if owner.prompts[-1] else ""
        reply = f"echo: {said}"
        self._event_ch.send_nowait(
            llm.ChatChunk(id="echo", delta=llm.ChoiceDelta(role="assistant", content=reply))
        )
        self._event_ch.send_nowait(
            llm.ChatChunk(
                id="echo",
                usage=llm.CompletionUsage(completion_tokens=1, prompt_tokens=1, total_tokens=2),
            )
        )


class SilentTTS(tts.TTS[Any]):
    """Synthesizes a short silence per sentence."""

    def __init__(self, *, seconds: float = 0.05) -> None:
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=False), sample_rate=24000, num_channels=1
        )
        self.seconds = seconds
        self.texts: list[str] = []

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.ChunkedStream:
        self.texts.append(text)
        return _SilentStream(tts=self, input_text=text, conn_options=conn_options)


class _SilentStream(tts.ChunkedStream):
    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        owner = self._tts
        assert isinstance(owner, SilentTTS)
        output_emitter.initialize(
            request_id=utils.shortuuid("tts_"),
            sample_rate=owner.sample_rate,
            num_channels=1,
            mime_type="audio/pcm",
        )
        output_emitter.push(b"\x00\x00" * int(owner.sample_rate * owner.seconds))
        output_emitter.flush()


class TimedAudioOutput(io.AudioOutput):
    """A speaker that plays in real time, as upstream's test fake does: a segment ends when
    its audio has had time to play, an empty flush plays nothing (and reports nothing), a
    later flush replaces the pending end, and a clear reports how far playback really got."""

    def __init__(self) -> None:
        super().__init__(
            label="TimedAudioOutput", capabilities=io.AudioOutputCapabilities(pause=False)
        )
        self._pushed = 0.0
        self._started_at = 0.0
        self._playing: asyncio.TimerHandle | None = None
        self.interrupted = 0

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        if not self._pushed:
            self._started_at = time.monotonic()
            self.on_playback_started(created_at=time.time())
        self._pushed += frame.duration

    def flush(self) -> None:
        super().flush()
        if not self._pushed:
            return
        if self._playing is not None:
            self._playing.cancel()
        remaining = self._pushed - (time.monotonic() - self._started_at)
        self._playing = asyncio.get_running_loop().call_later(remaining, self._played_out)

    def clear_buffer(self) -> None:
        if not self._pushed:
            return
        if self._playing is not None:
            self._playing.cancel()
        self.interrupted += 1
        self._finish(min(self._pushed, time.monotonic() - self._started_at), interrupted=True)

    def _played_out(self) -> None:
        self._finish(self._pushed, interrupted=False)

    def _finish(self, position: float, *, interrupted: bool) -> None:
        self._playing = None
        self._pushed = 0.0
        self.on_playback_finished(playback_position=position, interrupted=interrupted)


class FakeMicrophone(io.AudioInput):
    """A microphone the test speaks into. Like RoomIO, it drops audio while detached."""

    def __init__(self) -> None:
        super().__init__(label="FakeMicrophone")
        self._frames = utils.aio.Chan[rtc.AudioFrame]()
        self.attached = True

    async def __anext__(self) -> rtc.AudioFrame:
        return await self._frames.__anext__()

    def on_attached(self) -> None:
        self.attached = True

    def on_detached(self) -> None:
        self.attached = False

    async def say(self, tag: int, *, seconds: float = 0.3) -> None:
        """Speak the utterance `tag` for `seconds`, paced at real time."""
        for _ in range(int(seconds * 1000 / FRAME_MS)):
            if self.attached:
                self._frames.send_nowait(tagged_frame(tag))
            await asyncio.sleep(FRAME_MS / 1000)

    async def play(self, frames: Sequence[rtc.AudioFrame]) -> None:
        """Speak these 20 ms frames, paced at real time."""
        for frame in frames:
            if self.attached:
                self._frames.send_nowait(frame)
            await asyncio.sleep(FRAME_MS / 1000)

    async def play_wav(self, path: Path) -> None:
        with wave.open(str(path), "rb") as wav:
            assert wav.getframerate() == SAMPLE_RATE and wav.getnchannels() == 1
            pcm = wav.readframes(wav.getnframes())
        step = SAMPLES_PER_FRAME * 2
        for start in range(0, len(pcm) - step + 1, step):
            if self.attached:
                self._frames.send_nowait(
                    rtc.AudioFrame(pcm[start : start + step], SAMPLE_RATE, 1, SAMPLES_PER_FRAME)
                )
            await asyncio.sleep(FRAME_MS / 1000)

    async def silence(self, seconds: float) -> None:
        await self.say(0, seconds=seconds)

"""The console's microphone: `/say` speaks with the local TTS into it, in real time."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from livekit import rtc
from livekit.agents import AgentSession, utils
from livekit.agents.voice import io

from .local_tts import EspeakMissing, EspeakVoice, LocalTTS

FRAME_SECONDS = 0.02
MIC_SAMPLE_RATE = 16000

Say = Callable[[str], Awaitable[str]]


class ConsoleMicrophone(io.AudioInput):
    """A microphone that hears silence, and whatever `/say` speaks into it, in real time.

    Like a room's audio track it delivers nothing while the session has it detached, and
    words spoken into a detached microphone are lost.
    """

    def __init__(self) -> None:
        super().__init__(label="console /say")
        self._queue: deque[rtc.AudioFrame] = deque()
        self._attached = asyncio.Event()
        self._attached.set()
        self._drained = asyncio.Event()
        self._drained.set()
        self._next_at: float | None = None
        self._silence = rtc.AudioFrame(
            b"\x00\x00" * int(MIC_SAMPLE_RATE * FRAME_SECONDS),
            MIC_SAMPLE_RATE,
            1,
            int(MIC_SAMPLE_RATE * FRAME_SECONDS),
        )

    @property
    def attached(self) -> bool:
        return self._attached.is_set()

    async def __anext__(self) -> rtc.AudioFrame:
        await self._attached.wait()
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self._next_at is None or self._next_at < now - 0.2:
            self._next_at = now  # after a pause, start again from now instead of bursting
        await asyncio.sleep(max(0.0, self._next_at - now))
        frame = self._queue.popleft() if self._queue else self._silence
        if not self._queue:
            self._drained.set()
        self._next_at += frame.duration
        return frame

    def on_attached(self) -> None:
        self._attached.set()

    def on_detached(self) -> None:
        self._attached.clear()
        self._queue.clear()
        self._drained.set()

    async def speak(self, frames: list[rtc.AudioFrame]) -> bool:
        """Play `frames` in at real time; False when the microphone is off and heard nothing."""
        if not self.attached:
            return False
        self._queue.extend(frames)
        self._drained.clear()
        await self._drained.wait()
        return self.attached


async def synthesize_frames(tts: LocalTTS, text: str) -> list[rtc.AudioFrame]:
    """`text` spoken by the local TTS, as 20 ms microphone frames."""
    resampler: rtc.AudioResampler | None = None
    chunker = utils.audio.AudioByteStream(
        MIC_SAMPLE_RATE, 1, samples_per_channel=int(MIC_SAMPLE_RATE * FRAME_SECONDS)
    )
    frames: list[rtc.AudioFrame] = []
    async with tts.synthesize(text) as stream:
        async for audio in stream:
            if resampler is None:
                resampler = rtc.AudioResampler(
                    audio.frame.sample_rate,
                    MIC_SAMPLE_RATE,
                    quality=rtc.AudioResamplerQuality.HIGH,
                )
            for resampled in resampler.push(audio.frame):
                frames.extend(chunker.push(resampled.data))
    if resampler is not None:
        for resampled in resampler.flush():
            frames.extend(chunker.push(resampled.data))
    frames.extend(chunker.flush())
    return frames


async def console_speaker(session: AgentSession[Any], mic: ConsoleMicrophone) -> Say:
    """`/say`: speak with the local TTS into `mic`, once it is the session's microphone."""
    try:
        voice = await asyncio.to_thread(EspeakVoice.find)
    except EspeakMissing as e:
        message = str(e).replace("TTS_MODEL=local needs", "/say needs")

        async def cannot_say(text: str) -> str:
            return message

        return cannot_say
    tts = LocalTTS(voice)

    async def say(text: str) -> str:
        if session.input.audio is not mic:
            return "/say works in text mode (console --text); here, speak into the microphone"
        frames = await synthesize_frames(tts, text)
        seconds = sum(f.duration for f in frames)
        if not await mic.speak(frames):
            return (
                f'said "{text}" ({seconds:.1f} s), but the agent\'s microphone is off: '
                "nothing was heard (voice-vad listens; voice-ptt listens during a press)"
            )
        return f'said "{text}" ({seconds:.1f} s)'

    return say

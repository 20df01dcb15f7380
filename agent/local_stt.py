"""Speech-to-text on this machine: pocketsphinx with the US English model its wheel carries.

No keys, no network, nothing fetched at run time. Its accuracy on free speech is modest (on
espeak-ng's voice it gets short everyday phrases right, see tests/fixtures/README.md); it is
here so that every session type works on a laptop with no keys, and so the voice paths can be
tested end to end.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from dataclasses import dataclass
from typing import Literal

import numpy as np
from livekit import rtc
from livekit.agents import LanguageCode, stt, utils, vad
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
)

SAMPLE_RATE = 16000
"""The rate the bundled acoustic model was trained on."""
SILENCE_PEAK = 100
"""Audio that never gets louder than this (of 32767) is silence: the model would still guess
a word in it."""
VAD_WINDOW_SAMPLES = 512
"""Silero judges 32 ms windows (512 samples here): input short of a window waits in the VAD."""
VAD_CATCH_UP_SECONDS = 10.0
"""A flush waits at most this long for the VAD to judge the audio before it. Silero runs
behind real time on a busy machine, by seconds at worst; a flush answered before it has seen
the speech would lose the words, so the bound is generous (a commit is bounded by the
transcript timeout anyway)."""
RECENT_FRAMES = 16
"""Input frames kept to recover the part window the VAD has not judged."""
MODEL = "pocketsphinx/en-us"
PROVIDER = "local"


class PocketSphinxModel:
    """One decoder, loaded once per process (about 1.5 s and 40 MB) and shared by every job.

    A pocketsphinx decoder holds one utterance at a time, so decodes take turns; each runs in a
    worker thread, never on the event loop.
    """

    def __init__(self) -> None:
        from pocketsphinx import Decoder  # type: ignore[import-untyped]

        # The default model is the en-us one inside the package; FATAL keeps its log quiet.
        self._decoder = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")
        self._lock = threading.Lock()

    def transcribe(self, pcm: bytes) -> str:
        """Text for 16 kHz mono 16-bit PCM; blocking, so call it from a thread."""
        samples = np.frombuffer(pcm, dtype=np.int16)
        if not len(samples) or int(np.abs(samples.astype(np.int32)).max()) < SILENCE_PEAK:
            return ""
        with self._lock:
            self._decoder.start_utt()
            self._decoder.process_raw(pcm, full_utt=True)
            self._decoder.end_utt()
            hypothesis = self._decoder.hyp()
        return hypothesis.hypstr.strip() if hypothesis is not None else ""


def to_model_pcm(buffer: utils.AudioBuffer) -> bytes:
    """The buffer as 16 kHz mono 16-bit PCM, the only input the model takes."""
    if isinstance(buffer, list) and not buffer:
        return b""
    frame = rtc.combine_audio_frames(buffer)
    samples = np.frombuffer(frame.data, dtype=np.int16)
    if frame.num_channels > 1:
        samples = samples.reshape(-1, frame.num_channels).mean(axis=1).astype(np.int16)
    if frame.sample_rate == SAMPLE_RATE:
        return samples.tobytes()
    resampler = rtc.AudioResampler(
        frame.sample_rate, SAMPLE_RATE, quality=rtc.AudioResamplerQuality.HIGH
    )
    mono = rtc.AudioFrame(samples.tobytes(), frame.sample_rate, 1, len(samples))
    out = [*resampler.push(mono), *resampler.flush()]
    return b"".join(bytes(f.data) for f in out)


class LocalSTT(stt.STT[Literal["metrics_collected", "error"]]):
    """A streaming STT that can flush: its stream cuts utterances with its own VAD, as the
    framework's stream adapter would, and answers a flush with a final transcript at once.

    The final transcript of a flush holds whatever was heard since the last one: the words of
    an utterance still open (a release mid-word), and of any utterance still being decoded, in
    one final, so a push-to-talk commit waits for all of them. It is empty when nothing was
    said, which tells the framework that there is nothing left to wait for.
    """

    def __init__(self, model: PocketSphinxModel, voice_activity: vad.VAD) -> None:
        super().__init__(
            capabilities=stt.STTCapabilities(
                streaming=True, interim_results=False, manual_flush=True
            )
        )
        self._model = model
        self._vad = voice_activity

    @property
    def model(self) -> str:
        return MODEL

    @property
    def provider(self) -> str:
        return PROVIDER

    async def transcribe(self, buffer: utils.AudioBuffer) -> str:
        pcm = to_model_pcm(buffer)
        return await asyncio.to_thread(self._model.transcribe, pcm) if pcm else ""

    async def _recognize_impl(
        self,
        buffer: utils.AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        return _final(await self.transcribe(buffer))

    def stream(
        self,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> stt.RecognizeStream:
        return LocalSpeechStream(self, self._vad, conn_options=conn_options)


def _final(text: str) -> stt.SpeechEvent:
    return stt.SpeechEvent(
        type=stt.SpeechEventType.FINAL_TRANSCRIPT,
        alternatives=[stt.SpeechData(language=LanguageCode("en"), text=text)],
    )


@dataclass(frozen=True)
class _Utterance:
    """Audio to decode: an utterance the VAD ended, or what a flush found (`flush=True`)."""

    frames: list[rtc.AudioFrame]
    flush: bool = False


class LocalSpeechStream(stt.RecognizeStream):
    """Three steps in order: the input feeds the VAD; the VAD's events cut utterances; the
    decoder turns them into final transcripts, one at a time."""

    def __init__(
        self, owner: LocalSTT, voice_activity: vad.VAD, *, conn_options: APIConnectOptions
    ) -> None:
        super().__init__(stt=owner, conn_options=conn_options, sample_rate=SAMPLE_RATE)
        self._owner = owner
        self._voice_activity = voice_activity
        self._pushed = 0  # samples given to the VAD
        self._judged = 0  # samples the VAD has run its model on
        self._progress = asyncio.Event()
        self._speaking = False
        self._open: list[rtc.AudioFrame] = []  # the utterance the VAD has not ended yet
        self._recent: deque[rtc.AudioFrame] = deque(maxlen=RECENT_FRAMES)
        self._utterances = utils.aio.Chan[_Utterance]()
        self._flushes_waiting = 0
        self._window = VAD_WINDOW_SAMPLES

    async def _run(self) -> None:
        vad_stream = self._voice_activity.stream()
        tasks = [
            asyncio.create_task(self._feed(vad_stream), name="local-stt-feed"),
            asyncio.create_task(self._cut(vad_stream), name="local-stt-cut"),
            asyncio.create_task(self._decode(), name="local-stt-decode"),
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            await utils.aio.cancel_and_wait(*tasks)
            await vad_stream.aclose()

    async def _feed(self, vad_stream: vad.VADStream) -> None:
        async for item in self._input_ch:
            if isinstance(item, self._FlushSentinel):
                await self._flush(vad_stream)
                continue
            self._pushed += item.samples_per_channel
            self._recent.append(item)
            vad_stream.push_frame(item)
        vad_stream.end_input()

    async def _flush(self, vad_stream: vad.VADStream) -> None:
        # Wait until the VAD has judged all but a part window of what was pushed, so that
        # whether the user is mid-utterance is known; bounded, for a VAD that says nothing.
        with contextlib.suppress(asyncio.TimeoutError):
            async with asyncio.timeout(VAD_CATCH_UP_SECONDS):
                while self._pushed - self._judged > self._window:
                    self._progress.clear()
                    await self._progress.wait()
        # The cut task handles a window's events without pausing, so by now the events of
        # every judged window are in `_speaking` and `_open`.
        frames: list[rtc.AudioFrame] = []
        if self._speaking:
            frames = [*self._open, *self._unjudged()]
            # Start the VAD afresh: the open utterance is decoded here, never again at its end.
            vad_stream.flush()
            self._judged = self._pushed
            self._speaking = False
        self._open = []
        self._flushes_waiting += 1
        self._utterances.send_nowait(_Utterance(frames, flush=True))

    def _unjudged(self) -> list[rtc.AudioFrame]:
        """The tail of the input the VAD holds back until a window is full."""
        missing = self._pushed - self._judged
        tail: list[rtc.AudioFrame] = []
        for frame in reversed(self._recent):
            if missing <= 0:
                break
            take = min(missing, frame.samples_per_channel)
            data = np.frombuffer(frame.data, dtype=np.int16)[-take:]
            tail.insert(0, rtc.AudioFrame(data.tobytes(), frame.sample_rate, 1, take))
            missing -= take
        return tail

    async def _cut(self, vad_stream: vad.VADStream) -> None:
        async for event in vad_stream:
            if event.type == vad.VADEventType.INFERENCE_DONE:
                judged = sum(f.samples_per_channel for f in event.frames)
                self._window = max(self._window, judged)
                self._judged += judged
                if self._speaking:
                    self._open.extend(event.frames)
                self._progress.set()
            elif event.type == vad.VADEventType.START_OF_SPEECH:
                self._speaking = True
                self._open = list(event.frames)  # the speech so far, with its lead-in
                self._event_ch.send_nowait(stt.SpeechEvent(stt.SpeechEventType.START_OF_SPEECH))
            elif event.type == vad.VADEventType.END_OF_SPEECH and self._speaking:
                self._speaking = False
                self._open = []
                self._event_ch.send_nowait(stt.SpeechEvent(stt.SpeechEventType.END_OF_SPEECH))
                self._utterances.send_nowait(_Utterance(list(event.frames)))
        self._utterances.close()

    async def _decode(self) -> None:
        held: list[str] = []
        async for utterance in self._utterances:
            text = await self._owner.transcribe(utterance.frames) if utterance.frames else ""
            if text:
                held.append(text)
            if utterance.flush:
                self._flushes_waiting -= 1
            elif self._flushes_waiting:
                continue  # a flush is queued behind: its one final carries these words too
            if held or utterance.flush:
                self._event_ch.send_nowait(_final(" ".join(held)))
            held = []

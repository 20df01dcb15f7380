"""Speech-to-text on this machine: pocketsphinx with the US English model its wheel carries.

No keys, no network, nothing fetched at run time. Its accuracy on free speech is modest (on
espeak-ng's voice it gets short everyday phrases right, see tests/fixtures/README.md); it is
here so that every session type works on a laptop with no keys, and so the voice paths can be
tested end to end.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Literal

import numpy as np
from livekit import rtc
from livekit.agents import LanguageCode, stt, utils
from livekit.agents.types import NOT_GIVEN, APIConnectOptions, NotGivenOr

SAMPLE_RATE = 16000
"""The rate the bundled acoustic model was trained on."""
SILENCE_PEAK = 100
"""Audio that never gets louder than this (of 32767) is silence: the model would still guess
a word in it."""
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
    """A non-streaming STT: the session feeds it one utterance at a time, cut by its VAD."""

    def __init__(self, model: PocketSphinxModel) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=False, interim_results=False))
        self._model = model

    @property
    def model(self) -> str:
        return MODEL

    @property
    def provider(self) -> str:
        return PROVIDER

    async def _recognize_impl(
        self,
        buffer: utils.AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        pcm = to_model_pcm(buffer)
        text = await asyncio.to_thread(self._model.transcribe, pcm) if pcm else ""
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT,
            alternatives=[stt.SpeechData(language=LanguageCode("en"), text=text)],
        )

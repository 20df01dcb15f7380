"""A model of a streaming cloud recogniser, after Deepgram's live streaming API (nova-3).

What it follows, from Deepgram's documentation (developers.deepgram.com, pages "Endpointing",
"Interim Results", "Configure Endpointing and Interim Results" and "Finalize"):

- interim results (`interim_results=true`): guesses at the words of the utterance under way,
  sent as audio streams in, marked `is_final: false`;
- a final at each endpoint: once `endpointing` of silence follows speech, the words of the
  utterance are sent once, final (`is_final`/`speech_final: true`). The guide's example and
  recommended range for conversation is 300 ms, used here;
- nothing for pure silence: with no speech since the last final, no result is sent;
- `Finalize` (the flush-capable variant): the server processes the audio it has at once and
  answers with a final result (`from_finalize: true`); the model answers every Finalize, with
  an empty transcript when nothing was left, which is what the framework's `manual_flush`
  contract asks of an STT. The other variant has no flush, as a recogniser without one.

Results arrive `result_latency` after the audio they describe (network and inference); the
audio is judged by its own clock, so silence pushed faster than real time ends an utterance
as soon as it arrives. The model does not recognise words: speech is any frame louder than a
whisper, and each utterance is given the next phrase of a script the caller sets, as the
words a real recogniser would have found in that recording.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass

import numpy as np
from livekit import rtc
from livekit.agents import stt, utils
from livekit.agents.stt import SpeechEvent
from livekit.agents.types import APIConnectOptions

from support.streaming_stt import StreamingOnlySTT, transcript

SPEECH_PEAK = 300
"""A frame whose loudest sample passes this (of 32767) is speech."""


@dataclass(frozen=True)
class CloudTimings:
    result_latency: float = 0.15
    """From the end of the audio a result describes to its arrival."""
    interim_every: float = 0.25
    """Audio between two interim results of one utterance."""
    endpointing: float = 0.3
    """Silence after speech that ends an utterance with a final result."""


class CloudSTT(StreamingOnlySTT):
    """`finalize=True`: the variant with Deepgram's `Finalize` (declares `manual_flush`)."""

    def __init__(self, *, finalize: bool, timings: CloudTimings | None = None) -> None:
        super().__init__(_CloudStream, interim_results=True, manual_flush=finalize)
        self.timings = timings or CloudTimings()
        self.script: deque[str] = deque()
        """The words of the next utterances, in order: what the recognition would find."""

    @property
    def label(self) -> str:
        return "cloud model (Finalize)" if self.capabilities.manual_flush else "cloud model"


def _is_speech(frame: rtc.AudioFrame) -> bool:
    samples = np.frombuffer(frame.data, dtype=np.int16)
    return bool(len(samples)) and int(np.abs(samples.astype(np.int32)).max()) > SPEECH_PEAK


class _CloudStream(stt.RecognizeStream):
    def __init__(self, *, stt: CloudSTT, conn_options: APIConnectOptions) -> None:
        super().__init__(stt=stt, conn_options=conn_options)
        self._owner = stt
        self._outbox: utils.aio.Chan[tuple[float, SpeechEvent]] = utils.aio.Chan()
        self._words: list[str] | None = None  # the utterance under way
        self._speech = 0.0
        self._silence = 0.0
        self._since_interim = 0.0

    async def _run(self) -> None:
        sender = asyncio.create_task(self._send(), name="cloud-stt-send")
        try:
            async for item in self._input_ch:
                if isinstance(item, self._FlushSentinel):
                    if self._owner.capabilities.manual_flush:
                        self._finish(always=True)
                    continue
                self._hear(item)
            self._outbox.close()
            await sender
        finally:
            await utils.aio.cancel_and_wait(sender)

    def _hear(self, frame: rtc.AudioFrame) -> None:
        timings = self._owner.timings
        if _is_speech(frame):
            if self._words is None:
                script = self._owner.script
                self._words = (script.popleft() if script else "").split()
                self._speech = self._since_interim = 0.0
            self._speech += frame.duration
            self._since_interim += frame.duration
            self._silence = 0.0
            if self._since_interim >= timings.interim_every:
                self._since_interim = 0.0
                self._result(stt.SpeechEventType.INTERIM_TRANSCRIPT, self._guess())
        elif self._words is not None:
            self._silence += frame.duration
            if self._silence >= timings.endpointing:
                self._finish(always=False)

    def _guess(self) -> str:
        """The words so far: one more with each interim, the way a guess grows."""
        assert self._words is not None
        shown = round(self._speech / self._owner.timings.interim_every)
        return " ".join(self._words[: max(1, shown)])

    def _finish(self, *, always: bool) -> None:
        words, self._words = self._words, None
        if words or always:
            self._result(stt.SpeechEventType.FINAL_TRANSCRIPT, " ".join(words or []))

    def _result(self, kind: stt.SpeechEventType, text: str) -> None:
        event = transcript(kind, text)
        self._outbox.send_nowait((time.monotonic() + self._owner.timings.result_latency, event))

    async def _send(self) -> None:
        # One sender, so results arrive in the order they were made, each after the latency.
        async for due, event in self._outbox:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            self._event_ch.send_nowait(event)

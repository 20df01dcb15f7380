"""What the model recognisers of tests and benchmarks share: a streaming-only STT skeleton
and the transcript events they send."""

from __future__ import annotations

from typing import Any

from livekit.agents import NOT_GIVEN, NotGivenOr, stt, utils
from livekit.agents.language import LanguageCode
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions


def transcript(kind: stt.SpeechEventType, text: str) -> stt.SpeechEvent:
    """A transcript event of `kind` (interim or final) carrying `text`, in English."""
    return stt.SpeechEvent(
        type=kind, alternatives=[stt.SpeechData(language=LanguageCode("en"), text=text)]
    )


def final_transcript(text: str) -> stt.SpeechEvent:
    return transcript(stt.SpeechEventType.FINAL_TRANSCRIPT, text)


class StreamingOnlySTT(stt.STT[Any]):
    """An STT that only streams: each `stream()` is a new `stream_type(stt=self, conn_options=...)`,
    the class a subclass names; batch recognition is refused."""

    def __init__(
        self,
        stream_type: type[stt.RecognizeStream],
        *,
        interim_results: bool,
        manual_flush: bool,
    ) -> None:
        super().__init__(
            capabilities=stt.STTCapabilities(
                streaming=True, interim_results=interim_results, manual_flush=manual_flush
            )
        )
        self._stream_type = stream_type

    async def _recognize_impl(
        self,
        buffer: utils.AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        raise NotImplementedError("a streaming-only recogniser")

    def stream(
        self,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> stt.RecognizeStream:
        return self._stream_type(stt=self, conn_options=conn_options)

"""Push-to-talk on a real server with the local recogniser: the app (the Python SDK) speaks a
recorded phrase into its microphone track during a press, pauses, releases, and the agent's
spoken reply starts long before the transcript timeout, which is 30 s here so that a release
that waits for it shows plainly even on a loaded machine."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from livekit import rtc

from support.e2e_app import App, dispatch, join_app
from support.livekit_server import ServerInfo, new_room_name
from support.recordings import spoken
from support.worker_process import Worker, running_worker

from .conftest import worker_env

pytestmark = [pytest.mark.livekit_server]

PTT_AGENT = "session-sync-e2e-ptt"
TRANSCRIPT_TIMEOUT = 30.0
MIC_RATE = 48000
"""What a browser's microphone track carries, and Opus's own rate."""
FRAME_SAMPLES = MIC_RATE // 50


@pytest.fixture
def voice_worker(info: ServerInfo) -> Iterator[Worker]:
    env = worker_env(
        info,
        AGENT_NAME=PTT_AGENT,
        STT_MODEL="local",
        TTS_MODEL="local",
        PTT_TRANSCRIPT_TIMEOUT_SECONDS=str(TRANSCRIPT_TIMEOUT),
    )
    with running_worker("dev", env) as running:
        yield running


@dataclass
class Transcripts:
    """What the app reads on `lk.transcription`: the user's words and the agent's reply."""

    agent: str
    user_final: list[str] = field(default_factory=list)
    reply_at: float | None = None

    def on_stream(self, reader: rtc.TextStreamReader, sender: str) -> None:
        if sender == self.agent:
            if self.reply_at is None:
                self.reply_at = time.monotonic()
            return
        attributes = reader.info.attributes or {}
        if attributes.get("lk.transcription_final") == "true":
            asyncio.get_running_loop().create_task(self._final(reader))

    async def _final(self, reader: rtc.TextStreamReader) -> None:
        self.user_final.append(await reader.read_all())


async def _speak(source: rtc.AudioSource, frames: tuple[rtc.AudioFrame, ...]) -> None:
    resampler = rtc.AudioResampler(
        frames[0].sample_rate, MIC_RATE, quality=rtc.AudioResamplerQuality.HIGH
    )
    for frame in frames:
        for resampled in resampler.push(frame):
            await source.capture_frame(resampled)
    for resampled in resampler.flush():
        await source.capture_frame(resampled)


async def _silence(source: rtc.AudioSource, seconds: float) -> None:
    frame = rtc.AudioFrame(b"\x00\x00" * FRAME_SAMPLES, MIC_RATE, 1, FRAME_SAMPLES)
    for _ in range(int(seconds * 50)):
        await source.capture_frame(frame)


async def _microphone(app: App) -> rtc.AudioSource:
    source = rtc.AudioSource(MIC_RATE, 1, queue_size_ms=100)  # paced close to real time
    track = rtc.LocalAudioTrack.create_audio_track("microphone", source)
    options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
    await app.room.local_participant.publish_track(track, options)
    return source


async def test_a_release_after_a_pause_is_answered_long_before_the_transcript_timeout(
    info: ServerInfo, voice_worker: Worker
) -> None:
    room = new_room_name("e2e-ptt")
    await dispatch(info, room, '{"sessionType": "voice-ptt"}', agent_name=PTT_AGENT)
    app = await join_app(info, room)
    transcripts = Transcripts(agent=app.agent)
    app.room.register_text_stream_handler("lk.transcription", transcripts.on_stream)
    try:
        await app.until(lambda: app.client.session()["type"] == "voice-ptt", "voice-ptt")
        source = await _microphone(app)
        await _silence(source, 1.0)  # the agent subscribes to the track

        await app.call("session.ptt_start")
        await _silence(source, 0.3)  # a person starts talking a moment after pressing
        await _speak(source, spoken("how are you doing"))
        await _silence(source, 3.0)  # every word is final long before the release
        released = time.monotonic()
        await app.call("session.ptt_end")
        silence = asyncio.create_task(_silence(source, TRANSCRIPT_TIMEOUT + 5))
        try:
            await app.until(lambda: transcripts.reply_at is not None, "the spoken reply")
        finally:
            silence.cancel()
        assert transcripts.reply_at is not None
        answered_after = transcripts.reply_at - released
        assert answered_after < TRANSCRIPT_TIMEOUT / 2, (
            f"the reply started {answered_after:.1f} s after the release: it waited for "
            f"the {TRANSCRIPT_TIMEOUT:.0f} s transcript timeout"
        )
        # One final transcript of the press, shown once. Its words are pocketsphinx's guess
        # at espeak's voice after Opus, which is rough; the exact words are tested on the
        # recording itself in tests/agent/test_ptt_release.py.
        assert len(transcripts.user_final) == 1 and transcripts.user_final[0].strip()
    finally:
        app.room.unregister_text_stream_handler("lk.transcription")
        await app.leave()

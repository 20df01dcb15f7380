"""The fake speaker reports playback the way a real one (and upstream's fake) does, so the
session's interruption and playback handling is tested against the real contract."""

import asyncio

from livekit.agents.voice import io

from livekit.plugins.session_sync.testing import eventually
from support.fakes import TimedAudioOutput, tagged_frame


class _Recorder(TimedAudioOutput):
    def __init__(self) -> None:
        super().__init__()
        self.finished: list[tuple[float, bool]] = []

    def on_playback_finished(
        self,
        *,
        playback_position: float,
        interrupted: bool,
        synchronized_transcript: str | None = None,
    ) -> None:
        self.finished.append((playback_position, interrupted))


async def _push(speaker: io.AudioOutput, frames: int) -> None:
    for _ in range(frames):
        await speaker.capture_frame(tagged_frame(1))  # 20 ms each


async def test_an_empty_flush_reports_no_playback() -> None:
    speaker = _Recorder()
    speaker.flush()
    await asyncio.sleep(0.05)
    assert speaker.finished == []


async def test_a_second_flush_replaces_the_first_segment_end() -> None:
    speaker = _Recorder()
    await _push(speaker, 5)
    speaker.flush()
    await _push(speaker, 5)
    speaker.flush()
    await eventually(lambda: bool(speaker.finished), timeout=30, message="the segment to end")
    await asyncio.sleep(0.3)  # time enough for a second end, if one were coming
    assert len(speaker.finished) == 1
    position, interrupted = speaker.finished[0]
    assert abs(position - 0.2) < 1e-6 and interrupted is False


async def test_clearing_reports_no_more_than_was_pushed() -> None:
    speaker = _Recorder()
    await _push(speaker, 1)  # 20 ms of audio, then nothing for longer than that
    await asyncio.sleep(0.05)
    speaker.clear_buffer()
    await asyncio.sleep(0.05)
    assert len(speaker.finished) == 1
    position, interrupted = speaker.finished[0]
    assert interrupted is True and position <= 0.02 + 1e-6

"""The espeak-ng recordings in tests/fixtures as 20 ms, 16 kHz microphone frames."""

from __future__ import annotations

import wave
from functools import cache
from pathlib import Path

import numpy as np
from livekit import rtc
from livekit.agents import utils

from .fakes import SAMPLE_RATE, SAMPLES_PER_FRAME

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
PHRASES = ("good morning", "how are you doing", "what can you do", "nice to meet you")
"""Phrases the local recogniser transcribes exactly on their own (tests/fixtures/README.md);
the second and fourth also with any silence around them, so tests of a press use those."""
VOICED_PEAK = 300


@cache
def spoken(phrase: str) -> tuple[rtc.AudioFrame, ...]:
    """`phrase` as microphone frames, up to the last voiced frame: no trailing silence, so
    a release right after them comes the instant the words end."""
    with wave.open(str(FIXTURES / f"say_{phrase.replace(' ', '_')}.wav"), "rb") as wav:
        rate = wav.getframerate()
        pcm = wav.readframes(wav.getnframes())
    resampler = rtc.AudioResampler(rate, SAMPLE_RATE, quality=rtc.AudioResamplerQuality.HIGH)
    chunker = utils.audio.AudioByteStream(SAMPLE_RATE, 1, samples_per_channel=SAMPLES_PER_FRAME)
    frames: list[rtc.AudioFrame] = []
    source = rtc.AudioFrame(pcm, rate, 1, len(pcm) // 2)
    for resampled in [*resampler.push(source), *resampler.flush()]:
        frames.extend(chunker.push(resampled.data))
    frames = [f for f in frames if f.samples_per_channel == SAMPLES_PER_FRAME]
    voiced = [i for i, f in enumerate(frames) if _peak(f) > VOICED_PEAK]
    return tuple(frames[: voiced[-1] + 1])


def cut_mid_word(phrase: str, fraction: float = 0.8) -> tuple[rtc.AudioFrame, ...]:
    """The first `fraction` of the spoken phrase: a release inside its last word."""
    frames = spoken(phrase)
    return frames[: max(1, int(len(frames) * fraction))]


def _peak(frame: rtc.AudioFrame) -> int:
    return int(np.abs(np.frombuffer(frame.data, dtype=np.int16).astype(np.int32)).max())

"""Memory and CPU per audio second of the local speech models: `python -m agent.measure_voice`.

Loads each model as the prewarm does, measuring the resident memory it adds, then transcribes
and synthesizes the test phrases a few times, measuring CPU seconds per second of audio.
"""

from __future__ import annotations

import asyncio
import os
import resource
import time
import wave
from pathlib import Path

from livekit import rtc

from .local_stt import PocketSphinxModel, to_model_pcm
from .local_tts import EspeakVoice, LocalTTS

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
PHRASES = ("good morning", "how are you doing", "what can you do", "nice to meet you")
ROUNDS = 5


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _recording(phrase: str) -> rtc.AudioFrame:
    with wave.open(str(FIXTURES / f"say_{phrase.replace(' ', '_')}.wav"), "rb") as wav:
        return rtc.AudioFrame(
            wav.readframes(wav.getnframes()), wav.getframerate(), 1, wav.getnframes()
        )


async def main() -> None:
    before = _rss_mib()
    started = time.perf_counter()
    model = PocketSphinxModel()
    print(
        f"pocketsphinx en-us: load {time.perf_counter() - started:.2f} s, "
        f"+{_rss_mib() - before:.0f} MiB resident"
    )
    audio = cpu = 0.0
    for _ in range(ROUNDS):
        for phrase in PHRASES:
            frame = _recording(phrase)
            used = time.process_time()
            await asyncio.to_thread(model.transcribe, to_model_pcm(frame))
            cpu += time.process_time() - used
            audio += frame.duration
    print(f"pocketsphinx: {cpu / audio:.3f} CPU-seconds per second of audio ({audio:.0f} s)")

    before = _rss_mib()
    tts = LocalTTS(await asyncio.to_thread(EspeakVoice.find))
    print(
        f"espeak-ng: +{_rss_mib() - before:.0f} MiB resident in the worker (a process per sentence)"
    )
    audio = cpu = 0.0
    for _ in range(ROUNDS):
        for phrase in PHRASES:
            used, used_children = time.process_time(), _children_cpu()
            frames = [a.frame async for a in tts.synthesize(phrase)]
            cpu += time.process_time() - used + _children_cpu() - used_children
            audio += sum(f.duration for f in frames)
    print(
        f"espeak-ng: {cpu / audio:.3f} CPU-seconds per second of audio, worker and espeak-ng "
        f"together ({audio:.0f} s)"
    )
    await tts.aclose()


if __name__ == "__main__":
    asyncio.run(main())

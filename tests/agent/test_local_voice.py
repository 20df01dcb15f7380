"""The local voice stack: pocketsphinx hears espeak-ng, and `/say` drives every voice path.

pocketsphinx's bundled model is modest on synthetic speech, so the phrases here are ones it
transcribes exactly (see tests/fixtures/README.md); "what is the weather" is not one of them.
"""

import time
import wave
from pathlib import Path

import pytest
from livekit import rtc
from livekit.plugins import silero

from agent.local_stt import LocalSTT, PocketSphinxModel
from agent.local_tts import EspeakVoice, LocalTTS
from agent.speech_models import TurnDetectorPlan
from livekit.plugins.session_sync.testing import eventually

from .conftest import Worker

FIXTURES = Path(__file__).parent.parent / "fixtures"
PHRASES = ["good morning", "how are you doing", "what can you do", "nice to meet you"]
AUDIO_MODEL = TurnDetectorPlan("audio", "audio")


@pytest.fixture(scope="session")
def sphinx() -> PocketSphinxModel:
    return PocketSphinxModel()


@pytest.fixture
def local_stt(sphinx: PocketSphinxModel, vad: silero.VAD) -> LocalSTT:
    return LocalSTT(sphinx, vad)


def _recording(phrase: str) -> rtc.AudioFrame:
    with wave.open(str(FIXTURES / f"say_{phrase.replace(' ', '_')}.wav"), "rb") as wav:
        pcm = wav.readframes(wav.getnframes())
        return rtc.AudioFrame(pcm, wav.getframerate(), 1, wav.getnframes())


@pytest.mark.parametrize("phrase", PHRASES)
async def test_local_stt_transcribes_the_recorded_phrases(local_stt: LocalSTT, phrase: str) -> None:
    event = await local_stt.recognize(_recording(phrase))
    assert event.alternatives[0].text == phrase


async def test_local_stt_hears_nothing_in_silence(local_stt: LocalSTT) -> None:
    silence = rtc.AudioFrame(b"\x00\x00" * 16000, 16000, 1, 16000)
    event = await local_stt.recognize(silence)
    assert event.alternatives[0].text == ""


async def test_local_tts_streams_speech_in_frames_and_stops_when_interrupted() -> None:
    tts = LocalTTS(EspeakVoice.find())
    frames = [audio.frame async for audio in tts.synthesize("nice to meet you")]
    assert len(frames) > 1  # streamed, not one block
    assert 1.0 < sum(f.duration for f in frames) < 3.0
    assert any(any(f.data) for f in frames)

    started = time.monotonic()
    stream = tts.synthesize("this is a long sentence " * 40)
    async for _ in stream:
        break  # the first frame arrives long before the whole sentence is spoken
    await stream.aclose()
    assert time.monotonic() - started < 2.0
    await tts.aclose()


async def test_push_to_talk_with_say_gives_the_transcript_and_one_reply(
    make_worker, local_stt: LocalSTT
) -> None:
    worker: Worker = await make_worker("voice-ptt", console=True, stt=local_stt)
    console = worker.commands
    await console.execute("/ptt start")
    assert "said" in await console.execute("/say how are you doing")
    await console.execute("/ptt end")
    await eventually(lambda: bool(worker.llm.prompts), timeout=40, message="the reply")
    await worker.mic.silence(0.5)  # time for a second reply, were there one
    assert worker.llm.prompts == [["how are you doing"]]
    replies = [m for m in worker.session.history.messages() if m.role == "assistant"]
    assert [m.text_content for m in replies] == ["echo: how are you doing"]


async def test_a_cancelled_press_is_never_answered(make_worker, local_stt: LocalSTT) -> None:
    worker: Worker = await make_worker("voice-ptt", console=True, stt=local_stt)
    console = worker.commands
    await console.execute("/ptt start")
    await console.execute("/say good morning")
    await console.execute("/ptt cancel")
    await worker.mic.silence(3.0)
    assert worker.llm.prompts == []
    assert [m for m in worker.session.history.messages() if m.role == "user"] == []


async def test_say_outside_a_press_commits_nothing(make_worker, local_stt: LocalSTT) -> None:
    worker: Worker = await make_worker("voice-ptt", console=True, stt=local_stt)
    assert "nothing was heard" in await worker.commands.execute("/say what can you do")
    await worker.mic.silence(1.5)
    assert worker.llm.prompts == []


async def test_vad_commits_a_turn_after_the_speech_with_say(
    make_worker, local_stt: LocalSTT, caplog: pytest.LogCaptureFixture
) -> None:
    worker: Worker = await make_worker("voice-vad", console=True, stt=local_stt, plan=AUDIO_MODEL)
    committed_at: list[float] = []
    worker.session.on(
        "user_input_transcribed",
        lambda ev: committed_at.append(time.monotonic()) if ev.is_final else None,
    )
    await worker.commands.execute("/say nice to meet you")
    speech_ended = time.monotonic()
    await eventually(lambda: bool(worker.llm.prompts), timeout=40, message="the turn to commit")
    assert worker.llm.prompts == [["nice to meet you"]]
    assert committed_at and committed_at[0] >= speech_ended
    # No speaker in the console: what was heard and the spoken reply are shown as text.
    await eventually(lambda: "agent says" in caplog.text, message="the reply to be shown")
    assert "heard: nice to meet you" in caplog.text
    assert "agent says: echo: nice to meet you" in caplog.text

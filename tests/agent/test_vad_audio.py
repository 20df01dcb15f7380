"""Real silero VAD and the real on-device end-of-turn model, on a real speech recording."""

import time
from pathlib import Path

from agent.speech_models import TurnDetectorPlan
from livekit.plugins.session_sync.testing import eventually
from support.fakes import FixedSTT

from .conftest import Worker

SPEECH = Path(__file__).parent.parent / "fixtures" / "speech_hello.wav"
SPEECH_ENDS_AT = 3.86  # seconds into the recording (0.5 s lead-in + 3.36 s of speech)
TRANSCRIPT = "hello can you tell me about the weather today"
AUDIO_MODEL = TurnDetectorPlan("audio", "audio")


async def test_vad_session_commits_the_turn_after_the_speech_ends(make_worker) -> None:
    worker: Worker = await make_worker("voice-vad", plan=AUDIO_MODEL, stt=FixedSTT(TRANSCRIPT))
    assert worker.client.session()["turnDetection"] == "server"
    started = time.monotonic()
    committed_at: list[float] = []
    worker.session.on(
        "user_input_transcribed",
        lambda ev: committed_at.append(time.monotonic() - started) if ev.is_final else None,
    )

    await worker.mic.play_wav(SPEECH)
    await eventually(lambda: bool(worker.llm.prompts), timeout=15, message="the turn to commit")

    assert worker.llm.user_texts() == [TRANSCRIPT]
    assert committed_at and committed_at[0] >= SPEECH_ENDS_AT


async def test_same_speech_outside_a_press_commits_nothing(make_worker) -> None:
    worker: Worker = await make_worker("voice-ptt", plan=AUDIO_MODEL, stt=FixedSTT(TRANSCRIPT))
    await worker.mic.play_wav(SPEECH)
    await worker.mic.silence(1.5)
    assert worker.llm.prompts == []
    assert [m for m in worker.session.history.messages() if m.role == "user"] == []
    assert worker.session.user_state != "speaking"


async def test_switching_away_from_and_back_to_the_audio_model(make_worker) -> None:
    from livekit.agents import inference

    worker: Worker = await make_worker("voice-vad", plan=AUDIO_MODEL, stt=FixedSTT(TRANSCRIPT))
    assert isinstance(worker.session.turn_detection, inference.TurnDetector)
    await worker.client.call("session.switch", {"sessionType": "voice-ptt"})
    assert worker.session.turn_detection == "manual"
    await worker.client.call("session.switch", {"sessionType": "voice-vad"})
    assert isinstance(worker.session.turn_detection, inference.TurnDetector)
    assert worker.session.input.audio_enabled is True

    await worker.mic.play_wav(SPEECH)
    await eventually(lambda: bool(worker.llm.prompts), timeout=15, message="the turn to commit")
    assert worker.llm.user_texts() == [TRANSCRIPT]

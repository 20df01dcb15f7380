"""A push-to-talk release is answered at once, with the recognisers people run, and loses
nothing: the local one (pocketsphinx on recorded speech) and a model of a streaming cloud
one with and without flush. The transcript timeout is 30 s here (see conftest), so a release
that waits for it shows plainly, even on a loaded machine."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from livekit import rtc
from livekit.plugins import silero

from agent.hearing import PressHearing
from agent.local_stt import LocalSTT, PocketSphinxModel
from livekit.plugins.session_sync.testing import eventually
from support.cloud_stt import CloudSTT
from support.recordings import cut_mid_word, spoken

from .conftest import Worker

RECOGNISERS = ["local", "cloud-finalize", "cloud-no-flush"]
TRANSCRIPT_TIMEOUT = 30.0
"""What the conftest's settings give PTT_TRANSCRIPT_TIMEOUT_SECONDS."""
WAITED_FOR_THE_TIMEOUT = TRANSCRIPT_TIMEOUT / 2
"""A reply later than this after the release waited for the timeout, not for the words."""


@pytest.fixture(scope="module")
def sphinx() -> PocketSphinxModel:
    return PocketSphinxModel()


@pytest.fixture
def recogniser(
    request: pytest.FixtureRequest, sphinx: PocketSphinxModel, vad: silero.VAD
) -> Callable[..., Any]:
    def build(kind: str, *script: str) -> Any:
        if kind == "local":
            return LocalSTT(sphinx, vad)
        cloud = CloudSTT(finalize=kind == "cloud-finalize")
        cloud.script.extend(script)
        return cloud

    return build


async def _voice_ptt(make_worker: Any, recogniser: Any, kind: str, *script: str) -> Worker:
    worker: Worker = await make_worker("voice-ptt", stt=recogniser(kind, *script))
    return worker


async def _replies(worker: Worker, count: int, *, message: str) -> None:
    await eventually(
        lambda: len(worker.llm.prompts) >= count, timeout=TRANSCRIPT_TIMEOUT + 10, message=message
    )


async def _press(worker: Worker, frames: Sequence[rtc.AudioFrame], *, pause: float = 0.0) -> float:
    """Press, play `frames`, wait `pause` of silence and release; gives the release's time."""
    await worker.client.call("session.ptt_start")
    await worker.mic.play(frames)
    if pause:
        await worker.mic.silence(pause)
    released = time.monotonic()
    await worker.client.call("session.ptt_end")
    return released


def _answered_at_once(released: float) -> None:
    answered_after = time.monotonic() - released
    assert answered_after < WAITED_FOR_THE_TIMEOUT, (
        f"the reply came {answered_after:.1f} s after the release: it waited for the "
        f"{TRANSCRIPT_TIMEOUT:.0f} s transcript timeout"
    )


def _user_turns(worker: Worker) -> list[str | None]:
    return [m.text_content for m in worker.session.history.messages() if m.role == "user"]


@pytest.mark.parametrize("pause", [0.3, 3.0])
@pytest.mark.parametrize("kind", RECOGNISERS)
async def test_release_after_a_pause_is_answered_long_before_the_transcript_timeout(
    make_worker: Any, recogniser: Any, kind: str, pause: float
) -> None:
    worker = await _voice_ptt(make_worker, recogniser, kind, "how are you doing")
    # After 0.3 s the utterance is still open; after 3 s every word is long final.
    released = await _press(worker, spoken("how are you doing"), pause=pause)
    await _replies(worker, 1, message="the reply to the press")
    _answered_at_once(released)
    assert worker.llm.user_texts() == ["how are you doing"]


@pytest.mark.parametrize("kind", RECOGNISERS)
async def test_release_the_instant_the_words_end_keeps_every_word(
    make_worker: Any, recogniser: Any, kind: str
) -> None:
    worker = await _voice_ptt(make_worker, recogniser, kind, "nice to meet you")
    await _press(worker, spoken("nice to meet you"))  # the utterance is still open
    await _replies(worker, 1, message="the reply to the press")
    assert worker.llm.user_texts() == ["nice to meet you"]


@pytest.mark.parametrize("kind", ["cloud-finalize", "cloud-no-flush"])
async def test_release_mid_word_keeps_the_words_the_recogniser_gives(
    make_worker: Any, recogniser: Any, kind: str
) -> None:
    worker = await _voice_ptt(make_worker, recogniser, kind, "what can you do")
    released = await _press(worker, cut_mid_word("what can you do"))
    await _replies(worker, 1, message="the reply to the press")
    _answered_at_once(released)
    assert worker.llm.user_texts() == ["what can you do"]


async def test_two_utterances_in_one_press_are_one_turn(make_worker: Any, recogniser: Any) -> None:
    worker = await _voice_ptt(make_worker, recogniser, "local")
    await worker.client.call("session.ptt_start")
    await worker.mic.play(spoken("nice to meet you"))
    await worker.mic.silence(0.8)  # the VAD ends the first utterance: it is being decoded
    await worker.mic.play(spoken("how are you doing"))
    await worker.client.call("session.ptt_end")
    await _replies(worker, 1, message="the reply to the press")
    await worker.mic.silence(1.0)  # time for a second reply, were there one
    assert worker.llm.user_texts() == ["nice to meet you how are you doing"]
    assert len(worker.llm.prompts) == 1


@pytest.mark.parametrize("kind", RECOGNISERS)
async def test_press_with_no_speech_commits_nothing_and_gets_no_reply(
    make_worker: Any, recogniser: Any, kind: str
) -> None:
    worker = await _voice_ptt(make_worker, recogniser, kind, "how are you doing")
    await worker.client.call("session.ptt_start")
    await worker.mic.silence(0.6)
    await worker.client.call("session.ptt_end")
    await worker.mic.silence(1.5)
    assert worker.llm.prompts == []
    assert _user_turns(worker) == []

    # The next press is heard and answered at once: nothing was left waiting.
    released = await _press(worker, spoken("how are you doing"), pause=0.5)
    await _replies(worker, 1, message="the reply to the second press")
    _answered_at_once(released)
    assert worker.llm.user_texts() == ["how are you doing"]


@pytest.mark.parametrize("kind", RECOGNISERS)
async def test_cancelled_press_is_never_answered(
    make_worker: Any, recogniser: Any, kind: str
) -> None:
    worker = await _voice_ptt(
        make_worker, recogniser, kind, "how are you doing", "nice to meet you"
    )
    await worker.client.call("session.ptt_start")
    await worker.mic.play(spoken("how are you doing"))
    await worker.client.call("session.ptt_cancel")
    await worker.mic.silence(1.5)  # the words' final transcript would be in by now
    assert worker.llm.prompts == []

    await _press(worker, spoken("nice to meet you"), pause=0.5)
    await _replies(worker, 1, message="the reply to the second press")
    await worker.mic.silence(1.0)
    assert worker.llm.user_texts() == ["nice to meet you"]
    assert _user_turns(worker) == ["nice to meet you"]


@pytest.mark.parametrize("kind", RECOGNISERS)
async def test_late_final_of_a_press_never_lands_in_the_next_one(
    make_worker: Any, recogniser: Any, kind: str
) -> None:
    worker = await _voice_ptt(
        make_worker, recogniser, kind, "how are you doing", "nice to meet you"
    )
    await _press(worker, spoken("how are you doing"))  # its final transcript is still to come
    await _press(worker, spoken("nice to meet you"), pause=0.5)
    await _replies(worker, 2, message="the replies to both presses")
    await worker.mic.silence(1.0)
    assert _user_turns(worker) == ["how are you doing", "nice to meet you"]


def test_hearing_waits_only_while_words_may_still_come() -> None:
    hearing = PressHearing()
    hearing.reset("listening")
    assert not hearing.words_pending()  # nothing said: nothing to wait for
    hearing.on_user_state("speaking")
    assert hearing.words_pending()
    hearing.on_transcript("good", final=False)
    hearing.on_transcript("how are you doing", final=True)
    assert hearing.words_pending()  # still speaking
    hearing.on_user_state("listening")
    assert not hearing.words_pending()  # every word heard is final
    hearing.on_transcript("how", final=False)
    assert hearing.words_pending()  # an interim after the final: more to come
    hearing.on_transcript("how are you", final=True)
    hearing.on_user_state("speaking")
    hearing.on_user_state("listening")
    assert hearing.words_pending()  # speech since the last final, not transcribed yet
    hearing.on_transcript("", final=True)
    assert hearing.words_pending()  # an empty final says nothing about that speech
    hearing.reset("speaking")
    assert hearing.words_pending()  # a press that starts mid-speech

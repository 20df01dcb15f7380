"""A real AgentSession on fake models: text, push-to-talk and switching, driven by the app."""

import asyncio
import itertools

import pytest
from livekit.agents import vad

from livekit.plugins.session_sync.testing import eventually
from support.fakes import LateVAD

from .conftest import Worker

TYPES = ["text", "voice-ptt", "voice-vad"]
EXPECTED = {
    # type: (framework turn detection, agent audio input, published turnDetection,
    #        endpointing minimum delay)
    "text": ("manual", False, "none", 0.0),
    "voice-ptt": ("manual", False, "client", 0.0),
    "voice-vad": ("vad", True, "server", 0.5),
}
CLICK = 9  # a sound with no words: a breath, the button's click


async def _reply(worker: Worker, count: int = 1) -> None:
    await eventually(lambda: len(worker.llm.prompts) >= count, timeout=5, message="a reply")


async def test_text_message_gets_a_text_reply_and_audio_input_stays_off(make_worker) -> None:
    worker: Worker = await make_worker("text")
    assert worker.client.session()["type"] == "text"
    assert worker.session.input.audio_enabled is False

    result = await worker.session.run(user_input="what is the time?")
    result.expect.next_event().is_message(role="assistant")
    assert worker.llm.user_texts() == ["what is the time?"]
    assert worker.session.input.audio_enabled is False
    assert worker.tts.texts == []  # text sessions answer in text only
    await worker.mic.say(2)
    assert worker.stt.heard == []  # nothing reached speech-to-text


async def test_push_to_talk_commits_the_press_and_answers_it(make_worker) -> None:
    worker: Worker = await make_worker("voice-ptt")
    await worker.mic.say(2)  # spoken before the press: never heard
    assert worker.stt.heard == []

    await worker.client.call("session.ptt_start")
    assert worker.session.input.audio_enabled is True
    await worker.mic.say(2)
    await worker.client.call("session.ptt_end")
    assert worker.session.input.audio_enabled is False
    await _reply(worker)
    assert worker.llm.user_texts() == ["hello there"]


async def test_sound_right_after_a_release_does_not_lose_the_press(make_worker) -> None:
    # The VAD reports the click only after the release, inside the 0.5 s the framework's
    # end-of-utterance path would have slept before committing a manual turn: upstream, that
    # start of speech cancels the committed turn and drops later transcripts.
    late_vad = LateVAD(sound=CLICK, lag=0.15)
    worker: Worker = await make_worker("voice-ptt", voice_activity=late_vad)
    await worker.client.call("session.ptt_start")
    await worker.mic.say(2)
    await worker.mic.say(CLICK, seconds=0.04)
    await worker.client.call("session.ptt_end")
    heard = [vad.VADEventType.START_OF_SPEECH, vad.VADEventType.END_OF_SPEECH]
    await eventually(
        lambda: late_vad.reported == heard, timeout=5, message="the VAD to hear the click"
    )
    await _reply(worker)
    await eventually(lambda: worker.session.agent_state == "listening", message="the reply")
    await asyncio.sleep(1.0)  # longer than any endpointing delay: a second answer would show
    assert worker.llm.user_texts() == ["hello there"]
    assert worker.tts.texts == ["echo: hello there"]

    await worker.client.call("session.ptt_start")
    await worker.mic.say(3)
    await worker.client.call("session.ptt_end")
    await _reply(worker, 2)
    assert worker.llm.user_texts() == ["hello there", "switch me"]


async def test_cancelled_press_is_never_answered(make_worker) -> None:
    worker: Worker = await make_worker("voice-ptt")
    await worker.client.call("session.ptt_start")
    await worker.mic.say(1)
    await worker.client.call("session.ptt_cancel")
    assert worker.session.input.audio_enabled is False

    await worker.client.call("session.ptt_start")
    await worker.mic.say(2)
    await worker.client.call("session.ptt_end")
    await _reply(worker)
    await worker.settle()
    assert worker.llm.user_texts() == ["hello there"]
    history = [m.text_content for m in worker.session.history.messages()]
    assert not any("secret" in (text or "") for text in history)


async def test_empty_press_makes_the_agent_say_nothing(make_worker) -> None:
    worker: Worker = await make_worker("voice-ptt")
    await worker.client.call("session.ptt_start")
    await worker.client.call("session.ptt_end")
    await worker.mic.silence(0.5)
    assert worker.llm.prompts == []

    await worker.client.call("session.ptt_start")
    await worker.mic.say(2)
    await worker.client.call("session.ptt_end")
    await _reply(worker)
    assert worker.llm.user_texts() == ["hello there"]


async def test_press_interrupts_the_agent(make_worker) -> None:
    worker: Worker = await make_worker("voice-ptt")
    worker.tts.seconds = 30  # a long answer
    worker.session.say("a very long story", allow_interruptions=True)
    await eventually(lambda: worker.session.agent_state == "speaking", message="the agent to speak")
    await worker.client.call("session.ptt_start")
    await eventually(lambda: worker.session.agent_state != "speaking", message="the agent to stop")
    assert worker.speaker.interrupted == 1  # cut short, 30 s before it would have ended


@pytest.mark.parametrize(("before", "after"), list(itertools.permutations(TYPES, 2)))
async def test_switching_type_keeps_history_and_matches_turn_taking(
    make_worker, before: str, after: str
) -> None:
    worker: Worker = await make_worker(before)
    await worker.session.run(user_input="remember me")
    history_before = [m.text_content for m in worker.session.history.messages()]

    result = await worker.client.call("session.switch", {"sessionType": after})
    await worker.settle()

    mode, audio_on, published, min_delay = EXPECTED[after]
    assert worker.session.turn_detection == mode
    assert worker.session.options.endpointing["min_delay"] == min_delay
    assert worker.session.input.audio_enabled is audio_on
    assert result["turnDetection"] == published
    session = worker.client.session()
    assert (session["type"], session["state"], session["turnDetection"]) == (
        after,
        "active",
        published,
    )
    assert worker.client.agent_attributes()["session.type"] == after
    history_after = [m.text_content for m in worker.session.history.messages()]
    assert history_after[: len(history_before)] == history_before
    events = [e["payload"] for e in worker.client.events]
    assert [p["frontendState"]["state"] for p in events[-2:]] == ["syncing", "active"]
    # Whenever the app saw "active", the published type's turn-taking was already in place.
    for payload in events:
        if payload["frontendState"]["state"] == "active":
            assert (
                payload["roomState"]["turnDetection"] == payload["frontendState"]["turnDetection"]
            )
    assert worker.sync.validate().is_valid


async def test_switching_mid_press_keeps_what_was_said(make_worker) -> None:
    worker: Worker = await make_worker("voice-ptt")
    await worker.client.call("session.ptt_start")
    await worker.mic.say(3)
    await worker.client.call("session.switch", {"sessionType": "text"})
    await _reply(worker)
    assert worker.llm.user_texts() == ["switch me"]
    assert worker.session.input.audio_enabled is False


async def test_voice_without_speech_to_text_is_refused_clearly(make_worker) -> None:
    worker: Worker = await make_worker("text", stt="none")
    reply = await worker.client.request("session.switch", {"sessionType": "voice-ptt"})
    assert reply["error"]["code"] == "unavailable"
    assert "LIVEKIT_API_KEY" in reply["error"]["message"]
    assert worker.client.session()["type"] == "text"


async def test_voice_type_chosen_at_join_without_speech_to_text_starts_as_text(
    make_worker,
) -> None:
    worker: Worker = await make_worker("voice-vad", stt="none")
    assert worker.client.session()["type"] == "text"
    assert worker.session.input.audio_enabled is False


async def test_voice_session_whose_speech_output_was_switched_off_is_repaired(
    make_worker,
) -> None:
    worker: Worker = await make_worker("voice-ptt")
    worker.session.output.set_audio_enabled(False)  # behind the synchronizer's back
    assert worker.turns.observe().turn_detection == "none"
    result = await worker.client.call("session.validate")
    assert result["isValid"] is False
    assert any("turn detection is none" in text for text in result["inconsistencies"])
    assert worker.session.output.audio_enabled is True
    assert worker.turns.observe().turn_detection == "client"


async def test_turn_detection_the_agent_set_for_itself_counts_as_drift(make_worker) -> None:
    worker: Worker = await make_worker("text")
    worker.session.current_agent.turn_detection = "vad"
    assert worker.turns.observe().turn_detection == "server"
    result = await worker.client.call("session.validate")
    assert result["isValid"] is False
    assert any("turn detection is server" in text for text in result["inconsistencies"])

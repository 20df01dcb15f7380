"""Console slash commands send what an app sends, and let a person walk the seed's scenarios."""

import asyncio
from typing import Any

from livekit.agents import llm

from agent.console import without_commands
from agent.console_commands import NO_SESSION, ConsoleCommands
from livekit.plugins.session_sync.testing import eventually

from .conftest import Worker


def _console(worker: Worker) -> ConsoleCommands:
    return worker.commands


def _replies(result: Any) -> list[str]:
    return [
        e.item.text_content or ""
        for e in result.events
        if e.type == "message" and e.item.role == "assistant"
    ]


async def test_slash_commands_drive_the_session_like_an_app(make_worker) -> None:
    worker: Worker = await make_worker("text")
    console = _console(worker)
    assert "type=voice-ptt state=active" in await console.execute("/type voice-ptt")
    await console.execute("/ptt start")
    assert "pushToTalk=pressed" in await console.execute("/status")
    await console.execute("/ptt cancel")
    assert "muted=true" in await console.execute("/mute")
    assert '"isValid": true' in await console.execute("/validate")
    assert "state=idle" in await console.execute("/end")


async def test_console_refusals_are_shown_not_raised(make_worker) -> None:
    worker: Worker = await make_worker("text")
    console = _console(worker)
    assert "refused (2412)" in await console.execute("/ptt start")
    assert "refused (2422)" in await console.execute("/type hologram")
    assert "usage" in await console.execute("/ptt sideways")
    assert "unknown command" in await console.execute("/teleport")


async def test_commands_accept_any_case_and_refuse_stray_words(make_worker) -> None:
    worker: Worker = await make_worker("text")
    console = _console(worker)
    assert "type=voice-vad state=active" in await console.execute("/TYPE Voice-VAD")
    assert "takes no arguments" in await console.execute("/mute now please")
    assert worker.client.session()["isMuted"] is False


async def test_typed_commands_are_answered_by_the_console_never_by_the_llm(make_worker) -> None:
    worker: Worker = await make_worker("text", console=True)
    result = await worker.session.run(user_input="  /status")  # a leading space too
    assert any("type=text state=active" in reply for reply in _replies(result))
    result = await worker.session.run(user_input="hello there")
    assert _replies(result) == ["echo: hello there"]
    # The LLM saw the chat line, and neither command line nor its answer.
    assert worker.llm.prompts == [["hello there"]]


def _assistant_metrics(result: Any) -> list[dict[str, Any]]:
    return [
        dict(e.item.metrics)
        for e in result.events
        if e.type == "message" and e.item.role == "assistant"
    ]


async def test_replies_that_never_reach_the_llm_show_no_llm_timing(make_worker) -> None:
    worker: Worker = await make_worker("text", console=True)
    result = await worker.session.run(user_input="/status")
    assert [m.get("llm_node_ttft") for m in _assistant_metrics(result)] == [None]
    result = await worker.session.run(user_input="hello there")
    assert all("llm_node_ttft" in m for m in _assistant_metrics(result))
    await worker.session.run(user_input="/end")
    result = await worker.session.run(user_input="anyone there?")  # the no-session notice
    assert [m.get("llm_node_ttft") for m in _assistant_metrics(result)] == [None]


async def test_chat_after_end_says_there_is_no_session(make_worker) -> None:
    worker: Worker = await make_worker("text", console=True)
    await worker.session.run(user_input="/end")
    result = await worker.session.run(user_input="are you still there?")
    assert _replies(result) == [NO_SESSION]
    assert worker.llm.prompts == []


async def test_a_press_started_from_the_console_is_answered(make_worker) -> None:
    # /ptt start interrupts whatever the agent is saying, the command's own answer included.
    worker: Worker = await make_worker("voice-ptt", console=True)
    answers: list[str] = []
    result = await worker.session.run(user_input="/ptt start")
    answers += _replies(result)
    assert worker.client.agent_attributes()["session.pushToTalk"] == "pressed"
    assert answers or worker.session.current_speech is None


async def test_interrupt_keeps_the_console_usable_and_status_shows_syncing(make_worker) -> None:
    worker: Worker = await make_worker("voice-vad")
    console = _console(worker)
    console.watch(worker.sync)
    # Down long enough that a loaded machine still sees it down; waited for, never slept on.
    answer = await console.execute("/interrupt 5")
    assert "down for 5 s" in answer
    await eventually(
        lambda: worker.sync.config.state == "syncing", timeout=30, message="the session syncing"
    )
    assert "the agent holds type=voice-vad state=syncing" in await console.execute("/status")
    await eventually(
        lambda: any(e["payload"]["trigger"] == "reconnected" for e in worker.client.events),
        timeout=30,
        message="the reconnect",
    )
    assert worker.client.session()["state"] == "active"
    assert "down for 0.01 s" in await console.execute("/interrupt 0.01")  # again, once back


async def test_drift_in_a_text_session_says_what_happened_and_validate_repairs(
    make_worker,
) -> None:
    worker: Worker = await make_worker("text")
    console = _console(worker)
    answer = await console.execute("/drift")
    assert "microphone is now on" in answer and "text session keeps it off" in answer
    assert worker.session.input.audio_enabled is True
    answer = await console.execute("/validate")
    assert '"isValid": false' in answer and "set back to match it" in answer
    assert worker.session.input.audio_enabled is False
    # The answer and the session summary agree that this pass corrected something.
    assert "no corrections" not in answer and "corrected" in answer
    summary = worker.sync.summaries.current()
    assert summary is not None and summary.corrections == 1
    await console.execute("/end")
    assert "no session to drift from" in await console.execute("/drift")


async def test_console_tasks_end_with_the_console(make_worker) -> None:
    worker: Worker = await make_worker("voice-vad")
    console = _console(worker)
    await console.execute("/interrupt 30")
    assert "console-outage" in {t.get_name() for t in asyncio.all_tasks()}
    await console.aclose()
    assert "console-outage" not in {t.get_name() for t in asyncio.all_tasks()}


def test_commands_and_their_answers_are_left_out_of_the_llm_context() -> None:
    ctx = llm.ChatContext()
    ctx.add_message(role="system", content="be brief")
    ctx.add_message(role="user", content="/status")
    ctx.add_message(role="assistant", content="type=text state=active")
    ctx.add_message(role="user", content="hi")
    ctx.add_message(role="assistant", content="echo: hi")
    kept = [(m.role, m.text_content) for m in without_commands(ctx).messages()]
    assert kept == [("system", "be brief"), ("user", "hi"), ("assistant", "echo: hi")]

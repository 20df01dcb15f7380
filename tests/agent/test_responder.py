from collections.abc import AsyncIterator

import pytest
from livekit.agents import Agent, AgentSession, RunResult, llm

from agent.responder import OfflineResponder, compose_reply


@pytest.fixture
async def session() -> AsyncIterator[AgentSession[None]]:
    """A text-only session answered by the offline responder: no room, keys or network."""
    text_session: AgentSession[None] = AgentSession(
        llm=OfflineResponder(), vad=None, turn_handling={"turn_detection": "manual"}
    )
    await text_session.start(Agent(instructions="Be helpful."))
    yield text_session
    await text_session.aclose()


async def reply_to(session: AgentSession[None], text: str) -> str:
    result: RunResult[None] = await session.run(user_input=text)
    message = result.expect.next_event().is_message(role="assistant").event().item
    result.expect.no_more_events()
    return message.text_content or ""


async def test_first_reply_says_it_is_offline_and_how_to_use_a_real_model(
    session: AgentSession[None],
) -> None:
    reply = await reply_to(session, "What's the weather like?")

    assert "built-in offline responder" in reply
    assert "LLM_MODEL" in reply
    assert "What's the weather like?" in reply


async def test_later_replies_acknowledge_the_user_without_repeating_the_intro(
    session: AgentSession[None],
) -> None:
    await reply_to(session, "hello there")

    reply = await reply_to(session, "book a table for two")

    assert reply == 'You said: "book a table for two".'


async def test_help_explains_what_it_is_and_how_to_configure_a_model(
    session: AgentSession[None],
) -> None:
    await reply_to(session, "hi")

    reply = await reply_to(session, "Help!")

    assert "offline responder" in reply
    assert "LLM_MODEL" in reply
    assert "LIVEKIT_API_KEY" in reply


async def test_replies_are_the_same_for_the_same_conversation() -> None:
    chat_ctx = llm.ChatContext()
    chat_ctx.add_message(role="system", content="Be helpful.")
    chat_ctx.add_message(role="user", content="  tell me   a joke ")

    assert compose_reply(chat_ctx) == compose_reply(chat_ctx.copy())
    assert compose_reply(chat_ctx).endswith('You said: "tell me a joke".')


async def test_long_input_is_shortened_in_the_echo() -> None:
    chat_ctx = llm.ChatContext()
    chat_ctx.add_message(role="user", content="word " * 200)

    assert len(compose_reply(chat_ctx)) < 500


async def test_reply_streams_in_several_chunks_then_reports_usage() -> None:
    responder = OfflineResponder()
    chat_ctx = llm.ChatContext()
    chat_ctx.add_message(role="user", content="hello offline world")

    async with responder.chat(chat_ctx=chat_ctx) as stream:
        chunks = [chunk async for chunk in stream]

    texts = [c.delta.content for c in chunks if c.delta and c.delta.content]
    usage = [c.usage for c in chunks if c.usage]
    assert len(texts) > 2
    assert "".join(texts) == compose_reply(chat_ctx)
    assert len(usage) == 1
    assert usage[0].prompt_tokens == 3
    assert usage[0].completion_tokens == len(compose_reply(chat_ctx).split())
    assert usage[0].total_tokens == usage[0].prompt_tokens + usage[0].completion_tokens
    await responder.aclose()


def test_responder_names_its_model_and_provider() -> None:
    responder = OfflineResponder()

    assert responder.model == "offline-responder"
    assert responder.provider == "session-sync"

"""The built-in offline responder: the worker's LLM when LLM_MODEL is not set.

It needs no keys and no network, so console text mode and tests work anywhere. It
does not understand anything: it says what it is, acknowledges what the user said,
and answers "help". Replies depend only on the conversation, so they are repeatable.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any, Literal

from livekit.agents import llm
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
)
from livekit.agents.utils import shortuuid

MODEL = "offline-responder"
PROVIDER = "session-sync"

INTRO = (
    "I'm the built-in offline responder, so I can only give simple, fixed replies. "
    "To talk with a real model, set LLM_MODEL, for example to openai/gpt-4.1-mini, "
    "with the keys of a LiveKit Cloud project."
)
"""Said in the first reply of every conversation; it always contains "offline responder"."""

HELP = (
    "I'm an offline responder: I repeat back what you say so you can check that text "
    "and voice reach the agent, and that the session stays in sync with your app. "
    "For real answers, set LLM_MODEL to a LiveKit Inference model such as "
    "openai/gpt-4.1-mini, with LIVEKIT_API_KEY and LIVEKIT_API_SECRET, and restart the worker."
)

_MARKER = "offline responder"
_HELP_PHRASES = frozenset({"what can you do", "what are you", "who are you"})
_GREETINGS = frozenset({"hi", "hello", "hey", "good morning", "good afternoon", "good evening"})
_MAX_ECHO_CHARS = 200
_WORDS_PER_CHUNK = 3


def compose_reply(chat_ctx: llm.ChatContext) -> str:
    """The offline reply to a conversation: a pure function of its messages."""
    messages = [item for item in chat_ctx.items if isinstance(item, llm.ChatMessage)]
    introduced = any(
        _MARKER in (m.text_content or "").lower() for m in messages if m.role == "assistant"
    )
    user_text = next(
        ((m.text_content or "").strip() for m in reversed(messages) if m.role == "user"), ""
    )
    answer = _answer(user_text)
    if introduced or answer == HELP:  # the help text says what this is by itself
        return answer
    return f"{INTRO} {answer}"


def _answer(user_text: str) -> str:
    if not user_text:
        return 'Say something, or say "help" to hear what I can do.'
    key = " ".join(re.sub(r"[^\w\s]", " ", user_text.lower()).split())
    if user_text == "?" or key in _HELP_PHRASES or key.split()[:1] == ["help"]:
        return HELP
    if key in _GREETINGS:
        return 'Hello! Say "help" to hear what I can do.'
    echo = " ".join(user_text.split())
    if len(echo) > _MAX_ECHO_CHARS:
        echo = echo[: _MAX_ECHO_CHARS - 3].rstrip() + "..."
    return f'You said: "{echo}".'


def _chunks(text: str) -> list[str]:
    """Split ``text`` into a few pieces of whole words that join back to ``text``."""
    words = re.findall(r"\S+\s*", text)
    return [
        "".join(words[i : i + _WORDS_PER_CHUNK]) for i in range(0, len(words), _WORDS_PER_CHUNK)
    ]


def _count_tokens(text: str) -> int:
    """A rough, deterministic token count (one per word) for usage metrics."""
    return len(text.split())


class OfflineResponder(llm.LLM[Literal["metrics_collected", "error"]]):
    """An `llm.LLM` that answers without a model; see the module docstring."""

    @property
    def model(self) -> str:
        return MODEL

    @property
    def provider(self) -> str:
        return PROVIDER

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> llm.LLMStream:
        # Tools are accepted and never called.
        return OfflineResponderStream(
            self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options
        )


class OfflineResponderStream(llm.LLMStream):
    """Streams :func:`compose_reply` a few words at a time, then the usage."""

    async def _run(self) -> None:
        reply = compose_reply(self.chat_ctx)
        request_id = shortuuid("offline_")
        for piece in _chunks(reply):
            self._event_ch.send_nowait(
                llm.ChatChunk(id=request_id, delta=llm.ChoiceDelta(role="assistant", content=piece))
            )
            await asyncio.sleep(0)  # let the consumer see it as a stream
        prompt_tokens = sum(
            _count_tokens(item.text_content or "")
            for item in self.chat_ctx.items
            if isinstance(item, llm.ChatMessage)
        )
        completion_tokens = _count_tokens(reply)
        self._event_ch.send_nowait(
            llm.ChatChunk(
                id=request_id,
                usage=llm.CompletionUsage(
                    completion_tokens=completion_tokens,
                    prompt_tokens=prompt_tokens,
                    total_tokens=prompt_tokens + completion_tokens,
                ),
            )
        )

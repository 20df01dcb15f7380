"""The terminal console: slash commands send what a frontend sends, and `/say` speaks.

Console mode has no real room: the agent and a simulated app share an in-memory one, so the
slash commands travel the same protocol a frontend uses. In text mode the console's
microphone is `/say`: the text is spoken with the local TTS and streamed in as the user's
audio, through the same VAD, end-of-turn model, turn-taking and speech-to-text path a real
microphone takes. With no speaker, what the agent would say is shown as text.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import AsyncIterable, Callable, Coroutine
from typing import Any

from livekit.agents import (
    Agent,
    AgentSession,
    FlushSentinel,
    JobContext,
    ModelSettings,
    llm,
)
from livekit.agents.voice.events import (
    ConversationItemAddedEvent,
    SpeechCreatedEvent,
    UserInputTranscribedEvent,
)
from livekit.agents.voice.speech_handle import SpeechHandle

from livekit.plugins.session_sync.testing import InMemoryServer, SessionSyncClient

from .console_commands import CONSOLE_USER, NO_SESSION, ConsoleCommands, console_logger, is_command
from .console_mic import ConsoleMicrophone, console_speaker
from .session import Prewarmed, SessionSyncAgent, build_session, start_session_sync
from .session_type import choose_session_type
from .settings import Settings
from .speech_models import LoadedModels

status_logger = logging.getLogger("agent.console_status")
"""The console's own news (ready): log chatter, shown as LOG_LEVEL says."""

QUIT_AFTER_SECONDS = 0.5
"""`/quit` leaves this long after its answer: the framework's console must be back at its
prompt first, or the leaving signal, landing while it starts its "Thinking..." display,
leaves that display on the screen."""


def _last_user_line(chat_ctx: llm.ChatContext) -> str | None:
    """The text of the message this reply answers, when it is the user's."""
    for item in reversed(chat_ctx.items):
        if isinstance(item, llm.ChatMessage) and item.role in ("user", "assistant"):
            return (item.text_content or "") if item.role == "user" else None
    return None


def without_commands(chat_ctx: llm.ChatContext) -> llm.ChatContext:
    """The conversation without slash commands and their answers: the LLM never sees them."""
    kept: list[llm.ChatItem] = []
    skip_answer = False
    for item in chat_ctx.items:
        if isinstance(item, llm.ChatMessage):
            if item.role == "user" and is_command(item.text_content or ""):
                skip_answer = True
                continue
            if item.role == "assistant" and skip_answer:
                skip_answer = False
                continue
            if item.role == "user":
                skip_answer = False
        kept.append(item)
    return llm.ChatContext(kept)


class ConsoleAgent(SessionSyncAgent):
    """The agent, with slash commands answered in its `llm_node` instead of by the LLM."""

    def __init__(self, *, instructions: str, commands: ConsoleCommands) -> None:
        super().__init__(instructions=instructions)
        self._commands = commands

    async def on_enter(self) -> None:
        self.session.on("conversation_item_added", self._untime_reply_without_llm)

    async def on_exit(self) -> None:
        self.session.off("conversation_item_added", self._untime_reply_without_llm)

    def _untime_reply_without_llm(self, ev: ConversationItemAddedEvent) -> None:
        """The framework's console shows a reply's LLM timings under it; this one had none."""
        reply = ev.item
        if isinstance(reply, llm.ChatMessage) and answered_without_llm(
            self.session.history.items, reply
        ):
            reply.metrics.pop("llm_node_ttft", None)
            reply.metrics.pop("llm_node_tps", None)
            reply.metrics.pop("llm_node_ttfs", None)

    async def llm_node(
        self,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool],
        model_settings: ModelSettings,
    ) -> AsyncIterable[llm.ChatChunk | str | FlushSentinel]:
        line = _last_user_line(chat_ctx)
        if line is not None and is_command(line):
            yield await self._commands.answer(line)
            return
        if not self._commands.session_running():
            yield NO_SESSION
            return
        async for chunk in Agent.default.llm_node(
            self, without_commands(chat_ctx), tools, model_settings
        ):
            yield chunk


def answered_without_llm(history: list[llm.ChatItem], reply: llm.ChatMessage) -> bool:
    """A console answer to a command, or the no-session notice: nothing reached the LLM."""
    if reply.role != "assistant":
        return False
    if reply.text_content == NO_SESSION:
        return True
    before = history[: history.index(reply)] if reply in history else history
    line = _last_user_line(llm.ChatContext(list(before)))
    return line is not None and is_command(line)


def show_voice_turns(session: AgentSession[Any]) -> None:
    """Print what speech-to-text heard and what the agent answered a spoken turn."""

    def on_transcribed(ev: UserInputTranscribedEvent) -> None:
        if ev.is_final and ev.transcript.strip():
            console_logger.info("heard: %s", ev.transcript.strip())

    def on_speech(ev: SpeechCreatedEvent) -> None:
        if ev.speech_handle.input_details.modality == "audio":  # a spoken turn, not a typed line
            ev.speech_handle.add_done_callback(show_reply)

    def show_reply(handle: SpeechHandle) -> None:
        for item in handle.chat_items:
            if isinstance(item, llm.ChatMessage) and item.role == "assistant":
                cut = " (interrupted)" if item.interrupted else ""
                console_logger.info("agent says%s: %s", cut, item.text_content or "")

    session.on("user_input_transcribed", on_transcribed)
    session.on("speech_created", on_speech)


class _ShownAsReply(logging.Filter):
    """Justified: the console shows a refused command as its reply, so the plugin's own
    warning about it (not the framework's) would say the same thing twice."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.name.startswith("livekit.plugins.session_sync")
            and record.levelno == logging.WARNING
            and CONSOLE_USER in record.getMessage()
        )


def _show_refusals_once() -> Callable[[], Coroutine[None, None, None]]:
    handlers = list(logging.getLogger().handlers)
    quiet = _ShownAsReply()
    for handler in handlers:
        handler.addFilter(quiet)

    async def remove() -> None:
        for handler in handlers:
            handler.removeFilter(quiet)

    return remove


def _leave_console() -> None:
    # The framework's console leaves on SIGINT, as for Ctrl-C.
    asyncio.get_running_loop().call_later(QUIT_AFTER_SECONDS, os.kill, os.getpid(), signal.SIGINT)


async def run_console(ctx: JobContext, settings: Settings, models: LoadedModels) -> None:
    """The console's job: the agent joined to an in-memory room with a simulated app."""
    chosen = choose_session_type(
        [("dispatch metadata", ctx.job.metadata)], settings.default_session_type
    )
    local = InMemoryServer()
    agent_room = await local.connect("console", "agent", kind="agent")
    app_room = await local.connect("console", CONSOLE_USER)
    session, turns = build_session(settings, models, chosen.session_type)
    mic = ConsoleMicrophone()
    commands = ConsoleCommands(
        SessionSyncClient(app_room, "agent"),
        agent_room=agent_room,
        turns=turns,
        say=await console_speaker(session, mic),
        leave=_leave_console,
    )
    ctx.add_shutdown_callback(commands.aclose)
    ctx.add_shutdown_callback(_show_refusals_once())
    await session.start(
        ConsoleAgent(instructions=settings.agent_instructions, commands=commands), room=ctx.room
    )
    if session.input.audio is None:
        # Text mode: the console has no microphone of its own, so /say is the microphone.
        session.input.audio = mic
    show_voice_turns(session)
    sync = await start_session_sync(
        settings,
        agent_room,
        turns,
        linked_identity=CONSOLE_USER,
        chosen=chosen,
        on_close=ctx.add_shutdown_callback,
        log_events=True,
    )
    commands.watch(sync)
    status_logger.info("console ready: type a message, /say TEXT to speak, /help for commands")


async def console_entrypoint(ctx: JobContext) -> None:
    """The job the console's worker runs: the models prewarm loaded, in an in-memory room."""
    prewarmed: Prewarmed = ctx.proc.userdata["prewarmed"]
    await run_console(ctx, prewarmed.settings, prewarmed.models)

"""The terminal console: slash commands send what a frontend sends, and `/say` speaks.

Console mode has no real room: the agent and a simulated app share an in-memory one, so the
slash commands travel the same protocol a frontend uses. In text mode the console's
microphone is `/say`: the text is spoken with the local TTS and streamed in as the user's
audio, through the same VAD, end-of-turn model, turn-taking and speech-to-text path a real
microphone takes. With no speaker, what the agent would say is shown as text.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
from collections.abc import AsyncIterable, Awaitable, Callable, Coroutine
from typing import Any

from livekit import rtc
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

from livekit.plugins.session_sync import SessionConfig, SessionSynchronizer
from livekit.plugins.session_sync.testing import InMemoryRoom, InMemoryServer, SessionSyncClient

from .console_mic import ConsoleMicrophone, Say, console_speaker
from .models import LoadedModels
from .server import SessionSyncAgent, build_session, start_session_sync
from .session_type import choose_session_type
from .settings import Settings
from .turns import AgentSessionTurnTaking

console_logger = logging.getLogger("agent.console")
# What the user said and the agent answered is content, not log chatter: shown at any LOG_LEVEL.
console_logger.setLevel(logging.INFO)
status_logger = logging.getLogger("agent.console_status")
"""The console's own news (ready): log chatter, shown as LOG_LEVEL says."""

QUIT_AFTER_SECONDS = 0.5
"""`/quit` leaves this long after its answer: the framework's console must be back at its
prompt first, or the leaving signal, landing while it starts its "Thinking..." display,
leaves that display on the screen."""

HELP = """\
/type text|voice-ptt|voice-vad   start a session, or switch the running one
/end                             end the session
/ptt start|end|cancel            push-to-talk press, release, cancel
/say TEXT                        speak TEXT into the agent's microphone
/mute  /unmute                   microphone
/status                          the session as the app sees it
/validate                        run the checks now
/snapshot                        the full snapshot
/sync [trigger]                  sync now
/autosync on|off                 periodic validation
/interrupt [seconds]             drop the agent's link for a while, then bring it back
/drift                           flip the agent's microphone behind the session's back
/quit                            leave (or Ctrl-C)
/help                            this list"""

NO_SESSION = (
    "There is no session, so the agent does not answer: "
    "/type text, /type voice-ptt or /type voice-vad starts one."
)

_NO_ARGUMENTS = frozenset(
    {"/end", "/mute", "/unmute", "/status", "/validate", "/snapshot", "/drift", "/quit", "/help"}
)

CONSOLE_USER = "console-user"
"""The simulated app's identity in the console's in-memory room."""


def is_command(line: str) -> bool:
    return line.lstrip().startswith("/")


class ConsoleCommands:
    """Turns a console line into a protocol command sent by a simulated app."""

    def __init__(
        self,
        client: SessionSyncClient,
        *,
        agent_room: InMemoryRoom | None = None,
        turns: AgentSessionTurnTaking | None = None,
        say: Say | None = None,
        leave: Callable[[], None] | None = None,
    ) -> None:
        self._client = client
        # For walking through the interruption and drift scenarios by hand.
        self._agent_room = agent_room
        self._turns = turns
        self._say = say
        self._leave = leave
        self._tasks: set[asyncio.Task[Any]] = set()
        self._agent_view: Callable[[], SessionConfig] | None = None

    def watch(self, sync: SessionSynchronizer) -> None:
        """Show the agent's own view of the session too, while its link is down."""
        self._agent_view = lambda: sync.config

    def session_running(self) -> bool:
        return self._client.session()["type"] is not None

    async def execute(self, line: str) -> str:
        name, _, rest = line.strip().partition(" ")
        arg = rest.strip()
        name = name.lower()
        if name in _NO_ARGUMENTS and arg:
            return f"{name} takes no arguments; /help lists the commands"
        try:
            return await self._dispatch(name, arg)
        except rtc.RpcError as e:
            return f"refused ({e.code}): {e.message}"
        except Exception as e:  # a console typo must never end the call
            return f"command failed: {e}"

    async def answer(self, line: str) -> str:
        """`execute` in a task of its own, so that a command which interrupts the reply it is
        answered in (`/ptt start`, or speech heard during `/say`) still completes; its answer
        is then shown on its own."""
        task = self._own(self.execute(line), name="console-command")
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            task.add_done_callback(_show_late_answer)
            raise

    async def aclose(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _own(self, coro: Awaitable[Any], *, name: str) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _dispatch(self, name: str, arg: str) -> str:
        call = self._client.call
        match name:
            case "/type":
                if not arg:
                    return "usage: /type text|voice-ptt|voice-vad"
                method = "session.switch" if self.session_running() else "session.start"
                return _summary(await call(method, {"sessionType": arg.lower()}))
            case "/end":
                return _summary(await call("session.end"))
            case "/ptt":
                if arg.lower() not in ("start", "end", "cancel"):
                    return "usage: /ptt start|end|cancel"
                return _summary(await call(f"session.ptt_{arg.lower()}"))
            case "/say":
                if not arg:
                    return "usage: /say TEXT"
                if self._say is None:
                    return "/say works in text mode (console --text); here, use the microphone"
                return await self._say(arg)
            case "/mute" | "/unmute":
                return _summary(await call("session.set_muted", {"muted": name == "/mute"}))
            case "/status":
                return self._status()
            case "/validate":
                return await self._validate()
            case "/snapshot":
                return json.dumps(await call("session.snapshot"), indent=2)
            case "/sync":
                return _summary(await call("session.sync", {"trigger": arg or "console"}))
            case "/autosync":
                if arg.lower() not in ("on", "off"):
                    return "usage: /autosync on|off"
                await call("session.set_sync_enabled", {"enabled": arg.lower() == "on"})
                return f"periodic validation {arg.lower()}"
            case "/interrupt":
                return self._interrupt(arg)
            case "/drift":
                return self._drift()
            case "/quit" | "/exit":
                if self._leave is None:
                    return "leave with Ctrl-C"
                self._leave()
                return "leaving"
            case "/help":
                return HELP
        return f"unknown command {name}; /help lists them"

    def _status(self) -> str:
        status = _summary(self._client.session(), self._client.agent_attributes())
        room = self._agent_room
        if room is None or room.connection_state == "connected" or self._agent_view is None:
            return status
        agent = self._agent_view()
        return (
            f"{status}\n(the app's last view: the agent's link is {room.connection_state}; "
            f"the agent holds type={agent.type or 'none'} state={agent.state} "
            f"revision={agent.revision}, which the app sees when the link is back)"
        )

    def _interrupt(self, arg: str) -> str:
        room = self._agent_room
        if room is None:
            return "interrupt is not available here"
        try:
            seconds = float(arg) if arg else 2.0
        except ValueError:
            return "usage: /interrupt [seconds]"
        if not 0 < seconds <= 60:
            return "usage: /interrupt [seconds], between 0 and 60"
        if room.connection_state != "connected":
            return f"the agent's link is {room.connection_state}"
        room.simulate_reconnecting()
        # The console keeps taking lines during the outage; /status shows the session syncing.
        self._own(self._restore_link(room, seconds), name="console-outage")
        return f"the agent's link is down for {seconds:g} s; /status shows the session meanwhile"

    async def _restore_link(self, room: InMemoryRoom, seconds: float) -> None:
        await asyncio.sleep(seconds)
        room.simulate_reconnected()
        await asyncio.sleep(0.05)  # let the reconnect events go out before the summary
        console_logger.info("link restored; %s", _summary(self._client.session()))

    def _drift(self) -> str:
        if self._turns is None:
            return "drift is not available here"
        session_type = self._client.session()["type"]
        if session_type is None:
            return "there is no session to drift from: /type starts one"
        enabled = self._turns.drift_audio_input()
        expected = "on" if session_type == "voice-vad" else "off"
        held = " unless a press is held" if session_type == "voice-ptt" else ""
        return (
            f"the agent's microphone is now {'on' if enabled else 'off'} behind the session's "
            f"back (a {session_type} session keeps it {expected}{held}); "
            "/validate finds and repairs it"
        )

    async def _validate(self) -> str:
        verdict = await self._client.call("session.validate")
        text = json.dumps(verdict, indent=2)
        if verdict.get("inconsistencies") and not verdict.get("corrections"):
            # Repaired all the same: the session summary counts this pass as a correction.
            text += (
                "\n(corrected: the session's fields were right, so `corrections` is empty; "
                "the agent's turn-taking was set back to match it)"
            )
        return text


def _show_late_answer(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is None:
        console_logger.info("%s", task.result())


def _summary(config: dict[str, Any], attributes: dict[str, str] | None = None) -> str:
    parts = [
        f"type={config['type'] or 'none'}",
        f"state={config['state']}",
        f"turnDetection={config['turnDetection']}",
        f"muted={str(config['isMuted']).lower()}",
        f"revision={config['revision']}",
    ]
    if attributes is not None:
        parts.append(f"pushToTalk={attributes.get('session.pushToTalk', '?')}")
    return " ".join(parts)


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
    """The console shows a refused command as its reply; the plugin's log line about it
    would say the same thing twice."""

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

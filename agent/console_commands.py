"""The console's slash commands: each line is sent as the protocol command a frontend sends,
by a simulated app in the console's in-memory room."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from livekit import rtc

from livekit.plugins.session_sync import SessionConfig, SessionSynchronizer
from livekit.plugins.session_sync.testing import InMemoryRoom, SessionSyncClient

from .console_mic import Say
from .turns import AgentSessionTurnTaking

console_logger = logging.getLogger("agent.console")
# What the user said and the agent answered is content, not log chatter: shown at any LOG_LEVEL.
console_logger.setLevel(logging.INFO)

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

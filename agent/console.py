"""Slash commands for console text mode: they send what a frontend sends, the same way."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from livekit import rtc
from livekit.agents import AgentSession, llm
from livekit.agents.voice.run_result import RunResult

from livekit.plugins.session_sync import SessionSyncEvent
from livekit.plugins.session_sync.testing import InMemoryRoom, SessionSyncClient

from .turns import AgentSessionTurnTaking

event_logger = logging.getLogger("session-sync.events")

HELP = """\
/type text|voice-ptt|voice-vad   start a session, or switch the running one
/end                             end the session
/ptt start|end|cancel            push-to-talk press, release, cancel
/mute  /unmute                   microphone
/status                          the session as the app sees it
/validate                        run the checks now
/snapshot                        the full snapshot
/sync [trigger]                  sync now
/autosync on|off                 periodic validation
/interrupt [seconds]             drop the agent's link for a while, then bring it back
/drift                           flip the agent's microphone behind the session's back
/help                            this list"""


def log_event(event: SessionSyncEvent) -> None:
    """Show each sync event as it is emitted."""
    state = event.payload.frontend_state
    detail = f" - {event.payload.detail}" if event.payload.detail else ""
    event_logger.info(
        "#%d %s (%s): %s/%s rev %d%s",
        event.seq,
        event.type,
        event.payload.trigger,
        state.type or "none",
        state.state,
        state.revision,
        detail,
    )


class ConsoleCommands:
    """Turns a console line into a protocol command sent by a simulated app."""

    def __init__(
        self,
        client: SessionSyncClient,
        *,
        agent_room: InMemoryRoom | None = None,
        turns: AgentSessionTurnTaking | None = None,
    ) -> None:
        self._client = client
        # For walking through the interruption and drift scenarios by hand.
        self._agent_room = agent_room
        self._turns = turns

    async def execute(self, line: str) -> str:
        name, _, rest = line.strip().partition(" ")
        arg = rest.strip()
        try:
            return await self._dispatch(name.lower(), arg)
        except rtc.RpcError as e:
            return f"refused ({e.code}): {e.message}"

    async def _dispatch(self, name: str, arg: str) -> str:
        call = self._client.call
        match name:
            case "/type":
                if not arg:
                    return "usage: /type text|voice-ptt|voice-vad"
                running = self._client.session()["type"] is not None
                method = "session.switch" if running else "session.start"
                return _summary(await call(method, {"sessionType": arg}))
            case "/end":
                return _summary(await call("session.end"))
            case "/ptt":
                if arg not in ("start", "end", "cancel"):
                    return "usage: /ptt start|end|cancel"
                return _summary(await call(f"session.ptt_{arg}"))
            case "/mute" | "/unmute":
                return _summary(await call("session.set_muted", {"muted": name == "/mute"}))
            case "/status":
                return _summary(self._client.session(), self._client.agent_attributes())
            case "/validate":
                return json.dumps(await call("session.validate"), indent=2)
            case "/snapshot":
                return json.dumps(await call("session.snapshot"), indent=2)
            case "/sync":
                return _summary(await call("session.sync", {"trigger": arg or "console"}))
            case "/autosync":
                if arg not in ("on", "off"):
                    return "usage: /autosync on|off"
                await call("session.set_sync_enabled", {"enabled": arg == "on"})
                return f"periodic validation {arg}"
            case "/interrupt":
                return await self._interrupt(arg)
            case "/drift":
                if self._turns is None:
                    return "drift is not available here"
                enabled = self._turns.drift_audio_input()
                return f"agent microphone now {'on' if enabled else 'off'}; /validate repairs it"
            case "/help":
                return HELP
        return f"unknown command {name}; /help lists them"

    async def _interrupt(self, arg: str) -> str:
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
        await asyncio.sleep(seconds)
        room.simulate_reconnected()
        await asyncio.sleep(0.05)  # let the reconnect events go out before the summary
        return "link restored; " + _summary(self._client.session())


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


class ConsoleSession(AgentSession[Any]):
    """An AgentSession whose console text input understands slash commands.

    The console hands every typed line to `run`; lines starting with "/" become protocol
    commands instead of chat, and never reach the LLM or the history.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.commands: ConsoleCommands | None = None
        self._command_tasks: set[asyncio.Task[None]] = set()

    def run(self, *, user_input: str, **kwargs: Any) -> RunResult[Any]:
        if self.commands is None or not user_input.startswith("/"):
            return super().run(user_input=user_input, **kwargs)
        result: RunResult[Any] = RunResult(user_input=user_input, output_type=None)
        commands = self.commands

        async def answer() -> None:
            try:
                text = await commands.execute(user_input)
            except Exception as e:  # a console typo must never end the call
                text = f"command failed: {e}"
            result._item_added(llm.ChatMessage(role="assistant", content=[text]))
            result._mark_done()

        task = asyncio.create_task(answer(), name="console-command")
        self._command_tasks.add(task)
        task.add_done_callback(self._command_tasks.discard)
        return result

"""The user's app on a real server: a Python SDK room, the protocol client, and what it heard."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from livekit import api, rtc

from livekit.plugins.session_sync import TOPIC, LiveKitRoom
from livekit.plugins.session_sync.testing import SessionSyncClient, eventually
from support.livekit_server import ServerInfo

AGENT_NAME = "session-sync-e2e"
"""The explicit-dispatch name of the shared worker."""

TIMEOUT = 30.0
"""How long a test waits for something the agent does (the machine is shared and slow)."""

COMMAND_RATE = 10.0
"""Commands a second the agent accepts from one participant over time (docs/protocol.md 6.2)."""


def agent_in(room: rtc.Room) -> str | None:
    for identity, participant in room.remote_participants.items():
        if participant.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT:
            return identity
    return None


def agent_in_room_other_than(room: rtc.Room, identity: str) -> str | None:
    for other, participant in room.remote_participants.items():
        if other != identity and participant.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT:
            return other
    return None


@dataclass
class App:
    room: rtc.Room
    client: SessionSyncClient
    heard: list[dict[str, Any]] = field(default_factory=list)
    """Every session-sync message, including those that came before LiveKit announced the
    agent (they arrive without a sender, so the protocol client cannot tell they are its)."""

    _last_command: float = 0.0

    @property
    def agent(self) -> str:
        return self.client.agent_identity

    async def pace(self) -> None:
        """Keep to the agent's command rate, as an app must, or be refused `rate_limited`."""
        wait = self._last_command + 1 / COMMAND_RATE - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_command = time.monotonic()

    async def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        ran: Callable[[dict[str, Any]], bool] | None = None,
    ) -> dict[str, Any]:
        """A command by RPC, at the agent's rate. One whose reply was lost (this app's own
        reconnect forgets the agent and every reply it awaited, 1503; no acknowledgement on
        a busy server, 1501) is sent again once the agent is back in view when it is
        repeatable, or when `ran` says a snapshot does not show it ran (protocol 6.4)."""
        await self.pace()
        return await self.client.call(method, params, retry_for=TIMEOUT, ran=ran)

    async def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """A command as a data message, at the agent's rate; returns the ack or error."""
        await self.pace()
        return await self.client.request(method, params, timeout=TIMEOUT)

    async def until(self, predicate: Callable[[], bool], message: str = "condition") -> None:
        await eventually(predicate, timeout=TIMEOUT, message=message)

    def triggers(self, event_type: str = "session_state_sync") -> list[str]:
        return [m["payload"]["trigger"] for m in self.heard if m.get("type") == event_type]

    async def snapshot(self) -> dict[str, Any]:
        """`session.snapshot` by RPC, asked again while the link is still settling."""
        return await self.call("session.snapshot")

    async def converged(self) -> dict[str, Any]:
        """Ask for a snapshot, as an app does after its own reconnect, and wait until the
        agent's attributes show the same session. Returns the snapshot."""
        snapshot = await self.snapshot()
        await self.until(
            lambda: self.client.session()["revision"] >= snapshot["session"]["revision"],
            "the attributes to catch up with the snapshot",
        )
        fresh = await self.snapshot()
        assert self.client.session() == fresh["session"]
        return fresh

    async def leave(self) -> None:
        self.client.close()
        await self.room.disconnect()


async def create_room(info: ServerInfo, name: str, metadata: str) -> None:
    async with info.api() as lkapi:
        await lkapi.room.create_room(api.CreateRoomRequest(name=name, metadata=metadata))


async def dispatch(
    info: ServerInfo, room: str, metadata: str = "", *, agent_name: str = AGENT_NAME
) -> None:
    """What the app's backend does for an explicitly dispatched agent."""
    async with info.api() as lkapi:
        await lkapi.agent_dispatch.create_dispatch(
            api.CreateAgentDispatchRequest(agent_name=agent_name, room=room, metadata=metadata)
        )


async def join_app(
    info: ServerInfo,
    room_name: str,
    identity: str = "app-user",
    *,
    attributes: dict[str, str] | None = None,
) -> App:
    """Join as the user and wait until the agent is in the room and has published a session."""
    room = rtc.Room()
    heard: list[dict[str, Any]] = []

    def on_data(packet: rtc.DataPacket) -> None:
        if packet.topic == TOPIC:
            heard.append(json.loads(packet.data))

    room.on("data_received", on_data)
    await room.connect(info.url, info.token(room_name, identity, attributes=attributes))
    try:
        # A `dev` worker starts a process for each job: a minute or more on a busy machine.
        await eventually(lambda: agent_in(room) is not None, timeout=180, message="the agent")
        agent = agent_in(room)
        assert agent is not None
        client = SessionSyncClient(LiveKitRoom(room), agent)
        await eventually(
            lambda: "session.config" in client.agent_attributes(),
            timeout=TIMEOUT,
            message="the agent's first session",
        )
    except BaseException:
        await room.disconnect()
        raise
    return App(room, client, heard)


async def reconnect(app: App, scenario: rtc.SimulateScenarioKind.ValueType) -> None:
    """Drop the app's own link the way the SDK does, and wait until it is back."""
    back = asyncio.Event()
    app.room.on("reconnected", lambda: back.set())
    await app.room.simulate_scenario(scenario)
    await asyncio.wait_for(back.wait(), TIMEOUT)


async def continued_by_a_new_agent(
    app: App, old_agent: str, pressed: dict[str, Any], *, timeout: float
) -> SessionSyncClient:
    """Wait up to `timeout` for an agent other than `old_agent` and check it continues the
    session `pressed` (the reply to the press) came from, newer, with the press released."""
    await eventually(
        lambda: agent_in_room_other_than(app.room, old_agent) is not None,
        timeout=timeout,
        message="a new agent in the room",
    )
    new_agent = agent_in_room_other_than(app.room, old_agent)
    assert new_agent is not None
    client = SessionSyncClient(LiveKitRoom(app.room), new_agent)
    await app.until(
        lambda: client.agent_attributes().get("session.state") == "active",
        "the new agent's session to be active",
    )
    session = client.session()
    assert session["sessionId"] == pressed["sessionId"], (session, pressed)
    assert session["type"] == "voice-ptt"
    assert session["revision"] > pressed["revision"]
    assert client.agent_attributes()["session.pushToTalk"] == "released"
    return client


async def takes_commands_in_the_same_session(
    client: SessionSyncClient, pressed: dict[str, Any]
) -> None:
    """The new agent answers a press within the session `pressed` came from."""
    reply = await client.call("session.ptt_start")
    assert reply["sessionId"] == pressed["sessionId"]
    client.close()

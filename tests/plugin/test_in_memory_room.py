"""The in-memory room keeps the LiveKit semantics agent code relies on."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest
from livekit import rtc
from livekit.rtc.participant import PublishDataError

from livekit.plugins.session_sync.models import ConnectionState
from livekit.plugins.session_sync.room import RoomPort, RpcHandler
from livekit.plugins.session_sync.testing import (
    MAX_ATTRIBUTES_BYTES,
    AttributesError,
    InMemoryRoom,
    InMemoryServer,
    ReceivedData,
)

Code = rtc.RpcError.ErrorCode
Event = tuple[object, ...]


class Recorder:
    """A RoomListener that records every event in order."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def on_data(self, sender: str | None, topic: str, payload: bytes) -> None:
        self.events.append(("data", sender, topic, payload))

    def on_connection_state(self, state: ConnectionState, reason: str | None) -> None:
        self.events.append(("state", state, reason))

    def on_participant_joined(self, identity: str) -> None:
        self.events.append(("joined", identity))

    def on_participant_left(self, identity: str) -> None:
        self.events.append(("left", identity))

    def on_participant_attributes(self, identity: str, changed: Mapping[str, str]) -> None:
        self.events.append(("attributes", identity, dict(changed)))


class Raising(Recorder):
    def on_data(self, sender: str | None, topic: str, payload: bytes) -> None:
        raise RuntimeError("listener bug")


async def _pair(server: InMemoryServer) -> tuple[InMemoryRoom, InMemoryRoom, Recorder, Recorder]:
    agent = await server.connect("room", "agent", kind="agent")
    user = await server.connect("room", "user")
    agent_events, user_events = Recorder(), Recorder()
    agent.subscribe(agent_events)
    user.subscribe(user_events)
    await server.settle()
    agent_events.events.clear()
    return agent, user, agent_events, user_events


def _echo_handler(seen: list[rtc.RpcInvocationData]) -> RpcHandler:
    async def handler(data: rtc.RpcInvocationData) -> str:
        seen.append(data)
        return "echo:" + data.payload

    return handler


def test_in_memory_room_implements_room_port() -> None:
    async def check() -> None:
        server = InMemoryServer()
        port: RoomPort = await server.connect("room", "agent")  # checked by mypy too
        assert (port.name, port.connection_state) == ("room", "connected")

    asyncio.run(check())


# -- connection --


@pytest.mark.asyncio
async def test_connect_joins_only_after_the_handshake() -> None:
    server = InMemoryServer()
    joining = asyncio.ensure_future(server.connect("room", "agent", attributes={"a": "1"}))
    assert server.identities("room") == []  # still connecting
    room = await joining
    assert room.connection_state == "connected"
    assert server.identities("room") == ["agent"]
    assert room.local_attributes() == {"a": "1"}


@pytest.mark.asyncio
async def test_new_participant_is_announced_and_sees_existing_ones_without_events() -> None:
    server = InMemoryServer()
    agent = await server.connect("room", "agent", attributes={"role": "agent"})
    agent_events = Recorder()
    agent.subscribe(agent_events)
    user = await server.connect("room", "user", attributes={"lang": "en"})
    user_events = Recorder()
    user.subscribe(user_events)
    assert agent.remote_attributes("user") is None  # the join is not delivered yet
    await server.settle()
    assert agent_events.events == [("joined", "user")]
    assert agent.remote_attributes("user") == {"lang": "en"}
    assert user_events.events == []
    assert user.remote_attributes("agent") == {"role": "agent"}
    assert user.remote_identities() == ["agent"]


@pytest.mark.asyncio
async def test_duplicate_identity_disconnects_the_older_participant() -> None:
    server = InMemoryServer()
    agent, old_user, agent_events, old_events = await _pair(server)
    new_user = await server.connect("room", "user", attributes={"v": "2"})
    await server.settle()
    assert old_user.connection_state == "disconnected"
    assert old_events.events == [("state", "disconnected", "DUPLICATE_IDENTITY")]
    assert new_user.connection_state == "connected"
    assert agent_events.events == [("left", "user"), ("joined", "user")]
    assert agent.remote_attributes("user") == {"v": "2"}
    assert server.identities("room") == ["agent", "user"]


@pytest.mark.asyncio
async def test_disconnect_notifies_the_participant_and_the_others() -> None:
    server = InMemoryServer()
    agent, user, agent_events, user_events = await _pair(server)
    await user.disconnect()
    assert user.connection_state == "disconnected"
    await server.settle()
    assert user_events.events == [("state", "disconnected", "CLIENT_INITIATED")]
    assert agent_events.events == [("left", "user")]
    assert agent.remote_attributes("user") is None
    assert user.remote_attributes("agent") is None


@pytest.mark.asyncio
async def test_disconnect_rejects_unknown_reasons() -> None:
    room = await InMemoryServer().connect("room", "agent")
    with pytest.raises(ValueError):
        await room.disconnect("BECAUSE")
    assert room.connection_state == "connected"


@pytest.mark.asyncio
async def test_rejoin_after_leaving_is_a_new_join() -> None:
    server = InMemoryServer()
    _agent, user, agent_events, _ = await _pair(server)
    await user.disconnect()
    again = await server.connect("room", "user")
    await server.settle()
    assert agent_events.events == [("left", "user"), ("joined", "user")]
    assert again.sid != user.sid


@pytest.mark.asyncio
async def test_deleting_the_room_disconnects_everyone() -> None:
    server = InMemoryServer()
    _agent, _user, agent_events, user_events = await _pair(server)
    server.delete_room("room")
    await server.settle()
    assert agent_events.events == [("state", "disconnected", "ROOM_DELETED")]
    assert user_events.events == [("state", "disconnected", "ROOM_DELETED")]


@pytest.mark.asyncio
async def test_reconnecting_participant_stays_in_the_room_and_cannot_send() -> None:
    server = InMemoryServer()
    _agent, user, agent_events, user_events = await _pair(server)
    user.simulate_reconnecting()
    assert user.connection_state == "reconnecting"
    with pytest.raises(PublishDataError):
        await user.send_data(b"x", topic="t")
    with pytest.raises(AttributesError):
        await user.set_attributes({"a": "1"})
    user.simulate_reconnected()
    await server.settle()
    assert user_events.events == [("state", "reconnecting", None), ("state", "connected", None)]
    assert agent_events.events == []  # the others never saw it leave
    assert server.identities("room") == ["agent", "user"]


@pytest.mark.asyncio
async def test_events_missed_while_reconnecting_are_caught_up_on_reconnect() -> None:
    server = InMemoryServer()
    gone = await server.connect("room", "gone")
    agent, user, _, user_events = await _pair(server)
    await agent.set_attributes({"keep": "1", "drop": "1"})
    await server.settle()
    user_events.events.clear()

    user.simulate_reconnecting()
    await agent.set_attributes({"keep": "2", "drop": ""})
    await agent.send_data(b"lost", topic="t")
    await server.connect("room", "newcomer")
    await gone.disconnect()
    await server.settle()
    assert user_events.events == [("state", "reconnecting", None)]

    user.simulate_reconnected()
    await server.settle()
    assert user_events.events[1:] == [
        ("state", "connected", None),
        ("left", "gone"),
        ("attributes", "agent", {"drop": "", "keep": "2"}),
        ("joined", "newcomer"),
    ]
    assert user.remote_attributes("agent") == {"keep": "2"}
    assert user.received_data() == []  # data sent meanwhile is lost


# -- attributes --


@pytest.mark.asyncio
async def test_set_attributes_merges_and_others_get_only_the_changed_keys() -> None:
    server = InMemoryServer()
    agent, user, _, user_events = await _pair(server)
    await agent.set_attributes({"a": "1", "b": "1"})
    await agent.set_attributes({"b": "2"})
    assert agent.local_attributes() == {"a": "1", "b": "2"}
    await server.settle()
    assert user_events.events == [
        ("attributes", "agent", {"a": "1", "b": "1"}),
        ("attributes", "agent", {"b": "2"}),
    ]
    assert user.remote_attributes("agent") == {"a": "1", "b": "2"}


@pytest.mark.asyncio
async def test_attribute_set_to_empty_string_is_deleted() -> None:
    server = InMemoryServer()
    agent, user, _, user_events = await _pair(server)
    await agent.set_attributes({"a": "1", "b": "1"})
    await agent.set_attributes({"a": ""})
    assert agent.local_attributes() == {"b": "1"}
    await server.settle()
    assert user_events.events[-1] == ("attributes", "agent", {"a": ""})
    assert user.remote_attributes("agent") == {"b": "1"}


@pytest.mark.asyncio
async def test_unchanged_attributes_send_no_event() -> None:
    server = InMemoryServer()
    agent, _, _, user_events = await _pair(server)
    await agent.set_attributes({"a": "1"})
    await agent.set_attributes({"a": "1", "missing": ""})
    await server.settle()
    assert user_events.events == [("attributes", "agent", {"a": "1"})]


@pytest.mark.asyncio
async def test_attributes_over_64_kib_are_rejected() -> None:
    server = InMemoryServer()
    agent, _, _, user_events = await _pair(server)
    await agent.set_attributes({"a": "x" * (MAX_ATTRIBUTES_BYTES // 2)})
    with pytest.raises(AttributesError, match="over"):
        await agent.set_attributes({"b": "x" * (MAX_ATTRIBUTES_BYTES // 2)})
    assert set(agent.local_attributes()) == {"a"}
    with pytest.raises(AttributesError):
        await server.connect("room", "big", attributes={"a": "x" * MAX_ATTRIBUTES_BYTES})
    await server.settle()
    assert len(user_events.events) == 1


# -- data --


@pytest.mark.asyncio
async def test_data_reaches_every_other_participant_but_not_the_sender() -> None:
    server = InMemoryServer()
    agent, _user, agent_events, user_events = await _pair(server)
    other = await server.connect("room", "other")
    await server.settle()
    await agent.send_data(b"hi", topic="t")
    await server.settle()
    assert user_events.events[-1] == ("data", "agent", "t", b"hi")
    assert other.received_data("t") == [ReceivedData("agent", "t", b"hi")]
    assert agent.received_data() == []
    assert ("data", "agent", "t", b"hi") not in agent_events.events


@pytest.mark.asyncio
async def test_data_with_destinations_reaches_only_them() -> None:
    server = InMemoryServer()
    agent, user, _, _ = await _pair(server)
    other = await server.connect("room", "other")
    await agent.send_data(b"private", topic="t", destinations=["other", "nobody"])
    await server.settle()
    assert other.received_data() == [ReceivedData("agent", "t", b"private")]
    assert user.received_data() == []


@pytest.mark.asyncio
async def test_sending_after_disconnect_raises() -> None:
    server = InMemoryServer()
    agent, _, _, _ = await _pair(server)
    await agent.disconnect()
    with pytest.raises(PublishDataError):
        await agent.send_data(b"x", topic="t")


@pytest.mark.asyncio
async def test_delivery_is_asynchronous_and_in_order() -> None:
    server = InMemoryServer()
    agent, _user, _, user_events = await _pair(server)
    sends = asyncio.gather(*(agent.send_data(bytes([i]), topic="t") for i in range(5)))
    assert user_events.events == []
    await sends
    await agent.set_attributes({"after": "data"})
    await server.settle()
    assert user_events.events == [("data", "agent", "t", bytes([i])) for i in range(5)] + [
        ("attributes", "agent", {"after": "data"})
    ]


@pytest.mark.asyncio
async def test_nothing_is_delivered_inside_the_senders_call() -> None:
    server = InMemoryServer()
    agent, _user, _, user_events = await _pair(server)
    send = agent.send_data(b"x", topic="t")
    send.send(None)  # run the sender's call up to its first suspension, by hand
    assert user_events.events == []
    with pytest.raises(StopIteration):
        send.send(None)
    await server.settle()
    assert len(user_events.events) == 1


@pytest.mark.asyncio
async def test_listener_that_raises_does_not_break_delivery_to_others() -> None:
    server = InMemoryServer()
    agent, user, _, user_events = await _pair(server)
    unsubscribe_raising = user.subscribe(Raising())
    later = Recorder()
    user.subscribe(later)
    await agent.send_data(b"a", topic="t")
    await agent.send_data(b"b", topic="t")
    await server.settle()
    assert server.listener_errors == 2
    assert [e[3] for e in user_events.events] == [b"a", b"b"]
    assert [e[3] for e in later.events] == [b"a", b"b"]
    unsubscribe_raising()
    await agent.send_data(b"c", topic="t")
    await server.settle()
    assert server.listener_errors == 2


@pytest.mark.asyncio
async def test_unsubscribe_stops_delivery() -> None:
    server = InMemoryServer()
    agent, user, _, _ = await _pair(server)
    recorder = Recorder()
    unsubscribe = user.subscribe(recorder)
    unsubscribe()
    unsubscribe()  # idempotent
    await agent.send_data(b"x", topic="t")
    await server.settle()
    assert recorder.events == []
    assert len(user.received_data()) == 1


@pytest.mark.asyncio
async def test_settle_waits_for_replies_sent_by_listeners() -> None:
    server = InMemoryServer()
    agent, user, _, _ = await _pair(server)

    replies: list[asyncio.Task[None]] = []

    class Replier(Recorder):
        def on_data(self, sender: str | None, topic: str, payload: bytes) -> None:
            replies.append(asyncio.ensure_future(user.send_data(b"re:" + payload, topic=topic)))

    user.subscribe(Replier())
    await agent.send_data(b"ping", topic="t")
    await server.settle()
    assert agent.received_data() == [ReceivedData("user", "t", b"re:ping")]


# -- RPC (codes and deadlines shared with the server: tests/contract/test_room.py) --


@pytest.mark.asyncio
async def test_rpc_returns_the_handlers_response_with_invocation_data() -> None:
    server = InMemoryServer()
    agent, user, _, _ = await _pair(server)
    seen: list[rtc.RpcInvocationData] = []
    agent.register_rpc("echo", _echo_handler(seen))
    response = await user.perform_rpc(
        destination_identity="agent", method="echo", payload="hi", response_timeout=3.0
    )
    assert response == "echo:hi"
    [data] = seen
    assert (data.caller_identity, data.payload, data.method, data.response_timeout) == (
        "user",
        "hi",
        "echo",
        1.0,  # the SDK keeps 7 s of the caller's timeout for the round trip; at least 1 s
    )
    assert data.request_id


async def _rpc_code(caller: InMemoryRoom, method: str, payload: str = "{}", **kw: float) -> int:
    with pytest.raises(rtc.RpcError) as info:
        await caller.perform_rpc(destination_identity="agent", method=method, payload=payload, **kw)
    return info.value.code


@pytest.mark.asyncio
async def test_rpc_from_caller_not_connected_is_1505() -> None:
    server = InMemoryServer()
    agent, user, _, _ = await _pair(server)
    agent.register_rpc("echo", _echo_handler([]))
    user.simulate_reconnecting()
    assert await _rpc_code(user, "echo") == Code.SEND_FAILED


@pytest.mark.asyncio
async def test_rpc_target_disconnecting_mid_call_is_1503() -> None:
    server = InMemoryServer()
    agent, user, _, _ = await _pair(server)
    started = asyncio.Event()

    async def slow(data: rtc.RpcInvocationData) -> str:
        started.set()
        await asyncio.sleep(10)
        return "late"

    agent.register_rpc("slow", slow)
    call = asyncio.ensure_future(_rpc_code(user, "slow"))
    await started.wait()
    await agent.disconnect()
    assert await call == Code.RECIPIENT_DISCONNECTED


@pytest.mark.asyncio
async def test_a_call_awaiting_its_reply_is_1503_when_the_caller_itself_fully_reconnects() -> None:
    server = InMemoryServer()
    agent, user, _, _ = await _pair(server)
    started = asyncio.Event()

    async def slow(data: rtc.RpcInvocationData) -> str:
        started.set()
        await asyncio.sleep(0.2)
        return "late"

    agent.register_rpc("slow", slow)
    call = asyncio.ensure_future(_rpc_code(user, "slow"))
    await started.wait()
    await user.simulate_full_reconnect()
    assert await call == Code.RECIPIENT_DISCONNECTED
    assert agent.connection_state == "connected"  # the agent never left


@pytest.mark.asyncio
async def test_rpc_to_reconnecting_participant_times_out_waiting_for_the_ack() -> None:
    server = InMemoryServer()
    agent, user, _, _ = await _pair(server)
    agent.register_rpc("echo", _echo_handler([]))
    agent.simulate_reconnecting()
    assert await _rpc_code(user, "echo", max_round_trip_latency=0.01) == Code.CONNECTION_TIMEOUT


# -- timing: the paths real LiveKit does not keep in step --


@pytest.mark.asyncio
async def test_data_from_a_participant_not_yet_announced_has_no_sender() -> None:
    server = InMemoryServer(join_delay=0.05)
    agent = await server.connect("room", "agent", kind="agent")
    user = await server.connect("room", "user")
    await user.send_data(b"early", topic="t")
    await server.settle()
    assert agent.received_data() == [ReceivedData(None, "t", b"early")]
    assert agent.remote_identities() == ["user"]  # the join arrived in the end


@pytest.mark.asyncio
async def test_data_can_overtake_the_attributes_sent_before_it() -> None:
    server = InMemoryServer(attribute_delay=0.02)
    agent, _user, _, user_events = await _pair(server)
    await agent.set_attributes({"state": "active"})
    await agent.send_data(b"event", topic="t")
    await server.settle()
    kinds = [e[0] for e in user_events.events]
    assert kinds == ["data", "attributes"]


@pytest.mark.asyncio
async def test_own_attributes_show_once_echoed_and_count_as_set_meanwhile() -> None:
    server = InMemoryServer(echo_delay=0.02)
    agent, _, _, _ = await _pair(server)
    await agent.set_attributes({"state": "active"})
    assert agent._echoed == {}  # the server has not echoed it yet
    assert agent.local_attributes() == {"state": "active"}
    await server.settle()
    assert agent._echoed == {"state": "active"}


@pytest.mark.asyncio
async def test_an_rpc_payload_limit_models_older_clients() -> None:
    server = InMemoryServer(rpc_payload_limit=15_360)
    agent, user, _, _ = await _pair(server)
    agent.register_rpc("echo", _echo_handler([]))
    with pytest.raises(rtc.RpcError) as info:
        await user.perform_rpc(destination_identity="agent", method="echo", payload="x" * 15_361)
    assert info.value.code == Code.REQUEST_PAYLOAD_TOO_LARGE

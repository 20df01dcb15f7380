"""Whatever the app, the network and the room throw at it, the session stays coherent."""

import asyncio
import contextlib
import json
import logging

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from livekit import rtc

from livekit.plugins.session_sync import ProtocolError, SessionSynchronizer, SyncOptions
from livekit.plugins.session_sync.protocol import encode_attributes, published_session_attributes
from livekit.plugins.session_sync.testing.client import SessionSyncClient
from livekit.plugins.session_sync.testing.room import InMemoryServer
from livekit.plugins.session_sync.testing.turn_taking import InMemoryTurnTaking

SESSION_TYPES = st.sampled_from(["text", "voice-ptt", "voice-vad", "bogus", 7, None])

commands = st.one_of(
    st.tuples(st.just("session.start"), st.fixed_dictionaries({"sessionType": SESSION_TYPES})),
    st.tuples(st.just("session.switch"), st.fixed_dictionaries({"sessionType": SESSION_TYPES})),
    st.tuples(
        st.just("session.set_muted"),
        st.fixed_dictionaries({"muted": st.one_of(st.booleans(), st.just("no"))}),
    ),
    st.tuples(
        st.sampled_from(
            [
                "session.end",
                "session.ptt_start",
                "session.ptt_end",
                "session.ptt_cancel",
                "session.snapshot",
                "session.validate",
                "session.nope",
            ]
        ),
        st.just({}),
    ),
    st.tuples(st.just("session.sync"), st.fixed_dictionaries({"trigger": st.text(max_size=70)})),
    st.tuples(
        st.just("session.set_sync_enabled"), st.fixed_dictionaries({"enabled": st.booleans()})
    ),
)

steps = st.one_of(
    st.tuples(st.sampled_from(["rpc", "data"]), commands),
    st.tuples(st.just("raw"), st.binary(max_size=64)),
    st.tuples(st.just("request_attribute"), SESSION_TYPES.map(str)),
    st.tuples(
        st.sampled_from(
            [
                "reconnecting",
                "reconnected",
                "drift_audio",
                "drift_attributes",
                "rejoin",
                "intruder",
                "turn_failure",
            ]
        ),
        st.none(),
    ),
)


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def _run(script: list[tuple[str, object]], final_disconnect: bool) -> None:
    errors = _Errors()
    plugin_logger = logging.getLogger("livekit.plugins.session_sync")
    plugin_logger.addHandler(errors)
    try:
        await _steps(script, final_disconnect)
    finally:
        plugin_logger.removeHandler(errors)
    # Turn-taking failures are injected on purpose and logged; nothing else may fail.
    unexpected = [r.getMessage() for r in errors.records if "turn-taking" not in r.getMessage()]
    assert unexpected == [], "errors inside the synchronizer"


async def _steps(script: list[tuple[str, object]], final_disconnect: bool) -> None:
    server = InMemoryServer()
    agent_room = await server.connect("r", "agent", kind="agent")
    user_room = await server.connect("r", "user")
    turns = InMemoryTurnTaking()
    sync = SessionSynchronizer(
        agent_room,
        turn_taking=turns,
        linked_identity="user",
        options=SyncOptions(initial_sync_delay=3600, rate_burst=10_000),
    )
    client = SessionSyncClient(user_room, "agent")
    await sync.start()
    seen_revision = sync.config.revision
    seen_seq = 0

    def check_invariants() -> None:
        nonlocal seen_revision, seen_seq
        assert server.listener_errors == 0
        assert sync.config.revision >= seen_revision
        seen_revision = sync.config.revision
        seqs = [e["seq"] for e in client.events]
        assert seqs == sorted(set(seqs)), "sequence numbers went backwards or repeated"
        if seqs:
            assert seqs[-1] >= seen_seq
            seen_seq = seqs[-1]
        if agent_room.connection_state == "connected":
            published = published_session_attributes(agent_room.local_attributes())
            assert published == encode_attributes(sync.config, ptt_pressed=sync.ptt_pressed)
            assert json.loads(client.agent_attributes()["session.config"]) == sync.config.to_wire()

    for kind, arg in script:
        agent_up = agent_room.connection_state == "connected"
        if kind == "rpc" and agent_up and user_room.connection_state == "connected":
            method, params = arg  # type: ignore[misc]
            try:
                await client.call(method, params)
            except rtc.RpcError as e:
                assert e.code not in (1500, 2500), f"internal failure: {e.message}"
        elif kind == "data" and user_room.connection_state == "connected":
            method, params = arg  # type: ignore[misc]
            await client.send(method, params)
        elif kind == "raw" and user_room.connection_state == "connected":
            await client.send_raw(arg)  # type: ignore[arg-type]
        elif kind == "reconnecting" and agent_room.connection_state == "connected":
            agent_room.simulate_reconnecting()
        elif kind == "reconnected" and agent_room.connection_state == "reconnecting":
            agent_room.simulate_reconnected()
        elif kind == "drift_audio":
            turns.audio_input_enabled = not turns.audio_input_enabled
            await sync.request("session.validate")
        elif kind == "drift_attributes" and agent_room.connection_state == "connected":
            await agent_room.set_attributes({"session.state": "error"})
            await sync.request("session.validate")
        elif kind == "intruder":
            intruder = SessionSyncClient(await server.connect("r", "intruder"), "agent")
            rid = await intruder.send("session.end")
            await server.settle()
            if agent_up:  # replies are not held while the agent's link is down
                reply = intruder.replies[rid]
                assert reply["error"]["code"] in ("forbidden", "rate_limited")
            await intruder.room.disconnect()  # type: ignore[attr-defined]
        elif kind == "turn_failure":
            turns.fail_next_apply = RuntimeError("device lost")
            with contextlib.suppress(ProtocolError):
                await sync.request("session.switch", {"sessionType": "voice-vad"})
            turns.fail_next_apply = None
        elif kind == "request_attribute" and user_room.connection_state == "connected":
            await user_room.set_attributes({"session.requestedType": str(arg)})
        elif kind == "rejoin" and user_room.connection_state == "connected":
            await user_room.disconnect()
            await server.settle()
            user_room = await server.connect("r", "user")
            client = SessionSyncClient(user_room, "agent")
            seen_seq = 0
        await server.settle()
        check_invariants()

    if agent_room.connection_state == "reconnecting":
        agent_room.simulate_reconnected()
        await server.settle()
        check_invariants()
    if final_disconnect:
        await agent_room.disconnect("SIGNAL_CLOSE")
        await server.settle()
        assert sync.config.state in ("error", "idle", "ending")
        check_invariants()
    await sync.aclose()


@settings(
    max_examples=75,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(script=st.lists(steps, max_size=25), final_disconnect=st.booleans())
def test_random_commands_and_faults_never_break_the_session(
    script: list[tuple[str, object]], final_disconnect: bool
) -> None:
    asyncio.run(_run(script, final_disconnect))

"""Session analytics: each session, once closed, is summed up in one log line and one callback."""

import logging

import pytest
from livekit import rtc

from livekit.plugins.session_sync.models import SessionConfig, SessionType
from livekit.plugins.session_sync.summary import SessionSummary, SessionTally
from livekit.plugins.session_sync.testing.client import eventually

from .conftest import Harness


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _config(session_id: str, session_type: SessionType | None) -> SessionConfig:
    state = "idle" if session_type is None else "active"
    return SessionConfig(session_id=session_id, revision=1, type=session_type, state=state)


def test_a_scripted_session_is_summed_up_when_it_ends() -> None:
    clock = FakeClock()
    tally = SessionTally(clock)
    tally.rejected("invalid_transition")  # before any session: not this session's
    assert tally.committed(_config("s1", None), "syncing") is None
    assert tally.committed(_config("s1", "text"), "session.start") is None
    clock.now += 10
    tally.rejected("wrong_session_type")
    tally.committed(_config("s1", "voice-ptt"), "session.switch")
    clock.now += 15
    tally.validated(2)
    tally.reconnected("agent")
    tally.reconnected("user")
    tally.reconnected("agent")
    tally.rejected("forbidden")
    tally.rejected("forbidden")
    tally.committed(_config("s1", "voice-vad"), "session.switch")
    clock.now += 5
    tally.committed(_config("s1", "voice-vad"), "session.mute")  # not a switch
    clock.now += 10

    summary = tally.committed(_config("s1", None), "session.end")

    assert summary == SessionSummary(
        session_id="s1",
        session_type="voice-vad",
        ended_by="session.end",
        duration_seconds=40.0,
        seconds_by_type={"text": 10.0, "voice-ptt": 15.0, "voice-vad": 15.0},
        switches=2,
        inconsistencies=2,
        corrections=1,
        user_reconnects=1,
        agent_reconnects=2,
        rejected_inputs=3,
        rejected_by_code={"forbidden": 2, "wrong_session_type": 1},
    )
    assert tally.summary() is None
    assert tally.closing("agent_closed") is None  # summed up once


def test_a_new_session_id_closes_the_previous_session() -> None:
    clock = FakeClock()
    tally = SessionTally(clock)
    tally.committed(_config("s1", "text"), "session.start")
    clock.now += 3
    closed = tally.committed(_config("s2", "voice-ptt"), "session.start")
    assert closed is not None and closed.session_id == "s1" and closed.duration_seconds == 3.0
    clock.now += 2
    still_open = tally.summary()
    assert still_open is not None and still_open.session_id == "s2" and still_open.ended_by is None
    last = tally.closing("agent_closed")
    assert last is not None and last.seconds_by_type == {"voice-ptt": 2.0}


async def _drift_and_validate(harness: Harness) -> None:
    harness.turns.audio_input_enabled = True  # the microphone on behind the session's back
    result = await harness.client.call("session.validate")
    assert result["isValid"] is False


async def test_ending_a_session_logs_one_summary_with_what_happened(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[SessionSummary] = []
    harness.sync.summaries.on_summary(seen.append)
    client = harness.client
    await client.call("session.start", {"sessionType": "text"})
    with pytest.raises(rtc.RpcError):
        await client.call("session.ptt_start")  # wrong_session_type
    await client.call("session.switch", {"sessionType": "voice-ptt"})
    await _drift_and_validate(harness)
    harness.agent_room.simulate_reconnecting()
    await harness.settle()
    harness.agent_room.simulate_reconnected()
    await eventually(lambda: harness.sync.config.state == "active", message="the agent back")
    await harness.user_room.simulate_full_reconnect()
    await eventually(
        lambda: (s := harness.sync.summaries.current()) is not None and s.user_reconnects == 1,
        message="the user's reconnect counted",
    )
    session_id = harness.sync.config.session_id

    with caplog.at_level(logging.INFO, logger="livekit.plugins.session_sync"):
        await harness.client.call("session.end")
        await harness.sync.aclose()  # nothing open any more: no second line

    [summary] = seen
    assert summary.session_id == session_id
    assert summary.ended_by == "session.end"
    assert summary.session_type == "voice-ptt"
    assert set(summary.seconds_by_type) == {"text", "voice-ptt"}
    assert summary.switches == 1
    assert (summary.inconsistencies, summary.corrections) == (1, 1)
    assert (summary.user_reconnects, summary.agent_reconnects) == (1, 1)
    assert summary.rejected_by_code == {"wrong_session_type": 1}
    [line] = [r for r in caplog.records if r.getMessage() == "session summary"]
    assert line.__dict__["session_id"] == session_id
    assert line.__dict__["rejected_inputs"] == 1
    assert line.__dict__["seconds_by_type"].keys() == {"text", "voice-ptt"}


async def test_a_session_still_open_when_the_agent_closes_is_summed_up_once(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[SessionSummary] = []
    harness.sync.summaries.on_summary(seen.append)
    await harness.client.call("session.start", {"sessionType": "voice-vad"})

    with caplog.at_level(logging.INFO, logger="livekit.plugins.session_sync"):
        await harness.sync.aclose()
        await harness.sync.aclose()

    assert [s.ended_by for s in seen] == ["agent_closed"]
    assert len([r for r in caplog.records if r.getMessage() == "session summary"]) == 1


async def test_a_failing_summary_callback_does_not_stop_the_session(harness: Harness) -> None:
    def broken(_summary: SessionSummary) -> None:
        raise RuntimeError("shipping failed")

    harness.sync.summaries.on_summary(broken)
    await harness.client.call("session.start", {"sessionType": "text"})
    await harness.client.call("session.end")
    again = await harness.client.call("session.start", {"sessionType": "text"})
    assert again["state"] == "active"

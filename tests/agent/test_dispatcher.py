"""The dispatch service: which departures bring a new agent, and which webhooks it trusts."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from google.protobuf.json_format import MessageToJson
from livekit import api
from livekit.protocol import models, webhook
from pydantic import SecretStr

from agent import dispatcher
from agent.dispatcher import DispatcherSettings, DispatchService
from agent.replacement import (
    AGENT_NAME_ATTRIBUTE,
    AgentLeft,
    DispatchBudget,
    Verdict,
    agent_left,
    judge,
)

KEY, SECRET = "devkey", "secret-for-the-dispatcher-tests-0123456789"
LIVE = json.dumps(
    {
        "sessionType": "voice-ptt",
        "sessionSync": {"sessionId": "s1", "sessionType": "voice-ptt", "revisionCeiling": 1003},
    }
)
LEFT = AgentLeft(room="r1", identity="agent-AJ_1", agent_name="session-sync", at=0.0)


def agent(identity: str, name: str = "session-sync") -> models.ParticipantInfo:
    return models.ParticipantInfo(
        identity=identity,
        kind=models.ParticipantInfo.Kind.AGENT,
        attributes={AGENT_NAME_ATTRIBUTE: name},
    )


def user(identity: str = "app-user") -> models.ParticipantInfo:
    return models.ParticipantInfo(identity=identity, kind=models.ParticipantInfo.Kind.STANDARD)


def left_event(
    kind: models.ParticipantInfo.Kind.ValueType, identity: str = "agent-AJ_1"
) -> webhook.WebhookEvent:
    participant = agent(identity)
    participant.kind = kind
    return webhook.WebhookEvent(
        event="participant_left", room=models.Room(name="r1"), participant=participant
    )


def test_an_agent_leaving_a_live_session_alone_is_replaced_by_the_same_name() -> None:
    left = agent_left(left_event(models.ParticipantInfo.Kind.AGENT))
    assert left == AgentLeft("r1", "agent-AJ_1", "session-sync", 0.0)
    verdict = judge(left, LIVE, [user()])
    assert verdict.dispatch and verdict.session_id == "s1"


def test_no_new_agent_without_a_record_even_for_a_user_still_in_the_room() -> None:
    # The user may have ended the session: a new agent would start one they did not ask for.
    assert not judge(LEFT, '{"sessionType": "voice-ptt"}', [user()]).dispatch


def test_a_user_leaving_is_no_departure_of_an_agent() -> None:
    assert agent_left(left_event(models.ParticipantInfo.Kind.STANDARD)) is None


def test_no_new_agent_for_an_ended_session_a_gone_room_or_one_already_there() -> None:
    assert not judge(LEFT, '{"sessionType": "voice-ptt"}', []).dispatch  # record removed
    assert not judge(LEFT, "", []).dispatch
    assert not judge(LEFT, None, []).dispatch  # the room closed
    there = judge(LEFT, LIVE, [agent("agent-AJ_2")])
    assert not there.dispatch and "agent-AJ_2" in there.reason
    # Another kind of agent in the room does not stand in for this one.
    assert judge(LEFT, LIVE, [agent("agent-AJ_3", name="note-taker")]).dispatch


def signed(body: str, secret: str = SECRET) -> str:
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    return api.AccessToken(KEY, secret).with_sha256(digest).to_jwt()


async def test_a_webhook_not_signed_with_the_servers_key_is_refused() -> None:
    service = DispatchService("ws://127.0.0.1:1", KEY, SECRET)
    body = MessageToJson(webhook.WebhookEvent(event="room_started", room=models.Room(name="r")))
    async with TestClient(TestServer(service.app())) as client:
        forged = await client.post(
            "/", data=body, headers={"Authorization": signed(body, "x" * 40)}
        )
        assert forged.status == 401
        missing = await client.post("/", data=body)
        assert missing.status == 401
        good = await client.post("/", data=body, headers={"Authorization": signed(body)})
        assert good.status == 200
        health = await (await client.get("/healthz")).json()
        assert health == {
            "dispatched": 0,
            "declined": 0,
            "limited": 0,
            "failed": 0,
            "pending": 0,
        }


def test_a_room_gets_at_most_the_budgets_new_agents_within_its_window() -> None:
    budget = DispatchBudget(limit=2, window=60.0)
    assert budget.take("r1", 0.0) and budget.take("r1", 10.0)
    assert not budget.take("r1", 59.0)
    assert budget.take("r2", 59.0)  # counted per room
    assert budget.take("r1", 60.5)  # the first has left the window
    assert not budget.take("r1", 61.0)


def test_no_budget_limit_and_a_bounded_memory_of_rooms() -> None:
    unlimited = DispatchBudget(limit=None)
    assert all(unlimited.take("r1", 0.0) for _ in range(100))
    small = DispatchBudget(limit=1, window=60.0, rooms=2)
    for room in ("r1", "r2", "r3"):
        assert small.take(room, 0.0)
    assert small.take("r1", 1.0)  # forgotten: the oldest of three rooms, memory for two
    assert not small.take("r3", 1.0)


class OfflineService(DispatchService):
    """The service with the server API answered here: every room holds a live record."""

    def __init__(self, budget: DispatchBudget) -> None:
        super().__init__("ws://127.0.0.1:1", KEY, SECRET, budget)
        self.sent: list[str] = []
        self.answered: asyncio.Queue[str] = asyncio.Queue()

    async def _replace(self, left: AgentLeft) -> None:
        await super()._replace(left)
        self.answered.put_nowait(left.identity)

    async def _judge(self, left: AgentLeft) -> Verdict:
        return judge(left, LIVE, [user()])

    async def _dispatch(self, left: AgentLeft) -> None:
        self.sent.append(left.identity)


async def test_agents_that_keep_leaving_a_room_are_replaced_only_within_the_budget() -> None:
    service = OfflineService(DispatchBudget(limit=2, window=300.0))
    async with TestClient(TestServer(service.app())) as client:
        for n in range(3):
            body = MessageToJson(left_event(models.ParticipantInfo.Kind.AGENT, f"agent-AJ_{n}"))
            answer = await client.post("/", data=body, headers={"Authorization": signed(body)})
            assert answer.status == 200
            assert await asyncio.wait_for(service.answered.get(), 10) == f"agent-AJ_{n}"
        health = await (await client.get("/healthz")).json()
    assert service.sent == ["agent-AJ_0", "agent-AJ_1"]
    assert (health["dispatched"], health["limited"]) == (2, 1)


def test_a_bad_setting_stops_the_service_with_its_name_and_value(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no `.env`
    for name in DispatcherSettings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("LIVEKIT_URL", "ws://127.0.0.1:7880")
    monkeypatch.setenv("LIVEKIT_API_KEY", KEY)
    monkeypatch.delenv("LIVEKIT_API_SECRET", raising=False)
    monkeypatch.setenv("DISPATCHER_PORT", "seventy")
    monkeypatch.setenv("DISPATCHER_MAX_AGENTS_PER_ROOM", "-1")
    with pytest.raises(SystemExit) as stopped:
        dispatcher.main()
    message = str(stopped.value)
    assert message.splitlines() == [
        "session-sync dispatcher: LIVEKIT_API_SECRET is not set: it is required",
        "DISPATCHER_PORT='seventy' is not accepted: "
        "must be a whole number 1 or more and at most 65535",
        "DISPATCHER_MAX_AGENTS_PER_ROOM='-1' is not accepted: must be 0 or more",
    ]


def test_the_service_reads_its_log_level_in_any_case_as_the_worker_does(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = DispatcherSettings(
        livekit_url="ws://127.0.0.1:7880",
        livekit_api_key=KEY,
        livekit_api_secret=SecretStr(SECRET),
        log_level=" debug",  # type: ignore[arg-type]  # as written in an environment
    )
    assert settings.log_level == "DEBUG"

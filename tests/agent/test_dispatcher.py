"""The dispatch service: which departures bring a new agent, and which webhooks it trusts."""

from __future__ import annotations

import base64
import hashlib
import json

from aiohttp.test_utils import TestClient, TestServer
from google.protobuf.json_format import MessageToJson
from livekit import api
from livekit.protocol import models, webhook

from agent.dispatcher import DispatchService
from agent.replacement import AGENT_NAME_ATTRIBUTE, AgentLeft, agent_left, judge

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


def left_event(kind: models.ParticipantInfo.Kind.ValueType) -> webhook.WebhookEvent:
    participant = agent("agent-AJ_1")
    participant.kind = kind
    return webhook.WebhookEvent(
        event="participant_left", room=models.Room(name="r1"), participant=participant
    )


def test_an_agent_leaving_a_live_session_alone_is_replaced_by_the_same_name() -> None:
    left = agent_left(left_event(models.ParticipantInfo.Kind.AGENT))
    assert left == AgentLeft("r1", "agent-AJ_1", "session-sync", 0.0)
    verdict = judge(left, LIVE, [models.ParticipantInfo(identity="app-user")])
    assert verdict.dispatch and verdict.session_id == "s1"


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
        assert health == {"dispatched": 0, "declined": 0, "failed": 0, "pending": 0}

"""When an agent left a room, does its session need another agent? (Pure: no I/O.)

The dispatch service (`agent/dispatcher.py`) asks this for every webhook it receives. An
agent that ends its session clears the session record in the room metadata before it leaves;
an agent that crashed, was killed, or handed its session on while its worker drains leaves
the record live. A live record with no other agent of the same name in the room calls for a
new dispatch: the new agent reads the record and continues the session.

No record calls for nothing, even with a user still in the room: the user may have ended the
session, and a new agent would start one they did not ask for (and, for a voice type, listen
again). So an agent that dies before its first record, or an idle one whose worker drains,
is not replaced (docs/deployment.md, "Limits").

A room whose agents keep leaving (one that fails as it starts, say) gets at most
`DispatchBudget.limit` new agents within its `window`, so the service cannot feed a loop.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass

from livekit.protocol import models, webhook

from livekit.plugins.session_sync.resume import read_record

AGENT_NAME_ATTRIBUTE = "lk.agent.name"
"""Set by the framework on every agent participant: the name it was dispatched by."""


@dataclass(frozen=True)
class AgentLeft:
    """An agent participant left a room: the webhook's facts the decision needs."""

    room: str
    identity: str
    agent_name: str
    at: float
    """When the server sent the event (seconds since the epoch)."""


@dataclass(frozen=True)
class Verdict:
    """Whether to dispatch a replacement, and why (for the service's log)."""

    dispatch: bool
    reason: str
    session_id: str | None = None


def agent_left(event: webhook.WebhookEvent) -> AgentLeft | None:
    """The agent that left, if the event says an agent participant left a room."""
    if event.event != "participant_left":
        return None
    participant = event.participant
    if participant.kind != models.ParticipantInfo.Kind.AGENT or not event.room.name:
        return None
    return AgentLeft(
        room=event.room.name,
        identity=participant.identity,
        agent_name=participant.attributes.get(AGENT_NAME_ATTRIBUTE, ""),
        at=float(event.created_at),
    )


def judge(
    left: AgentLeft, metadata: str | None, participants: Iterable[models.ParticipantInfo]
) -> Verdict:
    """`metadata` is the room's now (None: the room is gone); `participants` who are in it."""
    if metadata is None:
        return Verdict(False, "the room is gone")
    record = read_record(metadata)
    if record is None:
        return Verdict(False, "no live session record: the session ended")
    for participant in participants:
        same_agent = (
            participant.kind == models.ParticipantInfo.Kind.AGENT
            and participant.attributes.get(AGENT_NAME_ATTRIBUTE, "") == left.agent_name
        )
        if same_agent and participant.identity != left.identity:
            return Verdict(False, f"agent {participant.identity} is already in the room")
    return Verdict(True, "the session record is live", record.session_id)


class DispatchBudget:
    """At most `limit` new agents per room (None: no limit) within `window` seconds;
    remembers the `rooms` rooms most recently seen."""

    def __init__(self, limit: int | None = 10, window: float = 300.0, rooms: int = 10_000) -> None:
        self.limit, self.window, self._rooms = limit, window, rooms
        self._sent: OrderedDict[str, deque[float]] = OrderedDict()

    def take(self, room: str, now: float) -> bool:
        """Take one of `room`'s new agents at `now` (monotonic seconds); False if none is left."""
        recent = self._sent.pop(room, deque())
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        taken = self.limit is None or len(recent) < self.limit
        if taken:
            recent.append(now)
        if recent:
            self._sent[room] = recent  # most recent last: the oldest room is forgotten first
            while len(self._sent) > self._rooms:
                self._sent.popitem(last=False)
        return taken

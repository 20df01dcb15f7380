"""The session's participant attributes, encoded once per revision. Pure: no I/O."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .methods import PROTOCOL_VERSION
from .models import SessionConfig, SessionState, SessionType, TurnDetection

ATTR_PREFIX = "session."
ATTR_CONFIG = "session.config"
ATTR_REVISION = "session.revision"
ATTR_ID = "session.id"
ATTR_TYPE = "session.type"
ATTR_STATE = "session.state"
ATTR_TURN_DETECTION = "session.turnDetection"
ATTR_MUTED = "session.muted"
ATTR_PUSH_TO_TALK = "session.pushToTalk"
ATTR_PROTOCOL = "session.protocol"
# The latest event `seq` sent: an app that holds less has missed events (docs 8.5). Set by
# the publisher as it sends, so not part of the session's own attributes.
ATTR_SEQ = "session.seq"
# Set by the frontend on its own participant to ask for a session type.
ATTR_REQUESTED_TYPE = "session.requestedType"
# LiveKit Agents' own key for what the agent is doing (`listening`, `thinking`, `speaking`,
# ...), which LiveKit's frontend hooks read. The framework sets it on every change; the
# publisher carries it in each of its own updates too (see `agent_state`).
ATTR_AGENT_STATE = "lk.agent.state"


@dataclass(frozen=True)
class EncodedSession:
    """One revision's wire forms, made once: the config as JSON data and every attribute.
    The owner keeps the latest per session, so publishing, the event and each validation
    pass of that revision share one encoding (and one formatting of its timestamps)."""

    config: SessionConfig
    ptt_pressed: bool
    wire: Mapping[str, object]
    attributes: Mapping[str, str]

    def matches(self, config: SessionConfig, ptt_pressed: bool) -> bool:
        # The config is immutable and replaced on every change: the same object is the
        # same revision.
        return self.config is config and self.ptt_pressed == ptt_pressed


def encode_session(config: SessionConfig, *, ptt_pressed: bool) -> EncodedSession:
    wire = config.to_wire()
    attributes = {
        ATTR_CONFIG: json.dumps(wire, separators=(",", ":")),
        ATTR_REVISION: str(config.revision),
        ATTR_ID: config.session_id,
        ATTR_TYPE: config.type or "none",
        ATTR_STATE: config.state,
        ATTR_TURN_DETECTION: config.turn_detection,
        ATTR_MUTED: "true" if config.is_muted else "false",
        ATTR_PUSH_TO_TALK: "pressed" if ptt_pressed else "released",
        ATTR_PROTOCOL: str(PROTOCOL_VERSION),
    }
    return EncodedSession(config, ptt_pressed, MappingProxyType(wire), MappingProxyType(attributes))


class SessionEncoder:
    """One session's latest `EncodedSession`: each revision is encoded once, whatever the
    number of sessions in the process (a cache shared by all of them misses once they
    outnumber it)."""

    def __init__(self) -> None:
        self._latest: EncodedSession | None = None

    def encode(self, config: SessionConfig, *, ptt_pressed: bool) -> EncodedSession:
        latest = self._latest
        if latest is None or not latest.matches(config, ptt_pressed):
            latest = self._latest = encode_session(config, ptt_pressed=ptt_pressed)
        return latest


def encode_attributes(config: SessionConfig, *, ptt_pressed: bool) -> dict[str, str]:
    """Every attribute the agent publishes, derived from one config so they never disagree."""
    return dict(encode_session(config, ptt_pressed=ptt_pressed).attributes)


def published_session_attributes(attributes: Mapping[str, str]) -> dict[str, str]:
    """The session's attributes as published (the event counter aside)."""
    return {k: v for k, v in attributes.items() if k.startswith(ATTR_PREFIX) and k != ATTR_SEQ}


# The contract's description of what `encode_session` and the publisher's `session.seq`
# write: the schema and the TypeScript types are made from it. The aliases are literals for
# the type checker; a test holds them to the keys the agent publishes.
class SessionAttributes(BaseModel):
    """The agent's participant attributes, every value a string, all set in one update per
    change. `session.config` is the source of truth; the others are for filtering."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="SessionAttributes")

    config: str = Field(
        alias="session.config", description="The whole SessionConfig as compact JSON."
    )
    revision: str = Field(alias="session.revision", pattern=r"^[0-9]+$")
    id: str = Field(alias="session.id")
    type: SessionType | Literal["none"] = Field(alias="session.type")
    state: SessionState = Field(alias="session.state")
    turn_detection: TurnDetection = Field(alias="session.turnDetection")
    muted: Literal["true", "false"] = Field(alias="session.muted")
    push_to_talk: Literal["pressed", "released"] = Field(alias="session.pushToTalk")
    protocol: Literal["1"] = Field(alias="session.protocol")
    seq: str = Field(
        alias="session.seq",
        pattern=r"^[0-9]+$",
        description="The highest event seq sent (or given up); above the app's lastSeq means "
        "events were lost.",
    )
    agent_state: Literal["initializing", "idle", "listening", "thinking", "speaking"] | None = (
        Field(
            default=None,
            alias="lk.agent.state",
            exclude_if=lambda value: value is None,
            description="LiveKit Agents' own agent state, in every update where the agent runs "
            "an AgentSession (protocol 2.3).",
        )
    )

"""Test doubles for code built on session-sync: an in-memory LiveKit room, an in-memory
turn-taking, and a frontend-side protocol client."""

from .client import ClientRoom, QuietListener, SessionSyncClient, eventually
from .room import (
    MAX_ATTRIBUTES_BYTES,
    AttributesError,
    InMemoryRoom,
    InMemoryServer,
    ParticipantKind,
    ReceivedData,
)
from .turn_taking import InMemoryTurnTaking

__all__ = [
    "MAX_ATTRIBUTES_BYTES",
    "AttributesError",
    "ClientRoom",
    "InMemoryRoom",
    "InMemoryServer",
    "InMemoryTurnTaking",
    "ParticipantKind",
    "QuietListener",
    "ReceivedData",
    "SessionSyncClient",
    "eventually",
]

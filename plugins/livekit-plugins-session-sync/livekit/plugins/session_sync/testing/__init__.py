"""Test doubles for code built on session-sync: an in-memory LiveKit room, an in-memory
turn-taking, and a frontend-side protocol client."""

from .client import ClientRoom, QuietListener, SessionSyncClient, eventually
from .follower import SessionFollower
from .room import MAX_DATA_PACKET_BYTES, InMemoryRoom, ReceivedData
from .rpc import rpc_handler_deadline
from .server import MAX_ATTRIBUTES_BYTES, AttributesError, InMemoryServer, ParticipantKind
from .turn_taking import InMemoryTurnTaking

__all__ = [
    "MAX_ATTRIBUTES_BYTES",
    "MAX_DATA_PACKET_BYTES",
    "AttributesError",
    "ClientRoom",
    "InMemoryRoom",
    "InMemoryServer",
    "InMemoryTurnTaking",
    "ParticipantKind",
    "QuietListener",
    "ReceivedData",
    "SessionFollower",
    "SessionSyncClient",
    "eventually",
    "rpc_handler_deadline",
]

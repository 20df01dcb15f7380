"""Test doubles for code built on session-sync: an in-memory LiveKit room."""

from .room import (
    MAX_ATTRIBUTES_BYTES,
    AttributesError,
    InMemoryRoom,
    InMemoryServer,
    ParticipantKind,
    ReceivedData,
)

__all__ = [
    "MAX_ATTRIBUTES_BYTES",
    "AttributesError",
    "InMemoryRoom",
    "InMemoryServer",
    "ParticipantKind",
    "ReceivedData",
]

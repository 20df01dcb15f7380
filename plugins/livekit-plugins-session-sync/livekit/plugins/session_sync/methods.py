"""The protocol's version and the methods a command may name. Pure."""

from __future__ import annotations

from typing import Final, Literal, get_args

PROTOCOL_VERSION: Final = 1
ProtocolVersion = Literal[1]

Method = Literal[
    "session.start",
    "session.switch",
    "session.end",
    "session.set_muted",
    "session.ptt_start",
    "session.ptt_end",
    "session.ptt_cancel",
    "session.snapshot",
    "session.validate",
    "session.sync",
    "session.set_sync_enabled",
]
METHODS: tuple[Method, ...] = get_args(Method)


def known_method(name: str | None) -> Method | None:
    """`name` as a method of the protocol, or None when it names none."""
    return name if name in METHODS else None

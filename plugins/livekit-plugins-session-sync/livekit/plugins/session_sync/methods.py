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

REPEATABLE_METHODS: frozenset[Method] = frozenset(
    {
        "session.snapshot",
        "session.validate",
        "session.sync",
        "session.set_sync_enabled",
        "session.set_muted",
        "session.ptt_start",
        "session.switch",
    }
)
"""Methods that leave the session as they found it when run a second time: an app may send
them again when their reply was lost (protocol 6.4). `start`, `end`, `ptt_end` and
`ptt_cancel` are refused `invalid_transition` the second time."""

REPLY_LOST_RPC_CODES: frozenset[int] = frozenset({1501, 1502, 1503, 1505})
"""LiveKit RPC codes after which the command may or may not have run on the agent: not
acknowledged, no reply in time, the recipient dropped (also by the caller's own full
reconnect), or not sent (protocol 6.1, 6.4)."""


def known_method(name: str | None) -> Method | None:
    """`name` as a method of the protocol, or None when it names none."""
    return name if name in METHODS else None

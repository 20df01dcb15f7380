"""Which session type a new job starts with: the first trustworthy source wins."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import get_args

from livekit.plugins.session_sync import SessionType

logger = logging.getLogger("agent.session-type")

ACCEPTED: tuple[str, ...] = get_args(SessionType)


@dataclass(frozen=True)
class ChosenType:
    session_type: SessionType
    source: str


def parse_session_type(raw: str) -> SessionType | None:
    """A bare type (`voice-ptt`) or JSON with `sessionType`; None when the source says nothing.

    Raises ValueError, with the accepted values, when it says something wrong.
    """
    text = raw.strip()
    if not text:
        return None
    value: object = text
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"metadata is not valid JSON ({e.msg})") from None
        if not isinstance(parsed, dict) or "sessionType" not in parsed:
            return None  # metadata for someone else
        value = parsed["sessionType"]
    for accepted in ACCEPTED:
        if value == accepted:
            return accepted  # type: ignore[return-value]
    raise ValueError(f"session type {value!r} is not one of {', '.join(ACCEPTED)}")


def choose_session_type(
    sources: Sequence[tuple[str, str | None]], default: SessionType
) -> ChosenType:
    """Try each (name, raw value) in order; a bad value is logged and skipped, never fatal."""
    for name, raw in sources:
        if raw is None:
            continue
        try:
            session_type = parse_session_type(raw)
        except ValueError as e:
            logger.warning("ignoring the session type from %s: %s", name, e)
            continue
        if session_type is not None:
            logger.info("session type %s taken from %s", session_type, name)
            return ChosenType(session_type, name)
    logger.info("session type %s taken from the default setting", default)
    return ChosenType(default, "DEFAULT_SESSION_TYPE")

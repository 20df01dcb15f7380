"""The synchronizer's settings."""

from __future__ import annotations

from dataclasses import dataclass

from .protocol import MAX_PACKET_BYTES, TOPIC


@dataclass(frozen=True)
class SyncOptions:
    initial_sync_delay: float = 1.0
    """Seconds from start to the first validation, as the seed does."""
    validation_interval: float = 5.0
    """Seconds between periodic validations."""
    announce_clean_passes: bool = False
    """A timer pass that finds nothing also ends with one `session_state_sync` (trigger
    `initial` or `periodic`, the session unchanged), so an app can show when the agent last
    checked. It moves `seq` but not the `session.seq` attribute: missing it loses nothing."""
    topic: str = TOPIC
    max_inbound_bytes: int = MAX_PACKET_BYTES
    rate_per_second: float = 10.0
    """Commands a participant may send per second, on average."""
    rate_burst: int = 20
    max_pending_commands: int = 32
    """Commands waiting for the session at once; more are refused as busy."""
    outbox_limit: int = 128
    """Messages held while the link is down; the oldest go first, and the gap in `seq` shows it."""
    io_timeout: float = 5.0
    """Seconds one attribute update or data send may take; a stalled link must not hold
    every later message behind it."""
    leave_grace: float = 5.0
    """A linked user back within this many seconds of leaving has reconnected rather than left
    (LiveKit's full reconnect is a leave and a new join, and the server may announce the join
    a few seconds late): a held press is kept and no leave is reported."""
    max_press_seconds: float | None = 60.0
    """A push-to-talk press held longer is ended for the user (a lost release must not leave
    the microphone open). None turns the guard off."""

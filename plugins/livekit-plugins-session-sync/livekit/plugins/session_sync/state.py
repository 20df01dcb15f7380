"""The session's state as one value: what the synchronizer owns and only its commit replaces.
Pure."""

from __future__ import annotations

from dataclasses import dataclass

from .models import RoomConfig, SessionConfig
from .policy import LIVE_STATES
from .protocol import Snapshot


@dataclass(frozen=True)
class SyncState:
    """Everything the session is, in one value; only the owner's commit replaces it."""

    config: SessionConfig
    room_config: RoomConfig | None = None
    ptt_pressed: bool = False
    sync_enabled: bool = True

    @property
    def live(self) -> bool:
        return self.config.state in LIVE_STATES and self.config.type is not None

    def snapshot(self, *, seq: int) -> Snapshot:
        return Snapshot(
            seq=seq,
            session=self.config,
            room_config=self.room_config,
            push_to_talk=self.ptt_pressed,
            sync_enabled=self.sync_enabled,
        )

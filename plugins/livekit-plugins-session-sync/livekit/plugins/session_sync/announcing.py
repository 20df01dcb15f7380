"""What the agent says of its state: the attributes, encoded once per revision, and the events
that carry the session with what the turn-taking shows. The synchronizer passes the state it
owns; nothing here keeps one."""

from __future__ import annotations

from .protocol import EventType, SessionEncoder, Snapshot
from .publisher import Publisher
from .state import SyncState
from .turn_taking import TurnTakingDriver


class StateAnnouncer:
    def __init__(
        self, publisher: Publisher, encoder: SessionEncoder, turns: TurnTakingDriver
    ) -> None:
        self._publisher = publisher
        self._encoder = encoder
        self._turns = turns

    def snapshot(self, state: SyncState) -> Snapshot:
        return state.snapshot(seq=self._publisher.seq)

    def send_snapshot(self, state: SyncState, destination: str | None) -> None:
        """To one participant, or to everyone when `destination` is None."""
        if destination is None:
            self._publisher.broadcast(self.snapshot(state))
        else:
            self._publisher.reply(self.snapshot(state), destination)

    def publish_attributes(self, state: SyncState) -> None:
        # Encoded once per revision: the event and validation reuse it.
        encoded = self._encoder.encode(state.config, ptt_pressed=state.ptt_pressed)
        self._publisher.publish_attributes(encoded.attributes)

    def emit(
        self,
        state: SyncState,
        event: EventType,
        trigger: str,
        *,
        detail: str | None = None,
        quiet: bool = False,
    ) -> None:
        session = self._encoder.encode(state.config, ptt_pressed=state.ptt_pressed)
        self._publisher.emit(
            event, trigger, session=session, seen=self._turns.observe(), detail=detail, quiet=quiet
        )

    def announce_early(self, passes: int) -> None:
        # For a page that joined as the agent set its attributes (docs/protocol.md 2.3).
        if passes < 2:
            self._publisher.announce_state()

"""The owner of the session: one immutable state, replaced only by `_commit`, under one lock.

Commands and room reactions are planned by `transitions` and `connection` (pure), run here,
and sent by the `Publisher`; `inbound.CommandGate` is the only way in.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from .agent_state import AgentStateSource
from .announcing import StateAnnouncer
from .checking import SessionCheck, check_periodically, report_inconsistencies
from .closing import SessionCloser
from .command_queue import CommandQueue, end_stuck_press
from .inbound import CommandGate
from .log import logger
from .models import RoomConfig, SessionConfig, SessionType, utc_now
from .options import SyncOptions
from .plan import (
    ApplyTurnTaking,
    Commit,
    Context,
    Emit,
    Plan,
    Republish,
    SendSnapshot,
    Silence,
    UserTurn,
    apply_commit,
    plan_correction,
)
from .policy import TransitionError
from .protocol import (
    Command,
    CommandResult,
    ErrorCode,
    ProtocolError,
    SessionEncoder,
    Snapshot,
    SyncParams,
    bounded_text,
    decode_params,
)
from .publisher import EventCallback, Publisher
from .resume import RecordKeeper, SessionRecord, SessionStore, plan_continue
from .room import RoomPort
from .state import SyncState
from .summary import SessionSummaries
from .transitions import Incoming, plan_command, resolve
from .turn_taking import PressGuard, TurnTakingDriver, TurnTakingPort, TurnTakingTarget
from .validation import Verdict


class SessionSynchronizer:
    """Keeps one session in step between the agent and the linked user's app."""

    def __init__(
        self,
        room: RoomPort,
        *,
        turn_taking: TurnTakingPort | None = None,
        linked_identity: str | None = None,
        options: SyncOptions | None = None,
        store: SessionStore | None = None,
        agent_state: AgentStateSource | None = None,
    ) -> None:
        """`store` keeps a record of the session outside the agent, so that an agent that
        replaces this one (after a crash) continues the session (see `resume`).
        `agent_state` gives the framework's agent state, which every attribute update then
        carries (see `agent_state`)."""
        self._room = room
        self._turns = TurnTakingDriver(turn_taking)
        self._opts = options or SyncOptions()
        self._state = SyncState(
            SessionConfig(
                session_id=uuid.uuid4().hex, revision=0, type=None, state="idle", room_id=room.name
            )
        )
        self._lock = asyncio.Lock()
        self._queue = CommandQueue(self._run_locked, limit=self._opts.max_pending_commands)
        self._publisher = Publisher.with_options(room, self._opts, agent_state=agent_state)
        self._summaries = SessionSummaries()
        self._gate = CommandGate(room, self, self._publisher, self._opts, linked=linked_identity)
        self._timer: asyncio.Task[None] | None = None
        self._press_guard = PressGuard(self._opts.max_press_seconds, self._end_stuck_press)
        self._keeper = (
            RecordKeeper(store, io_timeout=self._opts.io_timeout) if store is not None else None
        )
        self._encoder = SessionEncoder()
        self._check = SessionCheck(room, self._publisher, self._turns, self._encoder)
        self._announce = StateAnnouncer(self._publisher, self._encoder, self._turns)
        self._closer = SessionCloser(
            self._queue,
            self._gate,
            self._press_guard,
            self._turns,
            self._keeper,
            self._summaries,
            self._publisher,
            running_grace=2 * self._opts.io_timeout,
        )
        self._started = False
        self._closed = False

    # -- public surface -------------------------------------------------------------------

    @property
    def state(self) -> SyncState:
        return self._state

    @property
    def config(self) -> SessionConfig:
        return self._state.config

    @property
    def room_config(self) -> RoomConfig | None:
        return self._state.room_config

    @property
    def ptt_pressed(self) -> bool:
        return self._state.ptt_pressed

    @property
    def sync_enabled(self) -> bool:
        return self._state.sync_enabled

    @property
    def linked_identity(self) -> str | None:
        return self._gate.linked

    def snapshot(self) -> Snapshot:
        return self._announce.snapshot(self._state)

    def on_event(self, callback: EventCallback) -> Callable[[], None]:
        """Call `callback` with every event as it is emitted. Returns the function that stops it."""
        return self._publisher.on_event(callback)

    @property
    def summaries(self) -> SessionSummaries:
        """Session analytics: `summaries.current()` and `summaries.on_summary(callback)`."""
        return self._summaries

    def link_participant(self, identity: str) -> None:
        """Only the linked participant may send commands."""
        self._gate.linked = identity

    async def start(
        self, session_type: SessionType | None = None, *, trigger: str = "agent_start"
    ) -> None:
        if self._started:
            raise RuntimeError("SessionSynchronizer already started")
        self._started = True
        resumed = self._resume_record()
        self._publisher.start()
        self._gate.open()
        if resumed is not None:
            await self._continue(resumed)
        else:
            await self.react(lambda _: Plan((Commit({"room_id": self._room.name}),)), trigger)
        periodic = check_periodically(
            self._periodic_check,
            lambda: self._state.sync_enabled,
            initial_delay=self._opts.initial_sync_delay,
            interval=self._opts.validation_interval,
            after_pass=self._announce.announce_early,
        )
        self._timer = asyncio.create_task(periodic, name="session-sync-validation")
        if resumed is None and session_type is not None:
            try:
                await self.request("session.start", {"sessionType": session_type}, trigger=trigger)
            except ProtocolError as e:
                # The session shows `error`; the app can start it again. The call goes on.
                logger.error("could not start the %s session: %s", session_type, e.message)
        if self._gate.linked is not None:
            await self._gate.requested_type_from_room(self._gate.linked)

    def _resume_record(self) -> SessionRecord | None:
        """The session a previous agent left running: continue from above its revisions."""
        if self._keeper is None:
            return None
        record = self._keeper.load()
        if record is not None:
            config = self._state.config.model_copy(update={"revision": record.revision_ceiling})
            self._state = replace(self._state, config=config)
            self._gate.honour(record.honoured_request)
        self._keeper.start()
        return record

    async def _continue(self, record: SessionRecord) -> None:
        """Take over the recorded session; its first revision is already the session."""
        logger.info("continuing session %s (%s)", record.session_id, record.session_type)
        try:
            async with self._lock:
                await self._run(plan_continue(record, self._context()), "resumed")
                await self._validate_and_correct("after_change")
        except ProtocolError as e:
            logger.error("could not continue session %s: %s", record.session_id, e.message)

    def note_record(self) -> None:
        """Bring the kept record up to date (a no-op without a store)."""
        if self._keeper is not None:
            self._keeper.note(self._state, self._gate.honoured_request)

    async def aclose(self) -> None:
        """Stop: running commands finish (briefly), then the microphone goes off, whatever
        the session was doing, even when this call is cancelled; then what is queued is sent.
        A second call returns once the first is done."""
        self._closed = True
        await self._closer.aclose(self._timer, lambda: self.ptt_pressed)

    async def request(
        self, method: str, params: Mapping[str, Any] | None = None, *, trigger: str | None = None
    ) -> CommandResult:
        """Run a command on behalf of the agent itself (no authorization, same checks)."""
        command = decode_params(method, dict(params or {}))
        return await self.execute(command, trigger=trigger or method)

    def validate(self) -> Verdict:
        """Check the session against the room without changing anything."""
        return self._check.verdict(self.config, ptt_pressed=self.ptt_pressed)

    # -- running commands and reactions ---------------------------------------------------

    async def execute(
        self, command: Incoming, *, trigger: str, caller_owned: bool = False
    ) -> CommandResult:
        """Run a command to completion in a task the owner keeps: LiveKit cancels an RPC handler
        at the caller's timeout, and a switch cut off half-way would be half applied. A caller
        that is a task of the owner's (`caller_owned`, a data message's) runs it itself."""
        if caller_owned:
            return await self._queue.run_here(command, trigger)
        return await asyncio.shield(self._queue.submit(command, trigger))

    async def react(self, planner: Callable[[SyncState], Plan], trigger: str) -> None:
        """Run a reaction to the room, planned from the state it finds under the lock."""
        async with self._lock:
            await self._run(planner(self._state), trigger)

    async def _run_locked(
        self, command: Incoming, trigger: str, press: int | None
    ) -> CommandResult:
        async with self._lock:
            if self._closed:
                raise ProtocolError(ErrorCode.UNAVAILABLE, "the agent is shutting down")
            if press is not None and not self._press_guard.expired(press, self._state.ptt_pressed):
                return self.config  # released, or a newer press with its own guard
            return await self._execute_locked(command, trigger)

    async def _execute_locked(self, incoming: Incoming, trigger: str) -> CommandResult:
        command = resolve(self._state, incoming)
        if command is None:
            return self.config  # the requested type already runs
        try:
            revision = self.config.revision
            result = await self._dispatch(command, trigger)
            # Validation and its switch do not change the session's shape: no check after.
            no_check = ("session.validate", "session.sync", "session.set_sync_enabled")
            if command.method not in no_check and self.config.revision != revision:
                await self._validate_and_correct("after_change")
            return self.config if isinstance(result, SessionConfig) else result
        except TransitionError as e:
            raise ProtocolError(
                ErrorCode.INVALID_TRANSITION,
                str(e),
                {"state": e.current, "requested": e.requested, "allowed": list(e.allowed)},
                method=command.method,
            ) from None
        except ProtocolError as e:
            e.method = e.method or command.method
            raise

    async def _dispatch(self, command: Command, trigger: str) -> CommandResult:
        match command.method:
            case "session.snapshot":
                return self.snapshot()
            case "session.validate":
                return (await self._validate_and_correct(trigger)).to_result()
            case "session.sync":
                assert isinstance(command.params, SyncParams)
                return await self._sync(command.params.trigger)
        await self._run(plan_command(self._state, command, self._context()), trigger)
        return self.config

    def _context(self) -> Context:
        return Context(
            room_name=self._room.name,
            now=utc_now(),
            new_session_id=uuid.uuid4().hex,
            unavailable=self._turns.unavailable_reason,
        )

    async def _run(self, plan: Plan, trigger: str) -> None:
        for step in plan.steps:
            match step:
                case Commit():
                    await self._commit(step, trigger)
                case ApplyTurnTaking(target=wanted, tolerate_failure=tolerate):
                    try:
                        await self._apply_turn_taking(wanted, trigger)
                    except ProtocolError:
                        if not tolerate:
                            raise
                case UserTurn(call=call):
                    await self._turns.user_turn(call, trigger)
                case Silence(cancel_press=cancel_press):
                    await self._turns.silence(cancel_press=cancel_press, trigger=trigger)
                case Emit(event=event, trigger=own_trigger, detail=detail):
                    self._announce.emit(self._state, event, own_trigger or trigger, detail=detail)
                case Republish():
                    self._announce.publish_attributes(self._state)
                case SendSnapshot(destination=destination):
                    self._announce.send_snapshot(self._state, destination)

    # -- the one writer -------------------------------------------------------------------

    async def _commit(self, commit: Commit, trigger: str) -> None:
        """Replace the state, then enqueue its attributes and event. Callers hold the lock."""
        before = self._state
        connected = self._room.connection_state == "connected"
        self._state = apply_commit(before, commit, connected=connected)
        self.note_record()
        self._press_guard.follow(before.ptt_pressed, self._state.ptt_pressed)
        self._summaries.committed(self._state.config, trigger)
        if commit.changes is not None:
            self._announce.publish_attributes(self._state)
        if commit.event is not None:
            self._announce.emit(self._state, commit.event, trigger, detail=commit.detail)

    def _end_stuck_press(self, press: int) -> None:
        end_stuck_press(self._queue, self._press_guard, press)

    async def _apply_turn_taking(self, wanted: TurnTakingTarget, trigger: str) -> None:
        try:
            await self._turns.apply(wanted)
        except Exception as e:
            logger.exception("turn-taking change failed", extra={"trigger": trigger})
            # `error` is not a live state: the microphone goes off before it is published.
            await self._turns.silence(cancel_press=False, trigger=trigger)
            if self.config.state != "error":
                failed = Commit({"state": "error"}, detail=bounded_text(str(e)), ptt_pressed=False)
                await self._commit(failed, f"{trigger}:failed")
            raise ProtocolError(
                ErrorCode.INTERNAL, f"the agent could not change its turn-taking: {e}"
            ) from e

    # -- validation -----------------------------------------------------------------------

    async def _validate_and_correct(self, trigger: str, *, announce_state: bool = True) -> Verdict:
        verdict = self.validate()
        if verdict.is_valid:
            return verdict
        report_inconsistencies(verdict)
        await self._run(plan_correction(self._state, verdict, trigger, now=utc_now()), trigger)
        self._summaries.tally.validated(len(verdict.inconsistencies))
        if announce_state:
            self._announce.emit(self._state, "session_state_sync", trigger)
        return verdict

    async def _sync(self, trigger: str) -> SessionConfig:
        verdict = await self._validate_and_correct(trigger, announce_state=False)
        if verdict.is_valid:
            await self._commit(Commit({"last_sync_at": utc_now()}, event=None), trigger)
        self._announce.emit(self._state, "session_state_sync", trigger)
        return self.config

    async def _periodic_check(self, trigger: str) -> None:
        async with self._lock:
            verdict = await self._validate_and_correct(trigger)
            # Not while the link is down: held, they would crowd out real events.
            if (
                verdict.is_valid
                and self._opts.announce_clean_passes
                and self._room.connection_state == "connected"
            ):
                self._announce.emit(self._state, "session_state_sync", trigger, quiet=True)

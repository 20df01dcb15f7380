"""The only way in. Everything the room delivers arrives here: commands by RPC, on the data
topic or as the `session.requestedType` attribute all pass the same admission (how often,
who), decoding (with the size limit), metrics and reply before reaching the owner; joins,
leaves and connection changes go to the reactions."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any

from livekit import rtc

from .admission import Admission
from .connection import ConnectionReactions
from .intake import Intake
from .log import logger
from .metrics import MeasuredCommand
from .models import ConnectionState
from .protocol import (
    ATTR_REQUESTED_TYPE,
    METHODS,
    Ack,
    Command,
    CommandResult,
    ErrorCode,
    ProtocolError,
    decode_request,
    decode_requested_type,
    decode_rpc,
    error_reply,
    request_id_of,
    rpc_code,
    rpc_error_parts,
)
from .publisher import Publisher
from .room import RoomPort
from .transitions import Incoming, RequestedType

if TYPE_CHECKING:
    from .options import SyncOptions
    from .synchronizer import SessionSynchronizer


# Data from a participant the room has not announced: its rate limit and its name in logs.
UNKNOWN_SENDER = "<unknown>"


class CommandGate:
    """Also the room's listener: it never raises, and hands all work to tasks it owns."""

    def __init__(
        self,
        room: RoomPort,
        owner: SessionSynchronizer,
        publisher: Publisher,
        options: SyncOptions,
        *,
        linked: str | None,
    ) -> None:
        self._room = room
        self._owner = owner
        self._publisher = publisher
        self._opts = options
        tally = owner.summaries.tally
        self._admission = Admission(options, tally)
        self._reactions = ConnectionReactions(owner, leave_grace=options.leave_grace, tally=tally)
        self.linked = linked
        """Only the linked participant may send commands."""
        self._honoured_request: str | None = None
        self._intake = Intake(
            self._between_slices,
            on_dropped=self._admission.dropped,
            backed_up=self._publisher.replies_backed_up,
        )
        self._rpc_waiting: set[asyncio.Future[Command]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._unsubscribe: Callable[[], None] | None = None
        self._closed = False

    def open(self) -> None:
        self._intake.start()
        self._unsubscribe = self._room.subscribe(self)
        for method in METHODS:
            self._room.register_rpc(method, self.handle_rpc)

    def close(self) -> None:
        """Take nothing more in; tasks already running go on until cancelled."""
        self._closed = True
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._intake.cancel()
        for waiting in self._rpc_waiting:
            if not waiting.done():
                waiting.set_exception(
                    ProtocolError(ErrorCode.UNAVAILABLE, "the agent is shutting down")
                )
        for method in METHODS:
            try:
                self._room.unregister_rpc(method)
            except Exception:
                logger.debug("unregistering %s failed", method, exc_info=True)

    @property
    def honoured_request(self) -> str | None:
        return self._honoured_request

    def honour(self, requested: str | None) -> None:
        """Treat `requested` as acted on already (a previous agent did)."""
        self._honoured_request = requested

    @property
    def tasks(self) -> set[asyncio.Task[None]]:
        return set(self._tasks)

    # -- RoomListener -------------------------------------------------------------------

    def on_data(self, sender: str | None, topic: str, payload: bytes) -> None:
        # Only queued here: the checks run in the intake's slices (see `intake`).
        if topic != self._opts.topic:
            return
        if sender is None:
            self._intake.put((None, "data"), len(payload), lambda: self._refuse_anonymous(payload))
        else:
            let_in = functools.partial(self._let_in_data, sender, payload)
            self._intake.put((sender, "data"), len(payload), let_in)

    def on_participant_attributes(self, identity: str, changed: Mapping[str, str]) -> None:
        requested = changed.get(ATTR_REQUESTED_TYPE)
        if not requested or identity != self.linked:
            return
        let_in = functools.partial(self._let_in_requested_type, identity, requested)
        self._intake.put((identity, "attribute"), len(requested), let_in)

    def on_participant_joined(self, identity: str) -> None:
        if identity == self.linked:
            then = functools.partial(self.requested_type_from_room, identity)
            self._spawn(self._reactions.joined(identity, then), "session-sync-join")

    def on_participant_left(self, identity: str) -> None:
        if identity == self.linked:
            self._reactions.left()
            self._spawn(self._reactions.leaving(), "session-sync-leave")

    def on_connection_state(self, state: ConnectionState, reason: str | None) -> None:
        self._spawn(self._reactions.connection_changed(state, reason), "session-sync-connection")

    # -- the three ways a command arrives -----------------------------------------------

    async def handle_data(self, sender: str, payload: bytes) -> None:
        """A request on the data topic: answered with an ack or an error, to the sender only."""
        measured = MeasuredCommand()
        command: Command | None = None

        def decode() -> Command:
            nonlocal command
            command = decode_request(payload, limit=self._opts.max_inbound_bytes)
            return command

        try:
            result = await self._run(sender, measured, decode, admitted=True, owned_task=True)
            assert command is not None and command.request_id is not None
            ack = Ack(id=command.request_id, method=command.method, result=result)
            self._publisher.reply(ack, sender)
        except ProtocolError as e:
            rid = command.request_id if command else request_id_of(payload)
            self._admission.refused(measured, e, sender, command.method if command else e.method)
            reply = error_reply(e, request_id=rid, method=measured.method)
            self._publisher.reply(reply, sender)
        except Exception:
            self._admission.failed(measured)
            err = ProtocolError(ErrorCode.INTERNAL, "the agent failed to handle the command")
            reply = error_reply(err, request_id=request_id_of(payload), method=None)
            self._publisher.reply(reply, sender)
        finally:
            measured.record()

    def _refuse_anonymous(self, payload: bytes) -> bool:
        """Data from a participant the room has not announced yet (LiveKit announces joins
        late): nobody can say who sent it, so it is refused, to everyone, with its request id.
        The sender retries, or uses RPC, which always names the caller."""
        measured = MeasuredCommand()
        error = ProtocolError(
            ErrorCode.UNAVAILABLE,
            "the agent does not know the sender yet; retry in a moment or send by RPC",
            {"reason": "unknown_sender", "retryable": True},
        )
        try:
            if not self._admission.within_rate(UNKNOWN_SENDER):
                error = ProtocolError(ErrorCode.RATE_LIMITED, "too many commands; slow down")
            self._admission.refused(measured, error, UNKNOWN_SENDER, None)
            rid = request_id_of(payload)
            if rid is not None:  # nothing to answer without an id to answer to
                self._publisher.broadcast(error_reply(error, request_id=rid, method=None))
        finally:
            measured.record()
        return False

    async def handle_rpc(self, data: rtc.RpcInvocationData) -> str:
        """An RPC: answered with the result JSON, or an `RpcError` with our code."""
        measured = MeasuredCommand(data.method)
        try:
            command = await self._rpc_let_in(data)
            result = await self._run(data.caller_identity, measured, lambda: command, admitted=True)
            return json.dumps(result.to_wire(), separators=(",", ":"))
        except ProtocolError as e:
            self._admission.refused(measured, e, data.caller_identity, data.method)
            # LiveKit caps an RPC error message at 256 bytes; details travel in `data`.
            message, details = rpc_error_parts(e)
            raise rtc.RpcError(rpc_code(e.code), message, details) from None
        except Exception:
            self._admission.failed(measured)
            raise rtc.RpcError(
                rpc_code(ErrorCode.INTERNAL), "internal: the agent failed to handle the command"
            ) from None
        finally:
            measured.record()

    async def handle_requested_type(
        self, sender: str, requested: str, *, admitted: bool = True
    ) -> None:
        """A type the user set in their attributes; only refusals are answered."""
        if requested == self._honoured_request:
            return  # already acted on; a later command may have changed the type since
        measured = MeasuredCommand(ATTR_REQUESTED_TYPE)
        limit = self._opts.max_inbound_bytes
        try:
            await self._run(
                sender,
                measured,
                lambda: RequestedType(decode_requested_type(requested, limit=limit)),
                trigger=f"attribute:{ATTR_REQUESTED_TYPE}",
                admitted=admitted,
            )
            self._honoured_request = requested
            self._owner.note_record()
        except ProtocolError as e:
            self._admission.refused(measured, e, sender, e.method or ATTR_REQUESTED_TYPE)
            self._publisher.reply(error_reply(e, request_id=None, method=e.method), sender)
        except Exception:
            self._admission.failed(measured)
        finally:
            measured.record()

    async def requested_type_from_room(self, identity: str) -> None:
        """Honour a type the user asked for before the agent was listening."""
        requested = (self._room.remote_attributes(identity) or {}).get(ATTR_REQUESTED_TYPE)
        if requested:
            await self.handle_requested_type(identity, requested, admitted=False)

    # -- letting in, one message at a time (called by the intake) ------------------------

    def _let_in_data(self, sender: str, payload: bytes) -> bool:
        # Admitted per sender: a stranger's flood is refused here and never takes a place
        # the user's commands need.
        if self._admitted_now(sender, lambda: request_id_of(payload)):
            self._spawn(self.handle_data(sender, payload), "session-sync-data")
            return True
        return False

    def _let_in_requested_type(self, identity: str, requested: str) -> bool:
        if requested == self._honoured_request:
            return False
        if self._admitted_now(identity, lambda: None, counted_as=ATTR_REQUESTED_TYPE):
            self._spawn(self.handle_requested_type(identity, requested), "session-sync-attribute")
            return True
        return False

    async def _rpc_let_in(self, data: rtc.RpcInvocationData) -> Command:
        """Wait for the intake to admit and decode the call; raises its refusal."""
        future: asyncio.Future[Command] = asyncio.get_running_loop().create_future()

        def let_in() -> bool:
            if future.done():
                return False  # the caller's deadline passed while it waited
            try:
                self._admission.admit(data.caller_identity, linked=self.linked)
                limit = self._opts.max_inbound_bytes
                future.set_result(decode_rpc(data.method, data.payload, limit=limit))
            except Exception as e:
                future.set_exception(e)
            return True

        if self._closed:
            raise ProtocolError(ErrorCode.UNAVAILABLE, "the agent is shutting down")
        if not self._intake.put((data.caller_identity, "rpc"), len(data.payload), let_in):
            raise ProtocolError(ErrorCode.BUSY, "too many commands waiting; retry shortly")
        self._rpc_waiting.add(future)
        try:
            return await future
        finally:
            self._rpc_waiting.discard(future)

    async def _between_slices(self) -> None:
        # The replies made so far go out before more are made, so that none is pushed out
        # of its bounded queue (the wait is bounded by the I/O timeout).
        if self._publisher.replies_backed_up():
            await self._publisher.drained()
        await asyncio.sleep(0)

    # -- the shared path ----------------------------------------------------------------

    def _admitted_now(
        self,
        sender: str,
        request_id: Callable[[], str | None],
        *,
        counted_as: str | None = None,
    ) -> bool:
        """Admission as a message is let in, with the refusal answered at once (no task).
        `counted_as`: the method its metrics name (the attribute's refusals are its own)."""
        try:
            self._admission.admit(sender, linked=self.linked)
            if len(self._tasks) >= 4 * self._opts.max_pending_commands:
                raise ProtocolError(ErrorCode.BUSY, "too many commands waiting; retry shortly")
        except ProtocolError as e:
            measured = MeasuredCommand()
            self._admission.refused(measured, e, sender, counted_as)
            measured.record()
            reply = error_reply(e, request_id=request_id(), method=None)
            self._publisher.reply(reply, sender, stranger=sender != self.linked)
            return False
        return True

    async def _run(
        self,
        sender: str,
        measured: MeasuredCommand,
        decode: Callable[[], Incoming],
        *,
        trigger: str | None = None,
        admitted: bool = False,
        owned_task: bool = False,
    ) -> CommandResult:
        """`owned_task`: this runs in one of the gate's tasks (not in LiveKit's RPC handler,
        which is cancelled at the caller's timeout), so the command needs no task of its own."""
        if not admitted:
            self._admission.admit(sender, linked=self.linked)
        command = decode()
        measured.method = command.method
        try:
            result = await self._owner.execute(
                command, trigger=trigger or command.method, caller_owned=owned_task
            )
        except ProtocolError:
            await self._publisher.drained()  # a failed change may have announced `error`
            raise
        # The reply follows the events the command caused.
        await self._publisher.drained()
        measured.outcome = "ok"
        return result

    # -- tasks --------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        if self._closed:
            coro.close()
            return
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            logger.error("session-sync task %s failed", task.get_name(), exc_info=exc)

"""The owner of the session: every change is validated, applied, published and announced here."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import metrics
from .inbound import CommandGate
from .log import logger
from .models import (
    ConnectionState,
    RoomConfig,
    SessionConfig,
    SessionState,
    SessionType,
    WireModel,
    utc_now,
)
from .policy import (
    LIVE_STATES,
    TransitionError,
    check_transition,
    expected_audio_input,
    room_config_contradictions,
    turn_profile,
)
from .protocol import (
    ATTR_REQUESTED_TYPE,
    MAX_PACKET_BYTES,
    METHODS,
    TOPIC,
    Command,
    CommandResult,
    ErrorCode,
    EventPayload,
    EventType,
    ProtocolError,
    SessionSyncEvent,
    SetMutedParams,
    SetSyncEnabledParams,
    Snapshot,
    StartSessionParams,
    SwitchSessionParams,
    SyncParams,
    bounded_text,
    decode_params,
    encode,
    encode_attributes,
    error_reply,
)
from .rate_limit import RateLimiter
from .room import INTENTIONAL_DISCONNECT_REASONS, RoomPort
from .turn_taking import TurnTakingPort, TurnTakingTarget
from .validation import Observation, Repair, Verdict, validate

EventCallback = Callable[[SessionSyncEvent], None]


@dataclass(frozen=True)
class SyncOptions:
    initial_sync_delay: float = 1.0
    """Seconds from start to the first validation, as the seed does."""
    validation_interval: float = 5.0
    """Seconds between periodic validations."""
    topic: str = TOPIC
    max_inbound_bytes: int = MAX_PACKET_BYTES
    rate_per_second: float = 10.0
    """Commands a participant may send per second, on average."""
    rate_burst: int = 20
    max_pending_commands: int = 32
    """Commands waiting for the session at once; more are refused as busy."""
    outbox_limit: int = 128
    """Events held while the link is down; the oldest go first, and the gap in `seq` shows it."""
    io_timeout: float = 5.0
    """Seconds one attribute update or data send may take; a stalled link must not hold
    every later command behind it."""
    max_press_seconds: float | None = 60.0
    """A push-to-talk press held longer is ended for the user (a lost release must not leave
    the microphone open). None turns the guard off."""


class SessionSynchronizer:
    """Keeps one session in step between the agent and the linked user's app.

    All state lives here; `_commit` is the only writer.
    """

    def __init__(
        self,
        room: RoomPort,
        *,
        turn_taking: TurnTakingPort | None = None,
        linked_identity: str | None = None,
        options: SyncOptions | None = None,
    ) -> None:
        self._room = room
        self._turns = turn_taking
        self._linked = linked_identity
        self._opts = options or SyncOptions()
        self._config = SessionConfig(
            session_id=uuid.uuid4().hex, revision=0, type=None, state="idle", room_id=room.name
        )
        self._room_config: RoomConfig | None = None
        self._ptt_pressed = False
        self._sync_enabled = True
        self._seq = 0
        self._lock = asyncio.Lock()
        self._pending = 0
        self._outbox: deque[bytes] = deque(maxlen=self._opts.outbox_limit)
        self._gate = CommandGate(
            limiter=RateLimiter(
                rate_per_second=self._opts.rate_per_second, burst=self._opts.rate_burst
            ),
            max_inbound_bytes=self._opts.max_inbound_bytes,
            linked=lambda: self._linked,
            execute=lambda command, trigger: self._execute(command, trigger=trigger),
            reply=self._reply,
        )
        self._tasks: set[asyncio.Task[Any]] = set()
        self._commands: set[asyncio.Task[CommandResult]] = set()
        self._listeners: list[EventCallback] = []
        self._unsubscribe: Callable[[], None] | None = None
        self._timer: asyncio.Task[None] | None = None
        self._press_guard: asyncio.TimerHandle | None = None
        self._press_generation = 0
        self._honoured_request: str | None = None
        self._linked_left = False
        self._started = False
        self._closed = False

    # -- public surface -------------------------------------------------------------------

    @property
    def config(self) -> SessionConfig:
        return self._config

    @property
    def room_config(self) -> RoomConfig | None:
        return self._room_config

    @property
    def ptt_pressed(self) -> bool:
        return self._ptt_pressed

    @property
    def sync_enabled(self) -> bool:
        return self._sync_enabled

    @property
    def linked_identity(self) -> str | None:
        return self._linked

    def snapshot(self) -> Snapshot:
        return Snapshot(
            seq=self._seq,
            session=self._config,
            room_config=self._room_config,
            push_to_talk=self._ptt_pressed,
            sync_enabled=self._sync_enabled,
        )

    def on_event(self, callback: EventCallback) -> Callable[[], None]:
        """Call `callback` with every event as it is emitted. Returns the function that stops it."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    def link_participant(self, identity: str) -> None:
        """Only the linked participant may send commands."""
        self._linked = identity

    async def start(
        self, session_type: SessionType | None = None, *, trigger: str = "agent_start"
    ) -> None:
        if self._started:
            raise RuntimeError("SessionSynchronizer already started")
        self._started = True
        self._unsubscribe = self._room.subscribe(self)
        for method in METHODS:
            self._room.register_rpc(method, self._gate.handle_rpc)
        async with self._lock:
            await self._commit(
                {"room_id": self._room.name}, event="session_state_sync", trigger=trigger
            )
        self._timer = asyncio.create_task(self._validation_loop(), name="session-sync-validation")
        if session_type is not None:
            try:
                await self.request("session.start", {"sessionType": session_type}, trigger=trigger)
            except ProtocolError as e:
                # The session shows `error`; the app can start it again. The call goes on.
                logger.error("could not start the %s session: %s", session_type, e.message)
        if self._linked is not None:
            await self._apply_requested_type(self._linked)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._unsubscribe is not None:
            self._unsubscribe()
        for method in METHODS:
            with contextlib.suppress(Exception):
                self._room.unregister_rpc(method)
        self._cancel_press_guard()
        if self._timer is not None:
            self._timer.cancel()
        # Commands already running finish; those still waiting are refused with a reply.
        if self._commands or self._tasks:
            await asyncio.wait(self._commands | self._tasks, timeout=2 * self._opts.io_timeout)
        tasks = [*self._tasks, *self._commands, *([self._timer] if self._timer else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def request(
        self, method: str, params: Mapping[str, Any] | None = None, *, trigger: str | None = None
    ) -> CommandResult:
        """Run a command on behalf of the agent itself (no authorization, same checks)."""
        command = decode_params(method, dict(params or {}))
        return await self._execute(command, trigger=trigger or method)

    # -- the one writer -------------------------------------------------------------------

    async def _commit(
        self,
        changes: Mapping[str, Any],
        *,
        event: EventType | None,
        trigger: str,
        ptt_pressed: bool | None = None,
        detail: str | None = None,
    ) -> SessionConfig:
        """Apply a change: check the transition, bump the revision, publish, announce.

        Callers hold `self._lock`, so changes never interleave.
        """
        current = self._config
        merged = {**current.model_dump(), **changes, "revision": current.revision + 1}
        updated = SessionConfig.model_validate(merged)
        check_transition(current.state, updated.state)
        self._config = updated
        if ptt_pressed is not None and ptt_pressed != self._ptt_pressed:
            self._ptt_pressed = ptt_pressed
            if ptt_pressed:
                self._arm_press_guard()
            else:
                self._cancel_press_guard()
        await self._publish_attributes()
        if event is not None:
            await self._emit(event, trigger, detail=detail)
        return updated

    def _arm_press_guard(self) -> None:
        self._cancel_press_guard()
        self._press_generation += 1
        if self._opts.max_press_seconds is not None:
            press = self._press_generation
            self._press_guard = asyncio.get_running_loop().call_later(
                self._opts.max_press_seconds,
                lambda: self._spawn(self._release_stuck_press(press), "session-sync-press-guard"),
            )

    def _cancel_press_guard(self) -> None:
        if self._press_guard is not None:
            self._press_guard.cancel()
            self._press_guard = None

    async def _release_stuck_press(self, press: int) -> None:
        async with self._lock:
            if not self._ptt_pressed or press != self._press_generation:
                return  # released, or a newer press with its own guard
            logger.warning(
                "push-to-talk held for %.0f s; ending the press", self._opts.max_press_seconds
            )
            command = decode_params("session.ptt_end", {})
            with contextlib.suppress(ProtocolError):
                await self._execute_locked(command, trigger="ptt_max_duration")

    # -- commands -------------------------------------------------------------------------

    async def _execute(self, command: Command, *, trigger: str) -> CommandResult:
        """Run a command to completion even if its caller goes away.

        LiveKit cancels an RPC handler when the caller's timeout passes; a switch cut off
        half-way would leave the session `syncing` with the turn-taking half changed. The
        command therefore runs in a task the synchronizer owns; a cancelled caller only
        loses the reply.
        """
        if self._closed:
            raise ProtocolError(ErrorCode.UNAVAILABLE, "the agent is shutting down")
        if self._pending >= self._opts.max_pending_commands:
            raise ProtocolError(ErrorCode.BUSY, "too many commands waiting; retry shortly")
        self._pending += 1
        task = asyncio.create_task(self._run_command(command, trigger), name=command.method)
        self._commands.add(task)
        task.add_done_callback(self._command_done)
        return await asyncio.shield(task)

    async def _run_command(self, command: Command, trigger: str) -> CommandResult:
        try:
            async with self._lock:
                if self._closed:
                    raise ProtocolError(ErrorCode.UNAVAILABLE, "the agent is shutting down")
                return await self._execute_locked(command, trigger=trigger)
        finally:
            self._pending -= 1

    def _command_done(self, task: asyncio.Task[CommandResult]) -> None:
        self._commands.discard(task)
        if task.cancelled():
            return
        exc = task.exception()  # retrieved here in case the caller went away
        if exc is not None and not isinstance(exc, ProtocolError):
            logger.error("session-sync command %s failed", task.get_name(), exc_info=exc)

    async def _execute_locked(self, command: Command, *, trigger: str) -> CommandResult:
        try:
            revision = self._config.revision
            result = await self._dispatch(command, trigger)
            validated_itself = command.method in ("session.validate", "session.sync")
            if not validated_itself and self._config.revision != revision:
                await self._validate_and_correct("after_change", include_attributes=False)
            return self._config if isinstance(result, SessionConfig) else result
        except TransitionError as e:
            raise ProtocolError(
                ErrorCode.INVALID_TRANSITION,
                str(e),
                {"state": e.current, "requested": e.requested, "allowed": list(e.allowed)},
            ) from None

    async def _dispatch(self, command: Command, trigger: str) -> CommandResult:
        p = command.params
        match command.method:
            case "session.start":
                assert isinstance(p, StartSessionParams)
                return await self._start_session(p, trigger)
            case "session.switch":
                assert isinstance(p, SwitchSessionParams)
                return await self._switch_session(p.session_type, p.room_config, trigger)
            case "session.end":
                return await self._end_session(trigger)
            case "session.set_muted":
                assert isinstance(p, SetMutedParams)
                return await self._set_muted(p.muted, trigger)
            case "session.ptt_start":
                return await self._ptt_start(trigger)
            case "session.ptt_end" | "session.ptt_cancel":
                return await self._ptt_release(
                    cancel=command.method == "session.ptt_cancel", trigger=trigger
                )
            case "session.snapshot":
                return self.snapshot()
            case "session.validate":
                return (await self._validate_and_correct(trigger)).to_result()
            case "session.sync":
                assert isinstance(p, SyncParams)
                return await self._sync(p.trigger)
            case "session.set_sync_enabled":
                assert isinstance(p, SetSyncEnabledParams)
                self._sync_enabled = p.enabled
                return self._config
        raise ProtocolError(ErrorCode.UNKNOWN_METHOD, f"unknown method {command.method!r}")

    def _require_live(self, action: str) -> None:
        if self._config.state not in LIVE_STATES or self._config.type is None:
            raise ProtocolError(
                ErrorCode.INVALID_TRANSITION,
                f"cannot {action}: no session is active (state is '{self._config.state}')",
                {"state": self._config.state, "allowed": ["session.start"]},
            )

    def _check_available(self, session_type: SessionType) -> None:
        reason = self._turns.unavailable_reason(session_type) if self._turns else None
        if reason is not None:
            raise ProtocolError(
                ErrorCode.UNAVAILABLE,
                f"this agent cannot run a {session_type} session: {reason}",
                {"type": session_type},
            )

    def _check_room_config(self, room_config: RoomConfig | None, session_type: SessionType) -> None:
        if room_config is None:
            return
        problems = room_config_contradictions(room_config, session_type)
        if problems:
            raise ProtocolError(
                ErrorCode.INVALID_PARAMS,
                "roomConfig contradicts the session type: " + "; ".join(problems),
                {"problems": problems},
            )

    def _target(
        self, session_type: SessionType | None, *, muted: bool, ptt: bool, live: bool = True
    ) -> TurnTakingTarget:
        return TurnTakingTarget(
            session_type=session_type,
            turn_detection=turn_profile(session_type).turn_detection,
            audio_input_enabled=expected_audio_input(
                session_type, "active" if live else "idle", muted=muted, ptt_pressed=ptt
            ),
        )

    async def _turn_call(self, name: str, trigger: str) -> None:
        """start/end/cancel a user turn. A failure is logged; the press state still moves on,
        so the microphone follows the published state rather than a half-done call."""
        if self._turns is None:
            return
        try:
            await getattr(self._turns, name)()
        except Exception:
            logger.exception("user turn call %s failed", name, extra={"trigger": trigger})

    async def _apply_turn_taking(self, target: TurnTakingTarget, trigger: str) -> None:
        if self._turns is None:
            return
        try:
            await self._turns.apply(target)
        except Exception as e:
            logger.exception("turn-taking change failed", extra={"trigger": trigger})
            if self._config.state != "error":
                await self._commit(
                    {"state": "error"},
                    event="session_state_sync",
                    trigger=f"{trigger}:failed",
                    detail=bounded_text(str(e)),
                    ptt_pressed=False,
                )
            raise ProtocolError(
                ErrorCode.INTERNAL, f"the agent could not change its turn-taking: {e}"
            ) from e

    async def _start_session(self, p: StartSessionParams, trigger: str) -> SessionConfig:
        current = self._config
        if current.state in LIVE_STATES and current.type is not None:
            raise ProtocolError(
                ErrorCode.INVALID_TRANSITION,
                f"a {current.type} session is already {current.state}; "
                "use session.switch to change its type",
                {"state": current.state, "allowed": ["session.switch", "session.end"]},
            )
        check_transition(current.state, "syncing")
        self._check_room_config(p.room_config, p.session_type)
        self._check_available(p.session_type)
        session_id = (
            p.session_id
            or (p.room_config.session_id if p.room_config else None)
            or uuid.uuid4().hex
        )
        if p.room_config is not None and p.room_config.session_id != session_id:
            raise ProtocolError(
                ErrorCode.INVALID_PARAMS,
                f"roomConfig.sessionId {p.room_config.session_id!r} "
                f"differs from sessionId {session_id!r}",
            )
        await self._commit(
            {"state": "syncing", "session_id": session_id},
            event="session_state_sync",
            trigger=trigger,
        )
        await self._apply_turn_taking(self._target(p.session_type, muted=False, ptt=False), trigger)
        self._room_config = p.room_config
        return await self._commit(
            {
                **self._type_fields(p.session_type),
                "state": self._settled_state(),
                "started_at": utc_now(),
                "is_muted": False,
                "room_id": self._room.name,
                "sync_attempts": 0,
                "inconsistency_detected": False,
                "last_sync_at": None,
            },
            event="session_state_sync",
            trigger=trigger,
            ptt_pressed=False,
        )

    def _settled_state(self) -> SessionState:
        """`active` once a change is done, unless the link is down: then `syncing` until the
        reconnect handler brings it back."""
        return "active" if self._room.connection_state == "connected" else "syncing"

    @staticmethod
    def _type_fields(session_type: SessionType | None) -> dict[str, Any]:
        profile = turn_profile(session_type)
        return {
            "type": session_type,
            "turn_detection": profile.turn_detection,
            "voice_mode": profile.voice_mode,
            "voice_activity_enabled": profile.voice_activity_enabled,
        }

    async def _switch_session(
        self, session_type: SessionType, room_config: RoomConfig | None, trigger: str
    ) -> SessionConfig:
        self._require_live("switch the session type")
        self._check_room_config(room_config, session_type)
        self._check_available(session_type)
        if session_type == self._config.type and self._config.state == "active":
            # Nothing to switch: keep a held press and the turn-taking as they are.
            if room_config is not None:
                self._room_config = room_config
            return self._config
        if room_config is not None and room_config.session_id != self._config.session_id:
            raise ProtocolError(
                ErrorCode.INVALID_PARAMS,
                f"roomConfig.sessionId {room_config.session_id!r} is not this session "
                f"({self._config.session_id!r})",
            )
        # Published type and real turn-taking may differ only while the state says "syncing".
        await self._commit({"state": "syncing"}, event="session_state_sync", trigger=trigger)
        if self._ptt_pressed:
            await self._turn_call("end_user_turn", trigger)
        # A text session has no microphone to mute; voice types keep the user's choice.
        muted = self._config.is_muted and session_type != "text"
        await self._apply_turn_taking(self._target(session_type, muted=muted, ptt=False), trigger)
        if room_config is not None:
            self._room_config = room_config
        elif self._room_config is not None and self._room_config.session_type != session_type:
            self._room_config = None  # the old one now contradicts the type
        return await self._commit(
            {**self._type_fields(session_type), "state": self._settled_state(), "is_muted": muted},
            event="session_state_sync",
            trigger=trigger,
            ptt_pressed=False,
        )

    async def _end_session(self, trigger: str) -> SessionConfig:
        current = self._config
        if current.type is None and current.state == "idle":
            raise ProtocolError(
                ErrorCode.INVALID_TRANSITION,
                "cannot end: no session is active (state is 'idle')",
                {"state": "idle", "allowed": ["session.start"]},
            )
        check_transition(current.state, "ending")
        await self._commit({"state": "ending"}, event="session_state_sync", trigger=trigger)
        await self._silence_turn_taking(trigger)
        self._room_config = None
        return await self._commit(
            {**self._type_fields(None), "state": "idle", "started_at": None, "is_muted": False},
            event="session_state_sync",
            trigger=trigger,
            ptt_pressed=False,
        )

    async def _silence_turn_taking(self, trigger: str) -> None:
        """Close the microphone for good. A failure here must not keep a session alive."""
        if self._turns is None:
            return
        if self._ptt_pressed:
            await self._turn_call("cancel_user_turn", trigger)
        try:
            await self._turns.apply(self._target(None, muted=False, ptt=False, live=False))
        except Exception:
            logger.exception(
                "turning the agent's turn-taking off failed", extra={"trigger": trigger}
            )

    async def _set_muted(self, muted: bool, trigger: str) -> SessionConfig:
        self._require_live("mute")
        if self._config.type == "text":
            raise ProtocolError(
                ErrorCode.WRONG_SESSION_TYPE,
                "mute applies to voice sessions; this session is 'text'",
                {"type": "text", "allowed": ["voice-ptt", "voice-vad"]},
            )
        await self._apply_turn_taking(
            self._target(self._config.type, muted=muted, ptt=self._ptt_pressed), trigger
        )
        return await self._commit({"is_muted": muted}, event="session_state_sync", trigger=trigger)

    def _require_ptt(self, action: str) -> None:
        self._require_live(action)
        if self._config.type != "voice-ptt":
            raise ProtocolError(
                ErrorCode.WRONG_SESSION_TYPE,
                f"cannot {action}: push-to-talk needs a 'voice-ptt' session; "
                f"this one is '{self._config.type}'",
                {"type": self._config.type, "allowed": ["voice-ptt"]},
            )

    async def _ptt_start(self, trigger: str) -> SessionConfig:
        self._require_ptt("start push-to-talk")
        if self._config.is_muted:
            raise ProtocolError(
                ErrorCode.INVALID_TRANSITION,
                "cannot start push-to-talk while muted; unmute first",
                {"state": self._config.state, "isMuted": True},
            )
        if self._ptt_pressed:
            return self._config  # a repeated press is harmless
        await self._turn_call("start_user_turn", trigger)
        await self._apply_turn_taking(self._target("voice-ptt", muted=False, ptt=True), trigger)
        return await self._commit({}, event="session_state_sync", trigger=trigger, ptt_pressed=True)

    async def _ptt_release(self, *, cancel: bool, trigger: str) -> SessionConfig:
        self._require_ptt("cancel push-to-talk" if cancel else "end push-to-talk")
        if not self._ptt_pressed:
            raise ProtocolError(
                ErrorCode.INVALID_TRANSITION,
                "push-to-talk is not pressed",
                {"pushToTalk": "released", "allowed": ["session.ptt_start"]},
            )
        await self._apply_turn_taking(
            self._target("voice-ptt", muted=self._config.is_muted, ptt=False), trigger
        )
        await self._turn_call("cancel_user_turn" if cancel else "end_user_turn", trigger)
        return await self._commit(
            {}, event="session_state_sync", trigger=trigger, ptt_pressed=False
        )

    async def _sync(self, trigger: str) -> SessionConfig:
        verdict = await self._validate_and_correct(trigger, announce_state=False)
        if verdict.is_valid:
            await self._commit({"last_sync_at": utc_now()}, event=None, trigger=trigger)
        await self._emit("session_state_sync", trigger)
        return self._config

    # -- validation -----------------------------------------------------------------------

    def _observe(self) -> Observation:
        seen = self._turns.observe() if self._turns is not None else None
        return Observation(
            connection_state=self._room.connection_state,
            room_name=self._room.name,
            published_attributes=self._room.local_attributes(),
            audio_input_enabled=seen.audio_input_enabled if seen else None,
            turn_detection=seen.turn_detection if seen else None,
        )

    def validate(self) -> Verdict:
        """Check the session against the room without changing anything."""
        return validate(self._config, self._observe(), ptt_pressed=self._ptt_pressed)

    async def _validate_and_correct(
        self, trigger: str, *, include_attributes: bool = True, announce_state: bool = True
    ) -> Verdict:
        observed = self._observe()
        if not include_attributes:
            # Right after a change the room may not yet echo our own attributes back.
            observed = Observation(
                connection_state=observed.connection_state,
                room_name=observed.room_name,
                published_attributes=encode_attributes(self._config, ptt_pressed=self._ptt_pressed),
                audio_input_enabled=observed.audio_input_enabled,
                turn_detection=observed.turn_detection,
            )
        verdict = validate(self._config, observed, ptt_pressed=self._ptt_pressed)
        if verdict.is_valid:
            return verdict
        for item in verdict.inconsistencies:
            metrics.INCONSISTENCIES.labels(item.check).inc()
            logger.warning("session inconsistency: %s", item.message, extra={"check": item.check})
        corrections = verdict.corrections
        next_state = corrections.get("state", self._config.state)
        if Repair.REAPPLY_TURN_TAKING in verdict.repairs or "state" in corrections:
            target = self._target(
                self._config.type,
                muted=self._config.is_muted,
                ptt=self._ptt_pressed,
                live=next_state in LIVE_STATES,
            )
            try:
                await self._apply_turn_taking(target, trigger)
            except ProtocolError:
                corrections.pop("state", None)  # the failure already moved it to `error`
        await self._commit(
            {
                **corrections,
                "last_sync_at": utc_now(),
                "sync_attempts": self._config.sync_attempts + 1,
                "inconsistency_detected": True,
            },
            event=None,
            trigger=trigger,
        )
        for item in verdict.inconsistencies:
            await self._emit(
                "session_inconsistency", f"{trigger}:{item.check}", detail=item.message
            )
        if announce_state:
            await self._emit("session_state_sync", trigger)
        return verdict

    async def _validation_loop(self) -> None:
        await asyncio.sleep(self._opts.initial_sync_delay)
        trigger = "initial"
        while True:
            if self._sync_enabled:
                try:
                    async with self._lock:
                        await self._validate_and_correct(trigger)
                except Exception:
                    logger.exception("periodic validation failed")
            trigger = "periodic"
            await asyncio.sleep(self._opts.validation_interval)

    # -- publishing -----------------------------------------------------------------------

    async def _publish_attributes(self) -> None:
        if self._room.connection_state != "connected":
            return  # republished on reconnect
        try:
            async with asyncio.timeout(self._opts.io_timeout):
                await self._room.set_attributes(
                    encode_attributes(self._config, ptt_pressed=self._ptt_pressed)
                )
        except Exception:
            # The next validation pass sees the stale attributes and republishes them.
            logger.exception("publishing session attributes failed")

    def _room_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "roomId": self._room.name,
            "connectionState": self._room.connection_state,
        }
        if self._turns is not None:
            seen = self._turns.observe()
            state["turnDetection"] = seen.turn_detection
            state["audioInputEnabled"] = seen.audio_input_enabled
        return state

    async def _emit(
        self, event_type: EventType, trigger: str, *, detail: str | None = None
    ) -> None:
        metrics.EVENTS.labels(event_type).inc()
        self._seq += 1
        event = SessionSyncEvent(
            type=event_type,
            seq=self._seq,
            payload=EventPayload(
                session_id=self._config.session_id,
                frontend_state=self._config,
                room_state=self._room_state(),
                timestamp=int(time.time() * 1000),
                trigger=trigger,
                detail=detail,
            ),
        )
        for callback in list(self._listeners):
            try:
                callback(event)
            except Exception:
                logger.exception("session event listener failed")
        await self._send(encode(event))

    async def _send(self, payload: bytes, destinations: tuple[str, ...] = ()) -> None:
        """Send now, or hold broadcasts in the outbox until the link is back, in order.

        Replies to one participant are not held: its request is gone with the link.
        """
        if destinations:
            if self._room.connection_state == "connected":
                try:
                    async with asyncio.timeout(self._opts.io_timeout):
                        await self._room.send_data(
                            payload, topic=self._opts.topic, destinations=destinations
                        )
                except Exception:
                    logger.exception("sending a session-sync reply failed")
            return
        self._outbox.append(payload)
        await self._flush_outbox()

    async def _flush_outbox(self) -> None:
        while self._outbox and self._room.connection_state == "connected":
            try:
                async with asyncio.timeout(self._opts.io_timeout):
                    await self._room.send_data(self._outbox[0], topic=self._opts.topic)
            except Exception:
                logger.exception("sending a session-sync event failed; kept for retry")
                return
            self._outbox.popleft()

    async def _reply(self, message: WireModel, destination: str) -> None:
        await self._send(encode(message), (destination,))

    # -- inbound: room events -------------------------------------------------------------

    def _spawn(self, coro: Any, name: str) -> None:
        if self._closed:
            coro.close()
            return
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            logger.error("session-sync task %s failed", task.get_name(), exc_info=exc)

    def on_data(self, sender: str | None, topic: str, payload: bytes) -> None:
        if topic != self._opts.topic or sender is None:
            return
        if len(self._tasks) >= 4 * self._opts.max_pending_commands:
            logger.warning("session-sync is overloaded; dropped a message from %s", sender)
            return
        self._spawn(self._gate.handle_data(sender, payload), "session-sync-data")

    def on_connection_state(self, state: ConnectionState, reason: str | None) -> None:
        self._spawn(self._handle_connection(state, reason), "session-sync-connection")

    def on_participant_joined(self, identity: str) -> None:
        if identity == self._linked:
            self._spawn(self._handle_join(identity), "session-sync-join")

    def on_participant_left(self, identity: str) -> None:
        if identity == self._linked:
            self._linked_left = True
            self._spawn(self._handle_leave(), "session-sync-leave")

    def on_participant_attributes(self, identity: str, changed: Mapping[str, str]) -> None:
        requested = changed.get(ATTR_REQUESTED_TYPE)
        if requested and identity == self._linked:
            self._spawn(self._handle_requested_type(identity, requested), "session-sync-attribute")

    async def _handle_leave(self) -> None:
        if self._ptt_pressed:
            # The release will never come: keep what was said rather than listen on.
            with contextlib.suppress(ProtocolError):
                await self.request("session.ptt_end", trigger="participant_left")
        async with self._lock:
            await self._emit("room_state_change", "participant_left")

    async def _handle_join(self, identity: str) -> None:
        async with self._lock:
            await self._publish_attributes()
            await self._reply(self.snapshot(), identity)
            trigger = "participant_rejoined" if self._linked_left else "participant_joined"
            await self._emit("room_state_change", trigger)
        await self._apply_requested_type(identity)

    async def _apply_requested_type(self, identity: str) -> None:
        """Honour a type the user asked for before the agent was listening."""
        requested = (self._room.remote_attributes(identity) or {}).get(ATTR_REQUESTED_TYPE)
        if requested:
            await self._handle_requested_type(identity, requested)

    async def _handle_connection(self, state: ConnectionState, reason: str | None) -> None:
        async with self._lock:
            if state == "reconnecting":
                await self._on_reconnecting()
            elif state == "connected":
                await self._on_reconnected()
            elif state == "disconnected":
                await self._on_disconnected(reason)

    async def _on_reconnecting(self) -> None:
        # Queued: nothing can be sent until the link is back.
        await self._emit("connection_interruption", "reconnecting")
        if self._config.state == "active":
            await self._commit(
                {"state": "syncing"}, event="room_state_change", trigger="reconnecting"
            )

    async def _on_reconnected(self) -> None:
        await self._flush_outbox()
        back_to = "active" if self._config.type is not None else "idle"
        if self._config.state == "syncing":
            await self._commit({"state": back_to}, event=None, trigger="reconnected")
        else:
            await self._publish_attributes()
        await self._send(encode(self.snapshot()))
        await self._emit("session_state_sync", "reconnected")

    async def _on_disconnected(self, reason: str | None) -> None:
        intentional = reason in INTENTIONAL_DISCONNECT_REASONS
        trigger = f"disconnected:{reason or 'UNKNOWN_REASON'}"
        if self._config.state not in LIVE_STATES:
            await self._emit("room_state_change", trigger)
            return
        await self._silence_turn_taking(trigger)
        await self._commit(
            {"state": "ending" if intentional else "error"},
            event="room_state_change",
            trigger=trigger,
            ptt_pressed=False,
        )

    # -- inbound: commands ----------------------------------------------------------------

    async def _handle_requested_type(self, sender: str, requested: str) -> None:
        method: str | None = None  # none tried yet: refusals at admission name no method
        try:
            self._gate.admit(sender, len(requested.encode()))
            if requested == self._honoured_request:
                return  # already acted on; a later command may have changed the type since
            async with self._lock:
                live = self._config.state in LIVE_STATES and self._config.type is not None
                if live and requested == self._config.type:
                    self._honoured_request = requested
                    return
                method = "session.switch" if live else "session.start"
                command = decode_params(method, {"sessionType": requested})
                await self._execute_locked(command, trigger=f"attribute:{ATTR_REQUESTED_TYPE}")
                self._honoured_request = requested
        except ProtocolError as e:
            logger.warning(
                "refused requested session type %r from %s: %s", requested, sender, e.message
            )
            await self._reply(error_reply(e, request_id=None, method=method), sender)

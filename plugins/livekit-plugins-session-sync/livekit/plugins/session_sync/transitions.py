"""What each command needs and does, as data. Pure: no asyncio, no I/O.

A command is planned from the state it finds: its preconditions are checked (raising
`ProtocolError` or `TransitionError`), and the plan lists, in order, the commits (the states
before and after), the turn-taking to apply and the events to announce. The owner runs the
plan under its lock; nothing here touches the room or the agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .models import RoomConfig, SessionType
from .plan import (
    KEEP,
    ApplyTurnTaking,
    Commit,
    Context,
    Keep,
    Plan,
    Silence,
    Step,
    UserTurn,
    target,
    type_fields,
)
from .policy import (
    check_transition,
    room_config_contradictions,
)
from .protocol import (
    ATTR_REQUESTED_TYPE,
    Command,
    ErrorCode,
    ProtocolError,
    SetMutedParams,
    SetSyncEnabledParams,
    StartSessionParams,
    SwitchSessionParams,
)
from .state import SyncState


@dataclass(frozen=True)
class RequestedType:
    """A type asked for in the user's attributes: a start or a switch, whichever the state
    it meets calls for."""

    session_type: SessionType
    method: ClassVar[str] = ATTR_REQUESTED_TYPE


Incoming = Command | RequestedType


# -- preconditions ------------------------------------------------------------------------


def _require_live(state: SyncState, action: str) -> None:
    if not state.live:
        current = state.config.state
        raise ProtocolError(
            ErrorCode.INVALID_TRANSITION,
            f"cannot {action}: no session is active (state is '{current}')",
            {"state": current, "allowed": ["session.start"]},
        )


def _require_ptt(state: SyncState, action: str) -> None:
    _require_live(state, action)
    if state.config.type != "voice-ptt":
        raise ProtocolError(
            ErrorCode.WRONG_SESSION_TYPE,
            f"cannot {action}: push-to-talk needs a 'voice-ptt' session; "
            f"this one is '{state.config.type}'",
            {"type": state.config.type, "allowed": ["voice-ptt"]},
        )


def _check_available(ctx: Context, session_type: SessionType) -> None:
    reason = ctx.unavailable(session_type)
    if reason is not None:
        raise ProtocolError(
            ErrorCode.UNAVAILABLE,
            f"this agent cannot run a {session_type} session: {reason}",
            {"type": session_type},
        )


def _check_room_config(
    room_config: RoomConfig | None, session_type: SessionType, session_id: str
) -> None:
    """Every way the app's connection settings contradict the session, reported together."""
    if room_config is None:
        return
    problems = room_config_contradictions(room_config, session_type)
    if room_config.session_id != session_id:
        problems.insert(
            0, f"roomConfig.sessionId {room_config.session_id!r} is not the session {session_id!r}"
        )
    if problems:
        raise ProtocolError(
            ErrorCode.INVALID_PARAMS,
            "roomConfig contradicts the session: " + "; ".join(problems),
            {"problems": problems},
        )


# -- plans per command --------------------------------------------------------------------


def plan_start(state: SyncState, p: StartSessionParams, ctx: Context) -> Plan:
    current = state.config
    if state.live:
        raise ProtocolError(
            ErrorCode.INVALID_TRANSITION,
            f"a {current.type} session is already {current.state}; "
            "use session.switch to change its type",
            {"state": current.state, "allowed": ["session.switch", "session.end"]},
        )
    check_transition(current.state, "syncing")
    session_id = (
        p.session_id or (p.room_config.session_id if p.room_config else None) or ctx.new_session_id
    )
    _check_room_config(p.room_config, p.session_type, session_id)
    _check_available(ctx, p.session_type)
    started = {
        **type_fields(p.session_type),
        "started_at": ctx.now,
        "is_muted": False,
        "room_id": ctx.room_name,
        "sync_attempts": 0,
        "inconsistency_detected": False,
        "last_sync_at": None,
    }
    return Plan(
        (
            Commit({"state": "syncing", "session_id": session_id}),
            ApplyTurnTaking(target(p.session_type, muted=False, ptt=False)),
            Commit(started, settle=True, ptt_pressed=False, room_config=p.room_config),
        )
    )


def plan_switch(state: SyncState, p: SwitchSessionParams, ctx: Context) -> Plan:
    _require_live(state, "switch the session type")
    current = state.config
    _check_room_config(p.room_config, p.session_type, current.session_id)
    _check_available(ctx, p.session_type)
    if p.session_type == current.type and current.state == "active":
        # Nothing to switch: keep a held press and the turn-taking as they are.
        if p.room_config is None:
            return Plan()
        return Plan((Commit({}, room_config=p.room_config),))
    # A text session has no microphone to mute; voice types keep the user's choice.
    muted = current.is_muted and p.session_type != "text"
    room_config: RoomConfig | Keep | None = KEEP if p.room_config is None else p.room_config
    old = state.room_config
    if p.room_config is None and old is not None and old.session_type != p.session_type:
        room_config = None  # the old one now contradicts the type
    # Published type and real turn-taking may differ only while the state says "syncing".
    steps: list[Step] = [Commit({"state": "syncing"})]
    if state.ptt_pressed:
        steps.append(UserTurn("end_user_turn"))
    steps.append(ApplyTurnTaking(target(p.session_type, muted=muted, ptt=False)))
    steps.append(
        Commit(
            {**type_fields(p.session_type), "is_muted": muted},
            settle=True,
            ptt_pressed=False,
            room_config=room_config,
        )
    )
    return Plan(tuple(steps))


def plan_end(state: SyncState) -> Plan:
    current = state.config
    if current.type is None and current.state == "idle":
        raise ProtocolError(
            ErrorCode.INVALID_TRANSITION,
            "cannot end: no session is active (state is 'idle')",
            {"state": "idle", "allowed": ["session.start"]},
        )
    check_transition(current.state, "ending")
    ended = {**type_fields(None), "state": "idle", "started_at": None, "is_muted": False}
    # The microphone goes off before `ending` is published: no one listens outside a session.
    return Plan(
        (
            Silence(cancel_press=state.ptt_pressed),
            Commit({"state": "ending"}),
            Commit(ended, ptt_pressed=False, room_config=None),
        )
    )


def plan_set_muted(state: SyncState, muted: bool) -> Plan:
    _require_live(state, "mute")
    if state.config.type == "text":
        raise ProtocolError(
            ErrorCode.WRONG_SESSION_TYPE,
            "mute applies to voice sessions; this session is 'text'",
            {"type": "text", "allowed": ["voice-ptt", "voice-vad"]},
        )
    return Plan(
        (
            ApplyTurnTaking(target(state.config.type, muted=muted, ptt=state.ptt_pressed)),
            Commit({"is_muted": muted}),
        )
    )


def plan_ptt_start(state: SyncState) -> Plan:
    _require_ptt(state, "start push-to-talk")
    if state.config.is_muted:
        raise ProtocolError(
            ErrorCode.INVALID_TRANSITION,
            "cannot start push-to-talk while muted; unmute first",
            {"state": state.config.state, "isMuted": True},
        )
    if state.ptt_pressed:
        return Plan()  # a repeated press is harmless
    return Plan(
        (
            UserTurn("start_user_turn"),
            ApplyTurnTaking(target("voice-ptt", muted=False, ptt=True)),
            Commit({}, ptt_pressed=True),
        )
    )


def plan_ptt_release(state: SyncState, *, cancel: bool) -> Plan:
    _require_ptt(state, "cancel push-to-talk" if cancel else "end push-to-talk")
    if not state.ptt_pressed:
        raise ProtocolError(
            ErrorCode.INVALID_TRANSITION,
            "push-to-talk is not pressed",
            {"pushToTalk": "released", "allowed": ["session.ptt_start"]},
        )
    return Plan(
        (
            ApplyTurnTaking(target("voice-ptt", muted=state.config.is_muted, ptt=False)),
            UserTurn("cancel_user_turn" if cancel else "end_user_turn"),
            Commit({}, ptt_pressed=False),
        )
    )


def plan_command(state: SyncState, command: Command, ctx: Context) -> Plan:
    """The plan for a command that changes the session (not snapshot, validate or sync)."""
    p = command.params
    match command.method:
        case "session.start" if isinstance(p, StartSessionParams):
            return plan_start(state, p, ctx)
        case "session.switch" if isinstance(p, SwitchSessionParams):
            return plan_switch(state, p, ctx)
        case "session.end":
            return plan_end(state)
        case "session.set_muted" if isinstance(p, SetMutedParams):
            return plan_set_muted(state, p.muted)
        case "session.ptt_start":
            return plan_ptt_start(state)
        case "session.ptt_end" | "session.ptt_cancel":
            return plan_ptt_release(state, cancel=command.method == "session.ptt_cancel")
        case "session.set_sync_enabled" if isinstance(p, SetSyncEnabledParams):
            return Plan((Commit({}, sync_enabled=p.enabled),))
    raise ProtocolError(ErrorCode.UNKNOWN_METHOD, f"unknown method {command.method!r}")


def resolve(state: SyncState, incoming: Incoming) -> Command | None:
    """The command to run. A type asked for in the user's attributes means, now: start or
    switch to it, or nothing when it already runs."""
    if isinstance(incoming, Command):
        return incoming
    session_type = incoming.session_type
    if state.live:
        if session_type == state.config.type:
            return None
        return Command(
            method="session.switch", params=SwitchSessionParams(session_type=session_type)
        )
    return Command(method="session.start", params=StartSessionParams(session_type=session_type))

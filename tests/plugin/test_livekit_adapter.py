"""The adapter over `livekit.rtc.Room` smooths over what the SDK shows a moment late."""

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from livekit.plugins.session_sync import LiveKitRoom
from livekit.plugins.session_sync import room as room_module


class LaggingParticipant:
    """Like the SDK: our own attributes change only when the server echoes them, and the
    room tells of the change. `ack` says whether `set_attributes` returns (the SDK hands on
    the server's acknowledgement) or waits for ever (it lost it)."""

    identity = "agent"

    def __init__(self, room: "FakeRoom", *, ack: bool = True) -> None:
        self.room = room
        self.ack = ack
        self.attributes: dict[str, str] = {}
        self.sent: list[dict[str, str]] = []

    async def set_attributes(self, attributes: dict[str, str]) -> None:
        self.sent.append(attributes)
        if not self.ack:
            await asyncio.Event().wait()

    def echo(self) -> None:
        for sent in self.sent:
            self.attributes.update(sent)
            self.room.emit("participant_attributes_changed", sent, self)
        self.sent.clear()


class FakeRoom:
    def __init__(self, *, ack: bool = True) -> None:
        self.local_participant = LaggingParticipant(self, ack=ack)
        self.handlers: dict[str, list[Callable[..., None]]] = {}

    def on(self, event: str, handler: Callable[..., None]) -> None:
        self.handlers.setdefault(event, []).append(handler)

    def off(self, event: str, handler: Callable[..., None]) -> None:
        self.handlers[event].remove(handler)

    def emit(self, event: str, *args: object) -> None:
        for handler in list(self.handlers.get(event, [])):
            handler(*args)


async def _settled() -> None:
    """Let the tasks started so far run up to their first wait."""
    for _ in range(5):
        await asyncio.sleep(0)


def _adapter(*, ack: bool = True) -> tuple[LiveKitRoom, LaggingParticipant]:
    fake_room: Any = FakeRoom(ack=ack)
    return LiveKitRoom(fake_room), fake_room.local_participant


async def test_attributes_awaiting_their_echo_are_not_reported_as_drift() -> None:
    adapter, participant = _adapter()
    await adapter.set_attributes({"session.state": "active"})
    assert adapter.local_attributes()["session.state"] == "active"
    participant.echo()
    assert adapter.local_attributes()["session.state"] == "active"


async def test_attributes_never_echoed_show_what_the_room_shows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    adapter, _ = _adapter()
    await adapter.set_attributes({"session.state": "active"})
    monkeypatch.setattr(room_module, "ECHO_GRACE_SECONDS", 0.0)
    assert "session.state" not in adapter.local_attributes()


async def test_an_update_whose_acknowledgement_the_sdk_lost_is_done_once_echoed() -> None:
    adapter, participant = _adapter(ack=False)
    setting = asyncio.create_task(adapter.set_attributes({"session.state": "ending"}))
    await _settled()
    assert participant.sent == [{"session.state": "ending"}] and not setting.done()
    participant.echo()
    await asyncio.wait_for(setting, 10)
    assert adapter.local_attributes()["session.state"] == "ending"
    assert participant.room.handlers["participant_attributes_changed"] == []


async def test_an_update_neither_acknowledged_nor_echoed_is_still_waited_for() -> None:
    adapter, participant = _adapter(ack=False)
    # Another participant's change, and an echo of something else, are not this update's.
    setting = asyncio.create_task(adapter.set_attributes({"session.state": "ending"}))
    await asyncio.sleep(0)
    other: Any = type(
        "Other", (), {"identity": "app-user", "attributes": {"session.state": "ending"}}
    )
    participant.room.emit("participant_attributes_changed", {"session.state": "ending"}, other)
    participant.attributes["session.seq"] = "4"
    participant.room.emit("participant_attributes_changed", {"session.seq": "4"}, participant)
    await _settled()
    assert not setting.done()
    setting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await setting
    assert participant.room.handlers["participant_attributes_changed"] == []


async def test_an_update_the_sdk_refuses_raises() -> None:
    adapter, participant = _adapter()

    async def refuse(attributes: dict[str, str]) -> None:
        raise RuntimeError("no permission to update own metadata")

    participant.set_attributes = refuse  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="no permission"):
        await adapter.set_attributes({"session.state": "ending"})

"""The adapter over `livekit.rtc.Room` smooths over what the SDK shows a moment late."""

from types import SimpleNamespace
from typing import Any

import pytest

from livekit.plugins.session_sync import LiveKitRoom
from livekit.plugins.session_sync import room as room_module


class LaggingParticipant:
    """Like the SDK: our own attributes change only when the server echoes them."""

    def __init__(self) -> None:
        self.attributes: dict[str, str] = {}
        self.sent: list[dict[str, str]] = []

    async def set_attributes(self, attributes: dict[str, str]) -> None:
        self.sent.append(attributes)

    def echo(self) -> None:
        for sent in self.sent:
            self.attributes.update(sent)
        self.sent.clear()


def _adapter() -> tuple[LiveKitRoom, LaggingParticipant]:
    participant = LaggingParticipant()
    fake_room: Any = SimpleNamespace(local_participant=participant)
    return LiveKitRoom(fake_room), participant


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

"""Operators can see commands, refusals and corrections in Prometheus."""

import asyncio

from prometheus_client import REGISTRY

from .conftest import Harness


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_commands_and_refusals_are_counted_by_method_and_outcome(harness: Harness) -> None:
    ok_before = _value("session_sync_commands_total", method="session.start", outcome="ok")
    bad_before = _value(
        "session_sync_commands_total", method="session.set_muted", outcome="invalid_params"
    )
    unknown_before = _value(
        "session_sync_commands_total", method="unknown", outcome="unknown_method"
    )
    await harness.client.call("session.start", {"sessionType": "voice-vad"})
    await harness.client.request("session.set_muted", {"muted": "yes"})
    await harness.client.request("session.does_not_exist")
    assert _value("session_sync_commands_total", method="session.start", outcome="ok") == (
        ok_before + 1
    )
    assert (
        _value("session_sync_commands_total", method="session.set_muted", outcome="invalid_params")
        == bad_before + 1
    )
    assert (
        _value("session_sync_commands_total", method="unknown", outcome="unknown_method")
        == unknown_before + 1
    )


async def test_corrections_are_counted_by_check(harness: Harness) -> None:
    before = _value("session_sync_inconsistencies_total", check="audio_input")
    await harness.client.call("session.start", {"sessionType": "voice-vad"})
    harness.turns.audio_input_enabled = False
    await harness.client.call("session.validate")
    assert _value("session_sync_inconsistencies_total", check="audio_input") == before + 1


async def test_types_requested_by_attribute_are_counted_like_commands(harness: Harness) -> None:
    name = "session_sync_commands_total"
    ok_before = _value(name, method="session.requestedType", outcome="ok")
    bad_before = _value(name, method="session.requestedType", outcome="invalid_params")
    await harness.user_room.set_attributes({"session.requestedType": "voice-vad"})
    await harness.settle()
    await harness.user_room.set_attributes({"session.requestedType": "hologram"})
    await harness.settle()
    assert _value(name, method="session.requestedType", outcome="ok") == ok_before + 1
    assert _value(name, method="session.requestedType", outcome="invalid_params") == bad_before + 1


async def test_a_rate_limited_attribute_is_counted_as_the_attribute(harness: Harness) -> None:
    name = "session_sync_commands_total"
    before = _value(name, method="session.requestedType", outcome="rate_limited")
    # Sixty changes at once, against a burst of 20: most are refused by the rate limit.
    sets = [harness.user_room.set_attributes({"session.requestedType": f"t{i}"}) for i in range(60)]
    await asyncio.gather(*sets)
    await harness.settle()
    assert _value(name, method="session.requestedType", outcome="rate_limited") > before + 10

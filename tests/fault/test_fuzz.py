"""Hostile input over data, RPC and the attribute: nothing escapes, every input is answered
once, and what is refused changes nothing (the benchmark runs 100,000)."""

from support.faults.fuzz import fuzz


async def test_two_thousand_hostile_inputs_are_answered_and_change_nothing() -> None:
    report = await fuzz(2000, seed=20261126)
    assert report.ok, report.problems()
    assert report.by_path["data"] and report.by_path["rpc"] and report.by_path["attribute"]
    assert report.refused > report.accepted > 0

"""Links drop and come back, some during a press and some during a switch; after every cycle
the agent, its attributes and the app agree (the benchmark runs 1,000 cycles)."""

from support.faults.reconnect import reconnect_cycles


async def test_fifty_reconnect_cycles_leave_no_mismatch() -> None:
    report = await reconnect_cycles(50, seed=20261126)
    assert report.ok, report.mismatched[:5] + report.escaped[:5]
    kinds = " ".join(report.kinds)
    assert "during press" in kinds and "during switch" in kinds
    assert "full" in kinds and "resume" in kinds

"""An app following the contract converges through a link that drops, duplicates and
reorders the agent's data (the benchmark runs more trials)."""

from support.faults.loss import loss_trials


async def test_a_following_app_converges_in_every_trial_despite_loss() -> None:
    report = await loss_trials(50, seed=20261126)
    assert report.ok, report.diverged[:5] + report.escaped[:5]
    faults = report.faults
    assert faults.dropped and faults.duplicated and faults.reordered
    assert report.gaps and report.snapshots  # the losses were noticed and repaired

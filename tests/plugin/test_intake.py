"""The intake: a lone message goes straight in; a burst waits its turn in slices."""

from __future__ import annotations

import asyncio

from livekit.plugins.session_sync.intake import Handler, Intake


async def _no_pause() -> None:
    await asyncio.sleep(0)


def _intake(*, backed_up: bool = False) -> tuple[Intake, list[str]]:
    dropped: list[str] = []
    intake = Intake(
        _no_pause,
        on_dropped=lambda sender: dropped.append(str(sender)),
        backed_up=lambda: backed_up,
    )
    intake.start()
    return intake, dropped


def _recorder(let_in: list[str], name: str) -> Handler:
    def handler() -> bool:
        let_in.append(name)
        return False

    return handler


async def _drain(intake: Intake) -> None:
    for _ in range(100):
        if not intake.waiting:
            return
        await asyncio.sleep(0)
    raise AssertionError("the intake never drained")


async def test_a_lone_message_is_let_in_before_put_returns() -> None:
    intake, _ = _intake()
    let_in: list[str] = []
    assert intake.put(("user", "data"), 10, _recorder(let_in, "a"))
    assert let_in == ["a"]
    assert intake.waiting == 0
    intake.cancel()


async def test_a_burst_in_one_turn_lets_one_in_and_queues_the_rest_in_order() -> None:
    intake, _ = _intake()
    let_in: list[str] = []
    for name in ("a", "b", "c"):
        intake.put(("user", "data"), 10, _recorder(let_in, name))
    assert let_in == ["a"]
    assert intake.waiting == 2
    await _drain(intake)
    assert let_in == ["a", "b", "c"]
    intake.cancel()


async def test_a_message_waits_behind_another_senders_waiting_messages() -> None:
    intake, _ = _intake()
    let_in: list[str] = []
    intake.put(("stranger", "data"), 10, _recorder(let_in, "s1"))
    intake.put(("stranger", "data"), 10, _recorder(let_in, "s2"))
    await asyncio.sleep(0)  # the next turn: a lone message could go straight in again
    intake.put(("stranger", "data"), 10, _recorder(let_in, "s3"))
    intake.put(("user", "rpc"), 10, _recorder(let_in, "u1"))
    assert let_in[0] == "s1"
    assert "u1" not in let_in  # others wait, so it takes its turn in the round robin
    await _drain(intake)
    assert sorted(let_in) == ["s1", "s2", "s3", "u1"]
    assert let_in.index("s2") < let_in.index("s3")
    intake.cancel()


async def test_one_message_per_turn_goes_straight_in() -> None:
    intake, _ = _intake()
    let_in: list[str] = []
    for turn in range(3):
        intake.put(("user", "data"), 10, _recorder(let_in, f"m{turn}"))
        assert let_in[-1] == f"m{turn}"
        await asyncio.sleep(0)
    intake.cancel()


async def test_nothing_goes_straight_in_while_replies_are_backed_up() -> None:
    intake, _ = _intake(backed_up=True)
    let_in: list[str] = []
    intake.put(("user", "data"), 10, _recorder(let_in, "a"))
    assert let_in == []
    await _drain(intake)
    assert let_in == ["a"]
    intake.cancel()


async def test_a_closed_intake_lets_nothing_in() -> None:
    intake, _ = _intake()
    intake.cancel()
    let_in: list[str] = []
    intake.put(("user", "data"), 10, _recorder(let_in, "a"))
    await asyncio.sleep(0)
    assert let_in == []


async def test_a_failing_handler_is_logged_and_the_next_message_still_goes_in() -> None:
    intake, _ = _intake()
    let_in: list[str] = []

    def broken() -> bool:
        raise RuntimeError("boom")

    intake.put(("user", "data"), 10, broken)
    await asyncio.sleep(0)
    intake.put(("user", "data"), 10, _recorder(let_in, "b"))
    assert let_in == ["b"]
    intake.cancel()

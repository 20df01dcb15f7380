"""Console slash commands send what an app sends, and let a person walk the seed's scenarios."""

from agent.console import ConsoleCommands

from .conftest import Worker


def _console(worker: Worker) -> ConsoleCommands:
    return ConsoleCommands(worker.client, agent_room=worker.agent_room, turns=worker.turns)


async def test_slash_commands_drive_the_session_like_an_app(make_worker) -> None:
    worker: Worker = await make_worker("text")
    console = _console(worker)
    assert "type=voice-ptt state=active" in await console.execute("/type voice-ptt")
    await console.execute("/ptt start")
    assert "pushToTalk=pressed" in await console.execute("/status")
    await console.execute("/ptt cancel")
    assert "muted=true" in await console.execute("/mute")
    assert '"isValid": true' in await console.execute("/validate")
    assert "state=idle" in await console.execute("/end")


async def test_console_refusals_are_shown_not_raised(make_worker) -> None:
    worker: Worker = await make_worker("text")
    console = _console(worker)
    assert "refused (2412)" in await console.execute("/ptt start")
    assert "refused (2422)" in await console.execute("/type hologram")
    assert "usage" in await console.execute("/ptt sideways")
    assert "unknown command" in await console.execute("/teleport")


async def test_interrupt_walks_the_reconnect_scenario(make_worker) -> None:
    worker: Worker = await make_worker("voice-vad")
    answer = await _console(worker).execute("/interrupt 0.05")
    await worker.settle()
    assert "link restored" in answer and "state=active" in answer
    triggers = [e["payload"]["trigger"] for e in worker.client.events]
    assert "reconnecting" in triggers and triggers[-1] == "reconnected"


async def test_drift_is_found_and_repaired_by_validate(make_worker) -> None:
    worker: Worker = await make_worker("voice-vad")
    console = _console(worker)
    assert "microphone now off" in await console.execute("/drift")
    assert '"isValid": false' in await console.execute("/validate")
    assert worker.session.input.audio_enabled is True

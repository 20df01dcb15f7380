"""The seed's basic scenario from the app's side, in a room of the cluster."""

from __future__ import annotations

from typing import Any

from support.e2e_app import App


def session_ended(snapshot: dict[str, Any]) -> bool:
    return bool(snapshot["session"]["state"] == "idle")


def text_session_started(snapshot: dict[str, Any]) -> bool:
    session = snapshot["session"]
    return bool(session["state"] == "active" and session["type"] == "text")


async def basic_session_sync(app: App) -> None:
    """A text session followed, ended, started again, synced and ended. A command whose reply
    LiveKit lost is read back from a snapshot, and sent again only if it did not run, as an
    app does (protocol 6.4)."""
    await app.until(lambda: app.client.session()["state"] == "active", "the first session")
    ended = await app.call("session.end", ran=session_ended)
    assert (ended["state"], ended["type"]) == ("idle", None), ended
    started = await app.call("session.start", {"sessionType": "text"}, ran=text_session_started)
    assert (started["type"], started["state"], started["turnDetection"]) == (
        "text",
        "active",
        "none",
    ), started
    await app.until(
        lambda: app.client.agent_attributes().get("session.revision") == str(started["revision"]),
        "the attributes to show the started session",
    )
    synced = await app.call("session.sync", {"trigger": "scenario"})
    assert synced["revision"] > started["revision"], (started, synced)
    await app.until(lambda: "scenario" in app.triggers(), "the sync event")
    ended = await app.call("session.end", ran=session_ended)
    assert (ended["state"], ended["type"]) == ("idle", None), ended
    await app.until(
        lambda: app.client.agent_attributes().get("session.state") == "idle",
        "the attributes to show the session ended",
    )

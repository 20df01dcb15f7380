"""On a real server an RPC reply can reach the app before the events its command caused
(protocol 8.8). An app that follows the contract keeps the reply's session and still takes
the late events in `seq` order, with no gap and no extra snapshot."""

from __future__ import annotations

from livekit.plugins.session_sync.testing import QuietListener, SessionFollower, eventually

from .conftest import AGENT, Harness


class HeldLink(QuietListener):
    """The app's data path, held back until released: the RPC reply overtakes it."""

    def __init__(self) -> None:
        self.held: list[tuple[str | None, str, bytes]] = []

    def on_data(self, sender: str | None, topic: str, payload: bytes) -> None:
        self.held.append((sender, topic, payload))

    def release_to(self, follower: SessionFollower) -> list[int | None]:
        revisions = []
        for packet in self.held:
            follower.on_data(*packet)
            revisions.append(follower.revision)
        self.held.clear()
        return revisions


async def test_a_reply_that_overtakes_its_events_is_kept_and_the_events_follow_by_seq(
    harness: Harness,
) -> None:
    link = HeldLink()
    harness.user_room.subscribe(link)
    follower = SessionFollower(harness.user_room, AGENT, subscribe=False)
    follower.start()
    await eventually(lambda: follower.idle and follower.last_seq is not None, message="a snapshot")
    link.release_to(follower)
    before_seq, snapshots = follower.last_seq, follower.snapshots
    assert before_seq is not None

    result = await follower.call("session.start", {"sessionType": "voice-ptt"})
    await harness.settle()
    assert link.held, "the command's events should still be on their way"
    assert follower.session == result  # the reply is applied at once

    # The late events (`syncing`, then `active`) never move the session back.
    assert link.release_to(follower) == [result["revision"]] * 2
    assert follower.session == result
    assert follower.last_seq == before_seq + 2
    assert (follower.gaps, follower.snapshots) == (0, snapshots)

    pressed = await follower.call("session.ptt_start")
    await harness.settle()
    assert follower.session == pressed and pressed["revision"] == result["revision"] + 1
    link.release_to(follower)
    assert (follower.last_seq, follower.gaps, follower.snapshots) == (before_seq + 3, 0, snapshots)
    await follower.aclose()

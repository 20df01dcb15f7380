"""The recorder behind the seed type check keeps every distinct form of a message."""

import json

from support.wire_samples import Recorder, kind_of_data


def _event(**frontend_state: object) -> str:
    config = {"sessionId": "s", "revision": 1, "type": None, "state": "idle", **frontend_state}
    return json.dumps(
        {"type": "session_state_sync", "seq": 1, "payload": {"frontendState": config}}
    )


def test_a_message_with_a_null_where_another_had_a_value_is_kept_as_its_own_sample() -> None:
    recorder = Recorder()
    recorder.add("event:session_state_sync", "InMemoryRoom", _event(voiceMode="continuous"))
    recorder.add("event:session_state_sync", "InMemoryRoom", _event(voiceMode="push-to-talk"))
    recorder.add("event:session_state_sync", "InMemoryRoom", _event(voiceMode=None))
    recorder.add("event:session_state_sync", "InMemoryRoom", _event())
    kept = [s["text"] for s in recorder.samples["event:session_state_sync"]]
    assert kept == [
        _event(voiceMode="continuous"),
        _event(voiceMode=None),
        _event(),
    ]
    assert recorder.seen == {"event:session_state_sync": 4}


def test_each_room_keeps_its_own_samples() -> None:
    recorder = Recorder()
    recorder.add("snapshot", "InMemoryRoom", '{"type":"snapshot"}')
    recorder.add("snapshot", "LiveKitRoom", '{"type":"snapshot"}')
    assert [s["transport"] for s in recorder.samples["snapshot"]] == ["InMemoryRoom", "LiveKitRoom"]


def test_messages_are_sorted_by_type_and_replies_by_method() -> None:
    assert kind_of_data({"type": "room_state_change"}) == "event:room_state_change"
    assert kind_of_data({"type": "ack", "method": "session.end"}) == "ack:session.end"
    assert kind_of_data({"type": "error"}) == "error"
    assert kind_of_data({"type": "snapshot"}) == "snapshot"

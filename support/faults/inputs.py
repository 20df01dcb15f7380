"""Seeded inputs built to break the agent, over its three ways in: data messages, RPC and the
`session.requestedType` attribute. Each says whether it can only be refused (`invalid`) or
is a well-formed command that the session's state decides on."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any, Literal

from livekit.plugins.session_sync import MAX_PACKET_BYTES, METHODS

Path = Literal["data", "rpc", "attribute"]

TYPES = ("text", "voice-ptt", "voice-vad")
WRONG_VALUES: tuple[Any, ...] = (None, 0, 1, -1, 1.5, True, False, "", "x", [], {}, ["text"])
SNAKE = {"sessionType": "session_type", "sessionId": "session_id", "roomConfig": "room_config"}


@dataclass(frozen=True)
class Input:
    path: Path
    kind: str
    payload: bytes | str
    method: str | None = None  # the RPC method called
    invalid: bool = True
    """True: refused whatever the session's state. False: well-formed, the state decides."""


def valid_params(rng: random.Random, method: str) -> dict[str, Any]:
    if method in ("session.start", "session.switch"):
        return {"sessionType": rng.choice(TYPES)}
    if method == "session.set_muted":
        return {"muted": rng.random() < 0.5}
    if method == "session.sync":
        return {"trigger": rng.choice(["manual", "fuzz", "é✓"])}
    if method == "session.set_sync_enabled":
        return {"enabled": rng.random() < 0.5}
    return {}


def _request(rid: str, method: str, params: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "request", "id": rid, "method": method, "params": params, "v": 1, **extra}


def _bad_params(rng: random.Random, method: str) -> dict[str, Any]:
    """Params that no state accepts."""
    params = valid_params(rng, method)
    choice = rng.randrange(5)
    if choice == 0 or not params:
        params = {
            **params,
            rng.choice(["extra", "muted2", "x" * 70, "🙂"]): rng.choice(WRONG_VALUES),
        }
    elif choice == 1:
        key = next(iter(params))
        valid = params[key]
        wrong = [v for v in WRONG_VALUES if type(v) is not type(valid)] + ["", "hologram"]
        params = {**params, key: rng.choice(wrong if isinstance(valid, str) else wrong[:-2])}
        if params[key] == "hologram" and key != "sessionType":
            params[key] = ""
    elif choice == 2:
        params = {SNAKE.get(k, k + "_x"): v for k, v in params.items()}
    elif choice == 3 and method in ("session.start", "session.switch"):
        params = {}  # sessionType is required
    else:
        long_value = "s" * rng.choice([129, 500])
        params = {**params, "sessionId" if method == "session.start" else "trigger": long_value}
        if method not in ("session.start", "session.sync"):
            params["unknownField"] = True
    return params


def _nested(rng: random.Random) -> str:
    depth = rng.choice([33, 64, 1000, 5000])
    if rng.random() < 0.5:
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


def data_input(rng: random.Random, n: int) -> Input:
    rid = f"fz-{n}"
    method = rng.choice(METHODS)
    kind = rng.choice(KINDS)
    if kind == "valid":
        body = _request(rid, method, valid_params(rng, method))
        return Input("data", kind, json.dumps(body).encode(), invalid=False)
    if kind == "random_bytes":
        return Input("data", kind, rng.randbytes(rng.randrange(0, 300)))
    if kind == "truncated_json":
        text = json.dumps(_request(rid, method, valid_params(rng, method)))
        return Input("data", kind, text[: rng.randrange(0, len(text) - 1)].encode())
    if kind == "corrupted_json":
        chars = list(json.dumps(_request(rid, method, valid_params(rng, method))))
        for _ in range(rng.randrange(1, 4)):
            chars[rng.randrange(len(chars))] = rng.choice('{}[]",:\\\x00 ')
        payload = "".join(chars)
        try:
            json.loads(payload)
            return Input("data", kind, b"\x00" + payload.encode())  # still JSON: break it
        except ValueError:
            return Input("data", kind, payload.encode())
    if kind == "deep_nesting":
        return Input("data", kind, _nested(rng).encode())
    if kind == "huge":
        size = MAX_PACKET_BYTES + rng.randrange(1, 40_000)
        field = rng.choice(["id", "method", "params"])
        body = _request(rid, method, valid_params(rng, method))
        body[field] = {"k": "h" * size} if field == "params" else "h" * size
        return Input("data", kind, json.dumps(body).encode())
    if kind == "wrong_types":
        body = _request(rid, method, valid_params(rng, method))
        field = rng.choice(["type", "id", "method", "params", "v"])
        wrong = [v for v in WRONG_VALUES if not isinstance(v, str) or v == ""]
        body[field] = rng.choice([v for v in wrong if not isinstance(v, dict) or field != "params"])
        if field == "v" and body["v"] == 1:  # True == 1 in Python; JSON true is not 1
            body["v"] = "1"
        if field == "method" and body["method"] in METHODS:
            body["method"] = 7
        return Input("data", kind, json.dumps(body).encode())
    if kind == "not_an_object":
        return Input("data", kind, json.dumps(rng.choice((*WRONG_VALUES[:-2], ["a"]))).encode())
    if kind == "unknown_method":
        name = rng.choice(["session.reboot", "session.Start", "session.start ", "", "🙂" * 40])
        return Input("data", kind, json.dumps(_request(rid, name, {})).encode())
    if kind == "bad_params":
        body = _request(rid, method, _bad_params(rng, method))
        return Input("data", kind, json.dumps(body).encode())
    if kind == "lone_surrogate":
        body = _request(rid, method, valid_params(rng, method))
        where = rng.choice(["id", "method", "key", "value"])
        if where in ("id", "method"):
            body[where] = "\udc80" + str(body[where])
        elif where == "key":
            body["params"] = {"\ud800": 1}
        else:
            body["params"] = {"trigger": "\udfff"}
        return Input("data", kind, json.dumps(body).encode())
    if kind == "snake_case":
        body = _request(rid, "session.start", {"session_type": rng.choice(TYPES)})
        if rng.random() < 0.5:
            body = {"type": "request", "request_id": rid, "method": method, "params": {}}
        return Input("data", kind, json.dumps(body).encode())
    if kind == "encoding":
        text = json.dumps(_request(rid, method, valid_params(rng, method)))
        codec = rng.choice(["bom", "utf-16", "utf-32", "latin-1-high"])
        if codec == "bom":
            return Input("data", kind, b"\xef\xbb\xbf" + text.encode())
        if codec == "latin-1-high":
            return Input("data", kind, text.replace("session", "s\xe9ssion").encode("latin-1"))
        return Input("data", kind, text.encode(codec))
    if kind == "envelope":
        body = _request(rid, method, valid_params(rng, method))
        change = rng.randrange(4)
        if change == 0:
            body["v"] = rng.choice([0, 2, 99, -1])
        elif change == 1:
            body["extra"] = 1
        elif change == 2:
            body["type"] = rng.choice(["ack", "error", "snapshot", "REQUEST", "session_state_sync"])
        else:
            body["id"] = rng.choice(["", "i" * 65])
        return Input("data", kind, json.dumps(body).encode())
    raise AssertionError(kind)


def rpc_input(rng: random.Random) -> Input:
    method = rng.choice(METHODS)
    kind = rng.choice(KINDS)
    if kind == "valid":
        params = valid_params(rng, method)
        payload = json.dumps(params) if params or rng.random() < 0.5 else rng.choice(["", " "])
        return Input("rpc", kind, payload, method, invalid=False)
    if kind == "unknown_method":
        return Input("rpc", kind, "{}", rng.choice(["session.reboot", "session.Start", "x"]))
    if kind in ("random_bytes", "encoding"):
        raw = rng.randbytes(rng.randrange(1, 200)).decode("utf-8", "replace")
        if kind == "encoding":
            raw = "\ufeff" + json.dumps(valid_params(rng, method))
        if raw.strip() == "":
            raw = "?"
        return Input("rpc", kind, raw, method)
    if kind == "deep_nesting":
        return Input("rpc", kind, _nested(rng), method)
    if kind == "huge":
        return Input("rpc", kind, json.dumps({"k": "h" * (MAX_PACKET_BYTES + 1)}), method)
    if kind in ("wrong_types", "not_an_object"):
        value = rng.choice([v for v in WRONG_VALUES if not isinstance(v, dict)])
        return Input("rpc", kind, json.dumps(value), method)
    if kind == "lone_surrogate":
        payload = rng.choice(['{"trigger": "\\ud800"}', '{"\\udfff": 1}', '"\\udc00"'])
        return Input("rpc", kind, payload, method)
    if kind == "snake_case":
        return Input("rpc", kind, json.dumps({"session_type": "text"}), "session.start")
    if kind in ("truncated_json", "corrupted_json"):
        text = json.dumps({"a": [1, 2, {"b": "c"}]})
        return Input("rpc", kind, text[: rng.randrange(1, len(text) - 1)], method)
    # bad_params, envelope
    return Input("rpc", kind, json.dumps(_bad_params(rng, method)), method)


def attribute_input(rng: random.Random) -> Input:
    roll = rng.random()
    if roll < 0.25:
        return Input("attribute", "valid", rng.choice(TYPES), invalid=False)
    if roll < 0.3:
        return Input("attribute", "huge", "v" * (MAX_PACKET_BYTES + rng.randrange(1, 30_000)))
    value = rng.choice(
        [
            "Text",
            "voice_ptt",
            " text",
            "text ",
            "text\x00",
            "none",
            "null",
            '"text"',
            "voice-ptt\ufeff",
            "\ufefftext",
            "🙂",
            rng.randbytes(rng.randrange(1, 40)).decode("utf-8", "replace"),
            "x" * rng.randrange(1, 3000),
        ]
    )
    return Input("attribute", "wrong_value", value or "?")


KINDS = (
    "valid",
    "random_bytes",
    "truncated_json",
    "corrupted_json",
    "deep_nesting",
    "huge",
    "wrong_types",
    "not_an_object",
    "unknown_method",
    "bad_params",
    "lone_surrogate",
    "snake_case",
    "encoding",
    "envelope",
)


def inputs(seed: int, count: int) -> list[Input]:
    """`count` inputs, about 60% data, 30% RPC and 10% attribute."""
    rng = random.Random(seed)
    made: list[Input] = []
    for n in range(count):
        roll = rng.random()
        if roll < 0.6:
            made.append(data_input(rng, n))
        elif roll < 0.9:
            made.append(rpc_input(rng))
        else:
            made.append(attribute_input(rng))
    return made

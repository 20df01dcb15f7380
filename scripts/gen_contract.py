"""Write the session-sync contract from the plugin's pydantic models.

The plugin's models are the single source of the wire protocol. This script writes:

- `docs/schema/*.schema.json`: one JSON Schema per message (draft 2020-12), plus
  `session-sync.schema.json`, which holds every message under `$defs`;
- `docs/schema/protocol.json`: the constants (version, topic, methods with their params and
  result, error codes with their RPC codes, attribute keys);
- `clients/ts/src/generated/`: TypeScript types and constants made from those files by
  `clients/ts/scripts/gen-types.mjs` (json-schema-to-typescript, pinned in the client's
  package-lock);
- the same TypeScript in `docs/protocol.md` (section 10), between its two marker lines.

    uv run python scripts/gen_contract.py           # write
    uv run python scripts/gen_contract.py --check   # exit 1 if the committed files differ

Outbound messages are described as the agent sends them (as `model_dump(by_alias=True)`
writes it: every field present, except those left out when they have no value, which are
optional and never `null`); inbound ones (requests, params, `RoomConfig` as sent by the app)
as the agent accepts them (fields with defaults optional).
"""

from __future__ import annotations

import argparse
import difflib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema

from livekit.plugins.session_sync import models, protocol
from livekit.plugins.session_sync.attributes import SessionAttributes

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = ROOT / "docs" / "schema"
TS_DIR = ROOT / "clients" / "ts"
GENERATED_DIR = TS_DIR / "src" / "generated"
PROTOCOL_MD = ROOT / "docs" / "protocol.md"
TYPES_BEGIN = "<!-- TypeScript below: written by scripts/gen_contract.py, do not edit by hand -->"
TYPES_END = "<!-- TypeScript above -->"
SCHEMA_ID = "https://session-sync.invalid/schema/"

# What each method returns in `ack.result` (and as the RPC response). The agent returns its
# `SessionConfig` for every command except these two; `_check_methods` keeps this in step
# with `protocol.PARAMS_BY_METHOD`.
RESULT_OF: dict[str, str] = {"session.snapshot": "Snapshot", "session.validate": "ValidationResult"}

# Models that appear both as the app sends them and as the agent sends them back get two
# names. Pydantic calls them `X-Input` / `X-Output`; these are the names the contract uses.
RENAMES = {
    "RoomConfig-Input": "RoomConfig",
    "RoomConfig-Output": "StoredRoomConfig",
    "AudioSettings-Input": "AudioSettings",
    "AudioSettings-Output": "StoredAudioSettings",
}

# (file stem, model, mode): every message and every model an app handles on its own.
OUTBOUND: list[tuple[str, type[BaseModel]]] = [
    ("session-config", models.SessionConfig),
    ("room-state", models.RoomState),
    ("validation-result", models.ValidationResult),
    ("session-sync-event", protocol.SessionSyncEvent),
    ("snapshot", protocol.Snapshot),
    ("ack", protocol.Ack),
    ("error-reply", protocol.ErrorReply),
    ("session-attributes", SessionAttributes),
]
INBOUND: list[tuple[str, type[BaseModel]]] = [
    ("room-config", models.RoomConfig),
    ("request", protocol.RequestEnvelope),
]


def _omitted_when_none(field: Any) -> bool:
    return field.get("serialization_exclude_if") is not None


class WireJsonSchema(GenerateJsonSchema):
    """Serialization mode, as the agent sends: every field is present, except those left out
    when they have no value (`models.omitted_when_none`), which are optional and never null."""

    def field_is_required(self, field: Any, total: bool) -> bool:
        if self.mode == "serialization":
            return not _omitted_when_none(field)
        return super().field_is_required(field, total)

    def model_field_schema(self, schema: Any) -> Any:
        value = super().model_field_schema(schema)
        if self.mode != "serialization" or not _omitted_when_none(schema):
            return value
        value = {k: v for k, v in value.items() if k != "default"}
        options = [o for o in value.pop("anyOf", []) if o != {"type": "null"}]
        if len(options) == 1:
            return {**options[0], **value}
        return {**value, "anyOf": options} if options else value


def _params_models() -> list[tuple[str, type[BaseModel]]]:
    seen: dict[type[BaseModel], str] = {}
    for method, params in protocol.PARAMS_BY_METHOD.items():
        seen.setdefault(params, method)
    return [(params.__name__, params) for params in seen]


def _check_methods() -> None:
    # `protocol.Method`, where the plugin declares it, must name the same methods.
    declared = getattr(protocol, "Method", None)
    if declared is not None and set(get_args(declared)) != set(protocol.PARAMS_BY_METHOD):
        raise SystemExit(
            "protocol.Method and PARAMS_BY_METHOD disagree: "
            f"{sorted(set(get_args(declared)) ^ set(protocol.PARAMS_BY_METHOD))}"
        )
    unknown = set(RESULT_OF) - set(protocol.PARAMS_BY_METHOD)
    if unknown:
        raise SystemExit(f"RESULT_OF names methods the protocol does not have: {sorted(unknown)}")


def _strip_titles(node: Any, *, top: bool) -> Any:
    """Drop pydantic's property titles ("Session Id"); keep the model titles, which name types."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "title" and not top:
                continue
            if key == "$defs":
                out[key] = {k: _strip_titles(v, top=True) for k, v in value.items()}
            elif key == "properties":
                out[key] = {k: _strip_titles(v, top=False) for k, v in value.items()}
            else:
                out[key] = _strip_titles(value, top=False)
        return out
    if isinstance(node, list):
        return [_strip_titles(v, top=False) for v in node]
    return node


def _rename_refs(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                name = value.rsplit("/", 1)[-1]
                value = f"#/$defs/{RENAMES.get(name, name)}"
            out[key] = _rename_refs(value)
        return out
    if isinstance(node, list):
        return [_rename_refs(v) for v in node]
    return node


def build_defs() -> dict[str, Any]:
    """Every model of the protocol, under its contract name."""
    entries: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        *((m, "serialization") for _, m in OUTBOUND),
        *((m, "validation") for _, m in INBOUND),
        *((m, "validation") for _, m in _params_models()),
    ]
    _, combined = models_json_schema(
        entries, ref_template="#/$defs/{model}", schema_generator=WireJsonSchema
    )
    defs: dict[str, Any] = {}
    for name, schema in combined["$defs"].items():
        contract_name = RENAMES.get(name, name)
        schema = dict(schema)
        schema["title"] = contract_name
        defs[contract_name] = schema
    defs = _rename_refs(_strip_titles({"$defs": defs}, top=False))["$defs"]
    return dict(sorted(defs.items()))


def _reachable(defs: dict[str, Any], name: str) -> dict[str, Any]:
    needed: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                target = ref.rsplit("/", 1)[-1]
                if target not in needed:
                    needed.add(target)
                    walk(defs[target])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(defs[name])
    needed.discard(name)
    return {k: defs[k] for k in sorted(needed)}


def _message_schema(defs: dict[str, Any], name: str, stem: str) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_ID}{stem}.schema.json",
        **defs[name],
    }
    sub = _reachable(defs, name)
    if sub:
        schema["$defs"] = sub
    return schema


def _contract_name(model: type[BaseModel], mode: Literal["in", "out"]) -> str:
    name = model.__name__
    if mode == "in" and f"{name}-Input" in RENAMES:
        return RENAMES[f"{name}-Input"]
    if mode == "out" and f"{name}-Output" in RENAMES:
        return RENAMES[f"{name}-Output"]
    return name


def protocol_constants() -> dict[str, Any]:
    return {
        "version": protocol.PROTOCOL_VERSION,
        "topic": protocol.TOPIC,
        "maxPacketBytes": protocol.MAX_PACKET_BYTES,
        "methods": {
            method: {
                "params": params.__name__,
                "result": RESULT_OF.get(method, "SessionConfig"),
                "repeatable": method in protocol.REPEATABLE_METHODS,
            }
            for method, params in protocol.PARAMS_BY_METHOD.items()
        },
        "eventTypes": list(get_args(protocol.EventType)),
        "errorCodes": {code.value: protocol.rpc_code(code) for code in protocol.ErrorCode},
        "replyLostRpcCodes": sorted(protocol.REPLY_LOST_RPC_CODES),
        "attributes": {
            "config": protocol.ATTR_CONFIG,
            "revision": protocol.ATTR_REVISION,
            "id": protocol.ATTR_ID,
            "type": protocol.ATTR_TYPE,
            "state": protocol.ATTR_STATE,
            "turnDetection": protocol.ATTR_TURN_DETECTION,
            "muted": protocol.ATTR_MUTED,
            "pushToTalk": protocol.ATTR_PUSH_TO_TALK,
            "protocol": protocol.ATTR_PROTOCOL,
            "seq": protocol.ATTR_SEQ,
            "requestedType": protocol.ATTR_REQUESTED_TYPE,
        },
        "sessionTypes": list(get_args(models.SessionType)),
        "sessionStates": list(get_args(models.SessionState)),
    }


def _dump(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def write_schema(out: Path) -> None:
    _check_methods()
    defs = build_defs()
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Any] = {}
    for stem, model in OUTBOUND:
        files[stem] = _message_schema(defs, _contract_name(model, "out"), stem)
    for stem, model in INBOUND:
        files[stem] = _message_schema(defs, _contract_name(model, "in"), stem)
    messages = ["SessionSyncEvent", "Snapshot", "Ack", "ErrorReply", "RequestEnvelope"]
    files["session-sync"] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_ID}session-sync.schema.json",
        "title": "SessionSyncMessage",
        "description": "Any message on the session-sync data topic.",
        "oneOf": [{"$ref": f"#/$defs/{name}"} for name in messages],
        "$defs": defs,
    }
    for stem, schema in files.items():
        (out / f"{stem}.schema.json").write_text(_dump(schema))
    (out / "protocol.json").write_text(_dump(protocol_constants()))


def write_types(schema_dir: Path, out: Path) -> None:
    script = TS_DIR / "scripts" / "gen-types.mjs"
    if not (TS_DIR / "node_modules" / "json-schema-to-typescript").is_dir():
        raise SystemExit("clients/ts has no node_modules: run `npm ci --prefix clients/ts` first")
    subprocess.run(["node", str(script), str(schema_dir), str(out)], check=True, cwd=TS_DIR)


def doc_types(types_dir: Path) -> str:
    """The generated TypeScript as the protocol document shows it: one block, no banners."""
    parts = []
    for name in ("messages.ts", "protocol.ts"):
        lines = (types_dir / name).read_text().splitlines()
        skip = ("/* eslint-disable", "// Generated from", "import type ")
        parts.append("\n".join(line for line in lines if not line.startswith(skip)).strip("\n"))
    return "```typescript\n" + "\n\n".join(parts) + "\n```"


def with_doc_types(text: str, block: str) -> str:
    head, begin, rest = text.partition(TYPES_BEGIN)
    _, end, tail = rest.partition(TYPES_END)
    if not (begin and end):
        raise SystemExit(f"{PROTOCOL_MD} lacks the lines {TYPES_BEGIN!r} and {TYPES_END!r}")
    return f"{head}{TYPES_BEGIN}\n\n{block}\n\n{TYPES_END}{tail}"


def _diff_doc(types_dir: Path) -> list[str]:
    committed = PROTOCOL_MD.read_text()
    fresh = with_doc_types(committed, doc_types(types_dir))
    if fresh == committed:
        return []
    label = "docs/protocol.md"
    return [
        "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                fresh.splitlines(keepends=True),
                f"{label} (committed)",
                f"{label} (models)",
            )
        )
    ]


def _diff(expected: Path, actual: Path, label: str) -> list[str]:
    problems: list[str] = []
    want = {p.name for p in expected.iterdir()} if expected.is_dir() else set()
    have = {p.name for p in actual.iterdir()} if actual.is_dir() else set()
    for name in sorted(want | have):
        if name not in have:
            problems.append(f"{label}/{name}: should be written")
            continue
        if name not in want:
            problems.append(f"{label}/{name}: is not produced by the models any more")
            continue
        a = (actual / name).read_text().splitlines(keepends=True)
        b = (expected / name).read_text().splitlines(keepends=True)
        if a != b:
            diff = "".join(
                difflib.unified_diff(
                    a, b, f"{label}/{name} (committed)", f"{label}/{name} (models)"
                )
            )
            problems.append(diff)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="compare with the committed files instead of writing"
    )
    args = parser.parse_args(argv)
    if not args.check:
        if SCHEMA_DIR.exists():
            shutil.rmtree(SCHEMA_DIR)
        write_schema(SCHEMA_DIR)
        if GENERATED_DIR.exists():
            shutil.rmtree(GENERATED_DIR)
        write_types(SCHEMA_DIR, GENERATED_DIR)
        PROTOCOL_MD.write_text(with_doc_types(PROTOCOL_MD.read_text(), doc_types(GENERATED_DIR)))
        print(
            f"wrote {SCHEMA_DIR.relative_to(ROOT)}, {GENERATED_DIR.relative_to(ROOT)} "
            f"and the types in {PROTOCOL_MD.relative_to(ROOT)}"
        )
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        schema = Path(tmp) / "schema"
        types = Path(tmp) / "generated"
        write_schema(schema)
        write_types(schema, types)
        problems = (
            _diff(schema, SCHEMA_DIR, "docs/schema")
            + _diff(types, GENERATED_DIR, "clients/ts/src/generated")
            + _diff_doc(types)
        )
    if problems:
        print("\n".join(problems))
        print(
            "The committed contract differs from the plugin's models: "
            "run `uv run python scripts/gen_contract.py` and commit the result.",
            file=sys.stderr,
        )
        return 1
    print(
        "contract is current: docs/schema, clients/ts/src/generated and the types in "
        "docs/protocol.md match the models"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What a person sees for a bad setting: one line per problem, naming the environment
variable, the value as it was written (secrets hidden) and what it accepts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args, get_origin

from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

Fields = Mapping[str, FieldInfo]
"""A settings model's fields, by name, in declaration order."""


class SettingsError(Exception):
    """The settings could not be loaded; ``str(err)`` has one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def env_name(field: str) -> str:
    """The environment variable that sets ``field``."""
    return field.upper()


def literal_choices(fields: Fields, field: str) -> tuple[str, ...]:
    """The choices of a Literal field, in declaration order."""
    info = fields.get(field)
    annotation = info.annotation if info else None
    if get_origin(annotation) is Literal:
        return tuple(str(choice) for choice in get_args(annotation))
    for member in get_args(annotation):  # an optional choice: Literal[...] | None
        if get_origin(member) is Literal:
            return tuple(str(choice) for choice in get_args(member))
    return ()


def _number_range(fields: Fields, field: str) -> str:
    parts: list[str] = []
    for meta in fields[field].metadata:
        if (gt := getattr(meta, "gt", None)) is not None:
            parts.append(f"greater than {gt:g}")
        if (ge := getattr(meta, "ge", None)) is not None:
            parts.append(f"{ge:g} or more")
        if (le := getattr(meta, "le", None)) is not None:
            parts.append(f"at most {le:g}")
    return " and ".join(parts)


def _accepted(fields: Fields, field: str, error: ErrorDetails) -> str:
    kind = error["type"]
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    if kind == "literal_error":
        return "use one of " + ", ".join(literal_choices(fields, field))
    if kind in ("greater_than", "greater_than_equal", "less_than_equal"):
        return f"must be {_number_range(fields, field)}"
    if kind in ("float_parsing", "float_type", "finite_number"):
        limits = _number_range(fields, field)
        return "must be a number of seconds" + (f" {limits}" if limits else "")
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    if kind in ("string_type", "string_sub_type"):
        return "must be text"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        limits = _number_range(fields, field)
        return "must be a whole number" + (f" {limits}" if limits else "")
    return str(error["msg"])


def _show(field: str, value: Any) -> str:
    if field == "livekit_api_secret":
        return "'***'"
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return repr(value if isinstance(value, str) else str(value))


def describe_errors(fields: Fields, errors: list[ErrorDetails]) -> list[str]:
    """One line per bad value, naming its environment variable and what it accepts."""
    order = {field: i for i, field in enumerate(fields)}
    errors = sorted(errors, key=lambda e: order.get(str(e["loc"][0]) if e["loc"] else "", -1))
    problems: list[str] = []
    seen: set[str] = set()
    for error in errors:
        loc = error["loc"]
        field = loc[0] if loc and isinstance(loc[0], str) else None
        if field is None or field not in fields:
            # a check across several fields; its message names the variables
            ctx: Mapping[str, Any] = error.get("ctx") or {}
            line = str(ctx.get("error", error["msg"]))
        else:
            if field in seen:  # a union reports once per member; one line is enough
                continue
            seen.add(field)
            if error["type"] == "missing":
                problems.append(f"{env_name(field)} is not set: it is required")
                continue
            value = _show(field, error["input"])
            line = f"{env_name(field)}={value} is not accepted: {_accepted(fields, field, error)}"
        problems.append(line)
    return problems

"""Checks shared by the protocol state machines: event envelope and header lists."""

from __future__ import annotations

from typing import Any

from conformance.validator.report import Reporter
from conformance.validator.values import (
    forbidden_values,
    header_pairs,
    pseudo_names,
    unsafe_fields,
    uppercase_names,
)

# Keys whose values are defined by an extension as objects outside the plain value types.
_OBJECT_KEYS = {"http.response.zerocopysend": frozenset({"file"})}


def event_type(message: Any, report: Reporter) -> str | None:
    """The event's type, after reporting a malformed envelope or forbidden values."""
    if not isinstance(message, dict):
        report("message.not-dict", f"event is a {type(message).__name__}, not a dict")
        return None
    kind = message.get("type")
    if not isinstance(kind, str):
        report("message.type", f"event type is {kind!r}")
        return None
    skip = _OBJECT_KEYS.get(kind, frozenset())
    for key, value in message.items():
        if key in skip:
            continue
        for problem in forbidden_values(value, f"{kind}[{key!r}]"):
            report("message.value-type", problem)
    return kind


def check_headers(headers: Any, report: Reporter, where: str) -> list[tuple[bytes, bytes]]:
    """Report malformed, uppercase, pseudo or unsafe header fields; return the usable pairs."""
    pairs, problems = header_pairs(headers)
    for problem in problems:
        report("headers.type", f"{where}: {problem}")
    if upper := uppercase_names(pairs):
        report("headers.name-case", f"{where}: header names {upper!r} are not lowercase")
    if pseudo := pseudo_names(pairs):
        report("headers.pseudo", f"{where}: pseudo-headers {pseudo!r}")
    regular = [(name, value) for name, value in pairs if not name.startswith(b":")]
    if unsafe := unsafe_fields(regular):
        report("headers.value-chars", f"{where}: unsafe field(s) {unsafe!r}")
    return pairs


def advertised(scope: dict[str, Any], extension: str) -> bool:
    """Whether the server lists ``extension`` in scope['extensions']."""
    extensions = scope.get("extensions")
    return isinstance(extensions, dict) and extension in extensions

"""Validation error items in Velocix's one error body format.

Every 422 body carries ``errors``: a list of ``{"loc": [...], "msg": str, "type": str}``.
``loc`` starts with where the value came from (``"path"``, ``"query"``, ``"header"``,
``"cookie"``, ``"body"``) followed by the name or the path inside the body, taken from
msgspec's own error path (``$.items[0].name`` -> ``["body", "items", 0, "name"]``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import msgspec

__all__ = [
    "ErrorItem",
    "Loc",
    "error_item",
    "errors_from_msgspec",
    "missing_item",
    "split_msgspec_message",
]

Loc = tuple[str | int, ...]
ErrorItem = dict[str, Any]

MISSING = "missing"
"""``type`` of an error for a required value that was not sent."""
INVALID = "validation_error"
"""``type`` of an error for a value that was sent but does not validate."""

# msgspec appends " - at `$.a[0].b`" to errors below the root; missing fields are reported as
# "Object missing required field `name`" (the field is not part of the path).
_AT = re.compile(r"^(?P<msg>.*) - at `(?P<path>\$[^`]*)`$", re.DOTALL)
_PATH_TOKEN = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")
_MISSING_FIELD = re.compile(r"^Object missing required field `(?P<field>[^`]+)`$")


def error_item(loc: Sequence[str | int], msg: str, type_: str = INVALID) -> ErrorItem:
    """Build one entry of the ``errors`` list."""
    return {"loc": list(loc), "msg": msg, "type": type_}


def missing_item(loc: Sequence[str | int]) -> ErrorItem:
    """The entry for a required value that is absent."""
    return {"loc": list(loc), "msg": "Field required", "type": MISSING}


def _path_to_loc(path: str) -> list[str | int]:
    """``$.a[0].b`` -> ``["a", 0, "b"]``; dict keys msgspec does not name stay ``"..."``."""
    loc: list[str | int] = []
    for name, index in _PATH_TOKEN.findall(path[1:]):
        if name:
            loc.append(name)
        elif index == "...":
            loc.append(index)
        else:
            loc.append(int(index))
    return loc


def split_msgspec_message(message: str) -> tuple[str, list[str | int], bool]:
    """Split a msgspec error message into (reason, path inside the value, is-missing)."""
    path: list[str | int] = []
    match = _AT.match(message)
    if match is not None:
        message = match["msg"]
        path = _path_to_loc(match["path"])
    missing = _MISSING_FIELD.match(message)
    if missing is not None:
        return message, [*path, missing["field"]], True
    return message, path, False


def errors_from_msgspec(
    exc: msgspec.ValidationError, prefix: Sequence[str | int]
) -> list[ErrorItem]:
    """Turn a msgspec validation error into the ``errors`` list, ``loc`` under ``prefix``."""
    message, path, missing = split_msgspec_message(str(exc))
    return [error_item([*prefix, *path], message, MISSING if missing else INVALID)]

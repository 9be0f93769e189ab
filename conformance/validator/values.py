"""Shape checks shared by every protocol: event value types and header lists."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_MAX_DEPTH = 32
# RFC 9110 §5.6.2 token characters, the only ones allowed in a field name.
_TOKEN = frozenset(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def forbidden_values(value: Any, where: str = "message", depth: int = 0) -> Iterator[str]:
    """Describe every value in an event that the ASGI "Events" section does not allow."""
    if depth > _MAX_DEPTH:
        yield f"{where}: nested deeper than {_MAX_DEPTH} levels"
        return
    if value is None or isinstance(value, bool | str | bytes):
        return
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            yield f"{where}: integer {value} is outside the signed 64-bit range"
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            yield f"{where}: float {value!r} is not finite"
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from forbidden_values(item, f"{where}[{index}]", depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                yield f"{where}: dict key {key!r} is not a str"
            yield from forbidden_values(item, f"{where}[{key!r}]", depth + 1)
        return
    yield f"{where}: {type(value).__name__} is not an allowed ASGI value type"


def header_pairs(headers: Any) -> tuple[list[tuple[bytes, bytes]], list[str]]:
    """Split a headers value into well-typed pairs and descriptions of malformed entries."""
    pairs: list[tuple[bytes, bytes]] = []
    problems: list[str] = []
    if isinstance(headers, str | bytes | dict) or not hasattr(headers, "__iter__"):
        return pairs, [f"headers is a {type(headers).__name__}, not an iterable of pairs"]
    for index, entry in enumerate(headers):
        if isinstance(entry, str | bytes) or not hasattr(entry, "__len__") or len(entry) != 2:
            problems.append(f"headers[{index}] is not a two-item [name, value]")
            continue
        name, value = entry
        if not isinstance(name, bytes) or not isinstance(value, bytes):
            problems.append(
                f"headers[{index}] is [{type(name).__name__}, {type(value).__name__}], "
                "not [bytes, bytes]"
            )
            continue
        pairs.append((name, value))
    return pairs, problems


def uppercase_names(pairs: list[tuple[bytes, bytes]]) -> list[bytes]:
    """Header names containing uppercase letters."""
    return [name for name, _ in pairs if name != name.lower()]


def pseudo_names(pairs: list[tuple[bytes, bytes]]) -> list[bytes]:
    """HTTP/2-style pseudo-header names (``:status``...)."""
    return [name for name, _ in pairs if name.startswith(b":")]


def unsafe_fields(pairs: list[tuple[bytes, bytes]]) -> list[bytes]:
    """Names of fields whose name is not a token or whose value holds CR, LF or NUL."""
    return [name for name, value in pairs if not _is_token(name) or _has_control(value)]


def _is_token(name: bytes) -> bool:
    return bool(name) and all(byte in _TOKEN for byte in name)


def _has_control(value: bytes) -> bool:
    return b"\r" in value or b"\n" in value or b"\x00" in value


def header_values(pairs: list[tuple[bytes, bytes]], name: bytes) -> list[bytes]:
    """All values of one (lowercase) header name, case-insensitively."""
    return [value for key, value in pairs if key.lower() == name]

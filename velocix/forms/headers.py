"""``Content-Type`` and ``Content-Disposition`` parameters, parsed in one linear pass.

Never with a regex: a crafted header must not make the parser backtrack (CVE-2024-24762).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import unquote

__all__ = ["filename_of", "parse_options_header"]


def parse_options_header(value: str) -> tuple[str, dict[str, str]]:
    """Split ``type/subtype; name=value; name="quoted"`` into the lower-cased media type and
    its parameters (lower-cased names), in one linear pass (no regex, no backtracking)."""
    media_type, _, rest = value.partition(";")
    params: dict[str, str] = {}
    index, length = 0, len(rest)
    while index < length:
        while index < length and rest[index] in " \t;":
            index += 1
        start = index
        while index < length and rest[index] not in "=;":
            index += 1
        name = rest[start:index].strip().lower()
        if index >= length or rest[index] == ";":
            continue  # a parameter without a value carries nothing
        index += 1  # skip "="
        param_value, index = _read_param_value(rest, index)
        if name:
            params[name] = param_value
    return media_type.strip().lower(), params


def _read_param_value(text: str, index: int) -> tuple[str, int]:
    length = len(text)
    while index < length and text[index] in " \t":
        index += 1
    if index < length and text[index] == '"':
        chars: list[str] = []
        index += 1
        while index < length and text[index] != '"':
            if text[index] == "\\" and index + 1 < length:
                index += 1
            chars.append(text[index])
            index += 1
        return "".join(chars), index + 1
    start = index
    while index < length and text[index] != ";":
        index += 1
    return text[start:index].strip(), index


def filename_of(params: Mapping[str, str]) -> str | None:
    extended = params.get("filename*")
    if extended is not None:
        # RFC 8187: charset'language'percent-encoded
        charset, _, encoded = extended.partition("'")
        _, _, encoded = encoded.partition("'")
        try:
            return unquote(encoded, encoding=charset or "utf-8", errors="strict")
        except (LookupError, UnicodeDecodeError):
            return None
    return params.get("filename")

"""Checks on the messages an application sends, shared by HTTP and WebSocket.

The client is stricter than most servers on purpose: a test is the cheapest place to
learn that a response would be mangled or refused on the wire (a header with a newline,
an uppercase header name, a close code no browser accepts).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from velocix.testing.exceptions import ASGIProtocolError

# RFC 9110 §5.6.2 token characters; ASGI additionally asks for lowercase names.
_HEADER_NAME = re.compile(rb"[!#$%&'*+\-.^_`|~0-9a-z]+")
# RFC 9110 §5.5: CR, LF and NUL can never appear in a field value (response splitting).
_FORBIDDEN_IN_VALUE = re.compile(rb"[\r\n\x00]")
# RFC 6455 §7.4: codes an endpoint may put in a Close frame.
_SENDABLE_CLOSE_CODES = frozenset(
    [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, *range(3000, 5000)]
)


def message_type(message: object) -> str:
    """Return ``message["type"]``, or raise if ``message`` is not an ASGI event."""
    if not isinstance(message, Mapping):
        raise ASGIProtocolError(f"ASGI messages must be dicts, got {type(message).__name__}.")
    kind = message.get("type")
    if not isinstance(kind, str):
        raise ASGIProtocolError(f"ASGI message without a string 'type': {message!r}.")
    return kind


def unexpected(kind: str, expected: Iterable[str]) -> ASGIProtocolError:
    """The error for a message that is not allowed at this point of the protocol."""
    wanted = " or ".join(repr(name) for name in expected)
    return ASGIProtocolError(f"Expected ASGI message {wanted}, but got {kind!r}.")


def validate_status(status: object) -> int:
    """A final HTTP status: an int from 200 to 599."""
    if isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599:
        raise ASGIProtocolError(f"Response status must be an int from 200 to 599, got {status!r}.")
    return status


def validate_headers(headers: object) -> list[tuple[bytes, bytes]]:
    """Response headers: ``[name, value]`` byte pairs, names lowercase tokens.

    Returns them as a list of tuples, the shape :class:`httpx.Response` takes.
    """
    if headers is None:
        return []
    if isinstance(headers, (str, bytes, Mapping)) or not isinstance(headers, Iterable):
        raise ASGIProtocolError(
            f"Headers must be an iterable of [name, value] pairs, got {type(headers).__name__}."
        )
    return [_validate_header(pair) for pair in headers]


def _validate_header(pair: Any) -> tuple[bytes, bytes]:
    try:
        if isinstance(pair, (bytes, str)):
            raise TypeError  # would unpack into characters
        name, value = pair
    except (TypeError, ValueError):
        raise ASGIProtocolError(
            f"Each header must be a [name, value] pair, got {pair!r}."
        ) from None
    if not isinstance(name, bytes) or not isinstance(value, bytes):
        raise ASGIProtocolError(f"Header names and values must be bytes, got {pair!r}.")
    if name != name.lower():
        raise ASGIProtocolError(f"Header names must be lowercase (ASGI), got {name!r}.")
    if not _HEADER_NAME.fullmatch(name):
        raise ASGIProtocolError(f"Invalid header name {name!r}.")
    if _FORBIDDEN_IN_VALUE.search(value):
        raise ASGIProtocolError(f"Header {name!r} has CR, LF or NUL in its value: {value!r}.")
    return name, value


def validate_body(body: object) -> bytes:
    """An HTTP body chunk: bytes-like, ``b""`` when missing."""
    if body is None:
        return b""
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    raise ASGIProtocolError(f"Response body must be bytes, got {type(body).__name__}.")


def validate_close_code(code: object) -> int:
    """A WebSocket close code the application may send (default 1000)."""
    if code is None:
        return 1000
    if isinstance(code, bool) or not isinstance(code, int) or code not in _SENDABLE_CLOSE_CODES:
        raise ASGIProtocolError(
            f"Invalid WebSocket close code {code!r}: use 1000-1003, 1007-1014 or 3000-4999 "
            "(RFC 6455 §7.4; 1005, 1006 and 1015 are never sent)."
        )
    return code


def validate_reason(reason: object) -> str:
    """A WebSocket close reason: a string, ``""`` when missing."""
    if reason is None:
        return ""
    if not isinstance(reason, str):
        raise ASGIProtocolError(f"Close reason must be a str, got {type(reason).__name__}.")
    if len(reason.encode("utf-8")) > 123:
        raise ASGIProtocolError("Close reason must fit in 123 bytes of UTF-8 (RFC 6455 §5.5).")
    return reason

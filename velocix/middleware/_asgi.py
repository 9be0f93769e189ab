"""ASGI type aliases and raw-header helpers shared by the battery modules.

The middleware work on the raw ``list[tuple[bytes, bytes]]`` header lists of ASGI messages
rather than on a headers object: they only ever look at one or two names per request, and
avoiding an object per message keeps the hot path short.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
RawHeaders = list[tuple[bytes, bytes]]


def get_header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    """Return the first value of header ``name`` (lower-case bytes), or ``None``."""
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def get_header_values(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> list[bytes]:
    """Return every value of header ``name`` (lower-case bytes), in order."""
    return [value for key, value in headers if key.lower() == name]


def has_header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bool:
    """Tell whether header ``name`` (lower-case bytes) is present."""
    return any(key.lower() == name for key, _ in headers)


def without_headers(headers: Iterable[tuple[bytes, bytes]], names: frozenset[bytes]) -> RawHeaders:
    """Return a new header list without the headers whose lower-cased names are in ``names``."""
    return [(key, value) for key, value in headers if key.lower() not in names]


def add_vary(headers: RawHeaders, token: bytes) -> None:
    """Add ``token`` to the response's ``Vary`` header in place, merging with an existing one."""
    lowered = token.lower()
    for index, (key, value) in enumerate(headers):
        if key.lower() == b"vary":
            tokens = [part.strip().lower() for part in value.split(b",")]
            if lowered not in tokens and b"*" not in tokens:
                headers[index] = (key, value + b", " + token)
            return
    headers.append((b"vary", token))


def request_state(scope: Scope) -> tuple[Scope, dict[str, Any]]:
    """The per-request state dict (``scope["state"]``), for middleware to record values in.

    The ASGI server gives each request its own shallow copy of the lifespan state, meant to be
    written to (``request.state`` reads the same dict), so it is updated in place and the scope
    itself stays the same object: an outer middleware then still sees the keys the router adds
    (``scope["route"]``). Only when the server sent no state is a key added, and then to a copy
    of the scope, as the ASGI spec asks of middleware.
    """
    state: dict[str, Any] | None = scope.get("state")
    if state is None:
        state = {}
        scope = dict(scope)
        scope["state"] = state
    return scope, state

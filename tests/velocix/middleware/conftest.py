"""Helpers for driving middleware directly over ASGI (no server, no client normalisation)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

Message = dict[str, Any]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


@dataclass
class Exchange:
    """What an app sent for one request."""

    messages: list[Message] = field(default_factory=list)

    @property
    def status(self) -> int:
        return int(self.messages[0]["status"])

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        return list(self.messages[0].get("headers", []))

    def header(self, name: str) -> str | None:
        values = self.header_values(name)
        return values[0] if values else None

    def header_values(self, name: str) -> list[str]:
        key = name.lower().encode()
        return [v.decode("latin-1") for k, v in self.headers if k.lower() == key]

    @property
    def body_messages(self) -> list[Message]:
        return [m for m in self.messages if m["type"] == "http.response.body"]

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.body_messages)


def make_scope(
    path: str = "/",
    method: str = "GET",
    headers: list[tuple[str, str]] | None = None,
    scheme: str = "http",
    client: tuple[str, int] | None = ("127.0.0.1", 50000),
    query_string: bytes = b"",
    scope_type: str = "http",
) -> dict[str, Any]:
    """Build an ASGI HTTP scope as a server would (lower-cased header names)."""
    raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers or []]
    if not any(k == b"host" for k, _ in raw_headers):
        raw_headers.insert(0, (b"host", b"testserver"))
    return {
        "type": scope_type,
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query_string,
        "headers": raw_headers,
        "client": client,
        "server": ("testserver", 80),
    }


async def run_app(
    app: ASGIApp, scope: dict[str, Any], body_chunks: list[bytes] | None = None
) -> Exchange:
    """Call ``app`` once with ``scope`` and record what it sends."""
    chunks = list(body_chunks or [b""])
    exchange = Exchange()

    async def receive() -> Message:
        if chunks:
            chunk = chunks.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        exchange.messages.append(message)

    await app(scope, receive, send)
    return exchange


@pytest.fixture
def asgi() -> Callable[..., Awaitable[Exchange]]:
    """``await asgi(app, path="/", method="GET", headers=[...])`` -> :class:`Exchange`."""

    async def call(app: ASGIApp, *, body: list[bytes] | None = None, **scope: Any) -> Exchange:
        return await run_app(app, make_scope(**scope), body)

    return call

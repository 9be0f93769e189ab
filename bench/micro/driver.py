"""An in-process ASGI "server" for micro benchmarks: scopes, receive, send, checks.

The work done per call is what any server does at the least - a fresh scope dict, a receive
callable, a send callable that keeps the status and body - identical for every framework.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from bench.micro.cases import MicroCase

__all__ = ["CallResult", "Exchange", "MicroServer", "check_first_response"]

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]
Message = dict[str, Any]


def build_scope(case: MicroCase) -> dict[str, Any]:
    """The HTTP scope a server would send for ``case``."""
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"user-agent", b"velocix-micro/1"),
        (b"accept", b"*/*"),
        *case.headers,
    ]
    if case.body:
        headers.append((b"content-length", str(len(case.body)).encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": case.method,
        "root_path": "",
        "path": case.path,
        "raw_path": case.path.encode(),
        "query_string": case.query,
        "headers": headers,
        "state": {},
    }


class Exchange:
    """The receive/send pair of one call; keeps the response status, headers and body."""

    __slots__ = ("body", "headers", "request_body", "sent_request", "status")

    def __init__(self, request_body: bytes) -> None:
        self.request_body = request_body
        self.sent_request = False
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = b""

    async def receive(self) -> Message:
        if self.sent_request:
            return {"type": "http.disconnect"}
        self.sent_request = True
        return {"type": "http.request", "body": self.request_body, "more_body": False}

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = message.get("headers", [])
        else:
            self.body += message.get("body", b"")


CallResult = tuple[int, list[tuple[bytes, bytes]], bytes]


class MicroServer:
    """Calls one app for one case on a reused event loop."""

    def __init__(self, app: ASGIApp, case: MicroCase, loop: asyncio.AbstractEventLoop) -> None:
        self.app = app
        self.case = case
        self.loop = loop
        self.scope = build_scope(case)
        self.expected_body: bytes | None = None

    async def _call(self) -> Exchange:
        exchange = Exchange(self.case.body)
        await self.app(dict(self.scope), exchange.receive, exchange.send)
        return exchange

    def call_once(self) -> CallResult:
        """One call, returning ``(status, headers, body)``."""
        exchange = self.loop.run_until_complete(self._call())
        return exchange.status, exchange.headers, exchange.body

    def prime(self) -> None:
        """Check the first response in full and remember its body for the timed calls."""
        status, headers, body = self.call_once()
        check_first_response(self.case, status, headers, body)
        self.expected_body = body

    async def _batch(self, count: int) -> None:
        app, scope, status = self.app, self.scope, self.case.status
        expected = self.expected_body
        request_body = self.case.body
        for _ in range(count):
            exchange = Exchange(request_body)
            await app(dict(scope), exchange.receive, exchange.send)
            if exchange.status != status or exchange.body != expected:
                raise AssertionError(
                    f"{self.case.name}: got {exchange.status} {exchange.body[:200]!r},"
                    f" expected {status} {expected!r}"
                )

    def run_batch(self, count: int) -> None:
        """``count`` checked calls in one run of the loop (the timed unit)."""
        self.loop.run_until_complete(self._batch(count))


def check_first_response(
    case: MicroCase, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    """Status, content type and body (JSON compared as values) must be the contract's."""
    if status != case.status:
        raise AssertionError(f"{case.name}: status {status}, expected {case.status}: {body!r}")
    content_type = dict(headers).get(b"content-type", b"").decode("latin-1")
    if not content_type.startswith(case.content_type):
        raise AssertionError(f"{case.name}: content-type {content_type!r}, not {case.content_type}")
    lengths = [value for name, value in headers if name == b"content-length"]
    if lengths and lengths != [str(len(body)).encode()]:
        raise AssertionError(f"{case.name}: content-length {lengths} for a {len(body)}-byte body")
    if case.expected_text is not None and body != case.expected_text:
        raise AssertionError(f"{case.name}: body {body!r}, expected {case.expected_text!r}")
    if case.expected_json is not None:
        value = msgspec.json.decode(body)
        if value != case.expected_json:
            raise AssertionError(f"{case.name}: JSON {value!r}, expected {case.expected_json!r}")

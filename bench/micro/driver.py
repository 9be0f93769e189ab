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

__all__ = ["CallResult", "Exchange", "Lifespans", "MicroServer", "check_first_response"]

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
    """The receive/send pair of one call; keeps the response status, headers and body.

    After the request body, ``receive`` waits until the response is complete and then answers
    ``http.disconnect`` (ASGI: sent "after a response has been sent"): an app that listens for
    a disconnect while it works (Django) must not be told the client left. The event it waits
    on is made only when such a receive happens, so other apps pay nothing for it.
    """

    __slots__ = (
        "body",
        "complete",
        "finished",
        "headers",
        "request_body",
        "sent_request",
        "status",
    )

    def __init__(self, request_body: bytes) -> None:
        self.request_body = request_body
        self.sent_request = False
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = b""
        self.complete = False
        self.finished: asyncio.Event | None = None

    async def receive(self) -> Message:
        if not self.sent_request:
            self.sent_request = True
            return {"type": "http.request", "body": self.request_body, "more_body": False}
        if not self.complete:
            if self.finished is None:
                self.finished = asyncio.Event()
            await self.finished.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = message.get("headers", [])
            return
        self.body += message.get("body", b"")
        if not message.get("more_body", False):
            self.complete = True
            if self.finished is not None:
                self.finished.set()


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


class Lifespans:
    """ASGI lifespans run on the micro loop, for apps that serve nothing before startup.

    Sanic in ASGI mode builds its routers and gets its loop at ``lifespan.startup`` and refuses
    a request before it, so such an app is started here as a server would start it: once per
    app (a Sanic app cannot start twice in one process), all shut down by :meth:`close`.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.running: dict[int, tuple[asyncio.Queue[Message], asyncio.Queue[Message], Any]] = {}

    def start(self, app: ASGIApp) -> None:
        """Run ``app``'s lifespan startup unless it already ran; raise if it fails."""
        if id(app) in self.running:
            return
        inbox: asyncio.Queue[Message] = asyncio.Queue()
        outbox: asyncio.Queue[Message] = asyncio.Queue()
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}}
        task = self.loop.create_task(app({**scope, "state": {}}, inbox.get, outbox.put))
        inbox.put_nowait({"type": "lifespan.startup"})
        reply = self.loop.run_until_complete(outbox.get())
        self.running[id(app)] = (inbox, outbox, task)
        if reply["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"lifespan startup answered {reply!r}")

    def close(self) -> None:
        """Shut every started app down (their resources, such as database threads, close)."""
        for inbox, outbox, task in self.running.values():
            if not task.done():
                inbox.put_nowait({"type": "lifespan.shutdown"})
                self.loop.run_until_complete(outbox.get())
            self.loop.run_until_complete(task)
        self.running.clear()


def check_first_response(
    case: MicroCase, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    """Status, content type and body (JSON compared as values) must be the contract's."""
    if status != case.status:
        raise AssertionError(f"{case.name}: status {status}, expected {case.status}: {body!r}")
    # Names compared case-insensitively, as a client over the wire does: Django sends
    # "Content-Type" (an ASGI deviation recorded by the conformance suite, case A03).
    content_type = next(
        (value for name, value in headers if name.lower() == b"content-type"), b""
    ).decode("latin-1")
    if not content_type.startswith(case.content_type):
        raise AssertionError(f"{case.name}: content-type {content_type!r}, not {case.content_type}")
    lengths = [value for name, value in headers if name.lower() == b"content-length"]
    if lengths and lengths != [str(len(body)).encode()]:
        raise AssertionError(f"{case.name}: content-length {lengths} for a {len(body)}-byte body")
    if case.expected_text is not None and body != case.expected_text:
        raise AssertionError(f"{case.name}: body {body!r}, expected {case.expected_text!r}")
    if case.expected_json is not None:
        value = msgspec.json.decode(body)
        if value != case.expected_json:
            raise AssertionError(f"{case.name}: JSON {value!r}, expected {case.expected_json!r}")

"""An in-process ASGI "server" for the in-process matrix column and for the checker's tests.

It builds spec-conforming scopes, delivers request bodies in chunks, keeps answering
``http.disconnect`` after the response (asgiref #334), can drop the client mid-stream (send
then raises ``OSError`` as spec 2.4 asks), and drives WebSocket and lifespan sessions step by
step. Unlike httpx's ASGITransport it buffers nothing and hides nothing: every event the app
sends is kept, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from conformance.validator.wrapper import ASGIApp, Message

CLIENT = ("127.0.0.1", 50123)
SERVER = ("127.0.0.1", 8000)
DEFAULT_TIMEOUT = 10.0


class ClientGone(OSError):
    """Raised by send() after the simulated client went away (www.rst, spec 2.4)."""


def http_scope(
    method: str = "GET",
    path: str = "/",
    *,
    query_string: bytes = b"",
    headers: Iterable[tuple[bytes, bytes]] = (),
    root_path: str = "",
    http_version: str = "1.1",
    spec_version: str | None = "2.4",
    extensions: dict[str, dict[str, Any]] | None = None,
    state: dict[str, Any] | None = None,
    raw_path: bytes | None = None,
) -> dict[str, Any]:
    """A complete, valid HTTP scope (``path`` already includes ``root_path``, as in uvicorn)."""
    asgi = {"version": "3.0"}
    if spec_version is not None:
        asgi["spec_version"] = spec_version
    header_list = [[b"host", b"testserver"], *([k, v] for k, v in headers)]
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": asgi,
        "http_version": http_version,
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": raw_path if raw_path is not None else path.encode("utf-8"),
        "query_string": query_string,
        "root_path": root_path,
        "headers": header_list,
        "client": list(CLIENT),
        "server": list(SERVER),
        "extensions": extensions if extensions is not None else {},
    }
    if state is not None:
        scope["state"] = dict(state)
    return scope


def websocket_scope(
    path: str = "/",
    *,
    subprotocols: Sequence[str] = (),
    headers: Iterable[tuple[bytes, bytes]] = (),
    query_string: bytes = b"",
    spec_version: str = "2.4",
    extensions: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A complete, valid WebSocket scope."""
    return {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": spec_version},
        "http_version": "1.1",
        "scheme": "ws",
        "path": path,
        "raw_path": path.encode("utf-8"),
        "query_string": query_string,
        "root_path": "",
        "headers": [[b"host", b"testserver"], *([k, v] for k, v in headers)],
        "client": list(CLIENT),
        "server": list(SERVER),
        "subprotocols": list(subprotocols),
        "extensions": extensions if extensions is not None else {},
    }


@dataclass
class HTTPExchange:
    """Everything that happened during one in-process HTTP call."""

    sent: list[Message] = field(default_factory=list)
    error: BaseException | None = None
    disconnected_at: int | None = None

    @property
    def start(self) -> Message | None:
        """The first http.response.start, if any."""
        return next((m for m in self.sent if m.get("type") == "http.response.start"), None)

    @property
    def status(self) -> int | None:
        """Response status, or None when no response was started."""
        start = self.start
        return int(start["status"]) if start is not None else None

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        """Response headers as (name, value) tuples."""
        start = self.start
        return [(bytes(k), bytes(v)) for k, v in start.get("headers", [])] if start else []

    def header(self, name: bytes) -> bytes | None:
        """First value of a response header (case-insensitive name)."""
        return next((v for k, v in self.headers if k.lower() == name), None)

    @property
    def body(self) -> bytes:
        """Concatenated http.response.body content."""
        return b"".join(
            m.get("body", b"") for m in self.sent if m.get("type") == "http.response.body"
        )


async def http_call(
    app: ASGIApp,
    scope: dict[str, Any],
    body: bytes | Sequence[bytes] = b"",
    *,
    disconnect_after: int | None = None,
    body_cut: bool = False,
    time_limit: float = DEFAULT_TIMEOUT,
) -> HTTPExchange:
    """Call ``app`` once; ``disconnect_after=N`` drops the client after N body events;
    ``body_cut=True`` drops it mid-request: every chunk says ``more_body``, then it is gone."""
    chunks = [body] if isinstance(body, bytes) else list(body) or [b""]
    spec = str((scope.get("asgi") or {}).get("spec_version", "2.0"))
    raises_when_gone = tuple(int(part) for part in spec.split(".")) >= (2, 4)
    exchange = HTTPExchange()
    gone = asyncio.Event()
    done = asyncio.Event()
    pending = [
        {"type": "http.request", "body": chunk, "more_body": body_cut or index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]

    async def receive() -> Message:
        if pending and not gone.is_set():
            return pending.pop(0)
        if body_cut:
            gone.set()
        # After the body, the next receive() waits for the response to end or the client to go.
        waiters = [asyncio.ensure_future(gone.wait()), asyncio.ensure_future(done.wait())]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if gone.is_set():
            if raises_when_gone:
                raise ClientGone("client disconnected")
            return  # before spec 2.4 a send to a closed connection is a silent no-op
        exchange.sent.append(message)
        if message.get("type") == "http.response.body":
            if not message.get("more_body", False):
                done.set()
            body_events = sum(1 for m in exchange.sent if m.get("type") == "http.response.body")
            if disconnect_after is not None and body_events >= disconnect_after:
                exchange.disconnected_at = body_events
                gone.set()

    try:
        await asyncio.wait_for(app(scope, receive, send), time_limit)
    except Exception as exc:
        exchange.error = exc
    return exchange


class WebSocketSession:
    """Drives one in-process WebSocket scope: the test plays the client, step by step."""

    def __init__(self, app: ASGIApp, scope: dict[str, Any], timeout: float = DEFAULT_TIMEOUT):
        self.app = app
        self.scope = scope
        self.timeout = timeout
        self.to_app: asyncio.Queue[Message] = asyncio.Queue()
        self.from_app: asyncio.Queue[Message] = asyncio.Queue()
        self.sent: list[Message] = []
        self.error: BaseException | None = None
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        async def send(message: Message) -> None:
            self.sent.append(message)
            await self.from_app.put(message)

        try:
            await self.app(self.scope, self.to_app.get, send)
        except Exception as exc:
            self.error = exc
        await self.from_app.put({"type": "conformance.app-returned"})

    async def connect(self) -> Message:
        """Send websocket.connect and return the app's answer (accept, close, denial...)."""
        self._task = asyncio.ensure_future(self._run())
        await self.to_app.put({"type": "websocket.connect"})
        return await self.next()

    async def next(self) -> Message:
        """The next event the app sent (``conformance.app-returned`` once it has returned)."""
        return await asyncio.wait_for(self.from_app.get(), self.timeout)

    async def send_text(self, text: str) -> None:
        """Deliver a text message to the app."""
        await self.to_app.put({"type": "websocket.receive", "text": text})

    async def send_bytes(self, data: bytes) -> None:
        """Deliver a binary message to the app."""
        await self.to_app.put({"type": "websocket.receive", "bytes": data})

    async def disconnect(self, code: int = 1000, reason: str = "") -> None:
        """Deliver websocket.disconnect and wait for the app to return."""
        await self.to_app.put({"type": "websocket.disconnect", "code": code, "reason": reason})
        await self.wait_closed()

    async def wait_closed(self) -> None:
        """Wait for the app call to end (bounded by the session timeout)."""
        if self._task is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._task), self.timeout)

    async def aclose(self) -> None:
        """Cancel the app if it is still running."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task


@contextlib.asynccontextmanager
async def websocket_session(
    app: ASGIApp, scope: dict[str, Any], time_limit: float = DEFAULT_TIMEOUT
) -> AsyncIterator[WebSocketSession]:
    """``async with websocket_session(app, scope) as ws:`` -- the app is cancelled on exit."""
    session = WebSocketSession(app, scope, time_limit)
    try:
        yield session
    finally:
        await session.aclose()


@dataclass
class LifespanResult:
    """The app's replies to startup and shutdown."""

    startup: str | None = None
    shutdown: str | None = None
    messages: list[Message] = field(default_factory=list)
    error: BaseException | None = None
    state: dict[str, Any] = field(default_factory=dict)


async def lifespan_cycle(app: ASGIApp, time_limit: float = DEFAULT_TIMEOUT) -> LifespanResult:
    """Run startup then shutdown, as a server would, and record the replies."""
    result = LifespanResult()
    scope = {
        "type": "lifespan",
        "asgi": {"version": "3.0", "spec_version": "2.0"},
        "state": result.state,
    }
    events: asyncio.Queue[Message] = asyncio.Queue()
    replies: asyncio.Queue[Message] = asyncio.Queue()
    await events.put({"type": "lifespan.startup"})

    async def send(message: Message) -> None:
        result.messages.append(message)
        await replies.put(message)

    async def run() -> None:
        try:
            await app(scope, events.get, send)
        except Exception as exc:
            result.error = exc
        await replies.put({"type": "conformance.app-returned"})

    task = asyncio.ensure_future(run())
    try:
        reply = await asyncio.wait_for(replies.get(), time_limit)
        result.startup = str(reply.get("type"))
        if result.startup == "lifespan.startup.complete":
            await events.put({"type": "lifespan.shutdown"})
            reply = await asyncio.wait_for(replies.get(), time_limit)
            result.shutdown = str(reply.get("type"))
    finally:
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    return result

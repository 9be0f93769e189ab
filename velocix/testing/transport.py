"""An httpx transport that serves requests from an in-process ASGI application."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, Protocol

import httpx

from velocix.testing.asgi_types import ASGIApp
from velocix.testing.exceptions import ASGIProtocolError
from velocix.testing.exchange import HTTPExchange, ResponseStart, ResponseStream
from velocix.testing.loop import EventLoopThread, LoopClosedError, wait
from velocix.testing.scope import http_scope, websocket_scope
from velocix.testing.websocket import WebSocketConnection, WebSocketTestSession

_INTERNAL_ERROR = b"Internal Server Error"


class _Connection(Protocol):
    async def abort(self) -> None: ...

    def finished(self) -> None: ...


class ASGITransport(httpx.BaseTransport):
    """Serve httpx requests from ``app`` on a dedicated event loop thread.

    Unlike ``httpx.ASGITransport`` it is synchronous, streams responses (a test can
    read part of an endless stream and hang up), sends ``http.disconnect`` at the
    right moments, validates what the application sends, and speaks WebSocket.
    :class:`velocix.testing.TestClient` is the usual way to use it.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        raise_server_exceptions: bool = True,
        root_path: str = "",
        client: tuple[str, int] | None = ("testclient", 50000),
        app_state: dict[str, Any] | None = None,
        loop_thread: EventLoopThread | None = None,
    ) -> None:
        self.app = app
        self.raise_server_exceptions = raise_server_exceptions
        self.root_path = root_path
        self.client = client
        #: The lifespan state; each connection gets a shallow copy in ``scope["state"]``.
        self.app_state: dict[str, Any] = {} if app_state is None else app_state
        self.loop_thread = loop_thread or EventLoopThread()
        self._connections: set[_Connection] = set()
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Run the application for ``request``; return once the response has started."""
        if not isinstance(request.stream, httpx.SyncByteStream):
            raise TypeError("The test client transport only takes synchronous request bodies.")
        scope = http_scope(
            request, root_path=self.root_path, client=self.client, state=self.app_state
        )
        exchange = HTTPExchange(self.app, scope, request.stream)
        loop = self.loop_thread.start()
        future = self._start(exchange, exchange.run())
        first = exchange.events.get()
        if not isinstance(first, ResponseStart):
            return self._no_response(request, future)
        stream = ResponseStream(
            exchange,
            future,
            loop_thread=self.loop_thread,
            loop=loop,
            raise_server_exceptions=self.raise_server_exceptions,
        )
        return httpx.Response(
            first.status,
            headers=first.headers,
            stream=stream,
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )

    def _no_response(
        self, request: httpx.Request, future: concurrent.futures.Future[None]
    ) -> httpx.Response:
        # The application returned (or raised) before http.response.start: on the wire
        # that is a 500 from the server.
        try:
            error = future.exception()
        except concurrent.futures.CancelledError:
            raise RuntimeError("The test client shut down while the request was running.") from None
        if self.raise_server_exceptions:
            if error is not None:
                raise error
            raise ASGIProtocolError("The application returned without sending a response.")
        return httpx.Response(
            500,
            headers=[
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(_INTERNAL_ERROR)).encode("ascii")),
            ],
            content=_INTERNAL_ERROR,
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )

    def connect_websocket(self, request: httpx.Request) -> WebSocketTestSession:
        """Open a WebSocket to the application; raises if the handshake is refused."""
        scope = websocket_scope(
            request, root_path=self.root_path, client=self.client, state=self.app_state
        )
        connection = WebSocketConnection(self.app, scope)
        loop = self.loop_thread.start()
        future = self._start(connection, connection.run())
        return WebSocketTestSession(
            connection,
            future,
            request=request,
            loop_thread=self.loop_thread,
            loop=loop,
            raise_server_exceptions=self.raise_server_exceptions,
        )

    def _start(
        self, connection: _Connection, run: Coroutine[Any, Any, None]
    ) -> concurrent.futures.Future[None]:
        with self._lock:
            self._connections.add(connection)
        try:
            future = self.loop_thread.submit(run)
        except BaseException:
            self._forget(connection)
            raise
        # A done-callback rather than a `finally` in the coroutine: it also fires for a
        # task cancelled before it ever ran, so the test thread is never left waiting.
        future.add_done_callback(lambda _: self._finished(connection))
        return future

    def _finished(self, connection: _Connection) -> None:
        connection.finished()
        self._forget(connection)

    def _forget(self, connection: _Connection) -> None:
        with self._lock:
            self._connections.discard(connection)

    def close_connections(self) -> None:
        """Disconnect every open request and WebSocket, as a server does at shutdown."""
        with self._lock:
            connections = list(self._connections)
        loop = self.loop_thread.loop
        if not connections or loop is None:
            return

        async def abort_all() -> None:
            await asyncio.gather(*(connection.abort() for connection in connections))

        with contextlib.suppress(LoopClosedError):
            wait(self.loop_thread.submit_to(loop, abort_all()))

    def close(self) -> None:
        """Close open connections and stop the event loop thread."""
        self.close_connections()
        self.loop_thread.close()

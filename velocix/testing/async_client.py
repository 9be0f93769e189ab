"""The asynchronous test client: an :class:`httpx.AsyncClient` over the application, in-process.

::

    async def test_items() -> None:
        async with AsyncTestClient(app) as client:       # runs lifespan startup/shutdown
            assert (await client.get("/items/1")).json() == {"id": 1}
            async with client.websocket_connect("/ws") as ws:
                await ws.send_text("hi")
                assert await ws.receive_text() == "hi"

Unlike :class:`velocix.testing.TestClient` (the application on a loop of its own, in a
thread), the application runs on the test's own event loop: what the test creates (a database
pool, a queue) is usable by the application and the other way round. The same server side
does the work - :class:`~velocix.testing.exchange.HTTPExchange` and
:class:`~velocix.testing.websocket.WebSocketConnection` check every message the application
sends, responses stream (a test can read part of an endless stream and hang up) and
``http.disconnect`` arrives when it would over a socket.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import secrets
from collections.abc import AsyncIterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, NoReturn, Self

import httpx

from velocix.testing.asgi_types import ASGIApp, Message
from velocix.testing.exceptions import ASGIProtocolError, WebSocketDenied, caused_by_disconnect
from velocix.testing.exchange import (
    ExchangeEvent,
    HTTPExchange,
    ResponseStart,
    Signal,
    log_disconnect_reaction,
)
from velocix.testing.lifespan import Lifespan
from velocix.testing.scope import http_scope, websocket_scope
from velocix.testing.websocket import (
    ABNORMAL_CLOSURE,
    INTERNAL_ERROR,
    WebSocketConnection,
    _disconnect_error,
)

__all__ = ["AsyncASGITransport", "AsyncTestClient", "AsyncWebSocketSession"]

_INTERNAL_ERROR = b"Internal Server Error"


def _outcome(task: asyncio.Task[None]) -> BaseException | None:
    """The application's exception (a disconnect reaction is only logged), once it is done."""
    if task.cancelled():
        return None
    error = task.exception()
    if error is not None and caused_by_disconnect(error):
        log_disconnect_reaction(error)
        return None
    return error


class AsyncASGITransport(httpx.AsyncBaseTransport):
    """Serve httpx requests from ``app`` on the running event loop (see the module doc)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        raise_server_exceptions: bool = True,
        root_path: str = "",
        client: tuple[str, int] | None = ("testclient", 50000),
        app_state: dict[str, Any] | None = None,
    ) -> None:
        self.app = app
        self.raise_server_exceptions = raise_server_exceptions
        self.root_path = root_path
        self.client = client
        self.app_state: dict[str, Any] = {} if app_state is None else app_state
        self._tasks: set[asyncio.Task[None]] = set()
        self._connections: set[HTTPExchange | WebSocketConnection] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Run the application for ``request``; return once the response has started."""
        body = await request.aread()
        scope = http_scope(
            request, root_path=self.root_path, client=self.client, state=self.app_state
        )
        events: asyncio.Queue[ExchangeEvent] = asyncio.Queue()
        exchange = HTTPExchange(self.app, scope, [body], post=events.put_nowait)
        task = self._start(exchange, exchange.run())
        first = await events.get()
        if not isinstance(first, ResponseStart):
            return self._no_response(request, task)
        stream = _ResponseStream(exchange, events, task, self.raise_server_exceptions)
        return httpx.Response(
            first.status,
            headers=first.headers,
            stream=stream,
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )

    def _start(
        self, connection: HTTPExchange | WebSocketConnection, run: Any
    ) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(run)
        self._tasks.add(task)
        self._connections.add(connection)

        def finished(_: object) -> None:
            connection.finished()
            self._tasks.discard(task)
            self._connections.discard(connection)

        task.add_done_callback(finished)
        return task

    def _no_response(self, request: httpx.Request, task: asyncio.Task[None]) -> httpx.Response:
        # The application returned (or raised) before http.response.start: a 500 on the wire.
        error = None if task.cancelled() else task.exception()
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
        )

    async def connect_websocket(self, request: httpx.Request) -> AsyncWebSocketSession:
        """Open a WebSocket to the application; raises if the handshake is refused."""
        scope = websocket_scope(
            request, root_path=self.root_path, client=self.client, state=self.app_state
        )
        outbox: asyncio.Queue[Message | Signal] = asyncio.Queue()
        connection = WebSocketConnection(self.app, scope, post=outbox.put_nowait)
        task = self._start(connection, connection.run())
        session = AsyncWebSocketSession(
            connection, outbox, task, request, self.raise_server_exceptions
        )
        await session._handshake()
        return session

    async def aclose(self) -> None:
        """Disconnect every open request and WebSocket, as a server does at shutdown."""
        connections = list(self._connections)
        if connections:
            await asyncio.gather(*(connection.abort() for connection in connections))


class _ResponseStream(httpx.AsyncByteStream):
    """The response body, pulled from the exchange's queue; closing early disconnects."""

    def __init__(
        self,
        exchange: HTTPExchange,
        events: asyncio.Queue[ExchangeEvent],
        task: asyncio.Task[None],
        raise_server_exceptions: bool,
    ) -> None:
        self._exchange = exchange
        self._events = events
        self._task = task
        self._raise = raise_server_exceptions
        self._finished = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while not self._finished:
            event = await self._events.get()
            if isinstance(event, bytes):
                self._exchange.consumed()
                yield event
            elif event is Signal.END:
                self._finished = True
                self._raise_outcome(aborted=False)

    async def aclose(self) -> None:
        if self._finished:
            return
        self._finished = True
        await self._exchange.abort()
        self._raise_outcome(aborted=True)

    def _raise_outcome(self, *, aborted: bool) -> None:
        if not self._raise or not self._task.done():
            return
        error = _outcome(self._task)
        if error is not None:
            raise error
        if not aborted and not self._exchange.complete:
            raise ASGIProtocolError(
                "The application returned without completing the response "
                "(no 'http.response.body' with more_body=False)."
            )


class AsyncWebSocketSession:
    """An open WebSocket to the application, driven from the test's coroutine.

    The async twin of :class:`velocix.testing.WebSocketTestSession`: once the application
    closes (or fails, or returns), receiving raises
    ``velocix.websocket.WebSocketDisconnect(code, reason)``; with ``raise_server_exceptions``
    an application error is raised instead. Leaving ``async with`` closes with code 1000.
    """

    def __init__(
        self,
        connection: WebSocketConnection,
        outbox: asyncio.Queue[Message | Signal],
        task: asyncio.Task[None],
        request: httpx.Request,
        raise_server_exceptions: bool,
    ) -> None:
        self.scope = connection.scope
        #: The subprotocol the application chose, or ``None``.
        self.accepted_subprotocol: str | None = None
        #: Headers the application added to its accept (``[(name, value)]`` bytes).
        self.extra_headers: list[tuple[bytes, bytes]] = []
        self._connection = connection
        self._outbox = outbox
        self._task = task
        self._request = request
        self._raise = raise_server_exceptions
        self._close_message: Message | None = None
        self._closed_by_client = False
        self._error_reported = False

    async def _handshake(self) -> None:
        self._connection.deliver({"type": "websocket.connect"})
        message = await self._next()
        if message is None:
            await self._handshake_abandoned()
        kind = message["type"]
        if kind == "websocket.accept":
            self.accepted_subprotocol = message["subprotocol"]
            self.extra_headers = message["headers"]
        elif kind == "websocket.close":
            await self._deny(403, [], b"")  # what a server answers to close-before-accept
        else:
            parts: list[bytes] = []
            while (part := await self._next()) is not None:
                parts.append(part["body"])
                if not part["more_body"]:
                    break
            await self._deny(message["status"], message["headers"], b"".join(parts))

    async def _handshake_abandoned(self) -> NoReturn:
        if self._raise:
            self._raise_app_error()
            raise ASGIProtocolError(
                "The application returned without accepting or closing the WebSocket."
            )
        await self._deny(500, [], _INTERNAL_ERROR)

    async def _deny(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> NoReturn:
        self._closed_by_client = True
        self._close_message = {"type": "websocket.close", "code": ABNORMAL_CLOSURE, "reason": ""}
        await self._connection.settle()
        self._raise_app_error()
        response = httpx.Response(status, headers=headers, content=body, request=self._request)
        raise WebSocketDenied(request=self._request, response=response)

    async def _next(self) -> Message | None:
        item = await self._outbox.get()
        return None if isinstance(item, Signal) else item

    # -- receiving -------------------------------------------------------------------

    async def receive(self) -> Message:
        """The next raw message (the application's ``websocket.close`` once, then raises)."""
        if self._close_message is not None:
            raise _disconnect_error(self._close_message)
        message = await self._next()
        if message is None:  # the application returned or failed without closing
            self._raise_app_error()
            failed = self._task.done() and _outcome(self._task) is not None
            code = INTERNAL_ERROR if failed else ABNORMAL_CLOSURE
            message = {"type": "websocket.close", "code": code, "reason": ""}
        if message["type"] == "websocket.close":
            self._close_message = message
        return message

    async def receive_text(self) -> str:
        """The next message, which must be text."""
        message = await self._receive_data()
        text = message.get("text")
        if text is None:
            raise TypeError(f"Expected a text message, got binary: {message.get('bytes')!r}.")
        return str(text)

    async def receive_bytes(self) -> bytes:
        """The next message, which must be binary."""
        message = await self._receive_data()
        data = message.get("bytes")
        if data is None:
            raise TypeError(f"Expected a binary message, got text: {message.get('text')!r}.")
        return bytes(data)

    async def receive_json(self, mode: Literal["text", "binary"] = "text") -> Any:
        """The next message decoded as JSON, from a text or (``mode="binary"``) binary frame."""
        if mode == "text":
            return json.loads(await self.receive_text())
        return json.loads(await self.receive_bytes())

    async def _receive_data(self) -> Message:
        message = await self.receive()
        if message["type"] == "websocket.close":
            raise _disconnect_error(message)
        return message

    # -- sending ---------------------------------------------------------------------

    async def send(self, message: Message) -> None:
        """Send a raw ASGI message (``websocket.receive`` / ``websocket.disconnect``)."""
        if self._closed_by_client:
            raise RuntimeError("This WebSocket session is closed.")
        self._connection.deliver(dict(message))
        await asyncio.sleep(0)  # let the application run, as a socket round trip would

    async def send_text(self, data: str) -> None:
        """Send a text message."""
        await self.send({"type": "websocket.receive", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary message."""
        await self.send({"type": "websocket.receive", "bytes": bytes(data)})

    async def send_json(self, data: Any, mode: Literal["text", "binary"] = "text") -> None:
        """Send ``data`` as compact JSON in a text or (``mode="binary"``) binary message."""
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        if mode == "text":
            await self.send_text(text)
        else:
            await self.send_bytes(text.encode("utf-8"))

    # -- closing ---------------------------------------------------------------------

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close from the client side and wait for the application to finish."""
        if self._closed_by_client:
            return
        self._closed_by_client = True
        if self._close_message is None:
            self._close_message = {"type": "websocket.close", "code": code, "reason": reason}
        self._connection.deliver({"type": "websocket.disconnect", "code": code, "reason": reason})
        await self._connection.settle()
        self._raise_app_error()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            await self.close()
        except Exception as error:
            if exc is None:
                raise
            exc.add_note(f"The WebSocket application also raised {error!r}.")

    def _raise_app_error(self) -> None:
        if not self._raise or self._error_reported or not self._task.done():
            return
        error = _outcome(self._task)
        if error is not None:
            self._error_reported = True
            raise error


class AsyncTestClient(httpx.AsyncClient):
    """An asynchronous HTTP and WebSocket client for any ASGI 3 application.

    An :class:`httpx.AsyncClient` (``await client.get(...)``, ``client.stream(...)``, cookies
    in httpx's jar) whose transport runs the application on the current event loop.
    ``async with AsyncTestClient(app) as client:`` runs the lifespan (startup before the block,
    ``RuntimeError`` on ``lifespan.startup.failed``; shutdown after it, once open connections
    are closed). Options as for :class:`velocix.testing.TestClient`.
    """

    __test__ = False  # not a pytest test class, despite the name

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        client: tuple[str, int] | None = ("testclient", 50000),
        headers: Mapping[str, str] | None = None,
        follow_redirects: bool = True,
        cookies: httpx.Cookies | dict[str, str] | None = None,
    ) -> None:
        if not callable(app):
            raise TypeError(f"AsyncTestClient needs an ASGI application, got {app!r}.")
        if root_path and (not root_path.startswith("/") or root_path.endswith("/")):
            raise ValueError(f"root_path must start with '/' and not end with one: {root_path!r}.")
        self.app = app
        #: The lifespan ``state`` namespace; requests get a shallow copy of it.
        self.app_state: dict[str, Any] = {}
        self._asgi = AsyncASGITransport(
            app,
            raise_server_exceptions=raise_server_exceptions,
            root_path=root_path,
            client=client,
            app_state=self.app_state,
        )
        self._lifespan: Lifespan | None = None
        default_headers = httpx.Headers({"user-agent": "testclient"})
        default_headers.update(headers or {})
        super().__init__(
            base_url=base_url,
            headers=default_headers,
            cookies=cookies,
            transport=self._asgi,
            follow_redirects=follow_redirects,
        )

    @contextlib.asynccontextmanager
    async def websocket_connect(
        self,
        url: str,
        subprotocols: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        params: httpx.QueryParams | Mapping[str, str] | None = None,
    ) -> AsyncIterator[AsyncWebSocketSession]:
        """``async with client.websocket_connect("/ws") as ws:``; closes with 1000 on exit.

        Raises :class:`velocix.testing.WebSocketDenied` when the application refuses the
        handshake (403 for a close before accept, or the application's denial response).
        """
        handshake = httpx.Headers(
            {
                "connection": "upgrade",
                "upgrade": "websocket",
                "sec-websocket-key": base64.b64encode(secrets.token_bytes(16)).decode("ascii"),
                "sec-websocket-version": "13",
            }
        )
        if subprotocols:
            handshake["sec-websocket-protocol"] = ", ".join(subprotocols)
        handshake.update(headers or {})
        request = self.build_request("GET", url, headers=handshake, params=params)
        session = await self._asgi.connect_websocket(request)
        async with session:
            yield session

    async def __aenter__(self) -> Self:
        """Run lifespan startup."""
        if self._lifespan is not None:
            raise RuntimeError("This AsyncTestClient is already open; `async with` cannot nest.")
        await super().__aenter__()
        self.app_state.clear()
        lifespan = Lifespan(self.app, self.app_state)
        try:
            await lifespan.startup()
        except BaseException:
            await super().__aexit__(None, None, None)
            raise
        self._lifespan = lifespan
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        """Close open connections, then run lifespan shutdown."""
        lifespan, self._lifespan = self._lifespan, None
        try:
            await self._asgi.aclose()
            if lifespan is not None:
                await lifespan.shutdown()
        except Exception as error:
            if exc_value is None:
                raise
            exc_value.add_note(f"The application's shutdown also failed: {error!r}.")
        finally:
            await super().__aexit__(exc_type, exc_value, traceback)

"""WebSocket sessions between the test client and the application.

:class:`WebSocketConnection` is the server side, on the client's event loop: it hands
the application the client's messages and checks every message the application sends
against the handshake/open/closed states of the ASGI WebSocket protocol.
:class:`WebSocketTestSession` is what the test holds.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import enum
import json
import queue
from collections.abc import Callable
from functools import partial
from types import TracebackType
from typing import Any, Literal, NoReturn, Self

import httpx

from velocix.testing.asgi_types import ASGIApp, Message, Scope
from velocix.testing.exceptions import (
    ASGIProtocolError,
    ClientDisconnected,
    WebSocketDenied,
    caused_by_disconnect,
)
from velocix.testing.exchange import Signal, log_disconnect_reaction
from velocix.testing.loop import EventLoopThread, LoopClosedError, settle, wait
from velocix.testing.protocol import (
    message_type,
    unexpected,
    validate_body,
    validate_close_code,
    validate_headers,
    validate_reason,
    validate_status,
)

#: Close code the application sees when the handshake never completed (RFC 6455 §7.1.5).
ABNORMAL_CLOSURE = 1006
#: Close code sent when the application fails after accepting.
INTERNAL_ERROR = 1011
#: Close code for connections still open when the client shuts down ("service restart").
SERVICE_RESTART = 1012


class _Unknown(enum.Enum):
    UNKNOWN = "unknown"


_UNKNOWN = _Unknown.UNKNOWN


class _State(enum.Enum):
    CONNECTING = "connecting"
    DENYING = "denying"  # sending a denial response (websocket.http.response extension)
    OPEN = "open"
    CLOSED = "closed"


class WebSocketConnection:
    """The server side of one WebSocket; every method runs on the client's loop."""

    def __init__(
        self, app: ASGIApp, scope: Scope, post: Callable[[Message | Signal], None] | None = None
    ) -> None:
        self.scope = scope
        self._app = app
        self._offered: list[str] = list(scope["subprotocols"])
        #: Messages from the application to the test thread, then ``Signal.END``.
        self.outbox: queue.Queue[Message | Signal] = queue.Queue()
        # The async client reads them from an asyncio.Queue on this loop instead.
        self._post = self.outbox.put if post is None else post
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._state = _State.CONNECTING
        self._disconnect: Message | None = None
        self._task: asyncio.Future[None] | None = None

    async def run(self) -> None:
        """Call the application (the test thread learns it ended from :meth:`finished`)."""
        self._task = asyncio.current_task()
        await self._app(self.scope, self.receive, self.send)

    def finished(self) -> None:
        """The application returned, raised or was cancelled (even before it started)."""
        self._post(Signal.END)

    async def receive(self) -> Message:
        """The application's ``receive``; ``websocket.disconnect`` repeats once reached."""
        if self._disconnect is not None:
            return dict(self._disconnect)
        message = await self._inbox.get()
        if message["type"] == "websocket.disconnect":
            self._disconnect = message
        return message

    async def send(self, message: Message) -> None:
        """The application's ``send``: validate for the current state and forward."""
        kind = message_type(message)
        if self._state is _State.CLOSED:
            raise ClientDisconnected(f"Cannot send {kind!r}: the WebSocket is closed.")
        if self._state is _State.CONNECTING:
            self._send_handshake(kind, message)
        elif self._state is _State.DENYING:
            self._send_denial_body(kind, message)
        else:
            self._send_open(kind, message)

    def _send_handshake(self, kind: str, message: Message) -> None:
        if kind == "websocket.accept":
            self._accept(message)
        elif kind == "websocket.close":
            self._close_by_app(message, app_code=ABNORMAL_CLOSURE)
        elif kind == "websocket.http.response.start":
            status = validate_status(message.get("status"))
            headers = validate_headers(message.get("headers"))
            self._state = _State.DENYING
            self._post({"type": kind, "status": status, "headers": headers})
        else:
            raise unexpected(
                kind, ["websocket.accept", "websocket.close", "websocket.http.response.start"]
            )

    def _accept(self, message: Message) -> None:
        subprotocol = message.get("subprotocol")
        if subprotocol is not None and subprotocol not in self._offered:
            raise ASGIProtocolError(
                f"The application accepted subprotocol {subprotocol!r}, which the client "
                f"did not offer (offered: {self._offered!r})."
            )
        headers = validate_headers(message.get("headers"))
        if any(name == b"sec-websocket-protocol" for name, _ in headers):
            raise ASGIProtocolError(
                "Accept headers must not include sec-websocket-protocol; use the 'subprotocol' key."
            )
        self._state = _State.OPEN
        self._post({"type": "websocket.accept", "subprotocol": subprotocol, "headers": headers})

    def _send_denial_body(self, kind: str, message: Message) -> None:
        if kind != "websocket.http.response.body":
            raise unexpected(kind, ["websocket.http.response.body"])
        body = validate_body(message.get("body"))
        more_body = bool(message.get("more_body", False))
        self._post({"type": kind, "body": body, "more_body": more_body})
        if not more_body:
            self._closed(ABNORMAL_CLOSURE, "")

    def _send_open(self, kind: str, message: Message) -> None:
        if kind == "websocket.close":
            self._close_by_app(message, app_code=None)
        elif kind == "websocket.send":
            self._post(_data_message("websocket.send", message))
        else:
            raise unexpected(kind, ["websocket.send", "websocket.close"])

    def _close_by_app(self, message: Message, *, app_code: int | None) -> None:
        code = validate_close_code(message.get("code"))
        reason = validate_reason(message.get("reason"))
        self._post({"type": "websocket.close", "code": code, "reason": reason})
        # The client answers a close frame with its own, so the application then sees
        # websocket.disconnect; before accept there was no handshake, hence 1006.
        if app_code is None:
            self._closed(code, reason)
        else:
            self._closed(app_code, "")

    def _closed(self, code: int, reason: str) -> None:
        self._state = _State.CLOSED
        self._inbox.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})

    def deliver(self, message: Message) -> None:
        """A message from the client; dropped once the connection is closed."""
        if self._state is _State.CLOSED:
            return
        if message["type"] == "websocket.disconnect":
            self._state = _State.CLOSED
        self._inbox.put_nowait(message)

    async def settle(self) -> None:
        """Wait for the application to return (cancelled if it ignores the close)."""
        if self._task is not None:
            await settle(self._task)

    async def abort(self) -> None:
        """Server shutdown: close with 1012 on both sides, then settle."""
        if self._state is not _State.CLOSED:
            if self._state is _State.OPEN:
                self._post({"type": "websocket.close", "code": SERVICE_RESTART, "reason": ""})
            self._closed(SERVICE_RESTART, "")
        await self.settle()


def _data_message(kind: str, message: Message) -> Message:
    text, data = message.get("text"), message.get("bytes")
    if (text is None) == (data is None):
        raise ASGIProtocolError(f"{kind!r} needs exactly one of 'text' or 'bytes'.")
    if text is not None:
        if not isinstance(text, str):
            raise ASGIProtocolError(f"'text' must be a str, got {type(text).__name__}.")
        return {"type": kind, "text": text}
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ASGIProtocolError(f"'bytes' must be bytes, got {type(data).__name__}.")
    return {"type": kind, "bytes": bytes(data)}


def _disconnect_error(message: Message) -> Exception:
    # Imported when needed: the test client must import (and drive non-Velocix apps)
    # without loading the framework; the framework's exception is what tests catch.
    from velocix.websocket import WebSocketDisconnect

    return WebSocketDisconnect(message.get("code", 1000), message.get("reason") or "")


class WebSocketTestSession:
    """An open WebSocket to the application, driven from the test thread.

    Created by :meth:`velocix.testing.TestClient.websocket_connect` once the application
    accepted. Once the application closes (or fails, or returns), receiving raises
    ``velocix.websocket.WebSocketDisconnect(code, reason)``; with
    ``raise_server_exceptions`` an application error is raised instead, in the test.
    Leaving the ``with`` block closes with code 1000 and waits for the application.
    """

    def __init__(
        self,
        connection: WebSocketConnection,
        future: concurrent.futures.Future[None],
        *,
        request: httpx.Request,
        loop_thread: EventLoopThread,
        loop: asyncio.AbstractEventLoop,
        raise_server_exceptions: bool,
    ) -> None:
        self.scope = connection.scope
        #: The subprotocol the application chose, or ``None``.
        self.accepted_subprotocol: str | None = None
        #: Headers the application added to its accept (``[(name, value)]`` bytes).
        self.extra_headers: list[tuple[bytes, bytes]] = []
        self._connection = connection
        self._future = future
        self._request = request
        self._loop_thread = loop_thread
        self._loop = loop
        self._raise = raise_server_exceptions
        self._close_message: Message | None = None
        self._closed_by_client = False
        self._error_reported = False
        self._outcome: BaseException | Literal[_Unknown.UNKNOWN] | None = _UNKNOWN
        self._handshake()

    # -- handshake -------------------------------------------------------------------

    def _handshake(self) -> None:
        self._deliver({"type": "websocket.connect"})
        message = self._next()
        if message is None:
            self._handshake_abandoned()
        kind = message["type"]
        if kind == "websocket.accept":
            self.accepted_subprotocol = message["subprotocol"]
            self.extra_headers = message["headers"]
        elif kind == "websocket.close":
            self._deny(403, [], b"")  # what a server answers to close-before-accept
        else:
            self._deny(message["status"], message["headers"], self._denial_body())

    def _denial_body(self) -> bytes:
        parts: list[bytes] = []
        while (message := self._next()) is not None:
            parts.append(message["body"])
            if not message["more_body"]:
                break
        return b"".join(parts)

    def _handshake_abandoned(self) -> NoReturn:
        if self._raise:
            self._raise_app_error()
            raise ASGIProtocolError(
                "The application returned without accepting or closing the WebSocket."
            )
        self._deny(500, [], b"Internal Server Error")

    def _deny(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> NoReturn:
        self._closed_by_client = True
        self._close_message = {"type": "websocket.close", "code": ABNORMAL_CLOSURE, "reason": ""}
        self._settle()
        self._raise_app_error()
        response = httpx.Response(status, headers=headers, content=body, request=self._request)
        raise WebSocketDenied(request=self._request, response=response)

    # -- receiving -------------------------------------------------------------------

    def receive(self) -> Message:
        """The next raw message from the application.

        The application's ``websocket.close`` is returned once; afterwards (and after
        :meth:`close`) this raises ``WebSocketDisconnect``.
        """
        if self._close_message is not None:
            raise _disconnect_error(self._close_message)
        message = self._next()
        if message is None:  # the application returned or failed without closing
            self._raise_app_error()
            code = ABNORMAL_CLOSURE if self._app_error() is None else INTERNAL_ERROR
            message = {"type": "websocket.close", "code": code, "reason": ""}
        if message["type"] == "websocket.close":
            self._close_message = message
        return message

    def receive_text(self) -> str:
        """The next message, which must be text."""
        message = self._receive_data()
        text = message.get("text")
        if text is None:
            raise TypeError(f"Expected a text message, got binary: {message.get('bytes')!r}.")
        return str(text)

    def receive_bytes(self) -> bytes:
        """The next message, which must be binary."""
        message = self._receive_data()
        data = message.get("bytes")
        if data is None:
            raise TypeError(f"Expected a binary message, got text: {message.get('text')!r}.")
        return bytes(data)

    def receive_json(self, mode: Literal["text", "binary"] = "text") -> Any:
        """The next message decoded as JSON, from a text or (``mode="binary"``) binary frame."""
        if mode == "text":
            return json.loads(self.receive_text())
        return json.loads(self.receive_bytes())

    def _receive_data(self) -> Message:
        message = self.receive()
        if message["type"] == "websocket.close":
            raise _disconnect_error(message)
        return message

    def _next(self) -> Message | None:
        item = self._connection.outbox.get()
        return None if isinstance(item, Signal) else item

    # -- sending ---------------------------------------------------------------------

    def send(self, message: Message) -> None:
        """Send a raw ASGI message (``websocket.receive`` / ``websocket.disconnect``)."""
        if self._closed_by_client:
            raise RuntimeError("This WebSocket session is closed.")
        self._deliver(dict(message))

    def send_text(self, data: str) -> None:
        """Send a text message."""
        self.send({"type": "websocket.receive", "text": data})

    def send_bytes(self, data: bytes) -> None:
        """Send a binary message."""
        self.send({"type": "websocket.receive", "bytes": bytes(data)})

    def send_json(self, data: Any, mode: Literal["text", "binary"] = "text") -> None:
        """Send ``data`` as compact JSON in a text or (``mode="binary"``) binary message."""
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        if mode == "text":
            self.send_text(text)
        else:
            self.send_bytes(text.encode("utf-8"))

    def _deliver(self, message: Message) -> None:
        deliver: Callable[[], None] = partial(self._connection.deliver, message)
        if not self._loop_thread.call_soon(self._loop, deliver):
            raise RuntimeError("The test client has shut down; this WebSocket is gone.")

    # -- closing ---------------------------------------------------------------------

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close from the client side and wait for the application to finish.

        The application receives ``websocket.disconnect`` with ``code``/``reason``. An
        application error is raised here if it was not raised already.
        """
        if self._closed_by_client:
            return
        self._closed_by_client = True
        if self._close_message is None:
            self._close_message = {"type": "websocket.close", "code": code, "reason": reason}
        disconnect = {"type": "websocket.disconnect", "code": code, "reason": reason}
        self._loop_thread.call_soon(self._loop, partial(self._connection.deliver, disconnect))
        self._settle()
        self._raise_app_error()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self.close()
        except Exception as error:
            if exc is None:
                raise
            exc.add_note(f"The WebSocket application also raised {error!r}.")

    # -- application outcome ---------------------------------------------------------

    def _settle(self) -> None:
        with contextlib.suppress(LoopClosedError):
            wait(self._loop_thread.submit_to(self._loop, self._connection.settle()))

    def _app_error(self) -> BaseException | None:
        """The application's exception; only call once it has returned."""
        if self._outcome is _UNKNOWN:
            self._outcome = self._read_outcome()
        return self._outcome

    def _read_outcome(self) -> BaseException | None:
        try:
            error = self._future.exception()
        except concurrent.futures.CancelledError:
            return None
        if error is not None and caused_by_disconnect(error):
            log_disconnect_reaction(error)
            return None
        return error

    def _raise_app_error(self) -> None:
        if not self._raise or self._error_reported:
            return
        error = self._app_error()
        if error is not None:
            self._error_reported = True
            raise error

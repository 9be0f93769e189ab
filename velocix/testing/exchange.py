"""One HTTP request/response between the test client and the application.

:class:`HTTPExchange` is the server side: it lives on the client's event loop, feeds
the request body to the application, checks every message the application sends and
passes the response to the test thread through a thread-safe queue.
:class:`ResponseStream` is the test-thread side that httpx reads the body from.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import enum
import logging
import queue
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import httpx

from velocix.testing.asgi_types import ASGIApp, Message, Scope
from velocix.testing.exceptions import (
    ASGIProtocolError,
    ClientDisconnected,
    caused_by_disconnect,
)
from velocix.testing.loop import EventLoopThread, LoopClosedError, settle, wait
from velocix.testing.protocol import (
    message_type,
    unexpected,
    validate_body,
    validate_headers,
    validate_status,
)

logger = logging.getLogger("velocix.testing")

#: Request bodies reach the application in pieces of at most this size, as they would
#: from a socket, so ``more_body`` handling is exercised by every large upload.
REQUEST_CHUNK_SIZE = 64 * 1024
#: Response chunks the application may have sent ahead of the reader. A bound keeps an
#: endless stream that the test reads a little of from filling memory.
MAX_CHUNKS_IN_FLIGHT = 16
_BODYLESS_STATUSES = frozenset({204, 304})


class Signal(enum.Enum):
    """Marker put on the event queue when the application has returned."""

    END = "end"


@dataclass(frozen=True, slots=True)
class ResponseStart:
    """The validated ``http.response.start`` message."""

    status: int
    headers: list[tuple[bytes, bytes]]


ExchangeEvent = ResponseStart | bytes | Signal


def split_body(parts: Iterable[bytes]) -> deque[bytes]:
    """The request body as ``http.request`` chunks; at least one, possibly empty."""
    chunks: deque[bytes] = deque()
    for part in parts:
        for offset in range(0, len(part), REQUEST_CHUNK_SIZE):
            chunks.append(bytes(part[offset : offset + REQUEST_CHUNK_SIZE]))
    if not chunks:
        chunks.append(b"")
    return chunks


class HTTPExchange:
    """The server side of one request; every method runs on the client's loop."""

    def __init__(
        self,
        app: ASGIApp,
        scope: Scope,
        body: Iterable[bytes],
        post: Callable[[ExchangeEvent], None] | None = None,
    ) -> None:
        self._app = app
        self._scope = scope
        self._body = split_body(body)
        self._head = scope["method"] == "HEAD"
        self.events: queue.Queue[ExchangeEvent] = queue.Queue()
        # Where events go: the thread-safe queue the test thread reads, or (async client) the
        # put_nowait of an asyncio.Queue on this same loop.
        self._post = self.events.put if post is None else post
        self.started = False
        self.complete = False
        self.disconnected = False
        self._status = 0
        self._declared_length: int | None = None
        self._sent_length = 0
        self._in_flight = 0
        self._changed = asyncio.Event()
        self._task: asyncio.Future[None] | None = None

    async def run(self) -> None:
        """Call the application (the test thread learns it ended from :meth:`finished`)."""
        self._task = asyncio.current_task()
        await self._app(self._scope, self.receive, self.send)

    def finished(self) -> None:
        """The application returned, raised or was cancelled (even before it started)."""
        self._post(Signal.END)

    async def receive(self) -> Message:
        """The application's ``receive``: body chunks, then ``http.disconnect``."""
        if self._body:
            chunk = self._body.popleft()
            return {"type": "http.request", "body": chunk, "more_body": bool(self._body)}
        # A server only reports a disconnect once the response is out or the peer left.
        while not (self.complete or self.disconnected):
            await self._wait_for_change()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        """The application's ``send``: validate and forward to the test thread."""
        kind = message_type(message)
        if self.disconnected:
            raise ClientDisconnected(f"Cannot send {kind!r}: the client has disconnected.")
        if self.complete:
            raise ASGIProtocolError(
                f"Unexpected ASGI message {kind!r} after the response completed."
            )
        if kind == "http.response.start":
            self._start(message)
        elif kind == "http.response.body":
            await self._send_body(message)
        else:
            raise unexpected(
                kind, ["http.response.body" if self.started else "http.response.start"]
            )

    def _start(self, message: Message) -> None:
        if self.started:
            raise unexpected("http.response.start", ["http.response.body"])
        status = validate_status(message.get("status"))
        headers = validate_headers(message.get("headers"))
        if message.get("trailers"):
            raise ASGIProtocolError(
                "The response announces trailers, but the client does not advertise the "
                "'http.response.trailers' extension."
            )
        self._declared_length = _content_length(headers, status)
        self._status = status
        self.started = True
        self._post(ResponseStart(status, headers))

    async def _send_body(self, message: Message) -> None:
        if not self.started:
            raise unexpected("http.response.body", ["http.response.start"])
        body = validate_body(message.get("body"))
        more_body = bool(message.get("more_body", False))
        self._check_length(body, final=not more_body)
        if body and not self._head:  # a HEAD response has no body on the wire
            await self._deliver(body)
        if not more_body:
            self.complete = True
            self._notify()

    def _check_length(self, body: bytes, *, final: bool) -> None:
        self._sent_length += len(body)
        if self._head:
            return  # HEAD keeps the GET Content-Length and drops the body (RFC 9110 §9.3.2)
        if self._status in _BODYLESS_STATUSES:
            if self._sent_length:
                raise ASGIProtocolError(
                    f"A {self._status} response must not have a body (RFC 9110 §6.4.1)."
                )
            return
        declared = self._declared_length
        if declared is None:
            return
        if self._sent_length > declared or (final and self._sent_length < declared):
            raise ASGIProtocolError(
                f"Response body {'is' if final else 'grew to'} {self._sent_length} bytes "
                f"but Content-Length is {declared}."
            )

    async def _deliver(self, body: bytes) -> None:
        while self._in_flight >= MAX_CHUNKS_IN_FLIGHT and not self.disconnected:
            await self._wait_for_change()
        if self.disconnected:
            raise ClientDisconnected("The client disconnected while the response was streaming.")
        self._in_flight += 1
        self._post(body)

    def consumed(self) -> None:
        """The test thread took one body chunk off the queue."""
        self._in_flight -= 1
        self._notify()

    def disconnect(self) -> None:
        """The client went away: ``receive`` reports it and ``send`` raises."""
        self.disconnected = True
        self._notify()

    async def abort(self) -> None:
        """Disconnect, then let the application finish (cancelled if it ignores that)."""
        self.disconnect()
        if self._task is not None:
            await settle(self._task)

    async def _wait_for_change(self) -> None:
        await self._changed.wait()

    def _notify(self) -> None:
        # Swap in a fresh event so every current waiter wakes and later ones wait anew.
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()


def log_disconnect_reaction(error: BaseException) -> None:
    """Note (not raise) an exception the application raised because the client left.

    Our own ``ClientDisconnected`` is the expected answer and stays silent; anything
    raised while handling it (a framework's own disconnect error, or a cleanup bug)
    is logged with its traceback, as a server would, so pytest shows it on failure.
    """
    if not isinstance(error, ClientDisconnected):
        logger.warning("The application raised after the client disconnected.", exc_info=error)


def _content_length(headers: list[tuple[bytes, bytes]], status: int) -> int | None:
    values = {value for name, value in headers if name == b"content-length"}
    if not values:
        return None
    if status == 204:
        raise ASGIProtocolError("A 204 response must not have Content-Length (RFC 9110 §8.6).")
    value = values.pop()
    if values or not value.isdigit():
        raise ASGIProtocolError(f"Invalid Content-Length header: {sorted(values | {value})!r}.")
    return int(value)


class ResponseStream(httpx.SyncByteStream):
    """The response body as httpx reads it, pulled from the exchange's queue.

    When the body ends, the application's outcome is checked: its exception, or a
    response it never completed, is raised here (with ``raise_server_exceptions``).
    Closing the stream early disconnects the client, as dropping a socket would.
    """

    def __init__(
        self,
        exchange: HTTPExchange,
        future: concurrent.futures.Future[None],
        *,
        loop_thread: EventLoopThread,
        loop: asyncio.AbstractEventLoop,
        raise_server_exceptions: bool,
    ) -> None:
        self._exchange = exchange
        self._future = future
        self._loop_thread = loop_thread
        self._loop = loop
        self._raise = raise_server_exceptions
        self._finished = False

    def __iter__(self) -> Iterator[bytes]:
        while not self._finished:
            event = self._exchange.events.get()
            if isinstance(event, bytes):
                self._loop_thread.call_soon(self._loop, self._exchange.consumed)
                yield event
            elif event is Signal.END:
                self._finished = True
                self._raise_outcome(aborted=False)

    def close(self) -> None:
        """Disconnect if the body was not read to the end, and wait for the app to stop."""
        if self._finished:
            return
        self._finished = True
        try:
            wait(self._loop_thread.submit_to(self._loop, self._exchange.abort()))
        except LoopClosedError:
            return  # the client shut down; the application was cancelled with the loop
        self._raise_outcome(aborted=True)

    def _raise_outcome(self, *, aborted: bool) -> None:
        if not self._raise:
            return
        try:
            error = self._future.exception()
        except concurrent.futures.CancelledError:
            return  # cancelled by the client's shutdown: the stream simply ends
        if error is not None and caused_by_disconnect(error):
            log_disconnect_reaction(error)
            return
        if error is not None:
            raise error
        if not aborted and not self._exchange.complete:
            raise ASGIProtocolError(
                "The application returned without completing the response "
                "(no 'http.response.body' with more_body=False)."
            )

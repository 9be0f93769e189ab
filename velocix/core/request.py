"""The incoming request: a lazy, cached view over the ASGI scope and receive channel.

Constructing a :class:`Request` stores three references and does nothing else; every property
is computed on first access and cached on the instance, so a handler pays only for what it reads.

Body size limit
---------------
The limit comes from the scope key ``"velocix.max_body_size"`` (:data:`MAX_BODY_SIZE_KEY`): an
``int`` number of bytes, or ``None``/absent for no limit. The application puts its
``max_body_size`` there (a route or middleware may override it per request), so every reader of
the body through :class:`Request` - handlers, dependencies, middleware building their own
``Request(scope, receive)`` - honours the same limit. When the body is read:

* a ``Content-Length`` that is not a plain non-negative integer (or several that disagree)
  raises :class:`InvalidContentLength` (400);
* a ``Content-Length`` above the limit raises :class:`RequestBodyTooLarge` (413) before a single
  ``receive()``;
* a body streamed past the limit (chunked, or a lying Content-Length) raises
  :class:`RequestBodyTooLarge` as soon as the running total exceeds it; nothing past the limit is
  kept and ``receive()`` is not called again.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import msgspec

from velocix.core.exceptions import HTTPException
from velocix.http.datastructures import URL, Address, Headers, QueryParams, Scope, State

if TYPE_CHECKING:
    from velocix.forms import FormData, FormLimits

__all__ = [
    "MAX_BODY_SIZE_KEY",
    "ClientDisconnect",
    "HTTPConnection",
    "InvalidContentLength",
    "Request",
    "RequestBodyTooLarge",
    "cookie_parser",
]

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_BODY_SIZE_KEY = "velocix.max_body_size"
"""Scope key holding the request body limit in bytes (``None`` or absent: unlimited)."""


class ClientDisconnect(Exception):
    """The client disconnected while the request body was being read.

    There is nobody left to answer: the application should stop handling the request and send
    nothing.
    """


class RequestBodyTooLarge(HTTPException):
    """413: the request body is larger than the configured limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Request body exceeds the limit of {limit} bytes")
        self.limit = limit


class InvalidContentLength(HTTPException):
    """400: the ``Content-Length`` header is not a plain non-negative integer."""

    def __init__(self, value: str) -> None:
        super().__init__(400, f"Invalid Content-Length header: {value!r}")


async def _receive_unavailable() -> Message:
    raise RuntimeError("Request.receive is not available: construct Request(scope, receive)")


async def _send_noop(message: Message) -> None:
    return None


_COOKIE_ESCAPE_RE = re.compile(r"\\(?:([0-3][0-7][0-7])|(.))")


def _unquote_cookie(value: str) -> str:
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return value
    # The quoting http.cookies produces: backslash escapes and \ooo octal escapes.
    return _COOKIE_ESCAPE_RE.sub(lambda m: chr(int(m[1], 8)) if m[1] else m[2], value[1:-1])


def cookie_parser(cookie_string: str) -> dict[str, str]:
    """Parse a ``Cookie`` header the way browsers send it, tolerating what RFC 6265 forbids.

    Pairs are split on ``;`` and the first ``=``; a chunk without ``=`` is a value with an empty
    name (as browsers do); quoted values are unquoted like :mod:`http.cookies` writes them. For a
    repeated name the **first** value wins: browsers send the most specific path first.
    """
    cookies: dict[str, str] = {}
    for chunk in cookie_string.split(";"):
        key, sep, value = chunk.partition("=")
        if not sep:
            key, value = "", key
        key, value = key.strip(), value.strip()
        if (key or value) and key not in cookies:
            cookies[key] = _unquote_cookie(value)
    return cookies


class HTTPConnection:
    """What HTTP requests and WebSocket connections share: scope-derived, lazily cached data."""

    # Class-level defaults are the "not computed yet" markers; instances only store what they
    # computed, so construction is three attribute stores.
    _url: URL | None = None
    _base_url: URL | None = None
    _headers: Headers | None = None
    _query_params: QueryParams | None = None
    _cookies: dict[str, str] | None = None
    _state: State | None = None

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    @property
    def url(self) -> URL:
        """The full request URL (Host header or server address, path, query string)."""
        url = self._url
        if url is None:
            url = self._url = URL(scope=self.scope)
        return url

    @property
    def base_url(self) -> URL:
        """The URL of the application root (``root_path``), ending in ``/``, without a query."""
        base_url = self._base_url
        if base_url is None:
            scope = dict(self.scope)
            root_path = scope.get("app_root_path", scope.get("root_path", ""))
            scope["path"] = root_path if root_path.endswith("/") else root_path + "/"
            scope["query_string"] = b""
            base_url = self._base_url = URL(scope=scope)
        return base_url

    @property
    def headers(self) -> Headers:
        """Request headers: case-insensitive, repeated values kept (:meth:`Headers.getlist`)."""
        headers = self._headers
        if headers is None:
            headers = self._headers = Headers(None, self.scope["headers"])
        return headers

    @property
    def query_params(self) -> QueryParams:
        """Query parameters: repeated keys kept (:meth:`QueryParams.getlist`); ``[key]`` is the
        last value."""
        query_params = self._query_params
        if query_params is None:
            query_params = self._query_params = QueryParams(self.scope.get("query_string", b""))
        return query_params

    @property
    def path_params(self) -> dict[str, Any]:
        """Path parameters converted by the router (``scope["path_params"]``)."""
        params: dict[str, Any] = self.scope.get("path_params", {})
        return params

    @property
    def cookies(self) -> dict[str, str]:
        """Cookies from every ``Cookie`` header (HTTP/2 may split them), see
        :func:`cookie_parser`."""
        cookies = self._cookies
        if cookies is None:
            values = [v.decode("latin-1") for k, v in self.scope["headers"] if k == b"cookie"]
            cookies = self._cookies = cookie_parser("; ".join(values)) if values else {}
        return cookies

    @property
    def client(self) -> Address | None:
        """The peer's ``(host, port)``, or ``None`` when the server does not know it."""
        client = self.scope.get("client")
        if client is None:
            return None
        host, port = client[0], client[1]
        if isinstance(port, str):  # some servers send the port as a string
            port = int(port) if port.isdigit() else None
        return Address(host, port)

    @property
    def state(self) -> State:
        """Per-request state over ``scope["state"]`` (the server's shallow copy of the lifespan
        state), so middleware and the handler see the same attributes."""
        state = self._state
        if state is None:
            state = self._state = State(self.scope.setdefault("state", {}))
        return state

    @property
    def app(self) -> Any:
        """The application (``scope["app"]``), or ``None``."""
        return self.scope.get("app")


_UNSET: Any = object()


class Request(HTTPConnection):
    """An HTTP request. See the module docstring for the body size limit.

    ``receive`` defaults to a callable raising :class:`RuntimeError` (for a request built from a
    scope alone), ``send`` to a no-op.
    """

    _body: bytes | None = None
    _json: Any = _UNSET
    _stream_consumed = False
    _is_disconnected = False
    _buffered: list[Message] | None = None  # messages read early by is_disconnected()

    def __init__(
        self, scope: Scope, receive: Receive = _receive_unavailable, send: Send = _send_noop
    ) -> None:
        self.scope = scope
        self._receive = receive
        self._send = send

    @property
    def method(self) -> str:
        """The request method, upper case."""
        method: str = self.scope["method"]
        return method

    @property
    def receive(self) -> Receive:
        """The ASGI receive channel."""
        return self._receive

    async def _next_message(self) -> Message:
        buffered = self._buffered
        if buffered:
            return buffered.pop(0)
        return await self._receive()

    def _body_limit(self) -> int | None:
        """Validate Content-Length and return the limit; raises 400/413 before any read.

        Only the first Content-Length is looked at: conflicting duplicates are a framing error
        the server rejects (RFC 9112 §6.3) before the application ever runs.
        """
        scope = self.scope
        limit: int | None = scope.get(MAX_BODY_SIZE_KEY)
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit():
                    raise InvalidContentLength(value.decode("latin-1"))
                if limit is not None:
                    # Length first: a 10,000-digit Content-Length is over any limit, and int()
                    # would refuse it (sys.int_info.str_digits_check_threshold).
                    digits = value.lstrip(b"0")
                    if len(digits) > 20 or int(digits or b"0") > limit:
                        raise RequestBodyTooLarge(limit)
                break
        return limit

    def _start_reading(self) -> int | None:
        if self._stream_consumed:
            raise RuntimeError("The request body stream has already been consumed")
        self._stream_consumed = True
        return self._body_limit()

    def _chunk(self, message: Message, received: int, limit: int | None) -> bytes:
        """The body bytes of ``message``; raises on disconnect or when over the limit."""
        message_type = message["type"]
        if message_type == "http.request":
            chunk: bytes = message.get("body", b"")
            if limit is not None and received + len(chunk) > limit:
                raise RequestBodyTooLarge(limit)
            return chunk
        if message_type == "http.disconnect":
            self._is_disconnected = True
            raise ClientDisconnect()
        return b""  # unknown message types are ignored (ASGI: be liberal in what you accept)

    async def stream(self) -> AsyncIterator[bytes]:
        """The body as it arrives, chunk by chunk (empty chunks skipped).

        After :meth:`body` was read, yields the cached body instead. Raises
        :class:`RuntimeError` if the stream was already consumed, :class:`ClientDisconnect` if the
        client goes away, and 400/413 :class:`HTTPException` per the body size rules.
        """
        if self._body is not None:
            yield self._body
            return
        limit = self._start_reading()
        received = 0
        while True:
            message = await self._next_message()
            chunk = self._chunk(message, received, limit)
            if chunk:
                received += len(chunk)
                yield chunk
            if not message.get("more_body", False) and message["type"] == "http.request":
                return

    async def body(self) -> bytes:
        """The whole body (read once, then cached)."""
        body = self._body
        if body is not None:
            return body
        # Not built on stream(): an async generator costs more than the rest of a small
        # request's body handling, and most bodies arrive in one message.
        limit = self._start_reading()
        buffered = self._buffered
        message = buffered.pop(0) if buffered else await self._receive()
        if message["type"] == "http.request" and not message.get("more_body", False):
            body = message.get("body", b"")
            if limit is not None and len(body) > limit:
                raise RequestBodyTooLarge(limit)
        else:
            body = await self._read_rest(message, limit)
        self._body = body
        return body

    async def _read_rest(self, message: Message, limit: int | None) -> bytes:
        chunk = self._chunk(message, 0, limit)
        chunks = [chunk]
        received = len(chunk)
        while message.get("more_body", False) or message["type"] != "http.request":
            message = await self._next_message()
            chunk = self._chunk(message, received, limit)
            received += len(chunk)
            chunks.append(chunk)
        return b"".join(chunks)

    async def json(self) -> Any:
        """The body decoded as JSON (cached); malformed JSON raises :class:`HTTPException` 400."""
        if self._json is _UNSET:
            body = await self.body()
            try:
                self._json = msgspec.json.decode(body)
            except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
                # msgspec reports invalid UTF-8 inside a string as UnicodeDecodeError, and
                # nesting deeper than the interpreter's recursion limit as RecursionError.
                reason = str(exc).removeprefix("JSON is malformed: ")
                raise HTTPException(400, f"Malformed JSON: {reason}") from exc
        return self._json

    async def form(self, limits: FormLimits | None = None) -> FormData:
        """The body parsed as a form (urlencoded or multipart), once per request.

        Provided by :func:`velocix.forms.parse_form` (imported on first use, so the core does
        not load the forms battery); multipart needs the ``velocix[forms]`` extra.
        """
        from velocix.forms import parse_form

        return await parse_form(self, limits)

    async def is_disconnected(self) -> bool:
        """Whether the client has disconnected, without waiting.

        Looks at one message if it is immediately available. A body chunk read this way is kept
        and served by :meth:`stream`/:meth:`body`, not lost.
        """
        if self._is_disconnected:
            return True
        if self._buffered:
            return False
        task: asyncio.Future[Message] = asyncio.ensure_future(self._receive())
        await asyncio.sleep(0)  # lets the task run once: done now iff a message was waiting
        if not task.done():
            task.cancel()
            task.add_done_callback(self._keep_late_message)
            return False
        self._keep_message(task.result())
        return self._is_disconnected

    def _keep_message(self, message: Message) -> None:
        if message["type"] == "http.disconnect":
            self._is_disconnected = True
        else:
            if self._buffered is None:
                self._buffered = []
            self._buffered.append(message)

    def _keep_late_message(self, task: asyncio.Future[Message]) -> None:
        # A receive() that returned despite the cancellation still carries a real message.
        if not task.cancelled() and task.exception() is None:
            self._keep_message(task.result())

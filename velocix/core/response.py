"""Responses: ASGI callables that send a status line, headers and a body.

A response object is built on every request, so construction does the minimum: render the body
once, build ``raw_headers`` (the ``list[tuple[bytes, bytes]]`` sent as-is in
``http.response.start``) once, and create nothing else. ``.headers`` is a
:class:`~velocix.http.datastructures.MutableHeaders` view made only when asked for.

Rules every response class keeps:

* ``content-length`` always equals the body the class would send for GET; a user-supplied
  ``content-length`` is replaced by the real one.
* 1xx, 204 and 304 responses carry no body and no ``content-length``.
* A ``HEAD`` request (``scope["method"] == "HEAD"``) gets the GET headers, ``content-length``
  included, and an empty body.
* ``text/*`` media types get ``; charset=utf-8``.
* ``background`` (a :class:`~velocix.core.background.BackgroundTask` or ``BackgroundTasks``) runs
  after the last body message, also when the client went away during sending.
* An ``OSError`` from ``send`` (ASGI spec 2.4: the client disconnected) ends sending quietly; it
  is not an application error.
"""

from __future__ import annotations

import asyncio
import calendar
import http.cookies
import mimetypes
import os
import stat
from collections.abc import AsyncIterable, Iterable, Mapping
from datetime import UTC, datetime
from email.utils import format_datetime, formatdate, parsedate
from typing import Any, BinaryIO, Literal
from urllib.parse import quote

import msgspec
import orjson

from velocix.core.background import BackgroundTask
from velocix.core.concurrency import iterate_in_threadpool, run_in_threadpool
from velocix.http.datastructures import (
    URL,
    Headers,
    MutableHeaders,
    RawHeaders,
    Scope,
    encode_header,
)

__all__ = [
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
    "body_allowed",
    "content_type_header",
    "json_body",
    "parse_range",
]

Message = dict[str, Any]
Receive = Any  # Callable[[], Awaitable[Message]]; kept loose so any ASGI server's callable fits
Send = Any  # Callable[[Message], Awaitable[None]]

# Header names and values used on every response, encoded once.
_CONTENT_LENGTH = b"content-length"
_CONTENT_TYPE = b"content-type"
_SET_COOKIE = b"set-cookie"
_LOCATION = b"location"
_START = "http.response.start"
_BODY = "http.response.body"
_WS_START = "websocket.http.response.start"
_WS_BODY = "websocket.http.response.body"

_CONTENT_TYPE_CACHE: dict[tuple[str, str], bytes] = {}
_CONTENT_TYPE_CACHE_MAX = 256  # media types are program constants; cap in case one is not


def content_type_header(media_type: str, charset: str = "utf-8") -> bytes:
    """The encoded ``content-type`` value for ``media_type`` (``text/*`` gets a charset)."""
    cached = _CONTENT_TYPE_CACHE.get((media_type, charset))
    if cached is not None:
        return cached
    value = media_type
    if media_type.startswith("text/") and "charset=" not in media_type.lower():
        value = f"{media_type}; charset={charset}"
    encoded = encode_header("content-type", value)[1]
    if len(_CONTENT_TYPE_CACHE) < _CONTENT_TYPE_CACHE_MAX:
        _CONTENT_TYPE_CACHE[media_type, charset] = encoded
    return encoded


_NO_BODY_STATUSES = frozenset([*range(100, 200), 204, 304])

CONTENT_LENGTHS: tuple[tuple[bytes, bytes], ...] = tuple(
    (_CONTENT_LENGTH, b"%d" % size) for size in range(1024)
)
"""The ``content-length`` header of bodies under 1 KiB, built once (formatting the number is a
noticeable part of sending a small response)."""


def body_allowed(status_code: int) -> bool:
    """False for statuses that never carry a body: 1xx, 204, 304 (RFC 9110 §6.4.1)."""
    return status_code not in _NO_BODY_STATUSES


# --- JSON ------------------------------------------------------------------------------------


def _enc_hook(obj: Any) -> Any:
    # pydantic is not a dependency: any object with model_dump(mode="json") is encoded that way.
    model_dump = getattr(obj, "model_dump", None)
    if model_dump is not None:
        return model_dump(mode="json")
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def _orjson_default(obj: Any) -> Any:
    model_dump = getattr(obj, "model_dump", None)
    if model_dump is not None:
        return model_dump(mode="json")
    if isinstance(obj, set | frozenset):
        return list(obj)
    # Decimal, Struct and the rest of what msgspec knows, inside containers orjson needs.
    return msgspec.to_builtins(obj, enc_hook=_enc_hook)


_msgspec_encode = msgspec.json.Encoder(enc_hook=_enc_hook).encode
_ORJSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def json_body(obj: Any) -> bytes:
    """Encode ``obj`` as compact UTF-8 JSON bytes.

    msgspec first (dict, list, Struct, dataclass, attrs, datetime, UUID, Decimal as a string,
    enum, set...; pydantic models through ``model_dump(mode="json")``), then orjson for what
    msgspec refuses (numpy arrays, dicts with tuple/other non-string keys). Raises
    :class:`TypeError` naming the type when neither can encode it.
    """
    try:
        return _msgspec_encode(obj)
    except TypeError as msgspec_error:
        try:
            return orjson.dumps(obj, default=_orjson_default, option=_ORJSON_OPTIONS)
        except TypeError:
            raise msgspec_error from None


# --- Responses -------------------------------------------------------------------------------

SameSite = Literal["lax", "strict", "none", "Lax", "Strict", "None"]


class Response:
    """A response with a body known up front.

    ``content`` may be ``bytes``, ``str`` (encoded with :attr:`charset`) or ``None`` (empty).
    ``headers`` is a mapping of extra headers; header names are validated and CR/LF/NUL in values
    are rejected with :class:`ValueError` (no response splitting).

    Built lazily, once: the constructor stores what it was given (and checks the extra headers
    right there, where the application sets them); :attr:`body` is rendered and
    :attr:`raw_headers` built the first time something asks for them. The application renders a
    returned plain response the way it renders a returned ``str`` or ``dict``, so returning one
    costs no more than returning the value.
    """

    media_type: str | None = None
    charset: str = "utf-8"
    _content_type: tuple[bytes, bytes] | None = None
    _content: Any = None
    _body: bytes | None = None

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        # The hot path: four stores (see the class docstring). ``_raw_headers`` stays None
        # until the headers are built; a customised response builds them here.
        self._content = content
        self.status_code = status_code
        self.background = background
        self._raw_headers: RawHeaders | None = None
        if headers is not None or media_type is not None:
            if media_type is not None:
                self.media_type = media_type
            self._raw_headers = self._build_headers(headers)

    @property
    def body(self) -> bytes:
        """The rendered body (rendered on first use)."""
        body = self._body
        if body is None:
            body = self._body = self._render_body()
        return body

    @body.setter
    def body(self, value: bytes) -> None:
        self._body = value

    @property
    def raw_headers(self) -> RawHeaders:
        """The ``[(name, value)]`` sent in ``http.response.start`` (built on first use)."""
        raw = self._raw_headers
        if raw is None:
            raw = self._raw_headers = self._build_headers(None)
        return raw

    @raw_headers.setter
    def raw_headers(self, value: RawHeaders) -> None:
        self._raw_headers = value

    def _render_body(self) -> bytes:
        if self.status_code in _NO_BODY_STATUSES:
            return b""
        return self.render(self._content)

    def _build_headers(self, headers: Mapping[str, str] | None) -> RawHeaders:
        if self.status_code in _NO_BODY_STATUSES:
            raw: RawHeaders = []
        else:
            raw = [(_CONTENT_LENGTH, b"%d" % len(self.body))]
            media_type = self.media_type
            if media_type is not None:
                if "media_type" in self.__dict__ or self._content_type is None:
                    raw.append((_CONTENT_TYPE, content_type_header(media_type, self.charset)))
                else:
                    raw.append(self._content_type)
        if headers:
            _merge_headers(raw, headers)
        return raw

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Precompute the class's content-type header once, not per response.
        media_type = cls.media_type
        cls._content_type = (
            None
            if media_type is None
            else (_CONTENT_TYPE, content_type_header(media_type, cls.charset))
        )

    def render(self, content: Any) -> bytes:
        """Turn ``content`` into the body bytes (subclasses override this)."""
        if content is None:
            return b""
        if isinstance(content, bytes):
            return content
        if isinstance(content, str):
            return content.encode(self.charset)
        if isinstance(content, bytearray | memoryview):
            return bytes(content)
        raise TypeError(
            f"{type(self).__name__} content must be bytes or str, not {type(content).__name__}"
            " (use JSONResponse for objects)"
        )

    @property
    def headers(self) -> MutableHeaders:
        """A mutable view over :attr:`raw_headers` (edits change what is sent)."""
        return MutableHeaders(raw=self.raw_headers)

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: int | None = None,
        expires: datetime | str | int | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: SameSite | None = "lax",
    ) -> None:
        """Add a ``Set-Cookie`` header; each call adds its own header.

        Quoting and attribute syntax come from :mod:`http.cookies`. ``expires`` is a datetime, an
        HTTP date string or seconds from now. ``samesite="none"`` requires ``secure=True``
        (browsers drop such cookies otherwise).
        """
        self.raw_headers.append(
            (
                _SET_COOKIE,
                _cookie_header(
                    key, value, max_age, expires, path, domain, secure, httponly, samesite
                ),
            )
        )

    def delete_cookie(
        self,
        key: str,
        path: str = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: SameSite | None = "lax",
    ) -> None:
        """Expire cookie ``key`` (``Max-Age=0`` and an ``Expires`` in the past)."""
        self.set_cookie(
            key,
            max_age=0,
            expires=_EPOCH,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._send_denial(send)
            return
        # Message types as literals: constants are cheaper to load than globals here.
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": self.status_code,
                    "headers": self.raw_headers,
                }
            )
            await send(
                {
                    "type": "http.response.body",
                    "body": b"" if scope.get("method") == "HEAD" else self.body,
                }
            )
        except OSError:
            pass  # client gone (ASGI 2.4); background work still runs
        if self.background is not None:
            await self.background()

    async def _send_denial(self, send: Send) -> None:
        """Send this response as a WebSocket handshake denial (websocket.http.response)."""
        await send({"type": _WS_START, "status": self.status_code, "headers": self.raw_headers})
        await send({"type": _WS_BODY, "body": self.body})
        if self.background is not None:
            await self.background()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code})"


def _merge_headers(raw: RawHeaders, headers: Mapping[str, str]) -> None:
    for key, value in headers.items():
        name, encoded = encode_header(key, value)
        if name == _CONTENT_LENGTH:
            continue  # always computed from the body
        if name == _CONTENT_TYPE:
            raw[:] = [pair for pair in raw if pair[0] != _CONTENT_TYPE]
        raw.append((name, encoded))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SAMESITE_VALUES = {"lax": "Lax", "strict": "Strict", "none": "None"}


_COOKIE_FORBIDDEN = frozenset("\r\n\x00")


def _check_cookie_part(key: str, what: str, text: str, *, attribute: bool = False) -> None:
    """Refuse what cannot go on the wire in a ``Set-Cookie`` header, naming the cookie.

    CR, LF and NUL would split the header; characters beyond latin-1 cannot be sent at all;
    a ``;`` in an attribute would start another attribute (``Path=/; Domain=evil``).
    """
    if not _COOKIE_FORBIDDEN.isdisjoint(text) or (attribute and ";" in text):
        forbidden = "CR, LF, NUL and ';'" if attribute else "CR, LF and NUL"
        raise ValueError(
            f"Invalid {what} for cookie {key!r} (header 'Set-Cookie'): {forbidden} are not allowed"
        )
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(
            f"Invalid {what} for cookie {key!r} (header 'Set-Cookie'): only latin-1 characters"
            " can be sent; percent-encode other text"
        ) from None


def _cookie_header(
    key: str,
    value: str,
    max_age: int | None,
    expires: datetime | str | int | None,
    path: str | None,
    domain: str | None,
    secure: bool,
    httponly: bool,
    samesite: str | None,
) -> bytes:
    _check_cookie_part(key, "value", value)
    for attribute, text in (("path", path), ("domain", domain), ("expires", expires)):
        if isinstance(text, str):
            _check_cookie_part(key, attribute, text, attribute=True)
    cookie: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
    try:
        cookie[key] = value
    except http.cookies.CookieError as exc:
        raise ValueError(f"Invalid cookie name {key!r} for Set-Cookie: {exc}") from None
    morsel = cookie[key]
    if max_age is not None:
        morsel["max-age"] = str(max_age)
    if expires is not None:
        # http.cookies turns an int into an HTTP date that many seconds from now.
        morsel["expires"] = (
            format_datetime(expires, usegmt=True) if isinstance(expires, datetime) else expires
        )
    if path is not None:
        morsel["path"] = path
    if domain is not None:
        morsel["domain"] = domain
    if secure:
        morsel["secure"] = True
    if httponly:
        morsel["httponly"] = True
    if samesite is not None:
        canonical = _SAMESITE_VALUES.get(samesite.lower())
        if canonical is None:
            raise ValueError(f"samesite must be 'lax', 'strict' or 'none', got {samesite!r}")
        if canonical == "None" and not secure:
            raise ValueError("samesite='none' requires secure=True (browsers reject it otherwise)")
        morsel["samesite"] = canonical
    return morsel.OutputString().encode("latin-1")


class JSONResponse(Response):
    """``content`` encoded with :func:`json_body` as ``application/json``."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json_body(content)


class PlainTextResponse(Response):
    """``text/plain; charset=utf-8``."""

    media_type = "text/plain"


class HTMLResponse(Response):
    """``text/html; charset=utf-8``."""

    media_type = "text/html"


class RedirectResponse(Response):
    """A redirect to ``url`` (307 by default: the method and body are kept).

    ``url`` is percent-quoted for the ``Location`` header, keeping URL delimiters and existing
    ``%XX`` escapes, so user data cannot inject headers through it.
    """

    def __init__(
        self,
        url: str | URL,
        status_code: int = 307,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        super().__init__(None, status_code, headers, background=background)
        location = quote(str(url), safe=":/%#?=@[]!$&'()*+,;~")
        self.raw_headers = [pair for pair in self.raw_headers if pair[0] != _LOCATION]
        self.raw_headers.append((_LOCATION, location.encode("latin-1")))


# --- Streaming -------------------------------------------------------------------------------

Content = str | bytes | memoryview
ContentStream = AsyncIterable[Content] | Iterable[Content]


class StreamingResponse(Response):
    """A body produced piece by piece by an (async) iterable; sent without ``content-length``.

    ``content`` may be an async iterable, an async generator, or a sync iterable (iterated in the
    thread pool, so blocking producers never stall the event loop). ``str`` chunks are encoded
    with :attr:`charset`; empty chunks are skipped.

    Sending stops as soon as the client disconnects - ``http.disconnect`` is listened for
    concurrently, and an ``OSError`` from ``send`` (ASGI 2.4) counts too - and the iterator is
    closed (``aclose()``, so a generator's ``finally`` runs) whatever ends the response:
    completion, disconnect, an exception, or HEAD / a status without a body (never iterated).
    """

    body_iterator: AsyncIterable[Content]

    def __init__(
        self,
        content: ContentStream,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        if isinstance(content, AsyncIterable):
            self.body_iterator = content
        else:
            self.body_iterator = iterate_in_threadpool(content)
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        self.background = background
        self.body = b""  # the body is the iterator; nothing is buffered
        self.raw_headers = self._init_headers(headers)

    def _init_headers(self, headers: Mapping[str, str] | None = None) -> RawHeaders:
        raw: RawHeaders = []
        if self.media_type is not None and body_allowed(self.status_code):
            raw.append((_CONTENT_TYPE, content_type_header(self.media_type, self.charset)))
        if headers:
            _merge_headers(raw, headers)
        return raw

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            if scope.get("method") == "HEAD" or not body_allowed(self.status_code):
                start = {"type": _START, "status": self.status_code, "headers": self.raw_headers}
                await send(start)
                await send({"type": _BODY, "body": b""})
            else:
                await self._stream_until_disconnect(receive, send)
        except OSError:
            pass  # the client went away (ASGI 2.4); not an application error
        finally:
            aclose = getattr(self.body_iterator, "aclose", None)
            if aclose is not None:
                await aclose()
        if self.background is not None:
            await self.background()

    async def _stream_until_disconnect(self, receive: Receive, send: Send) -> None:
        stream = asyncio.ensure_future(self._stream(send))
        listener = asyncio.ensure_future(_wait_for_disconnect(receive))
        try:
            await asyncio.wait((stream, listener), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (stream, listener):
                task.cancel()
            await asyncio.wait((stream, listener))
        if not stream.cancelled():
            stream.result()  # re-raises the iterator's (or send's) exception
        if not listener.cancelled():
            listener.result()  # re-raises a failing receive()

    async def _stream(self, send: Send) -> None:
        await send({"type": _START, "status": self.status_code, "headers": self.raw_headers})
        charset = self.charset
        async for chunk in self.body_iterator:
            if not chunk:
                continue
            data = chunk.encode(charset) if isinstance(chunk, str) else chunk
            await send({"type": _BODY, "body": data, "more_body": True})
        await send({"type": _BODY, "body": b""})


async def _wait_for_disconnect(receive: Receive) -> None:
    # Request body messages the handler did not read are discarded here.
    while (await receive())["type"] != "http.disconnect":
        pass


# --- Files -----------------------------------------------------------------------------------

_ETAG = b"etag"
_LAST_MODIFIED = b"last-modified"
_ACCEPT_RANGES = (b"accept-ranges", b"bytes")
_CONTENT_RANGE = b"content-range"
_CONTENT_DISPOSITION = b"content-disposition"
_NOT_MODIFIED_DROPS = frozenset({_CONTENT_TYPE, _CONTENT_LENGTH, _CONTENT_DISPOSITION})
_RANGE_ERROR_BODY = json_body({"detail": "Range Not Satisfiable", "status": 416})
_UNSATISFIABLE = (-1, -1)  # marker returned by _requested_range()
_HUGE = 10**18  # caps numerals in Range headers: any real file is smaller


class FileResponse(Response):
    """Send a file from disk, with validators, conditional requests and single byte ranges.

    All file I/O (stat, open, 64 KiB reads, close) runs in the thread pool. Sent headers:
    ``content-length``, ``content-type`` (``media_type`` or guessed from the file name),
    ``last-modified``, ``etag`` (from mtime and size, quoted), ``accept-ranges: bytes``, and
    ``content-disposition`` when ``filename`` is given (RFC 6266/8187 ``filename*`` for
    non-ASCII names).

    For a 200 response to GET/HEAD:

    * ``If-None-Match`` (weak comparison, ``*`` matches), or else ``If-Modified-Since``, give a
      ``304`` without a body;
    * a single ``Range: bytes=a-b`` / ``a-`` / ``-n`` gives ``206`` with ``content-range``; an
      unsatisfiable one gives ``416`` with ``content-range: bytes */size``; an ``If-Range`` that
      does not match makes the full ``200`` be sent;
    * several ranges, another unit or a malformed header are ignored: the full ``200`` is sent
      (RFC 9110 §14.2 lets a server ignore Range). Parsing is linear in the header length.

    A path that does not exist or is not a regular file raises :class:`RuntimeError` when the
    response is sent: it is a programming error, not a client error.
    """

    chunk_size = 64 * 1024

    def __init__(
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
        filename: str | None = None,
        stat_result: os.stat_result | None = None,
        method: str | None = None,
        content_disposition_type: str = "attachment",
    ) -> None:
        self.path = path
        self.status_code = status_code
        self.filename = filename
        self.stat_result = stat_result
        self.method = method
        self.background = background
        if media_type is None:
            media_type = mimetypes.guess_type(filename or path)[0] or "application/octet-stream"
        self.media_type = media_type
        self.body = b""  # the body is the file
        self.raw_headers = self._init_headers(headers)
        if filename is not None:
            self.raw_headers.append(
                (_CONTENT_DISPOSITION, _content_disposition(content_disposition_type, filename))
            )

    def _init_headers(self, headers: Mapping[str, str] | None = None) -> RawHeaders:
        assert self.media_type is not None
        raw: RawHeaders = [(_CONTENT_TYPE, content_type_header(self.media_type, self.charset))]
        if headers:
            _merge_headers(raw, headers)
        return raw

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        stat = self.stat_result
        if stat is None:
            stat = await run_in_threadpool(_stat_file, self.path)
        method = self.method or scope.get("method", "GET")
        headers = self.raw_headers + _validator_headers(stat, self.raw_headers)
        status, start, length = self.status_code, 0, stat.st_size
        if status == 200 and method in ("GET", "HEAD"):
            request_headers = Headers(scope=scope)
            if _not_modified(request_headers, stat, headers):
                headers = [pair for pair in headers if pair[0] not in _NOT_MODIFIED_DROPS]
                await self._send_headers_only(send, 304, headers)
                return
            byte_range = _requested_range(request_headers, stat, headers)
            if byte_range == _UNSATISFIABLE:
                await self._send_range_error(send, stat.st_size)
                return
            if byte_range is not None:
                status, start = 206, byte_range[0]
                length = byte_range[1] - start + 1
                content_range = f"bytes {start}-{byte_range[1]}/{stat.st_size}"
                headers.append((_CONTENT_RANGE, content_range.encode("latin-1")))
        headers.append((_CONTENT_LENGTH, b"%d" % length))
        if method == "HEAD" or not body_allowed(status):
            await self._send_headers_only(send, status, headers)
        else:
            await self._send_file(send, status, headers, start, length)

    async def _send_headers_only(self, send: Send, status: int, headers: RawHeaders) -> None:
        try:
            await send({"type": _START, "status": status, "headers": headers})
            await send({"type": _BODY, "body": b""})
        except OSError:
            pass  # client gone
        if self.background is not None:
            await self.background()

    async def _send_range_error(self, send: Send, size: int) -> None:
        headers: RawHeaders = [
            (_CONTENT_LENGTH, b"%d" % len(_RANGE_ERROR_BODY)),
            (_CONTENT_TYPE, b"application/json"),
            (_CONTENT_RANGE, b"bytes */%d" % size),
        ]
        try:
            await send({"type": _START, "status": 416, "headers": headers})
            await send({"type": _BODY, "body": _RANGE_ERROR_BODY})
        except OSError:
            pass

    async def _send_file(
        self, send: Send, status: int, headers: RawHeaders, start: int, length: int
    ) -> None:
        # Opened before the response starts, so a vanished file is an error, not a cut body.
        file = await run_in_threadpool(_open_at, self.path, start)
        try:
            await send({"type": _START, "status": status, "headers": headers})
            remaining = length
            while remaining > 0:
                chunk = await run_in_threadpool(file.read, min(self.chunk_size, remaining))
                if not chunk:
                    raise RuntimeError(f"File at path {self.path} shrank while it was being sent")
                remaining -= len(chunk)
                await send({"type": _BODY, "body": chunk, "more_body": remaining > 0})
            if length == 0:
                await send({"type": _BODY, "body": b""})
        except OSError:
            pass  # client gone (ASGI 2.4)
        finally:
            await run_in_threadpool(file.close)
        if self.background is not None:
            await self.background()


def _stat_file(path: str | os.PathLike[str]) -> os.stat_result:
    try:
        result = os.stat(path)
    except FileNotFoundError:
        raise RuntimeError(f"File at path {path} does not exist.") from None
    if not stat.S_ISREG(result.st_mode):
        raise RuntimeError(f"File at path {path} is not a file.")
    return result


def _open_at(path: str | os.PathLike[str], offset: int) -> BinaryIO:
    try:
        file = open(path, "rb")  # noqa: SIM115 - closed by the caller, in the thread pool
    except FileNotFoundError:
        raise RuntimeError(f"File at path {path} does not exist.") from None
    if offset:
        file.seek(offset)
    return file


def _content_disposition(disposition_type: str, filename: str) -> bytes:
    quoted = quote(filename)
    if quoted == filename:
        value = f'{disposition_type}; filename="{filename}"'
    else:  # non-ASCII or characters that need escaping: RFC 8187 extended notation
        value = f"{disposition_type}; filename*=utf-8''{quoted}"
    return value.encode("latin-1")


def _etag(stat_result: os.stat_result) -> str:
    return f'"{stat_result.st_mtime_ns:x}-{stat_result.st_size:x}"'


def _validator_headers(stat_result: os.stat_result, existing: RawHeaders) -> RawHeaders:
    """ETag, Last-Modified (unless the user set them) and Accept-Ranges."""
    names = {name for name, _ in existing}
    headers: RawHeaders = [_ACCEPT_RANGES]
    if _ETAG not in names:
        headers.append((_ETAG, _etag(stat_result).encode("latin-1")))
    if _LAST_MODIFIED not in names:
        last_modified = formatdate(stat_result.st_mtime, usegmt=True)
        headers.append((_LAST_MODIFIED, last_modified.encode("latin-1")))
    return headers


def _header(headers: RawHeaders, name: bytes) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


def _http_date(value: str) -> int | None:
    """Seconds since the epoch for an HTTP date, or None if it does not parse."""
    try:
        parsed = parsedate(value)
        # timegm refuses dates parsedate accepts (year 10000: ValueError); unusable as well.
        return None if parsed is None else calendar.timegm(parsed[:6])
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _opaque_tag(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag


def _not_modified(request: Headers, stat_result: os.stat_result, headers: RawHeaders) -> bool:
    """RFC 9110 §13.1.2/§13.1.3: If-None-Match wins over If-Modified-Since."""
    if_none_match = request.get("if-none-match")
    if if_none_match is not None:
        etag = _header(headers, _ETAG)
        if etag is None:
            return False
        wanted = _opaque_tag(etag)
        return any(
            tag == "*" or _opaque_tag(tag) == wanted
            for tag in (part.strip() for part in if_none_match.split(","))
        )
    if_modified_since = request.get("if-modified-since")
    if if_modified_since is not None:
        since = _http_date(if_modified_since)
        return since is not None and int(stat_result.st_mtime) <= since
    return False


def _if_range_allows(if_range: str, stat_result: os.stat_result, headers: RawHeaders) -> bool:
    """RFC 9110 §13.1.5: a strong ETag match, or an exact Last-Modified date match."""
    if_range = if_range.strip()
    if if_range.startswith(('"', "W/")):
        etag = _header(headers, _ETAG)
        return etag is not None and not etag.startswith("W/") and if_range == etag
    return _http_date(if_range) == int(stat_result.st_mtime)


def _numeral(text: str) -> int | None:
    """A non-negative ASCII integer, capped at _HUGE so int() never sees 5,000 digits."""
    if not (text.isascii() and text.isdigit()):
        return None
    digits = text.lstrip("0")
    if len(digits) > 18:
        return _HUGE
    return int(digits or "0")


def _requested_range(
    request: Headers, stat_result: os.stat_result, headers: RawHeaders
) -> tuple[int, int] | None:
    """The single byte range to serve, ``_UNSATISFIABLE``, or None for the full body."""
    range_header = request.get("range")
    if range_header is None:
        return None
    if_range = request.get("if-range")
    if if_range is not None and not _if_range_allows(if_range, stat_result, headers):
        return None
    return parse_range(range_header, stat_result.st_size)


def parse_range(value: str, size: int) -> tuple[int, int] | None:
    """Parse a ``Range`` header for a body of ``size`` bytes, in linear time.

    Returns ``(first, last)`` (inclusive) for one satisfiable byte range, ``(-1, -1)`` when the
    range cannot be satisfied (416), and None when the header is to be ignored (another unit,
    malformed, or several ranges: the full body is sent).
    """
    unit, sep, spec = value.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    ranges = [part.strip() for part in spec.split(",")]
    ranges = [part for part in ranges if part]
    if len(ranges) != 1:
        return None
    first_text, dash, last_text = ranges[0].partition("-")
    if not dash:
        return None
    first_text, last_text = first_text.strip(), last_text.strip()
    if not first_text:  # suffix range: the last N bytes
        suffix = _numeral(last_text)
        if suffix is None:
            return None
        if suffix == 0 or size == 0:
            return _UNSATISFIABLE
        return max(0, size - suffix), size - 1
    first = _numeral(first_text)
    if first is None:
        return None
    if last_text:
        last = _numeral(last_text)
        if last is None or last < first:
            return None  # RFC 9110 §14.1.1: invalid, so the header is ignored
    else:
        last = size - 1
    if first >= size:
        return _UNSATISFIABLE
    return first, min(last, size - 1)

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

import http.cookies
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, Literal
from urllib.parse import quote

import msgspec
import orjson

from velocix.core.background import BackgroundTask
from velocix.http.datastructures import URL, MutableHeaders, RawHeaders, Scope, encode_header

__all__ = [
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "json_body",
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


def body_allowed(status_code: int) -> bool:
    """False for statuses that never carry a body: 1xx, 204, 304 (RFC 9110 §6.4.1)."""
    return status_code >= 200 and status_code != 204 and status_code != 304


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
    """

    media_type: str | None = None
    charset: str = "utf-8"

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        self.background = background
        self.body = self.render(content)
        self.raw_headers = self.init_headers(headers)

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

    def init_headers(self, headers: Mapping[str, str] | None = None) -> RawHeaders:
        """Build ``raw_headers``: content-length and content-type, then the user's headers."""
        media_type = self.media_type
        if body_allowed(self.status_code):
            raw: RawHeaders = [(_CONTENT_LENGTH, b"%d" % len(self.body))]
            if media_type is not None:
                raw.append((_CONTENT_TYPE, content_type_header(media_type, self.charset)))
        else:
            self.body = b""
            raw = []
        if headers:
            _merge_headers(raw, headers)
        return raw

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
        if scope["type"] == "websocket":  # websocket.http.response denial extension
            start, body_type = _WS_START, _WS_BODY
        else:
            start, body_type = _START, _BODY
        body = b"" if scope.get("method") == "HEAD" else self.body
        try:
            await send({"type": start, "status": self.status_code, "headers": self.raw_headers})
            await send({"type": body_type, "body": body})
        except OSError:
            pass  # client gone (ASGI 2.4); background work still runs
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
    cookie: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
    cookie[key] = value
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

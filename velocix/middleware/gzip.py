"""Gzip content coding for responses (RFC 9110 §8.4.1), safe for streaming bodies.

A response is compressed only when the client accepts gzip (``Accept-Encoding`` with
q-values honoured, so ``gzip;q=0`` refuses it), the body is at least ``minimum_size`` bytes,
the app did not already encode it, and compression can help: not for ``HEAD``, 1xx/204/304,
partial content (206 or ``Content-Range``), ``Cache-Control: no-transform``, Server-Sent
Events (which must reach the client event by event) and media types that are already
compressed. Streaming bodies are compressed chunk by chunk with a sync flush, so each chunk
the app sends still reaches the client promptly.
"""

from __future__ import annotations

import zlib

from velocix.middleware._asgi import (
    ASGIApp,
    Message,
    RawHeaders,
    Receive,
    Scope,
    Send,
    add_vary,
    without_headers,
)

# Media types whose bodies are already compressed: gzip would only cost CPU.
_INCOMPRESSIBLE_TYPES = frozenset(
    {
        b"application/gzip",
        b"application/x-gzip",
        b"application/zip",
        b"application/zstd",
        b"application/x-bzip2",
        b"application/x-xz",
        b"application/x-7z-compressed",
        b"application/x-rar-compressed",
        b"application/vnd.rar",
        b"application/pdf",
        b"font/woff",
        b"font/woff2",
        b"image/avif",
        b"image/gif",
        b"image/jpeg",
        b"image/png",
        b"image/webp",
        b"text/event-stream",
    }
)
_INCOMPRESSIBLE_PREFIXES = (b"audio/", b"video/")
_SKIP_STATUSES = frozenset({204, 205, 206, 304})
_CACHE_SIZE = 256


def accepts_gzip(accept_encoding: str) -> bool:
    """Tell whether an ``Accept-Encoding`` value allows gzip (RFC 9110 §12.5.3).

    ``gzip`` (or its alias ``x-gzip``) with q > 0 accepts it; an explicit ``gzip;q=0``
    refuses it even if ``*`` is accepted; otherwise ``*`` with q > 0 accepts it.
    """
    gzip_q: float | None = None
    star_q: float | None = None
    for item in accept_encoding.split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip().lower()
        if coding not in ("gzip", "x-gzip", "*"):
            continue
        q = _parse_qvalue(params)
        if coding == "*":
            star_q = q
        else:
            gzip_q = q if gzip_q is None else max(gzip_q, q)
    if gzip_q is not None:
        return gzip_q > 0
    return star_q is not None and star_q > 0


def _parse_qvalue(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return 0.0  # A malformed weight cannot be trusted as an acceptance.
            return q if 0.0 <= q <= 1.0 else 0.0
    return 1.0


def is_compressible_type(content_type: bytes | None) -> bool:
    """Tell whether a ``Content-Type`` value names a media type worth compressing."""
    if content_type is None:
        return True
    media_type = content_type.partition(b";")[0].strip().lower()
    if media_type in _INCOMPRESSIBLE_TYPES:
        return False
    return not media_type.startswith(_INCOMPRESSIBLE_PREFIXES)


class GZipMiddleware:
    """Compress eligible response bodies with gzip (Starlette-compatible options).

    ``minimum_size``: bodies smaller than this many bytes are sent as they are.
    ``compresslevel``: zlib level 1 (fast) to 9 (small); 9 is Starlette's default.
    """

    def __init__(self, app: ASGIApp, minimum_size: int = 500, compresslevel: int = 9) -> None:
        if minimum_size < 0:
            raise ValueError("GZipMiddleware: minimum_size must be >= 0")
        if not 1 <= compresslevel <= 9:
            raise ValueError("GZipMiddleware: compresslevel must be between 1 and 9")
        self.app = app
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel
        # Clients send a handful of distinct Accept-Encoding values: parse each once.
        self._accept_cache: dict[bytes, bool] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "HEAD":
            await self.app(scope, receive, send)
            return
        accept = None
        for key, value in scope["headers"]:
            if key == b"accept-encoding":
                accept = value if accept is None else accept + b"," + value
        if accept is None or not self._accepts(accept):
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, _GZipResponder(self, send).send)

    def _accepts(self, accept: bytes) -> bool:
        cached = self._accept_cache.get(accept)
        if cached is None:
            cached = accepts_gzip(accept.decode("latin-1"))
            if len(self._accept_cache) >= _CACHE_SIZE:
                self._accept_cache.clear()
            self._accept_cache[accept] = cached
        return cached


class _GZipResponder:
    """Per-response state: holds ``http.response.start`` until the first body chunk decides."""

    __slots__ = ("compressor", "middleware", "passthrough", "start", "wrapped")

    def __init__(self, middleware: GZipMiddleware, send: Send) -> None:
        self.middleware = middleware
        self.wrapped = send
        self.start: Message | None = None
        self.passthrough = False
        self.compressor: zlib._Compress | None = None

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            headers = message.get("headers", ())
            if _must_not_compress(message["status"], headers, self.middleware.minimum_size):
                self.passthrough = True
                await self.wrapped(message)
            else:
                self.start = message
            return
        if self.passthrough:
            await self.wrapped(message)
        elif kind == "http.response.body":
            await self._body(message)
        else:
            # e.g. ``http.response.pathsend``: the server writes the body, we cannot encode it.
            await self._flush_start_unchanged()
            await self.wrapped(message)

    async def _flush_start_unchanged(self) -> None:
        if self.start is not None:
            start, self.start = self.start, None
            self.passthrough = True
            await self.wrapped(start)

    async def _body(self, message: Message) -> None:
        body: bytes = message.get("body", b"")
        more_body: bool = message.get("more_body", False)
        if self.compressor is not None:
            await self._stream_chunk(body, more_body)
            return
        start = self.start
        assert start is not None, "http.response.body sent before http.response.start"
        headers: RawHeaders = start.get("headers", [])
        if not more_body:
            if len(body) < self.middleware.minimum_size:
                await self._flush_start_unchanged()
                await self.wrapped(message)
                return
            compressor = self._new_compressor()
            compressed = compressor.compress(body) + compressor.flush(zlib.Z_FINISH)
            start["headers"] = _encoded_headers(headers, len(compressed))
            self.start = None
            await self.wrapped(start)
            await self.wrapped({"type": "http.response.body", "body": compressed})
            return
        self.compressor = self._new_compressor()
        start["headers"] = _encoded_headers(headers, None)
        self.start = None
        await self.wrapped(start)
        await self._stream_chunk(body, more_body)

    async def _stream_chunk(self, body: bytes, more_body: bool) -> None:
        compressor = self.compressor
        assert compressor is not None
        data = compressor.compress(body)
        data += compressor.flush(zlib.Z_SYNC_FLUSH if more_body else zlib.Z_FINISH)
        await self.wrapped({"type": "http.response.body", "body": data, "more_body": more_body})

    def _new_compressor(self) -> zlib._Compress:
        # wbits 16 + MAX_WBITS selects the gzip container (header with mtime 0 + CRC trailer).
        return zlib.compressobj(self.middleware.compresslevel, zlib.DEFLATED, 16 + zlib.MAX_WBITS)


def _must_not_compress(status: int, headers: RawHeaders, minimum_size: int) -> bool:
    """Decide from the start message alone when possible (a declared small length too)."""
    if status < 200 or status in _SKIP_STATUSES:
        return True
    content_type: bytes | None = None
    for key, value in headers:
        name = key.lower()
        if name in (b"content-encoding", b"content-range"):
            return True
        if name == b"content-type":
            content_type = value
        elif name == b"content-length":
            if value.isdigit() and int(value) < minimum_size:
                return True
        elif name == b"cache-control" and b"no-transform" in value.lower():
            return True
    return not is_compressible_type(content_type)


def _encoded_headers(headers: RawHeaders, length: int | None) -> RawHeaders:
    new = without_headers(headers, frozenset({b"content-length"}))
    new.append((b"content-encoding", b"gzip"))
    if length is not None:
        new.append((b"content-length", str(length).encode()))
    # A strong ETag names the identity bytes; the gzip bytes differ (RFC 9110 §8.8.3).
    new = [
        (key, b"W/" + value if key.lower() == b"etag" and not value.startswith(b"W/") else value)
        for key, value in new
    ]
    add_vary(new, b"Accept-Encoding")
    return new

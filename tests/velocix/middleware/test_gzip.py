"""GZipMiddleware: q-values, size threshold, streaming, and the cases it must leave alone."""

from __future__ import annotations

import gzip
import zlib
from typing import Any

import pytest

from velocix.middleware import GZipMiddleware
from velocix.middleware.gzip import accepts_gzip

pytestmark = pytest.mark.anyio

BIG = b"velocix " * 200  # 1600 bytes, very compressible


def app_sending(
    chunks: list[bytes], status: int = 200, headers: list[tuple[bytes, bytes]] | None = None
) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        start_headers = [(b"content-type", b"text/plain; charset=utf-8")]
        start_headers += headers or []
        if len(chunks) == 1:
            start_headers.append((b"content-length", str(len(chunks[0])).encode()))
        await send({"type": "http.response.start", "status": status, "headers": start_headers})
        for index, chunk in enumerate(chunks):
            more = index < len(chunks) - 1
            await send({"type": "http.response.body", "body": chunk, "more_body": more})

    return app


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("gzip", True, id="plain"),
        pytest.param("deflate, gzip, br", True, id="list"),
        pytest.param("GZIP", True, id="case"),
        pytest.param("gzip;q=0", False, id="q0"),
        pytest.param("gzip; q=0.000", False, id="q0-decimals"),
        pytest.param("gzip;q=0.5", True, id="q-half"),
        pytest.param("*", True, id="star"),
        pytest.param("*;q=0", False, id="star-q0"),
        pytest.param("gzip;q=0, *", False, id="explicit-refusal-beats-star"),
        pytest.param("br, *;q=0.1", True, id="star-low"),
        pytest.param("identity", False, id="identity"),
        pytest.param("br", False, id="other"),
        pytest.param("x-gzip", True, id="alias"),
        pytest.param("gzip;q=abc", False, id="malformed-q"),
        pytest.param("gzip;q=2", False, id="out-of-range-q"),
        pytest.param("", False, id="empty"),
    ],
)
def test_accept_encoding_q_values(value: str, expected: bool) -> None:
    assert accepts_gzip(value) is expected


async def test_large_body_is_compressed_with_correct_length(asgi: Any) -> None:
    app = GZipMiddleware(app_sending([BIG]), minimum_size=500)
    result = await asgi(app, headers=[("accept-encoding", "gzip")])
    assert result.header("content-encoding") == "gzip"
    assert result.header("vary") == "Accept-Encoding"
    assert result.header_values("content-length") == [str(len(result.body))]
    assert len(result.body) < len(BIG)
    assert gzip.decompress(result.body) == BIG


async def test_small_body_is_left_alone(asgi: Any) -> None:
    app = GZipMiddleware(app_sending([b"tiny"]), minimum_size=500)
    result = await asgi(app, headers=[("accept-encoding", "gzip")])
    assert result.header("content-encoding") is None
    assert result.body == b"tiny"
    assert result.header("content-length") == "4"


async def test_streaming_body_is_compressed_chunk_by_chunk(asgi: Any) -> None:
    chunks = [BIG, b"second chunk " * 50, b"last"]
    app = GZipMiddleware(app_sending(chunks), minimum_size=10)
    result = await asgi(app, headers=[("accept-encoding", "gzip")])
    assert result.header("content-encoding") == "gzip"
    assert result.header("content-length") is None
    bodies = result.body_messages
    assert [m["more_body"] for m in bodies] == [True, True, False]
    # Every chunk yields output at once (sync flush), so streams are not held back.
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    for message, chunk in zip(bodies, chunks, strict=True):
        assert decompressor.decompress(message["body"]) == chunk
    assert gzip.decompress(result.body) == b"".join(chunks)


async def test_streaming_with_small_declared_length_is_left_alone(asgi: Any) -> None:
    app = GZipMiddleware(
        app_sending([b"ab", b"cd"], headers=[(b"content-length", b"4")]), minimum_size=500
    )
    result = await asgi(app, headers=[("accept-encoding", "gzip")])
    assert result.header("content-encoding") is None
    assert result.body == b"abcd"


@pytest.mark.parametrize(
    ("status", "headers", "method", "accept"),
    [
        pytest.param(200, [(b"content-encoding", b"br")], "GET", "gzip", id="already-encoded"),
        pytest.param(200, [], "GET", "gzip;q=0", id="refused"),
        pytest.param(200, [], "GET", None, id="no-accept-encoding"),
        pytest.param(200, [], "HEAD", "gzip", id="head"),
        pytest.param(204, [], "GET", "gzip", id="204"),
        pytest.param(304, [], "GET", "gzip", id="304"),
        pytest.param(206, [(b"content-range", b"bytes 0-1599/3000")], "GET", "gzip", id="206"),
        pytest.param(200, [(b"content-type", b"image/png")], "GET", "gzip", id="png"),
        pytest.param(200, [(b"content-type", b"text/event-stream")], "GET", "gzip", id="sse"),
        pytest.param(
            200, [(b"cache-control", b"public, no-transform")], "GET", "gzip", id="no-transform"
        ),
    ],
)
async def test_cases_left_uncompressed(
    asgi: Any, status: int, headers: list[tuple[bytes, bytes]], method: str, accept: str | None
) -> None:
    start_headers = [*headers]
    if not any(k == b"content-type" for k, _ in headers):
        start_headers.append((b"content-type", b"text/plain"))

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": status, "headers": start_headers})
        await send({"type": "http.response.body", "body": BIG})

    request_headers = [("accept-encoding", accept)] if accept else []
    result = await asgi(
        GZipMiddleware(app, minimum_size=10), method=method, headers=request_headers
    )
    app_encoding = dict(headers).get(b"content-encoding")
    assert result.header("content-encoding") == (app_encoding.decode() if app_encoding else None)
    assert result.body == BIG


async def test_strong_etag_becomes_weak_when_compressed(asgi: Any) -> None:
    app = GZipMiddleware(app_sending([BIG], headers=[(b"etag", b'"abc"')]))
    result = await asgi(app, headers=[("accept-encoding", "gzip")])
    assert result.header("etag") == 'W/"abc"'


async def test_pathsend_passes_through_untouched(asgi: Any) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"5000")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.pathsend", "path": "/tmp/x"})

    result = await asgi(GZipMiddleware(app), headers=[("accept-encoding", "gzip")])
    assert result.header("content-encoding") is None
    assert [m["type"] for m in result.messages] == ["http.response.start", "http.response.pathsend"]


def test_invalid_options_fail_at_construction() -> None:
    with pytest.raises(ValueError, match="compresslevel"):
        GZipMiddleware(app_sending([b""]), compresslevel=0)
    with pytest.raises(ValueError, match="minimum_size"):
        GZipMiddleware(app_sending([b""]), minimum_size=-1)

"""The strict HTTP/1.1 client parses valid framings exactly and refuses malformed responses."""

from __future__ import annotations

import socket

import pytest

from conformance.wire import http1


def parse(raw: bytes, method: str = "GET") -> http1.Response:
    client, server = socket.socketpair()
    with server:
        server.sendall(raw)
        server.shutdown(socket.SHUT_WR)
        with http1.Connection(0, sock=client, timeout=2.0) as conn:
            return conn.read_response(method)


VALID = [
    pytest.param(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        "GET",
        b"hello",
        "content-length",
        id="content-length",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2;x=y\r\nlo"
        b"\r\n0\r\nX-Trailer: 1\r\n\r\n",
        "GET",
        b"hello",
        "chunked",
        id="chunked",
    ),
    pytest.param(
        b"HTTP/1.0 200 OK\r\n\r\nuntil close", "GET", b"until close", "close", id="close-delimited"
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "HEAD", b"", "none", id="head-keeps-length"
    ),
    pytest.param(b"HTTP/1.1 204 \r\n\r\n", "GET", b"", "none", id="204-empty-reason"),
    pytest.param(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        "POST",
        b"ok",
        "content-length",
        id="interim-then-final",
    ),
]


@pytest.mark.parametrize(("raw", "method", "body", "framing"), VALID)
def test_valid_responses(raw: bytes, method: str, body: bytes, framing: str) -> None:
    response = parse(raw, method)
    assert (response.body, response.framing) == (body, framing)
    assert raw.endswith(response.raw)  # the final response's exact bytes, nothing repaired


def test_interim_responses_are_kept() -> None:
    response = parse(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    assert [r.status for r in response.interim] == [100]
    assert response.status == 200


def test_trailers_and_case_insensitive_lookup() -> None:
    response = parse(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\nx-a: 2\r\n\r\n"
        b"0\r\nX-Checksum: abc\r\n\r\n"
    )
    assert response.header_all("X-A") == [b"1", b"2"]
    assert response.trailers == [(b"X-Checksum", b"abc")]


MALFORMED = [
    pytest.param(b"HTTP/1.1 200\r\n\r\n", id="status-line-without-space"),
    pytest.param(b"HTTP/1.1 2000 OK\r\n\r\n", id="four-digit-status"),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 0\r\n\r\n", id="obs-fold"
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nX-A : 1\r\nContent-Length: 0\r\n\r\n", id="space-before-colon"
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        id="length-and-chunked",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
        id="conflicting-lengths",
    ),
    pytest.param(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", id="bad-chunk"),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
        id="chunk-overrun",
    ),
]


@pytest.mark.parametrize("raw", MALFORMED)
def test_malformed_responses_are_refused(raw: bytes) -> None:
    with pytest.raises(http1.FramingError):
        parse(raw)


def test_truncated_body_is_reported_with_what_arrived() -> None:
    with pytest.raises(http1.PeerClosed) as caught:
        parse(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    assert caught.value.received == b"abc"


def test_build_request_is_verbatim() -> None:
    raw = http1.build_request("POST", "/x?a=1", [("X-Dup", "1"), ("x-dup", "2")], b"hi")
    assert raw == (
        b"POST /x?a=1 HTTP/1.1\r\nHost: conformance.test\r\nX-Dup: 1\r\nx-dup: 2\r\n"
        b"Content-Length: 2\r\n\r\nhi"
    )

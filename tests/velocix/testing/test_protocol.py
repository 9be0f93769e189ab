"""Validation of the messages applications send."""

from __future__ import annotations

import pytest

from velocix.testing.exceptions import ASGIProtocolError
from velocix.testing.protocol import (
    message_type,
    unexpected,
    validate_body,
    validate_close_code,
    validate_headers,
    validate_reason,
    validate_status,
)


def test_message_type() -> None:
    assert message_type({"type": "http.response.start"}) == "http.response.start"
    with pytest.raises(ASGIProtocolError, match="must be dicts"):
        message_type([("type", "x")])
    with pytest.raises(ASGIProtocolError, match="string 'type'"):
        message_type({"type": 1})


def test_unexpected_names_what_was_wanted() -> None:
    error = unexpected("x.y", ["a", "b"])
    assert str(error) == "Expected ASGI message 'a' or 'b', but got 'x.y'."


@pytest.mark.parametrize("status", [200, 204, 418, 599])
def test_valid_statuses(status: int) -> None:
    assert validate_status(status) == status


@pytest.mark.parametrize("status", [None, "200", 200.0, True, 100, 199, 600])
def test_invalid_statuses(status: object) -> None:
    with pytest.raises(ASGIProtocolError, match="from 200 to 599"):
        validate_status(status)


def test_headers_are_returned_as_tuples() -> None:
    headers = validate_headers([[b"x-a", b"1"], (b"set-cookie", b"a=1; Path=/")])
    assert headers == [(b"x-a", b"1"), (b"set-cookie", b"a=1; Path=/")]
    assert validate_headers(None) == []
    assert validate_headers(iter([(b"x", b"")])) == [(b"x", b"")]


INVALID_HEADERS = [
    pytest.param({b"x": b"1"}, "iterable of", id="mapping"),
    pytest.param(b"x: 1", "iterable of", id="bytes"),
    pytest.param(42, "iterable of", id="int"),
    pytest.param([(b"x",)], "pair", id="one-item"),
    pytest.param([b"xy"], "pair", id="two-byte-string"),
    pytest.param([("x", b"1")], "must be bytes", id="str-name"),
    pytest.param([(b"x", "1")], "must be bytes", id="str-value"),
    pytest.param([(b"X-A", b"1")], "lowercase", id="uppercase"),
    pytest.param([(b"", b"1")], "Invalid header name", id="empty-name"),
    pytest.param([(b"x a", b"1")], "Invalid header name", id="space-in-name"),
    pytest.param([(b"x:a", b"1")], "Invalid header name", id="colon-in-name"),
    pytest.param([(b"x", b"a\nb")], "CR, LF or NUL", id="lf"),
    pytest.param([(b"x", b"a\rb")], "CR, LF or NUL", id="cr"),
    pytest.param([(b"x", b"a\x00b")], "CR, LF or NUL", id="nul"),
]


@pytest.mark.parametrize(("headers", "error"), INVALID_HEADERS)
def test_invalid_headers(headers: object, error: str) -> None:
    with pytest.raises(ASGIProtocolError) as info:
        validate_headers(headers)
    assert error in str(info.value)


def test_bodies() -> None:
    assert validate_body(None) == b""
    assert validate_body(bytearray(b"ab")) == b"ab"
    assert validate_body(memoryview(b"cd")) == b"cd"
    with pytest.raises(ASGIProtocolError, match="must be bytes"):
        validate_body("text")


@pytest.mark.parametrize("code", [1000, 1001, 1003, 1007, 1011, 1014, 3000, 4999])
def test_sendable_close_codes(code: int) -> None:
    assert validate_close_code(code) == code


@pytest.mark.parametrize("code", [999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, "1000", True])
def test_unsendable_close_codes(code: object) -> None:
    with pytest.raises(ASGIProtocolError, match="Invalid WebSocket close code"):
        validate_close_code(code)


def test_close_code_defaults_to_1000() -> None:
    assert validate_close_code(None) == 1000


def test_close_reasons() -> None:
    assert validate_reason(None) == ""
    assert validate_reason("é" * 61) == "é" * 61  # 122 bytes
    with pytest.raises(ASGIProtocolError, match="123 bytes"):
        validate_reason("é" * 62)
    with pytest.raises(ASGIProtocolError, match="must be a str"):
        validate_reason(b"bytes")

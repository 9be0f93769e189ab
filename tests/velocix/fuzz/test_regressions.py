"""Crashes the fuzzer found, kept as named, explicit cases (run on every ``pytest``).

Each case is one request that once broke the fuzz property, with the status the framework
must give now. They go through the same validated driver and the same property as the fuzz
tests (``fuzz_target.check``), plus the exact status.
"""

from __future__ import annotations

from typing import Any

import pytest
from fuzz_driver import RawRequest

JSON = ((b"content-type", b"application/json"),)


def post(path: bytes, body: bytes, headers: tuple[tuple[bytes, bytes], ...] = JSON) -> RawRequest:
    return RawRequest(method="POST", raw_path=path, headers=headers, body_chunks=(body,))


# (name, request, expected status)
CASES: list[tuple[str, RawRequest, int]] = [
    # msgspec raises UnicodeDecodeError (not DecodeError) for invalid UTF-8 inside a string or
    # a key: it escaped the JSON body decoder and Request.json() as a 500.
    ("invalid-utf8-in-json-key-typed-dict", post(b"/json-dict", b'{"\x80name": 1}'), 400),
    ("invalid-utf8-in-json-string-typed-dict", post(b"/json-dict", b'{"a": "\xff"}'), 400),
    ("invalid-utf8-in-json-mounted-app", post(b"/sub/json", b'{"a": "\xc3\x28"}'), 400),
    ("invalid-utf8-in-json-struct", post(b"/json", b'{"name": "\xed\xa0\x80", "price": 1}'), 400),
    ("invalid-utf8-in-request-json", post(b"/raw", b'["\xf4\x90\x80\x80"]'), 400),
    ("invalid-utf8-in-nested-json", post(b"/json-dict", b'{"a": [{"b": "\xe2\x82"}]}'), 400),
]


@pytest.mark.parametrize(
    ("request_", "status"),
    [pytest.param(request, status, id=name) for name, request, status in CASES],
)
def test_fuzz_regression(fuzz_target: Any, request_: RawRequest, status: int) -> None:
    result = fuzz_target.check(request_)
    assert result.status == status

"""Crashes the fuzzer found, kept as named, explicit cases (run on every ``pytest``).

Each case is one request that once broke the fuzz property, with the status the framework
must give now. They go through the same validated driver and the same property as the fuzz
tests (``fuzz_target.check``), plus the exact status.
"""

from __future__ import annotations

import gc
import warnings
from typing import Any

import pytest
from fuzz_driver import RawRequest

JSON = ((b"content-type", b"application/json"),)


def post(path: bytes, body: bytes, headers: tuple[tuple[bytes, bytes], ...] = JSON) -> RawRequest:
    return RawRequest(method="POST", raw_path=path, headers=headers, body_chunks=(body,))


def put(path: bytes, body: bytes) -> RawRequest:
    return RawRequest(method="PUT", raw_path=path, headers=JSON, body_chunks=(body,))


def get(path: bytes, *headers: tuple[bytes, bytes]) -> RawRequest:
    return RawRequest(raw_path=path, headers=headers)


Y10K = b"Mon, 01 Jan 10000 00:00:00 GMT"
DEEP = b'{"a":' * 5000 + b"1" + b"}" * 5000
MULTIPART = ((b"content-type", b"multipart/form-data;boundary=nAXeW;"),)
TRUNCATED = (
    b"--nAXeW\r\nContent-Disposition: form-data; name=tags; filename*=bogus''%FF\r\n\r\n"
    b", Origin\r\n--nAXe"
)

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
    # JSON nested a few thousand levels deep: msgspec raises RecursionError (a 500), at a depth
    # that depends on the stack already in use (the fuzzer saw it as a flaky failure).
    ("deep-json-request-json", post(b"/raw", DEEP), 400),
    ("deep-json-typed-dict", post(b"/json-dict", DEEP), 400),
    ("deep-json-struct-unknown-field", put(b"/json/0", DEEP), 400),
    ("deep-json-list", post(b"/raw", b"[" * 5000 + b"]" * 5000), 400),
    # A multipart body cut inside a file part: the upload was never added to the form, so
    # nothing closed its spooled file (ResourceWarning "Unclosed file" at garbage collection).
    ("multipart-truncated-inside-a-file", post(b"/upload", TRUNCATED, MULTIPART), 400),
    # An If-Modified-Since/If-Range date past year 9999 parsed, then calendar.timegm raised
    # ValueError ("year 10000 is out of range"): a 500 from FileResponse and StaticFiles.
    ("if-modified-since-year-10000", get(b"/file", (b"if-modified-since", Y10K)), 200),
    (
        "if-modified-since-year-10000-static",
        get(b"/static/hello.txt", (b"if-modified-since", Y10K)),
        200,
    ),
    ("if-range-year-10000", get(b"/file", (b"range", b"bytes=0-1"), (b"if-range", Y10K)), 200),
    (
        "if-modified-since-month-13",
        get(b"/file", (b"if-modified-since", b"Mon, 01 Abc 2020 00:00:00 GMT")),
        200,
    ),
]


@pytest.mark.parametrize(
    ("request_", "status"),
    [pytest.param(request, status, id=name) for name, request, status in CASES],
)
def test_fuzz_regression(fuzz_target: Any, request_: RawRequest, status: int) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fuzz_target.check(request_)
        gc.collect()  # anything left unclosed warns when collected
    assert result.status == status
    assert [str(warning.message) for warning in caught] == []

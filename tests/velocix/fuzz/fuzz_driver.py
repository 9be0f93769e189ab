"""Drive an ASGI app with one raw request and judge the exchange.

No HTTP client sits in between: the scope, the ``http.request`` messages and every header
byte are exactly what the generator produced (a server would hand the same values to the
app, since servers pass paths, query strings and header values through undecoded). The app
runs wrapped in ``conformance.validate`` (strict), so any ASGI violation the app commits
raises inside the call and is reported as a problem.

:func:`judge` is the fuzz property. For every request, whatever it contains:

* no exception escapes the application, and the app never hangs;
* exactly one response, a status below 500;
* ``Content-Length`` present (except for 204/304 and streaming routes) and equal to the body;
* every error response (4xx) carries the documented body
  ``{"detail": str, "status": <the status>}`` (``errors`` only on 422, each with
  ``loc``/``msg``/``type``), a 405 an ``Allow`` header;
* no task left running, every generator dependency torn down.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_to_bytes

import conformance

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]
HANG_TIMEOUT_S = 30.0
"""A request still running after this long is reported as a hang (a bound, not a timing test)."""


@dataclass(frozen=True)
class RawRequest:
    """One generated request, as the server would hand it to the app."""

    method: str = "GET"
    raw_path: bytes = b"/"
    query_string: bytes = b""
    headers: tuple[tuple[bytes, bytes], ...] = ()
    body_chunks: tuple[bytes, ...] = ()
    root_path: str = ""
    http_version: str = "1.1"

    @property
    def path(self) -> str:
        """``raw_path`` decoded the way uvicorn does (invalid UTF-8 becomes U+FFFD)."""
        return unquote_to_bytes(self.raw_path).decode("utf-8", "replace")

    @property
    def body(self) -> bytes:
        """The whole request body."""
        return b"".join(self.body_chunks)

    def scope(self) -> dict[str, Any]:
        """A fresh HTTP scope for this request."""
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": self.http_version,
            "method": self.method,
            "scheme": "http",
            "path": self.path,
            "raw_path": self.raw_path,
            "query_string": self.query_string,
            "root_path": self.root_path,
            "headers": [list(pair) for pair in self.headers],
            "client": ["127.0.0.1", 51234],
            "server": ["127.0.0.1", 8000],
            "state": {},
            "extensions": {},
        }


@dataclass
class Exchange:
    """What happened to one request."""

    request: RawRequest
    messages: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    receive_calls: int = 0

    @property
    def start(self) -> dict[str, Any] | None:
        starts = [m for m in self.messages if m.get("type") == "http.response.start"]
        return starts[0] if starts else None

    @property
    def status(self) -> int:
        start = self.start
        return int(start["status"]) if start else 0

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        start = self.start
        return [(bytes(k), bytes(v)) for k, v in start.get("headers", [])] if start else []

    def header(self, name: bytes) -> list[bytes]:
        return [value for key, value in self.headers if key.lower() == name]

    @property
    def body(self) -> bytes:
        return b"".join(
            m.get("body", b"") for m in self.messages if m.get("type") == "http.response.body"
        )

    def describe(self) -> str:
        request = self.request
        return (
            f"{request.method} {request.raw_path[:200]!r}?{request.query_string[:200]!r} "
            f"root_path={request.root_path!r} headers={list(request.headers)[:12]!r} "
            f"body={request.body[:300]!r} ({len(request.body)} bytes in "
            f"{len(request.body_chunks)} chunks) -> {self.status} {self.body[:300]!r}"
        )


@dataclass
class Counter:
    """Requests really sent through the app (not hypothesis' example arithmetic)."""

    requests: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def add(self, exchange: Exchange) -> None:
        self.requests += 1
        self.by_status[exchange.status] = self.by_status.get(exchange.status, 0) + 1


COUNTER = Counter()


async def exchange(app: ASGIApp, request: RawRequest) -> Exchange:
    """Run ``request`` through ``app`` (validated); the body arrives in ``body_chunks``.

    After the last chunk, ``receive()`` waits until the response is complete and then reports
    ``http.disconnect``, as uvicorn does.
    """
    result = Exchange(request)
    chunks = list(request.body_chunks) or [b""]
    complete = asyncio.Event()
    position = 0

    async def receive() -> dict[str, Any]:
        nonlocal position
        result.receive_calls += 1
        if position < len(chunks):
            chunk = chunks[position]
            position += 1
            return {"type": "http.request", "body": chunk, "more_body": position < len(chunks)}
        await complete.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        result.messages.append(message)
        if message.get("type") == "http.response.body" and not message.get("more_body", False):
            complete.set()

    validated = conformance.validate(app)
    try:
        await asyncio.wait_for(validated(request.scope(), receive, send), HANG_TIMEOUT_S)
    except TimeoutError:
        result.error = f"the app hung for {HANG_TIMEOUT_S:.0f}s"
    except BaseException as exc:  # any escape is what the fuzzer looks for
        result.error = "".join(traceback.format_exception(exc))
    COUNTER.add(result)
    return result


def _decoded_body(result: Exchange) -> bytes:
    body = result.body
    if b"gzip" in b"".join(result.header(b"content-encoding")):
        return gzip.decompress(body)
    return body


def _error_body_problems(result: Exchange) -> list[str]:
    status = result.status
    content_type = b"".join(result.header(b"content-type"))
    if not content_type.startswith(b"application/json"):
        return [f"{status} error body is {content_type!r}, not the JSON error format"]
    try:
        data = json.loads(_decoded_body(result))
    except (ValueError, OSError) as exc:
        return [f"{status} error body does not parse: {exc}"]
    if not isinstance(data, dict) or not isinstance(data.get("detail"), str):
        return [f"{status} error body without a str 'detail': {data!r}"]
    problems = []
    if data.get("status") != status:
        problems.append(f"error body status {data.get('status')!r} != response status {status}")
    errors = data.get("errors")
    if status == 422:
        if not isinstance(errors, list) or not errors:
            problems.append("422 without an 'errors' list")
        else:
            for item in errors:
                if not (
                    isinstance(item, dict)
                    and isinstance(item.get("loc"), list)
                    and isinstance(item.get("msg"), str)
                    and isinstance(item.get("type"), str)
                ):
                    problems.append(f"malformed 422 error item {item!r}")
    elif errors is not None:
        problems.append(f"'errors' in a {status} body")
    if status == 405 and not result.header(b"allow"):
        problems.append("405 without an Allow header")
    return problems


def judge(
    result: Exchange,
    *,
    streaming_paths: frozenset[str] = frozenset(),
    leftover_tasks: int = 0,
) -> list[str]:
    """Every way ``result`` breaks the fuzz property (empty: the exchange is fine)."""
    if result.error is not None:
        return [f"exception escaped the app:\n{result.error}"]
    problems: list[str] = []
    status = result.status
    if result.start is None:
        return ["no http.response.start"]
    if status >= 500:
        problems.append(f"server error {status}: {result.body[:500]!r}")
    lengths = result.header(b"content-length")
    route = result.request.path.removeprefix(result.request.root_path)
    is_head = result.request.method == "HEAD"
    if lengths:
        if len(lengths) > 1:
            problems.append(f"several Content-Length headers {lengths!r}")
        elif not is_head and status != 304 and lengths[0] != str(len(result.body)).encode():
            problems.append(f"Content-Length {lengths[0]!r} but {len(result.body)} body bytes")
    elif status not in (204, 304) and not (route in streaming_paths and status == 200):
        problems.append(f"{status} response without Content-Length")
    if 400 <= status < 500 and not is_head:
        problems += _error_body_problems(result)
    if leftover_tasks:
        problems.append(f"{leftover_tasks} task(s) still running after the response")
    return problems

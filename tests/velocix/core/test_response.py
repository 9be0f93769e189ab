"""velocix.core.response: bodies, headers, cookies, HEAD/204/304 rules, background tasks, JSON."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import decimal
import email.utils
import enum
import os
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import msgspec
import pytest

from velocix.core import response as response_module
from velocix.core.background import BackgroundTask, BackgroundTasks
from velocix.core.exceptions import HTTPException
from velocix.core.response import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
    json_body,
    parse_range,
)

Message = dict[str, Any]


class Sent:
    """A recording ASGI ``send``."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def __call__(self, message: Message) -> None:
        self.messages.append(message)

    @property
    def status(self) -> int:
        status: int = self.messages[0]["status"]
        return status

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        headers: list[tuple[bytes, bytes]] = self.messages[0]["headers"]
        return headers

    def header(self, name: bytes) -> bytes | None:
        return next((v for k, v in self.headers if k == name), None)

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages[1:])


async def no_receive() -> Message:
    raise AssertionError("responses must not call receive()")


def http_scope(method: str = "GET", headers: dict[str, str] | None = None) -> dict[str, Any]:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return {"type": "http", "method": method, "path": "/", "headers": raw}


async def send_response(
    response: Response, method: str = "GET", headers: dict[str, str] | None = None
) -> Sent:
    sent = Sent()
    await response(http_scope(method, headers), no_receive, sent)
    return sent


# --- bodies and Content-Length ----------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("content", "body"),
    [
        pytest.param(b"bytes", b"bytes", id="bytes"),
        pytest.param("héllo", "héllo".encode(), id="str-utf8"),
        pytest.param(None, b"", id="none"),
        pytest.param(bytearray(b"ba"), b"ba", id="bytearray"),
        pytest.param(memoryview(b"mv"), b"mv", id="memoryview"),
    ],
)
async def test_content_length_equals_body(content: Any, body: bytes) -> None:
    sent = await send_response(Response(content))
    assert sent.body == body
    assert sent.header(b"content-length") == str(len(body)).encode()
    assert [m["type"] for m in sent.messages] == ["http.response.start", "http.response.body"]
    assert sent.messages[-1].get("more_body", False) is False


def test_response_rejects_objects() -> None:
    response = Response({"a": 1})  # built lazily: the body is rendered when first needed
    with pytest.raises(TypeError, match="use JSONResponse"):
        _ = response.body


@pytest.mark.parametrize(
    ("response", "content_type"),
    [
        pytest.param(PlainTextResponse("x"), b"text/plain; charset=utf-8", id="plain"),
        pytest.param(HTMLResponse("x"), b"text/html; charset=utf-8", id="html"),
        pytest.param(JSONResponse(1), b"application/json", id="json-no-charset"),
        pytest.param(Response("x", media_type="text/csv"), b"text/csv; charset=utf-8", id="csv"),
        pytest.param(
            Response("x", media_type="text/plain; charset=latin-1"),
            b"text/plain; charset=latin-1",
            id="explicit-charset-kept",
        ),
        pytest.param(Response(b"x", media_type="image/png"), b"image/png", id="binary"),
    ],
)
def test_content_type(response: Response, content_type: bytes) -> None:
    assert dict(response.raw_headers)[b"content-type"] == content_type


def test_no_content_type_without_media_type() -> None:
    assert b"content-type" not in dict(Response(b"x").raw_headers)


def test_user_content_length_is_replaced_and_content_type_overrides() -> None:
    response = PlainTextResponse(
        "four", headers={"Content-Length": "999", "Content-Type": "text/x-custom"}
    )
    headers = response.raw_headers
    assert [v for k, v in headers if k == b"content-length"] == [b"4"]
    assert [v for k, v in headers if k == b"content-type"] == [b"text/x-custom"]


def test_user_header_injection_is_rejected() -> None:
    with pytest.raises(ValueError, match="CR, LF"):
        Response(headers={"x-a": "1\r\nset-cookie: a=b"})


# --- statuses without a body and HEAD ---------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("status_code", [100, 101, 103, 204, 304])
async def test_no_body_statuses(status_code: int) -> None:
    """1xx/204/304 never carry a body nor a Content-Length, even if content was given."""
    sent = await send_response(JSONResponse({"ignored": True}, status_code=status_code))
    assert sent.status == status_code
    assert sent.body == b""
    assert sent.header(b"content-length") is None


@pytest.mark.anyio
async def test_304_keeps_user_headers() -> None:
    sent = await send_response(Response(status_code=304, headers={"ETag": '"abc"'}))
    assert sent.header(b"etag") == b'"abc"'


@pytest.mark.anyio
async def test_head_sends_no_body_but_get_content_length() -> None:
    response = JSONResponse({"message": "Hello, World!"})
    get = await send_response(response, "GET")
    head = await send_response(response, "HEAD")
    assert head.body == b""
    assert head.headers == get.headers
    assert head.header(b"content-length") == str(len(get.body)).encode()


# --- cookies ----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_several_set_cookie_headers() -> None:
    """Seed defect: only the last Set-Cookie was sent."""
    response = Response("ok")
    response.set_cookie("a", "1")
    response.set_cookie("b", "2", httponly=True, secure=True, samesite="strict")
    response.set_cookie("c", "3", max_age=60, domain="example.com", path="/app")
    sent = await send_response(response)
    cookies = [v.decode() for k, v in sent.headers if k == b"set-cookie"]
    assert len(cookies) == 3
    assert cookies[0] == "a=1; Path=/; SameSite=Lax"
    assert cookies[1] == "b=2; HttpOnly; Path=/; SameSite=Strict; Secure"
    assert cookies[2] == "c=3; Domain=example.com; Max-Age=60; Path=/app; SameSite=Lax"


def test_cookie_value_quoting() -> None:
    response = Response()
    response.set_cookie("k", 'a "b";c')
    value = response.headers.getlist("set-cookie")[0]
    assert value.startswith('k="a \\"b\\"\\073c"')


def test_cookie_expires() -> None:
    response = Response()
    when = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    response.set_cookie("a", "1", expires=when, samesite=None)
    response.set_cookie("b", "1", expires=3600)
    first, second = response.headers.getlist("set-cookie")
    assert first == "a=1; expires=Wed, 02 Jan 2030 03:04:05 GMT; Path=/"
    assert "expires=" in second
    assert "GMT" in second


def test_delete_cookie() -> None:
    response = Response()
    response.delete_cookie("session", path="/app")
    (value,) = response.headers.getlist("set-cookie")
    assert value.startswith('session=""; expires=Thu, 01 Jan 1970 00:00:00 GMT')
    assert "Max-Age=0" in value
    assert "Path=/app" in value


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"samesite": "sometimes"}, "samesite must be", id="bad-samesite"),
        pytest.param({"samesite": "none"}, "requires secure", id="none-without-secure"),
    ],
)
def test_cookie_misuse_is_rejected(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Response().set_cookie("a", "1", **kwargs)


def test_samesite_none_with_secure() -> None:
    response = Response()
    response.set_cookie("a", "1", samesite="none", secure=True)
    assert response.headers["set-cookie"].endswith("SameSite=None; Secure")


def test_headers_view_edits_raw_headers() -> None:
    response = Response("x")
    response.headers["X-Frame-Options"] = "DENY"
    assert (b"x-frame-options", b"DENY") in response.raw_headers
    assert response.headers["content-length"] == "1"


# --- background tasks -------------------------------------------------------------------------


@pytest.mark.anyio
async def test_background_task_runs_after_body() -> None:
    """Seed defect: Response(background=...) never ran the task."""
    events: list[str] = []
    sent = Sent()

    async def send(message: Message) -> None:
        events.append(message["type"])
        await sent(message)

    async def task(name: str) -> None:
        events.append(f"task:{name}")

    await Response("x", background=BackgroundTask(task, "a"))(http_scope(), no_receive, send)
    assert events == ["http.response.start", "http.response.body", "task:a"]


@pytest.mark.anyio
async def test_background_tasks_run_in_order_sync_in_thread() -> None:
    events: list[tuple[str, bool]] = []
    main_thread = threading.get_ident()

    def sync_task(name: str) -> None:
        events.append((name, threading.get_ident() == main_thread))

    async def async_task(name: str) -> None:
        events.append((name, threading.get_ident() == main_thread))

    tasks = BackgroundTasks()
    tasks.add_task(sync_task, "first")
    tasks.add_task(async_task, name="second")
    tasks.add_task(sync_task, "third")
    await send_response(JSONResponse({}, background=tasks))
    assert events == [("first", False), ("second", True), ("third", False)]


@pytest.mark.anyio
async def test_background_runs_when_client_is_gone() -> None:
    """ASGI 2.4: send raises OSError on disconnect; that is not an app error."""
    ran: list[bool] = []

    async def broken_send(message: Message) -> None:
        raise OSError("connection lost")

    async def task() -> None:
        ran.append(True)

    response = Response("x", background=BackgroundTask(task))
    await response(http_scope(), no_receive, broken_send)
    assert ran == [True]


# --- JSON -------------------------------------------------------------------------------------


class Color(enum.Enum):
    RED = "red"


class Point(msgspec.Struct):
    x: int
    y: int


@dataclasses.dataclass
class Item:
    name: str
    price: decimal.Decimal


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param({"message": "Hello, World!"}, {"message": "Hello, World!"}, id="dict"),
        pytest.param([1, "a", None, True], [1, "a", None, True], id="list"),
        pytest.param(Point(1, 2), {"x": 1, "y": 2}, id="struct"),
        pytest.param(Item("a", decimal.Decimal("1.10")), {"name": "a", "price": "1.10"}, id="dc"),
        pytest.param(datetime.datetime(2024, 5, 6, 7, 8, 9), "2024-05-06T07:08:09", id="datetime"),
        pytest.param(uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001", id="uuid"),
        pytest.param(Color.RED, "red", id="enum"),
        pytest.param({1: "int-key"}, {"1": "int-key"}, id="int-key"),
        pytest.param("é", "é", id="unicode"),
    ],
)
def test_json_encodes_common_types(value: Any, expected: Any) -> None:
    """Seed defect: returning a msgspec Struct (or pydantic model) gave a 500."""
    body = JSONResponse(value).body
    assert msgspec.json.decode(body) == expected
    assert b" " not in body.replace(b"Hello, World!", b"")  # compact


def test_json_encodes_pydantic_models_by_duck_typing() -> None:
    pydantic = pytest.importorskip("pydantic")

    class User(pydantic.BaseModel):  # type: ignore[misc, name-defined]
        id: int
        created: datetime.date

    body = json_body({"user": User(id=1, created=datetime.date(2024, 1, 2))})
    assert msgspec.json.decode(body) == {"user": {"id": 1, "created": "2024-01-02"}}


def test_json_falls_back_to_orjson() -> None:
    numpy = pytest.importorskip("numpy")
    body = json_body({"values": numpy.arange(3), "price": decimal.Decimal("2.5")})
    assert msgspec.json.decode(body) == {"values": [0, 1, 2], "price": "2.5"}


class ProblemJSONResponse(JSONResponse):
    media_type = "application/problem+json"


class SortedJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json_body(dict(sorted(content.items())))


@pytest.mark.parametrize(
    ("response", "body", "content_type"),
    [
        pytest.param(
            ProblemJSONResponse({"b": 1}), b'{"b":1}', b"application/problem+json", id="media"
        ),
        pytest.param(
            SortedJSONResponse({"b": 1, "a": 2}), b'{"a":2,"b":1}', b"application/json", id="render"
        ),
        pytest.param(
            JSONResponse([1], status_code=201, headers={"x-a": "1"}),
            b"[1]",
            b"application/json",
            id="headers",
        ),
        pytest.param(
            JSONResponse(1, media_type="application/vnd.api+json"),
            b"1",
            b"application/vnd.api+json",
            id="media-argument",
        ),
    ],
)
def test_json_subclasses_and_arguments(
    response: JSONResponse, body: bytes, content_type: bytes
) -> None:
    headers = dict(response.raw_headers)
    assert response.body == body
    assert headers[b"content-type"] == content_type
    assert headers[b"content-length"] == str(len(body)).encode()


def test_json_unsupported_type_is_a_clear_type_error() -> None:
    with pytest.raises(TypeError, match="object"):
        json_body({"a": object()})


# --- redirects, websocket denial --------------------------------------------------------------


@pytest.mark.anyio
async def test_redirect_quotes_location() -> None:
    sent = await send_response(RedirectResponse("/a b/é?q=1&r=%20"))
    assert sent.status == 307
    assert sent.header(b"location") == b"/a%20b/%C3%A9?q=1&r=%20"
    assert sent.header(b"content-length") == b"0"
    assert sent.body == b""


def test_redirect_cannot_inject_headers() -> None:
    response = RedirectResponse("/x\r\nset-cookie: a=b", status_code=302)
    assert response.headers["location"] == "/x%0D%0Aset-cookie:%20a=b"
    assert response.status_code == 302


@pytest.mark.anyio
async def test_response_as_websocket_denial() -> None:
    sent = Sent()
    await PlainTextResponse("denied", 403)({"type": "websocket", "headers": []}, no_receive, sent)
    assert [m["type"] for m in sent.messages] == [
        "websocket.http.response.start",
        "websocket.http.response.body",
    ]
    assert sent.body == b"denied"
    assert sent.status == 403


def test_repr() -> None:
    assert repr(JSONResponse({}, status_code=201)) == "JSONResponse(status_code=201)"


# --- StreamingResponse ------------------------------------------------------------------------


async def never_disconnects() -> Message:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


@pytest.mark.anyio
async def test_streaming_async_generator() -> None:
    async def numbers() -> AsyncIterator[str | bytes]:
        yield "one,"
        yield b""
        yield b"two"

    sent = Sent()
    response = StreamingResponse(numbers(), media_type="text/csv", headers={"x-a": "1"})
    await response(http_scope(), never_disconnects, sent)
    assert sent.status == 200
    assert sent.header(b"content-length") is None
    assert sent.header(b"content-type") == b"text/csv; charset=utf-8"
    assert sent.header(b"x-a") == b"1"
    bodies = [(m["body"], m.get("more_body", False)) for m in sent.messages[1:]]
    assert bodies == [(b"one,", True), (b"two", True), (b"", False)]


@pytest.mark.anyio
async def test_streaming_sync_iterator_runs_in_thread() -> None:
    threads: list[int] = []

    def produce() -> Iterator[bytes]:
        for part in (b"a", b"b"):
            threads.append(threading.get_ident())
            yield part

    sent = Sent()
    await StreamingResponse(produce())(http_scope(), never_disconnects, sent)
    assert sent.body == b"ab"
    assert threads
    assert threading.get_ident() not in threads


@pytest.mark.anyio
async def test_streaming_stops_on_disconnect_and_runs_finally() -> None:
    """Streaming stops when http.disconnect arrives; the generator's finally runs."""
    produced = 0
    finalised = asyncio.Event()
    three_sent = asyncio.Event()
    sent = Sent()

    async def endless() -> AsyncIterator[bytes]:
        nonlocal produced
        try:
            while True:
                produced += 1
                yield b"tick"
                await asyncio.sleep(0)
        finally:
            finalised.set()

    async def send(message: Message) -> None:
        await sent(message)
        if len(sent.messages) == 4:
            three_sent.set()

    async def receive() -> Message:
        await three_sent.wait()
        return {"type": "http.disconnect"}

    ran: list[bool] = []

    async def task() -> None:
        ran.append(True)

    await StreamingResponse(endless(), background=BackgroundTask(task))(http_scope(), receive, send)
    assert finalised.is_set()
    assert 3 <= produced <= 5
    assert ran == [True]
    assert all(m.get("more_body") for m in sent.messages[1:])  # never completed


@pytest.mark.anyio
async def test_streaming_stops_on_send_oserror() -> None:
    """ASGI 2.4: send raises OSError once the client is gone."""
    closed: list[bool] = []

    async def endless() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"x"
        finally:
            closed.append(True)

    count = 0

    async def send(message: Message) -> None:
        nonlocal count
        count += 1
        if count > 3:
            raise OSError("broken pipe")

    await StreamingResponse(endless())(http_scope(), never_disconnects, send)
    assert closed == [True]
    assert count == 4


@pytest.mark.anyio
async def test_streaming_sync_generator_closed_on_disconnect() -> None:
    closed = threading.Event()

    def endless() -> Iterator[bytes]:
        try:
            while True:
                yield b"x"
        finally:
            closed.set()

    async def receive() -> Message:
        await asyncio.sleep(0.01)
        return {"type": "http.disconnect"}

    await StreamingResponse(endless())(http_scope(), receive, Sent())
    assert closed.is_set()


@pytest.mark.anyio
async def test_streaming_ignores_unread_request_body() -> None:
    messages: list[Message] = [
        {"type": "http.request", "body": b"unread", "more_body": False},
    ]

    async def receive() -> Message:
        if messages:
            return messages.pop(0)
        return await never_disconnects()

    async def two() -> AsyncIterator[bytes]:
        yield b"a"
        await asyncio.sleep(0)
        yield b"b"

    sent = Sent()
    await StreamingResponse(two())(http_scope(), receive, sent)
    assert sent.body == b"ab"


@pytest.mark.anyio
async def test_streaming_error_propagates_after_cleanup() -> None:
    closed: list[bool] = []

    async def failing() -> AsyncIterator[bytes]:
        try:
            yield b"a"
            raise ValueError("producer failed")
        finally:
            closed.append(True)

    with pytest.raises(ValueError, match="producer failed"):
        await StreamingResponse(failing())(http_scope(), never_disconnects, Sent())
    assert closed == [True]


@pytest.mark.anyio
@pytest.mark.parametrize(("method", "status_code"), [("HEAD", 200), ("GET", 204), ("GET", 304)])
async def test_streaming_without_body_never_iterates(method: str, status_code: int) -> None:
    started: list[bool] = []

    async def body() -> AsyncIterator[bytes]:
        started.append(True)
        yield b"never"

    sent = Sent()
    response = StreamingResponse(body(), status_code=status_code, media_type="text/plain")
    await response(http_scope(method), never_disconnects, sent)
    assert started == []
    assert sent.body == b""
    assert sent.status == status_code
    assert sent.header(b"content-length") is None


@pytest.mark.anyio
async def test_streaming_async_iterable_object() -> None:
    class Parts:
        def __aiter__(self) -> AsyncIterator[bytes]:
            return self.gen()

        async def gen(self) -> AsyncIterator[bytes]:
            yield b"p1"
            yield b"p2"

    sent = Sent()
    await StreamingResponse(Parts())(http_scope(), never_disconnects, sent)
    assert sent.body == b"p1p2"


# --- FileResponse -----------------------------------------------------------------------------

CONTENT = bytes(range(256)) * 1024  # 256 KiB: several 64 KiB chunks


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.bin"
    path.write_bytes(CONTENT)
    return path


def stat_of(path: Path) -> os.stat_result:
    return path.stat()


def rewrite(path: Path, data: bytes, mtime_ns: int | None = None) -> None:
    path.write_bytes(data)
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))


@pytest.fixture
def text_file(tmp_path: Path) -> Path:
    path = tmp_path / "hello.txt"
    path.write_text("Hello, file!")
    return path


class TrackedFile:
    """Wraps a real file and records which threads read and closed it."""

    instances: ClassVar[list[TrackedFile]] = []

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.read_threads: set[int] = set()
        self.closed_in: int | None = None
        TrackedFile.instances.append(self)

    def read(self, size: int) -> bytes:
        self.read_threads.add(threading.get_ident())
        return self.file.read(size)

    def close(self) -> None:
        self.closed_in = threading.get_ident()
        self.file.close()


@pytest.fixture
def tracked_files(monkeypatch: pytest.MonkeyPatch) -> list[TrackedFile]:
    real_open_at = response_module._open_at
    TrackedFile.instances = []

    def open_at(path: str, offset: int) -> Any:
        return TrackedFile(real_open_at(path, offset))

    monkeypatch.setattr(response_module, "_open_at", open_at)
    return TrackedFile.instances


@pytest.mark.anyio
async def test_file_full_body_headers_and_thread_io(
    data_file: Path, tracked_files: list[TrackedFile]
) -> None:
    """Seed defect: FileResponse had no ETag/Last-Modified/ranges and read synchronously."""
    sent = await send_response(FileResponse(data_file))
    last_modified = email.utils.formatdate(stat_of(data_file).st_mtime, usegmt=True)
    assert sent.status == 200
    assert sent.body == CONTENT
    assert sent.header(b"content-length") == str(len(CONTENT)).encode()
    assert sent.header(b"content-type") == b"application/octet-stream"
    assert sent.header(b"accept-ranges") == b"bytes"
    assert sent.header(b"last-modified") == last_modified.encode()
    etag = sent.header(b"etag")
    assert etag is not None
    assert etag.startswith(b'"')
    assert etag.endswith(b'"')
    bodies = sent.messages[1:]
    assert len(bodies) == 4
    assert all(len(m["body"]) == 64 * 1024 for m in bodies)
    assert [m["more_body"] for m in bodies] == [True, True, True, False]
    (tracked,) = tracked_files
    assert tracked.read_threads
    assert threading.get_ident() not in tracked.read_threads
    assert tracked.closed_in not in (None, threading.get_ident())


@pytest.mark.anyio
async def test_file_etag_changes_with_content(data_file: Path) -> None:
    first = (await send_response(FileResponse(data_file))).header(b"etag")
    rewrite(data_file, b"changed", mtime_ns=1_000_000_000)
    second = (await send_response(FileResponse(data_file))).header(b"etag")
    assert first != second


@pytest.mark.anyio
async def test_file_text_type_and_filename(text_file: Path) -> None:
    sent = await send_response(FileResponse(text_file, filename="greeting.txt"))
    assert sent.header(b"content-type") == b"text/plain; charset=utf-8"
    assert sent.header(b"content-disposition") == b'attachment; filename="greeting.txt"'
    assert sent.body == b"Hello, file!"


@pytest.mark.anyio
async def test_file_non_ascii_filename_uses_rfc8187(text_file: Path) -> None:
    response = FileResponse(text_file, filename="résumé 1.pdf", content_disposition_type="inline")
    sent = await send_response(response)
    expected = b"inline; filename*=utf-8''r%C3%A9sum%C3%A9%201.pdf"
    assert sent.header(b"content-disposition") == expected
    assert sent.header(b"content-type") == b"application/pdf"


@pytest.mark.anyio
async def test_file_head_sends_length_without_opening(
    data_file: Path, tracked_files: list[TrackedFile]
) -> None:
    sent = await send_response(FileResponse(data_file), method="HEAD")
    assert sent.body == b""
    assert sent.header(b"content-length") == str(len(CONTENT)).encode()
    assert tracked_files == []


@pytest.mark.anyio
async def test_file_explicit_method_argument(text_file: Path) -> None:
    sent = await send_response(FileResponse(text_file, method="HEAD"), method="GET")
    assert sent.body == b""


@pytest.mark.anyio
async def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    sent = await send_response(FileResponse(path))
    assert sent.header(b"content-length") == b"0"
    assert [m["body"] for m in sent.messages[1:]] == [b""]


async def conditional(path: Path, **headers: str) -> Sent:
    return await send_response(FileResponse(path), headers=headers)


@pytest.mark.anyio
async def test_if_none_match(text_file: Path) -> None:
    etag = (await send_response(FileResponse(text_file))).header(b"etag")
    assert etag is not None
    tag = etag.decode()
    for value in (tag, f"W/{tag}", f'"other", {tag}', "*"):
        sent = await conditional(text_file, **{"If-None-Match": value})
        assert sent.status == 304, value
        assert sent.body == b""
        assert sent.header(b"content-length") is None
        assert sent.header(b"content-type") is None
        assert sent.header(b"etag") == etag
    assert (await conditional(text_file, **{"If-None-Match": '"nope"'})).status == 200


@pytest.mark.anyio
async def test_if_modified_since(text_file: Path) -> None:
    mtime = stat_of(text_file).st_mtime
    same = email.utils.formatdate(mtime, usegmt=True)
    later = email.utils.formatdate(mtime + 60, usegmt=True)
    earlier = email.utils.formatdate(mtime - 60, usegmt=True)
    assert (await conditional(text_file, **{"If-Modified-Since": same})).status == 304
    assert (await conditional(text_file, **{"If-Modified-Since": later})).status == 304
    assert (await conditional(text_file, **{"If-Modified-Since": earlier})).status == 200
    assert (await conditional(text_file, **{"If-Modified-Since": "yesterday"})).status == 200
    # If-None-Match takes precedence (RFC 9110 §13.2.2).
    both = {"If-None-Match": '"nope"', "If-Modified-Since": later}
    assert (await conditional(text_file, **both)).status == 200


@pytest.mark.anyio
async def test_conditionals_only_for_get_and_head(text_file: Path) -> None:
    sent = await send_response(FileResponse(text_file), "POST", {"If-None-Match": "*"})
    assert sent.status == 200


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("range_header", "first", "last"),
    [
        pytest.param("bytes=0-9", 0, 9, id="start-end"),
        pytest.param("bytes=100-", 100, len(CONTENT) - 1, id="open-ended"),
        pytest.param("bytes=-10", len(CONTENT) - 10, len(CONTENT) - 1, id="suffix"),
        pytest.param("bytes=70000-999999999", 70000, len(CONTENT) - 1, id="end-clamped"),
        pytest.param("bytes=-999999999", 0, len(CONTENT) - 1, id="suffix-larger-than-file"),
        pytest.param("Bytes = 5-5 ", 5, 5, id="whitespace-and-case"),
        pytest.param("bytes=1-1,", 1, 1, id="empty-list-element"),
    ],
)
async def test_single_range_is_206(
    data_file: Path, range_header: str, first: int, last: int
) -> None:
    sent = await conditional(data_file, Range=range_header)
    assert sent.status == 206
    assert sent.body == CONTENT[first : last + 1]
    assert sent.header(b"content-length") == str(last - first + 1).encode()
    assert sent.header(b"content-range") == f"bytes {first}-{last}/{len(CONTENT)}".encode()


@pytest.mark.anyio
@pytest.mark.parametrize("range_header", ["bytes=262144-", "bytes=999999-1000000", "bytes=-0"])
async def test_unsatisfiable_range_is_416(data_file: Path, range_header: str) -> None:
    sent = await conditional(data_file, Range=range_header)
    assert sent.status == 416
    assert sent.header(b"content-range") == f"bytes */{len(CONTENT)}".encode()
    assert msgspec.json.decode(sent.body) == {"detail": "Range Not Satisfiable", "status": 416}
    assert sent.header(b"content-length") == str(len(sent.body)).encode()


@pytest.mark.anyio
@pytest.mark.parametrize(
    "range_header",
    [
        pytest.param("bytes=0-1,5-6", id="multiple-ranges-documented-full-200"),
        pytest.param("items=0-1", id="other-unit"),
        pytest.param("bytes=abc", id="malformed"),
        pytest.param("bytes=5-1", id="last-before-first"),
        pytest.param("bytes=", id="empty"),
        pytest.param("bytes=-", id="dash-only"),
        pytest.param("bytes=\uff11-2", id="non-ascii-digit"),
        pytest.param("bytes 0-1", id="no-equals"),
    ],
)
async def test_ignored_range_serves_full_body(data_file: Path, range_header: str) -> None:
    sent = await conditional(data_file, Range=range_header)
    assert sent.status == 200
    assert len(sent.body) == len(CONTENT)
    assert sent.header(b"content-range") is None


@pytest.mark.anyio
async def test_if_range(data_file: Path) -> None:
    full = await send_response(FileResponse(data_file))
    etag, last_modified = full.header(b"etag"), full.header(b"last-modified")
    assert etag is not None
    assert last_modified is not None
    matching = await conditional(data_file, Range="bytes=0-0", **{"If-Range": etag.decode()})
    assert matching.status == 206
    by_date = await conditional(
        data_file, Range="bytes=0-0", **{"If-Range": last_modified.decode()}
    )
    assert by_date.status == 206
    stale = await conditional(data_file, Range="bytes=0-0", **{"If-Range": '"old"'})
    assert stale.status == 200
    weak = await conditional(data_file, Range="bytes=0-0", **{"If-Range": f"W/{etag.decode()}"})
    assert weak.status == 200  # If-Range needs a strong match


@pytest.mark.anyio
async def test_head_range(data_file: Path) -> None:
    sent = await send_response(FileResponse(data_file), "HEAD", {"Range": "bytes=0-9"})
    assert sent.status == 206
    assert sent.header(b"content-length") == b"10"
    assert sent.body == b""


@pytest.mark.anyio
async def test_range_ignored_for_non_200_status(text_file: Path) -> None:
    response = FileResponse(text_file, status_code=404)
    sent = await send_response(response, headers={"Range": "bytes=0-0"})
    assert sent.status == 404
    assert sent.body == b"Hello, file!"


def test_parse_range_is_linear_on_hostile_headers() -> None:
    """CVE-2025-62727: Starlette's range parser was quadratic in the number of ranges."""
    many = "bytes=" + ",".join(f"{i}-{i}" for i in range(200_000))
    assert parse_range(many, 10**6) is None
    assert parse_range("bytes=" + "0" * 100_000 + "-", 10) == (0, 9)
    assert parse_range("bytes=" + "9" * 100_000 + "-", 10) == (-1, -1)
    assert parse_range("bytes=0-" + "9" * 100_000, 10) == (0, 9)
    assert parse_range("bytes=" + " " * 100_000 + "0-1", 10) == (0, 1)


@pytest.mark.anyio
async def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="does not exist"):
        await send_response(FileResponse(tmp_path / "missing.txt"))
    with pytest.raises(RuntimeError, match="is not a file"):
        await send_response(FileResponse(tmp_path))


@pytest.mark.anyio
async def test_file_given_stat_result_is_not_stat_again(
    text_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stat_result = stat_of(text_file)

    def no_stat(path: Any) -> os.stat_result:
        raise AssertionError("stat() must not be called")

    monkeypatch.setattr(response_module, "_stat_file", no_stat)
    sent = await send_response(FileResponse(text_file, stat_result=stat_result))
    assert sent.body == b"Hello, file!"


@pytest.mark.anyio
async def test_file_that_shrank_is_an_error(text_file: Path) -> None:
    stat_result = stat_of(text_file)
    rewrite(text_file, b"tiny")
    with pytest.raises(RuntimeError, match="shrank"):
        await send_response(FileResponse(text_file, stat_result=stat_result))


@pytest.mark.anyio
async def test_file_client_gone_closes_file_and_runs_background(
    data_file: Path, tracked_files: list[TrackedFile]
) -> None:
    ran: list[bool] = []

    async def task() -> None:
        ran.append(True)

    calls = 0

    async def send(message: Message) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError("gone")

    await FileResponse(data_file, background=BackgroundTask(task))(http_scope(), no_receive, send)
    assert calls == 2
    assert tracked_files[0].closed_in is not None
    assert ran == [True]


@pytest.mark.anyio
async def test_file_user_headers_and_validators(text_file: Path) -> None:
    response = FileResponse(text_file, headers={"Cache-Control": "no-cache", "ETag": '"mine"'})
    sent = await send_response(response)
    assert sent.header(b"cache-control") == b"no-cache"
    assert [v for k, v in sent.headers if k == b"etag"] == [b'"mine"']
    not_modified = await send_response(response, headers={"If-None-Match": '"mine"'})
    assert not_modified.status == 304
    assert not_modified.header(b"cache-control") == b"no-cache"


# --- Header and cookie values that cannot go on the wire ----------------------------------------

BAD_VALUES = [
    pytest.param("a\r\nx-injected: 1", "CR, LF", id="crlf"),
    pytest.param("a\nb", "CR, LF", id="lf"),
    pytest.param("a\x00b", "NUL", id="nul"),
    pytest.param("price in €", "latin-1", id="non-latin-1"),
]


def _set_on_response(value: str) -> None:
    Response(headers={"X-Custom": value})


def _set_item(value: str) -> None:
    Response().headers["X-Custom"] = value


def _append(value: str) -> None:
    Response().headers.append("X-Custom", value)


def _setdefault(value: str) -> None:
    Response().headers.setdefault("X-Custom", value)


def _streaming(value: str) -> None:
    StreamingResponse(iter([b""]), headers={"X-Custom": value})


def _http_exception(value: str) -> None:
    HTTPException(401, headers={"X-Custom": value})


@pytest.mark.parametrize(
    "setter",
    [_set_on_response, _set_item, _append, _setdefault, _streaming, _http_exception],
    ids=["Response", "setitem", "append", "setdefault", "StreamingResponse", "HTTPException"],
)
@pytest.mark.parametrize(("value", "reason"), BAD_VALUES)
def test_header_values_that_cannot_go_on_the_wire_name_the_header(
    setter: Any, value: str, reason: str
) -> None:
    with pytest.raises(ValueError, match=r"(?s)'X-Custom'.*" + reason):
        setter(value)


@pytest.mark.parametrize(("value", "reason"), BAD_VALUES)
@pytest.mark.parametrize("part", ["value", "path", "domain", "expires"])
def test_cookie_parts_that_cannot_go_on_the_wire_name_the_cookie(
    part: str, value: str, reason: str
) -> None:
    with pytest.raises(ValueError, match=rf"(?s){part} for cookie 'session'.*Set-Cookie.*{reason}"):
        Response().set_cookie("session", **{part: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("part", ["path", "domain"])
def test_cookie_attribute_cannot_smuggle_another_attribute(part: str) -> None:
    with pytest.raises(ValueError, match=f"{part} for cookie 'session'"):
        Response().set_cookie("session", "1", **{part: "/; Domain=evil.example"})  # type: ignore[arg-type]


def test_cookie_name_that_is_not_a_token_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="cookie name 'a b'"):
        Response().set_cookie("a b", "1")


def test_latin_1_cookie_value_is_still_sent_quoted() -> None:
    response = Response()
    response.set_cookie("k", "café")
    assert response.raw_headers[-1][1].startswith(b'k="caf\\351"')

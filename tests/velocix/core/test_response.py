"""velocix.core.response: bodies, headers, cookies, HEAD/204/304 rules, background tasks, JSON."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import threading
import uuid
from typing import Any

import msgspec
import pytest

from velocix.core.background import BackgroundTask, BackgroundTasks
from velocix.core.response import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    json_body,
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


def http_scope(method: str = "GET") -> dict[str, Any]:
    return {"type": "http", "method": method, "path": "/", "headers": []}


async def send_response(response: Response, method: str = "GET") -> Sent:
    sent = Sent()
    await response(http_scope(method), no_receive, sent)
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
    with pytest.raises(TypeError, match="use JSONResponse"):
        Response({"a": 1})


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
        pytest.param(
            datetime.datetime(2024, 5, 6, 7, 8, 9), "2024-05-06T07:08:09", id="datetime"
        ),
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

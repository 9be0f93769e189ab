"""TestClient over HTTP, against hand-written raw ASGI applications."""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from velocix.testing import ASGIProtocolError, ClientDisconnected, TestClient
from velocix.testing.exchange import REQUEST_CHUNK_SIZE

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Any
Send = Any


async def read_body(receive: Receive) -> list[Message]:
    """Every ``http.request`` message up to the one with ``more_body=False``."""
    messages = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


async def respond(
    send: Send,
    body: bytes = b"",
    status: int = 200,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """A complete response with a correct Content-Length."""
    all_headers = [(b"content-length", str(len(body)).encode()), *(headers or [])]
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": body})


async def respond_json(send: Send, payload: Any) -> None:
    await respond(
        send, json.dumps(payload).encode(), headers=[(b"content-type", b"application/json")]
    )


async def scope_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Echo the connection scope as JSON (bytes decoded as latin-1)."""
    assert scope["type"] == "http"  # no lifespan support, on purpose
    await read_body(receive)
    await respond_json(
        send,
        {
            "type": scope["type"],
            "asgi": scope["asgi"],
            "http_version": scope["http_version"],
            "method": scope["method"],
            "scheme": scope["scheme"],
            "path": scope["path"],
            "raw_path": scope["raw_path"].decode("latin-1"),
            "query_string": scope["query_string"].decode("latin-1"),
            "root_path": scope["root_path"],
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
            "client": list(scope["client"]) if scope["client"] is not None else None,
            "server": list(scope["server"]),
            "state": scope["state"],
            "extensions": scope["extensions"],
        },
    )


# -- scope -------------------------------------------------------------------------------


def test_scope_has_every_key_a_server_sends() -> None:
    with TestClient(scope_app) as client:
        scope = client.get("/items/42?q=1").json()
    assert scope["type"] == "http"
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.4"}
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "GET"
    assert scope["scheme"] == "http"
    assert scope["path"] == "/items/42"
    assert scope["raw_path"] == "/items/42"
    assert scope["query_string"] == "q=1"
    assert scope["root_path"] == ""
    assert scope["client"] == ["testclient", 50000]
    assert scope["server"] == ["testserver", 80]
    assert scope["state"] == {}
    assert scope["extensions"] == {}


def test_path_is_percent_decoded_and_raw_path_is_not() -> None:
    client = TestClient(scope_app)
    scope = client.get("/caf%C3%A9/a%20b/x%2Fy").json()
    client.close()
    assert scope["path"] == "/café/a b/x/y"
    assert scope["raw_path"] == "/caf%C3%A9/a%20b/x%2Fy"


def test_query_string_is_raw_and_repeated_keys_are_kept() -> None:
    with TestClient(scope_app) as client:
        scope = client.get("/", params=[("tag", "a b"), ("tag", "c"), ("x", "é")]).json()
    assert scope["query_string"] == "tag=a+b&tag=c&x=%C3%A9"


def test_headers_are_lowercase_bytes_with_host_and_repeats_kept() -> None:
    with TestClient(scope_app) as client:
        headers = [("X-Tag", "one"), ("x-tag", "two"), ("X-Other", "3")]
        scope = client.get("/", headers=headers).json()
    names = [name for name, _ in scope["headers"]]
    assert names == [name.lower() for name in names]
    assert ["host", "testserver"] in scope["headers"]
    assert [value for name, value in scope["headers"] if name == "x-tag"] == ["one", "two"]
    assert ["user-agent", "testclient"] in scope["headers"]


def test_https_base_url_gives_https_scheme_and_port() -> None:
    with TestClient(scope_app, base_url="https://example.org:8443") as client:
        scope = client.get("/").json()
    assert scope["scheme"] == "https"
    assert scope["server"] == ["example.org", 8443]
    assert ["host", "example.org:8443"] in scope["headers"]


@pytest.mark.parametrize("url", ["/api/items", "/items"], ids=["prefixed", "proxy-stripped"])
def test_root_path_is_included_in_path(url: str) -> None:
    with TestClient(scope_app, root_path="/api") as client:
        scope = client.get(url).json()
    assert scope["root_path"] == "/api"
    assert scope["path"] == "/api/items"
    assert scope["raw_path"] == "/api/items"


def test_root_path_is_validated() -> None:
    with pytest.raises(ValueError, match="root_path"):
        TestClient(scope_app, root_path="api/")


def test_client_address_is_configurable() -> None:
    with TestClient(scope_app, client=("203.0.113.9", 4321)) as client:
        assert client.get("/").json()["client"] == ["203.0.113.9", 4321]
    with TestClient(scope_app, client=None) as client:
        assert client.get("/").json()["client"] is None


def test_default_headers_can_be_overridden() -> None:
    with TestClient(scope_app, headers={"User-Agent": "mine", "X-Key": "k"}) as client:
        headers = client.get("/").json()["headers"]
    assert [value for name, value in headers if name == "user-agent"] == ["mine"]
    assert ["x-key", "k"] in headers


def test_not_an_app_is_refused() -> None:
    with pytest.raises(TypeError, match="ASGI application"):
        TestClient("not an app")  # type: ignore[arg-type]


def test_test_client_is_not_collected_by_pytest() -> None:
    assert TestClient.__test__ is False


# -- request body and http.disconnect ----------------------------------------------------


class BodyRecorder:
    """Records every receive() result; answers once the body is in."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        self.messages = await read_body(receive)
        await respond(send, b"ok")
        self.messages.append(await receive())


def test_large_body_arrives_in_chunks_then_disconnect() -> None:
    app = BodyRecorder()
    body = bytes(range(256)) * 1000  # 256000 bytes: 4 chunks of 64 KiB, the last one short
    with TestClient(app) as client:
        assert client.post("/", content=body).text == "ok"
    requests, disconnect = app.messages[:-1], app.messages[-1]
    assert [len(m["body"]) for m in requests] == [65536, 65536, 65536, 59392]
    assert [m["more_body"] for m in requests] == [True, True, True, False]
    assert b"".join(m["body"] for m in requests) == body
    assert disconnect == {"type": "http.disconnect"}
    assert REQUEST_CHUNK_SIZE == 65536


def test_empty_body_is_one_empty_message() -> None:
    app = BodyRecorder()
    with TestClient(app) as client:
        client.get("/")
    assert app.messages == [
        {"type": "http.request", "body": b"", "more_body": False},
        {"type": "http.disconnect"},
    ]


def test_generator_body_keeps_its_chunks() -> None:
    def parts() -> Iterator[bytes]:
        yield b"first"
        yield b""
        yield b"second"

    app = BodyRecorder()
    with TestClient(app) as client:
        client.post("/", content=parts())
    assert [(m["body"], m["more_body"]) for m in app.messages[:-1]] == [
        (b"first", True),
        (b"second", False),
    ]


class DisconnectTiming:
    """Checks that http.disconnect waits for the response to complete."""

    def __init__(self) -> None:
        self.seen_before_complete: list[Message] = []
        self.seen_after_complete: list[Message] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await read_body(receive)
        listener = asyncio.ensure_future(receive())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        for _ in range(5):
            await asyncio.sleep(0)
        if listener.done():
            self.seen_before_complete.append(listener.result())
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        self.seen_after_complete.append(await listener)
        self.seen_after_complete.append(await receive())  # and on every later receive()


def test_disconnect_is_only_sent_once_the_response_completed() -> None:
    app = DisconnectTiming()
    with TestClient(app) as client:
        assert client.get("/").content == b"part"
    assert app.seen_before_complete == []
    assert app.seen_after_complete == [{"type": "http.disconnect"}, {"type": "http.disconnect"}]


# -- responses ---------------------------------------------------------------------------


async def chunked_app(scope: Scope, receive: Receive, send: Send) -> None:
    await read_body(receive)
    await send({"type": "http.response.start", "status": 201, "headers": [(b"x-a", b"1")]})
    for part in (b"one ", b"two ", b"three"):
        await send({"type": "http.response.body", "body": part, "more_body": True})
    await send({"type": "http.response.body"})


def test_streamed_response_is_collected() -> None:
    with TestClient(chunked_app) as client:
        response = client.get("/")
    assert response.status_code == 201
    assert response.headers["x-a"] == "1"
    assert response.text == "one two three"
    assert response.http_version == "HTTP/1.1"


def test_head_response_has_no_body_but_keeps_content_length() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await read_body(receive)
        await respond(send, b"twelve bytes")

    with TestClient(app) as client:
        response = client.head("/")
    assert response.content == b""
    assert response.headers["content-length"] == "12"


class EndlessStream:
    """Streams numbered chunks until the client goes away; records how it learned."""

    def __init__(self) -> None:
        self.outcome: list[str] = []
        self.sent = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # no lifespan support
        await read_body(receive)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            while True:
                await send(
                    {"type": "http.response.body", "body": b"%d\n" % self.sent, "more_body": True}
                )
                self.sent += 1
                await asyncio.sleep(0)
        except ClientDisconnected:
            self.outcome.append("send raised ClientDisconnected")
            self.outcome.append((await receive())["type"])
            raise


def test_closing_a_stream_early_disconnects_the_app() -> None:
    app = EndlessStream()
    with TestClient(app) as client, client.stream("GET", "/") as response:
        lines = response.iter_lines()
        assert [next(lines) for _ in range(3)] == ["0", "1", "2"]
    assert app.outcome == ["send raised ClientDisconnected", "http.disconnect"]
    assert isinstance(ClientDisconnected(), OSError)


class FrameworkDisconnect(Exception):
    """Stands for a framework's own disconnect error (Starlette's ClientDisconnect)."""


class StreamThenFail:
    """Streams until send raises, then raises a translated or an unrelated error."""

    def __init__(self, translate: bool) -> None:
        self.translate = translate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await read_body(receive)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            while True:
                await send({"type": "http.response.body", "body": b"x\n", "more_body": True})
                await asyncio.sleep(0)
        except OSError:
            if self.translate:
                raise FrameworkDisconnect()  # noqa: B904 - implicit context, as Starlette does
            raise Boom("cleanup failed") from None


def test_errors_translated_from_the_disconnect_are_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with TestClient(StreamThenFail(translate=True)) as client:
        with client.stream("GET", "/") as response:
            next(response.iter_lines())
        [record] = [r for r in caplog.records if r.name == "velocix.testing"]
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], FrameworkDisconnect)


def test_unrelated_errors_after_a_disconnect_are_raised() -> None:
    with (
        TestClient(StreamThenFail(translate=False)) as client,
        pytest.raises(Boom, match="cleanup failed"),
        client.stream("GET", "/") as response,
    ):
        next(response.iter_lines())


def test_endless_stream_is_backpressured() -> None:
    app = EndlessStream()
    with TestClient(app) as client, client.stream("GET", "/") as response:
        next(response.iter_raw())
    # The app may run ahead of the reader by a bounded number of chunks only.
    assert app.sent <= 20


# -- server exceptions -------------------------------------------------------------------


class Boom(Exception):
    """The application's own error."""


async def fails_before_start(scope: Scope, receive: Receive, send: Send) -> None:
    await read_body(receive)
    raise Boom("before start")


async def fails_mid_body(scope: Scope, receive: Receive, send: Send) -> None:
    await read_body(receive)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"partial", "more_body": True})
    raise Boom("mid body")


def test_exception_before_response_is_raised() -> None:
    with TestClient(fails_before_start) as client, pytest.raises(Boom, match="before start"):
        client.get("/")


def test_exception_before_response_becomes_500_when_not_raised() -> None:
    with TestClient(fails_before_start, raise_server_exceptions=False) as client:
        response = client.get("/")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_exception_mid_body_is_raised() -> None:
    with TestClient(fails_mid_body) as client, pytest.raises(Boom, match="mid body"):
        client.get("/")


def test_exception_mid_body_truncates_when_not_raised() -> None:
    with TestClient(fails_mid_body, raise_server_exceptions=False) as client:
        response = client.get("/")
    assert response.status_code == 200
    assert response.content == b"partial"


class AfterResponse:
    """Work after the response (like background tasks), optionally failing."""

    def __init__(self, fail: bool) -> None:
        self.fail = fail
        self.done: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await read_body(receive)
        await respond(send, b"sent")
        await asyncio.sleep(0)
        self.done.append("background")
        if self.fail:
            raise Boom("in background")


def test_work_after_the_response_finishes_before_the_call_returns() -> None:
    app = AfterResponse(fail=False)
    with TestClient(app) as client:
        assert client.get("/").text == "sent"
        assert app.done == ["background"]


def test_exception_after_the_response_is_raised() -> None:
    app = AfterResponse(fail=True)
    with TestClient(app) as client, pytest.raises(Boom, match="in background"):
        client.get("/")


def test_exception_after_the_response_is_hidden_when_not_raised() -> None:
    app = AfterResponse(fail=True)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/").text == "sent"


# -- protocol checks ---------------------------------------------------------------------


def _messages_app(*messages: Message) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await read_body(receive)
        for message in messages:
            await send(message)

    return app


START = {"type": "http.response.start", "status": 200, "headers": []}
BODY = {"type": "http.response.body", "body": b"x"}

PROTOCOL_VIOLATIONS = [
    pytest.param([BODY], "Expected ASGI message 'http.response.start'", id="body-before-start"),
    pytest.param([START, START], "but got 'http.response.start'", id="start-twice"),
    pytest.param([START, BODY, BODY], "after the response completed", id="body-after-complete"),
    pytest.param(
        [START, {"type": "http.response.trailers"}],
        "but got 'http.response.trailers'",
        id="unknown",
    ),
    pytest.param([{"status": 200}], "without a string 'type'", id="no-type"),
    pytest.param([{**START, "status": "200"}], "status must be an int", id="status-str"),
    pytest.param([{**START, "status": 101}], "from 200 to 599", id="status-1xx"),
    pytest.param(
        [{**START, "headers": [(b"Content-Type", b"text/plain")]}], "lowercase", id="header-case"
    ),
    pytest.param(
        [{**START, "headers": [(b"x-a", b"1\r\nx-injected: 1")]}], "CR, LF or NUL", id="header-crlf"
    ),
    pytest.param([{**START, "headers": [("x-a", "1")]}], "must be bytes", id="header-str"),
    pytest.param(
        [{**START, "headers": [(b":status", b"200")]}], "Invalid header name", id="pseudo"
    ),
    pytest.param([START, {**BODY, "body": "text"}], "body must be bytes", id="body-str"),
    pytest.param(
        [{**START, "headers": [(b"content-length", b"5")]}, {**BODY, "body": b"123456"}],
        "is 6 bytes but Content-Length is 5",
        id="longer-than-content-length",
    ),
    pytest.param(
        [{**START, "headers": [(b"content-length", b"5")]}, {**BODY, "body": b"1234"}],
        "is 4 bytes but Content-Length is 5",
        id="shorter-than-content-length",
    ),
    pytest.param(
        [{**START, "headers": [(b"content-length", b"5"), (b"content-length", b"6")]}],
        "Invalid Content-Length",
        id="conflicting-content-length",
    ),
    pytest.param([{**START, "status": 204}, BODY], "must not have a body", id="204-with-body"),
    pytest.param([{**START, "status": 304}, BODY], "must not have a body", id="304-with-body"),
    pytest.param(
        [{**START, "status": 204, "headers": [(b"content-length", b"0")]}],
        "must not have Content-Length",
        id="204-with-content-length",
    ),
    pytest.param([{**START, "trailers": True}], "trailers", id="unadvertised-trailers"),
]


@pytest.mark.parametrize(("messages", "error"), PROTOCOL_VIOLATIONS)
def test_protocol_violations_are_reported(messages: list[Message], error: str) -> None:
    with TestClient(_messages_app(*messages)) as client, pytest.raises(ASGIProtocolError) as info:
        client.get("/")
    assert error in str(info.value)


def test_returning_without_a_response_is_an_error() -> None:
    with (
        TestClient(_messages_app()) as client,
        pytest.raises(ASGIProtocolError, match="without sending"),
    ):
        client.get("/")
    with TestClient(_messages_app(), raise_server_exceptions=False) as client:
        assert client.get("/").status_code == 500


def test_returning_without_completing_the_response_is_an_error() -> None:
    app = _messages_app(START, {**BODY, "more_body": True})
    with TestClient(app) as client, pytest.raises(ASGIProtocolError, match="without completing"):
        client.get("/")


def test_304_may_carry_the_representation_content_length() -> None:
    app = _messages_app(
        {**START, "status": 304, "headers": [(b"content-length", b"100")]}, {**BODY, "body": b""}
    )
    with TestClient(app) as client:
        assert client.get("/").status_code == 304


# -- cookies -----------------------------------------------------------------------------


async def cookie_app(scope: Scope, receive: Receive, send: Send) -> None:
    await read_body(receive)
    if scope["path"] == "/set":
        await respond(
            send,
            b"set",
            headers=[
                (b"set-cookie", b"session=abc; Path=/; HttpOnly; Max-Age=3600; SameSite=Lax"),
                (b"set-cookie", b"theme=dark; Path=/"),
                (b"set-cookie", b"scoped=1; Path=/admin"),
            ],
        )
    elif scope["path"] == "/clear":
        await respond(send, b"cleared", headers=[(b"set-cookie", b"session=; Path=/; Max-Age=0")])
    else:
        cookie = b"; ".join(v for k, v in scope["headers"] if k == b"cookie")
        await respond(send, cookie)


def test_every_set_cookie_lands_and_attributes_never_become_cookies() -> None:
    with TestClient(cookie_app) as client:
        client.get("/set")
        jar = {cookie.name: cookie for cookie in client.cookies.jar}
    assert sorted(jar) == ["scoped", "session", "theme"]
    assert jar["session"].value == "abc"
    assert jar["theme"].value == "dark"
    assert jar["scoped"].path == "/admin"
    assert not {"Path", "path", "HttpOnly", "Max-Age", "SameSite"} & set(jar)


def test_cookies_are_sent_back_according_to_their_path() -> None:
    with TestClient(cookie_app) as client:
        client.get("/set")
        assert client.get("/echo").text == "session=abc; theme=dark"
        assert "scoped=1" in client.get("/admin/echo").text
        client.get("/clear")
        assert client.get("/echo").text == "theme=dark"


# -- redirects ---------------------------------------------------------------------------


async def redirect_app(scope: Scope, receive: Receive, send: Send) -> None:
    await read_body(receive)
    if scope["path"] == "/old":
        await respond(send, status=307, headers=[(b"location", b"/new")])
    else:
        await respond(send, scope["path"].encode())


def test_redirects_are_followed_unless_disabled() -> None:
    with TestClient(redirect_app) as client:
        response = client.get("/old")
        assert response.text == "/new"
        assert [r.status_code for r in response.history] == [307]
    with TestClient(redirect_app, follow_redirects=False) as client:
        assert client.get("/old").status_code == 307


# -- the event loop and threads ------------------------------------------------------------


class LoopTracker:
    """Records the event loop and thread every call runs on."""

    def __init__(self) -> None:
        self.loops: set[int] = set()
        self.threads: set[int] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.loops.add(id(asyncio.get_running_loop()))
        self.threads.add(threading.get_ident())
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        await read_body(receive)
        await respond(send, b"ok")


def test_lifespan_and_requests_share_one_loop_off_the_test_thread() -> None:
    app = LoopTracker()
    with TestClient(app) as client:
        for _ in range(3):
            client.get("/")
    assert len(app.loops) == 1
    assert len(app.threads) == 1
    assert threading.get_ident() not in app.threads


def test_requests_without_lifespan_share_one_loop_until_closed() -> None:
    app = LoopTracker()
    client = TestClient(app)
    client.get("/")
    client.get("/")
    client.close()
    assert len(app.loops) == 1


def _client_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "velocix-testclient"]


def test_no_thread_is_left_after_with() -> None:
    before = set(threading.enumerate())
    with TestClient(LoopTracker()) as client:
        client.get("/")
        assert len(_client_threads()) == 1
    assert set(threading.enumerate()) <= before


def test_no_thread_is_left_after_close() -> None:
    before = set(threading.enumerate())
    client = TestClient(LoopTracker())
    client.get("/")
    client.close()
    assert set(threading.enumerate()) <= before
    with pytest.raises(RuntimeError, match="closed"):
        client.get("/")


def test_executor_threads_are_shut_down_too() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await read_body(receive)
        name = await asyncio.to_thread(lambda: threading.current_thread().name)
        await respond(send, name.encode())

    before = set(threading.enumerate())
    with TestClient(app) as client:
        assert client.get("/").text.startswith("asyncio_")
    assert set(threading.enumerate()) <= before


def test_an_unclosed_client_stops_its_thread_when_collected() -> None:
    before = set(threading.enumerate())
    assert TestClient(LoopTracker()).get("/").text == "ok"
    gc.collect()
    assert set(threading.enumerate()) <= before


def test_works_from_another_thread() -> None:
    results: list[str] = []
    with TestClient(LoopTracker()) as client:
        worker = threading.Thread(target=lambda: results.append(client.get("/").text))
        worker.start()
        worker.join()
    assert results == ["ok"]


@pytest.mark.anyio
async def test_works_while_the_callers_loop_is_running() -> None:
    with TestClient(LoopTracker()) as client:
        assert client.get("/").text == "ok"


class Rendezvous:
    """``/wait`` only answers once ``/release`` was called: needs concurrent requests."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.released: asyncio.Event | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await read_body(receive)
        if self.released is None:
            self.released = asyncio.Event()
        if scope["path"] == "/wait":
            self.arrived.set()
            await self.released.wait()
            await respond(send, b"released")
        else:
            self.released.set()
            await respond(send, b"done")


def test_requests_from_several_threads_run_concurrently() -> None:
    app = Rendezvous()
    results: list[str] = []
    with TestClient(app) as client:
        waiter = threading.Thread(target=lambda: results.append(client.get("/wait").text))
        waiter.start()
        assert app.arrived.wait(timeout=60)  # the waiting request is inside the app
        assert client.get("/release").text == "done"
        waiter.join()
    assert results == ["released"]


def test_calling_the_client_from_inside_the_app_is_refused() -> None:
    holder: list[TestClient] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await read_body(receive)
        holder[0].get("/")  # synchronous call on the loop thread: would deadlock

    with TestClient(app) as client:
        holder.append(client)
        with pytest.raises(RuntimeError, match="deadlock"):
            client.get("/")


def test_with_can_be_entered_again_but_not_nested_or_after_close() -> None:
    app = LoopTracker()
    client = TestClient(app)
    with client:
        client.get("/")
        with pytest.raises(RuntimeError, match="nested"), client:
            pass
    with client:
        client.get("/")
    assert len(app.loops) == 2  # a fresh loop per `with`
    client.close()
    with pytest.raises(RuntimeError, match="reopen"), client:
        pass


def test_missing_httpx_gives_an_install_hint() -> None:
    code = (
        "import sys; sys.modules['httpx'] = None\n"
        "try:\n"
        "    import velocix.testing\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert "pip install velocix[testing]" in result.stdout


def test_request_helpers_return_httpx_responses() -> None:
    with TestClient(scope_app) as client:
        for method in ("get", "post", "put", "patch", "delete", "options"):
            response = getattr(client, method)("/")
            assert isinstance(response, httpx.Response)
            assert response.json()["method"] == method.upper()
        assert client.request("PURGE", "/").json()["method"] == "PURGE"


class QueueApp:
    """Creates a queue at startup; ``GET /`` takes one item from it."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()
            scope["state"]["jobs"] = asyncio.Queue()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        await read_body(receive)
        await respond(send, (await scope["state"]["jobs"].get()).encode())


def test_run_async_runs_on_the_application_loop() -> None:
    with TestClient(QueueApp()) as client:
        jobs: asyncio.Queue[str] = client.app_state["jobs"]
        client.run_async(jobs.put, "first")
        assert client.get("/").text == "first"
        assert client.run_async(asyncio.sleep, 0, result="slept") == "slept"

"""The application: return values, errors and exception handlers, the ASGI contract,
sync and callable handlers, background tasks and WebSocket routes."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import functools
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import msgspec
import pydantic
import pytest

from velocix import (
    BackgroundTasks,
    Depends,
    HTMLResponse,
    HTTPException,
    JSONResponse,
    PlainTextResponse,
    Request,
    RequestValidationError,
    Response,
    StreamingResponse,
    Velocix,
    WebSocket,
    WebSocketDisconnect,
    WebSocketException,
)
from velocix.testing import TestClient
from velocix.testing.exceptions import WebSocketDenied

Message = dict[str, Any]


class Point(msgspec.Struct):
    x: int
    y: int


@dataclasses.dataclass
class Pair:
    a: int
    b: str


class Model(pydantic.BaseModel):
    name: str


# --- Return values -----------------------------------------------------------------------

returns = Velocix()


@returns.get("/dict")
async def ret_dict() -> dict[str, int]:
    return {"a": 1}


@returns.get("/list")
async def ret_list() -> list[int]:
    return [1, 2]


@returns.get("/struct")
async def ret_struct() -> Point:
    return Point(1, 2)


@returns.get("/dataclass")
async def ret_dataclass() -> Pair:
    return Pair(1, "b")


@returns.get("/pydantic")
async def ret_pydantic() -> Model:
    return Model(name="m")


@returns.get("/none")
async def ret_none() -> None:
    return None


@returns.get("/str")
async def ret_str() -> str:
    return "text"


@returns.post("/created", status_code=201)
async def ret_created() -> dict[str, bool]:
    return {"ok": True}


@returns.delete("/no-content", status_code=204)
async def ret_no_content() -> None:
    return None


@returns.get("/plain", response_class=PlainTextResponse)
async def ret_plain() -> str:
    return "plain text"


@returns.get("/html", response_class=HTMLResponse, status_code=202)
async def ret_html() -> str:
    return "<b>hi</b>"


@returns.get("/response")
async def ret_response() -> Response:
    response = Response("custom", status_code=418, media_type="text/x-custom")
    response.set_cookie("a", "1")
    response.set_cookie("b", "2")
    return response


@returns.get("/json-response", status_code=201)
async def ret_json_response() -> JSONResponse:
    return JSONResponse({"explicit": True}, status_code=200)  # the Response's status wins


@returns.get("/unencodable")
async def ret_unencodable() -> Any:
    return {"x": object()}


@returns.get("/plain-bad", response_class=PlainTextResponse)
async def ret_plain_bad() -> Any:
    return {"not": "text"}


@returns.get("/stream")
async def ret_stream() -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"a"
        yield b"b"

    return StreamingResponse(chunks(), media_type="text/plain")


@pytest.fixture(scope="module")
def returns_client() -> Iterator[TestClient]:
    with TestClient(returns) as client:
        yield client


@pytest.mark.parametrize(
    ("path", "status", "content_type", "body"),
    [
        ("/dict", 200, "application/json", b'{"a":1}'),
        ("/list", 200, "application/json", b"[1,2]"),
        ("/struct", 200, "application/json", b'{"x":1,"y":2}'),
        ("/dataclass", 200, "application/json", b'{"a":1,"b":"b"}'),
        ("/pydantic", 200, "application/json", b'{"name":"m"}'),
        ("/none", 200, "application/json", b"null"),
        ("/str", 200, "application/json", b'"text"'),
        ("/plain", 200, "text/plain; charset=utf-8", b"plain text"),
        ("/html", 202, "text/html; charset=utf-8", b"<b>hi</b>"),
        ("/response", 418, "text/x-custom; charset=utf-8", b"custom"),
        ("/json-response", 200, "application/json", b'{"explicit":true}'),
        ("/stream", 200, "text/plain; charset=utf-8", b"ab"),
    ],
)
def test_return_values(
    returns_client: TestClient, path: str, status: int, content_type: str, body: bytes
) -> None:
    response = returns_client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == content_type
    assert response.content == body
    if path != "/stream":
        assert response.headers["content-length"] == str(len(body))


def test_status_code_from_the_decorator(returns_client: TestClient) -> None:
    assert returns_client.post("/created").status_code == 201


def test_no_content_has_no_body_and_no_length(returns_client: TestClient) -> None:
    response = returns_client.delete("/no-content")
    assert response.status_code == 204
    assert response.content == b""
    assert "content-length" not in response.headers
    assert "content-type" not in response.headers


def test_several_set_cookie_headers(returns_client: TestClient) -> None:
    response = returns_client.get("/response")
    assert response.headers.get_list("set-cookie") == [
        "a=1; Path=/; SameSite=Lax",
        "b=2; Path=/; SameSite=Lax",
    ]


@pytest.mark.parametrize("path", ["/unencodable", "/plain-bad"])
def test_a_return_value_that_cannot_be_sent_is_a_500(path: str) -> None:
    with TestClient(returns, raise_server_exceptions=False) as client:
        response = client.get(path)
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error", "status": 500}


@pytest.mark.parametrize("path", ["/dict", "/plain", "/response", "/struct"])
def test_head_matches_get_without_body(returns_client: TestClient, path: str) -> None:
    get = returns_client.get(path)
    head = returns_client.head(path)
    assert head.status_code == get.status_code
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]


# --- Errors and exception handlers -------------------------------------------------------


def error_app(**kwargs: Any) -> Velocix:
    app = Velocix(**kwargs)

    @app.get("/unauthorized")
    async def unauthorized() -> None:
        raise HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(418)

    @app.get("/boom")
    async def boom() -> None:
        raise ValueError("secret detail")

    @app.get("/sync-boom")
    def sync_boom() -> None:
        raise KeyError("sync secret")

    @app.get("/custom")
    async def custom() -> None:
        raise LookupError("custom")

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    @app.get("/needs-request/{item_id}")
    async def needs_request(item_id: int, request: Request) -> dict[str, int]:
        return {"item_id": item_id}

    return app


def test_http_exception_headers_are_sent() -> None:
    with TestClient(error_app()) as client:
        response = client.get("/unauthorized")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"detail": "Not authenticated", "status": 401}


def test_http_exception_default_detail() -> None:
    with TestClient(error_app()) as client:
        assert client.get("/teapot").json() == {"detail": "I'm a Teapot", "status": 418}


@pytest.mark.parametrize("path", ["/boom", "/sync-boom"])
def test_unhandled_error_is_a_generic_logged_500(
    path: str, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.ERROR, logger="velocix.error"),
        TestClient(error_app(), raise_server_exceptions=False) as client,
    ):
        response = client.get(path)
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error", "status": 500}
    assert "secret" not in response.text
    records = [r for r in caplog.records if r.name == "velocix.error"]
    assert records and records[0].exc_info is not None
    assert "secret" in str(records[0].exc_info[1])


def test_debug_adds_the_traceback() -> None:
    with TestClient(error_app(debug=True), raise_server_exceptions=False) as client:
        body = client.get("/boom").json()
    assert body["status"] == 500
    assert body["detail"] == "Internal Server Error"
    assert body["exception"] == "ValueError: secret detail"
    assert any("raise ValueError" in line for line in body["traceback"])


def test_exception_handlers_by_class_and_status() -> None:
    app = error_app()
    seen: list[str] = []

    @app.exception_handler(LookupError)
    async def lookup(request: Request, exc: LookupError) -> Response:
        seen.append(request.url.path)
        return PlainTextResponse(f"lookup: {exc}", status_code=409)

    @app.exception_handler(HTTPException)
    def any_http(request: Request, exc: HTTPException) -> Response:  # sync handler
        return JSONResponse({"http": exc.status_code}, status_code=exc.status_code)

    @app.exception_handler(401)
    async def on_401(request: Request, exc: HTTPException) -> Response:
        return JSONResponse({"login": True}, status_code=401, headers=dict(exc.headers or {}))

    @app.exception_handler(404)
    async def on_404(request: Request, exc: Exception) -> Response:
        return PlainTextResponse(f"no {request.url.path}", status_code=404)

    @app.exception_handler(405)
    async def on_405(request: Request, exc: HTTPException) -> Response:
        return PlainTextResponse("wrong method", status_code=405, headers=dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def on_422(request: Request, exc: RequestValidationError) -> Response:
        return JSONResponse({"bad": [e["loc"] for e in exc.errors]}, status_code=400)

    @app.exception_handler(500)
    async def on_500(request: Request, exc: Exception) -> Response:
        return PlainTextResponse(f"oops {type(exc).__name__}", status_code=500)

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/custom").text == "lookup: custom"
        assert seen == ["/custom"]
        assert client.get("/teapot").json() == {"http": 418}  # class handler
        response = client.get("/unauthorized")
        assert response.json() == {"login": True}  # status handler beats class handler
        assert response.headers["www-authenticate"] == "Bearer"
        assert client.get("/nowhere").text == "no /nowhere"  # framework 404
        response = client.post("/boom")
        assert (response.text, response.headers["allow"]) == ("wrong method", "GET, HEAD")
        assert client.get("/items/x").json() == {"bad": [["path", "item_id"]]}
        assert client.get("/needs-request/x").json() == {"bad": [["path", "item_id"]]}
        assert client.get("/boom").text == "oops ValueError"


def test_validation_status_handler_and_exception_class_handler() -> None:
    app = error_app()

    @app.exception_handler(422)
    async def on_422(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("422 handler", status_code=422)

    @app.exception_handler(Exception)
    async def on_any(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("any", status_code=503)

    with TestClient(app) as client:
        assert client.get("/items/x").text == "422 handler"
        assert client.get("/boom").status_code == 503


def test_failing_exception_handler_gives_the_generic_500(caplog: pytest.LogCaptureFixture) -> None:
    app = error_app()

    @app.exception_handler(ValueError)
    async def broken(request: Request, exc: Exception) -> Response:
        raise RuntimeError("handler broke")

    @app.exception_handler(LookupError)
    async def not_a_response(request: Request, exc: Exception) -> Any:
        return {"not": "a response"}

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/boom").json() == {"detail": "Internal Server Error", "status": 500}
        assert client.get("/custom").status_code == 500


def test_exception_handler_keys_are_checked() -> None:
    with pytest.raises(TypeError, match="exception class or status code"):
        Velocix().add_exception_handler("nope", lambda r, e: None)  # type: ignore[arg-type]


def test_error_after_the_response_started_is_reraised() -> None:
    app = Velocix()

    @app.get("/half")
    async def half() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first"
            raise RuntimeError("mid-stream")

        return StreamingResponse(chunks())

    messages: list[Message] = []

    async def receive() -> Message:
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        messages.append(message)

    scope = {"type": "http", "method": "GET", "path": "/half", "headers": [], "query_string": b""}
    with pytest.raises(RuntimeError, match="mid-stream"):
        asyncio.run(app(scope, receive, send))
    starts = [m for m in messages if m["type"] == "http.response.start"]
    assert len(starts) == 1 and starts[0]["status"] == 200  # never a second start


def test_error_before_a_streaming_response_starts_is_a_500() -> None:
    app = Velocix()

    class Failing(StreamingResponse):
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            raise OSError("cannot open")

    @app.get("/fail")
    async def fail() -> StreamingResponse:
        return Failing(iter([b"x"]))

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/fail").status_code == 500


# --- The ASGI contract -------------------------------------------------------------------


def scope_for(path: str, method: str = "GET") -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"q=1",
        "headers": [(b"host", b"example.com"), (b"content-type", b"application/json")],
        "server": ("example.com", 80),
        "client": ("127.0.0.1", 1234),
        "state": {},
    }


async def run_asgi(app: Any, scope: dict[str, Any], body: bytes = b"") -> list[Message]:
    messages: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        messages.append(message)

    await app(scope, receive, send)
    return messages


def immutability_app(with_middleware: bool) -> Velocix:
    app = error_app()

    @app.get("/dep")
    async def dep(value: int = Depends(lambda q: int(q))) -> dict[str, int]:
        return {"value": value}

    @app.post("/body")
    async def body(point: Point) -> Point:
        return point

    if with_middleware:

        class Passthrough:
            def __init__(self, app: Any) -> None:
                self.app = app

            async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
                await self.app(scope, receive, send)

        app.add_middleware(Passthrough)
    return app


@pytest.mark.parametrize("with_middleware", [False, True], ids=["plain", "middleware"])
@pytest.mark.parametrize(
    "path",
    ["/items/3", "/items/x", "/needs-request/3", "/dep", "/boom", "/missing", "/unauthorized"],
)
def test_the_server_scope_is_never_mutated(with_middleware: bool, path: str) -> None:
    app = immutability_app(with_middleware)
    scope = scope_for(path)
    before = copy.deepcopy(scope)
    messages = asyncio.run(run_asgi(app, scope))
    assert messages[0]["type"] == "http.response.start"
    assert scope == before


def test_the_server_scope_is_never_mutated_by_a_body_route() -> None:
    app = immutability_app(False)
    scope = scope_for("/body", "POST")
    before = copy.deepcopy(scope)
    messages = asyncio.run(run_asgi(app, scope, b'{"x":1,"y":2}'))
    assert messages[1]["body"] == b'{"x":1,"y":2}'
    assert scope == before


def test_unknown_scope_type_raises() -> None:
    async def noop_receive() -> Message:
        return {}

    async def noop_send(message: Message) -> None:
        return None

    with pytest.raises(RuntimeError, match="cannot handle ASGI scope type 'weird'"):
        asyncio.run(Velocix()({"type": "weird"}, noop_receive, noop_send))


def test_request_sees_route_path_params_and_app() -> None:
    app = Velocix()

    @app.get("/users/{user_id}", name="user")
    async def user(user_id: int, request: Request) -> dict[str, Any]:
        route = request.scope["route"]
        return {
            "route": route.path,
            "name": route.name,
            "params": request.path_params,
            "same_app": request.app is app,
        }

    with TestClient(app) as client:
        assert client.get("/users/5").json() == {
            "route": "/users/{user_id}",
            "name": "user",
            "params": {"user_id": 5},
            "same_app": True,
        }


def test_client_disconnect_while_reading_the_body_sends_nothing() -> None:
    app = Velocix()

    @app.post("/items")
    async def items(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    messages: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        messages.append(message)

    asyncio.run(app(scope_for("/items", "POST"), receive, send))
    assert messages == []


# --- Sync handlers and callables ---------------------------------------------------------


class Handlers:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    async def bound(self, name: str) -> dict[str, str]:
        return {"greeting": f"{self.prefix} {name}"}

    def sync_bound(self, name: str) -> dict[str, str]:
        return {"greeting": f"{self.prefix} {name}", "thread": threading.current_thread().name}


class AsyncCallable:
    async def __call__(self, n: int) -> dict[str, int]:
        return {"n": n * 2}


class SyncCallable:
    def __call__(self, n: int) -> dict[str, Any]:
        return {"n": n * 3, "thread": threading.current_thread().name}


async def partial_target(greeting: str, name: str) -> dict[str, str]:
    return {"greeting": f"{greeting} {name}"}


def sync_handler() -> dict[str, str]:
    return {"thread": threading.current_thread().name}


def test_sync_handlers_run_in_the_thread_pool_and_callables_work() -> None:
    app = Velocix()
    handlers = Handlers("hello")
    app.get("/bound")(handlers.bound)
    app.get("/sync-bound")(handlers.sync_bound)
    app.get("/async-callable")(AsyncCallable())
    app.get("/sync-callable")(SyncCallable())
    app.get("/partial")(functools.partial(partial_target, "hi"))
    app.get("/sync")(sync_handler)
    with TestClient(app) as client:
        assert client.get("/bound?name=x").json() == {"greeting": "hello x"}
        sync_bound = client.get("/sync-bound?name=y").json()
        assert sync_bound["greeting"] == "hello y"
        assert sync_bound["thread"].startswith("velocix-worker")
        assert client.get("/async-callable?n=2").json() == {"n": 4}
        sync_callable = client.get("/sync-callable?n=2").json()
        assert sync_callable["n"] == 6 and sync_callable["thread"].startswith("velocix-worker")
        assert client.get("/partial?name=z").json() == {"greeting": "hi z"}
        assert client.get("/sync").json()["thread"].startswith("velocix-worker")
    assert [route.name for route in app.routes] == [
        "bound",
        "sync_bound",
        "AsyncCallable",
        "SyncCallable",
        "partial_target",
        "sync_handler",
        "openapi",  # served by default, added at startup
        "docs",
    ]


def test_background_tasks_run_after_the_response() -> None:
    app = Velocix()
    events: list[str] = []

    async def log(event: str) -> None:
        events.append(event)

    def sync_log(event: str) -> None:
        events.append(event)

    @app.post("/signup")
    async def signup(background: BackgroundTasks, email: str) -> dict[str, bool]:
        background.add_task(log, f"welcome {email}")
        background.add_task(sync_log, "sync task")
        events.append("handler")
        return {"ok": True}

    @app.get("/with-response")
    async def with_response(background: BackgroundTasks) -> Response:
        background.add_task(log, "injected")
        return PlainTextResponse("x")

    with TestClient(app) as client:
        assert client.post("/signup?email=a@b.c").json() == {"ok": True}
        assert events == ["handler", "welcome a@b.c", "sync task"]
        assert client.get("/with-response").text == "x"
        assert events[-1] == "injected"


def test_max_body_size_must_be_sane() -> None:
    with pytest.raises(ValueError, match="max_body_size"):
        Velocix(max_body_size=-1)


def test_unlimited_body_size() -> None:
    app = Velocix(max_body_size=None)

    @app.post("/big")
    async def big(values: list[int]) -> dict[str, int]:
        return {"count": len(values)}

    with TestClient(app) as client:
        payload = [1] * 400_000  # ~800 KB of JSON, and more than the default limit below
        assert client.post("/big", json=payload + payload).json() == {"count": 800_000}


# --- WebSockets --------------------------------------------------------------------------

ws_app = Velocix()


def room_prefix(prefix: str = "room") -> str:
    return prefix


@ws_app.websocket("/ws/{room}")
async def ws_room(
    websocket: WebSocket, room: int, name: str = "anon", tag: str = Depends(room_prefix)
) -> None:
    await websocket.accept()
    await websocket.send_json({"room": room, "name": name, "tag": tag})
    text = await websocket.receive_text()
    await websocket.send_text(f"echo {text}")
    await websocket.close()


@ws_app.websocket("/ws-error")
async def ws_error(websocket: WebSocket) -> None:
    await websocket.accept()
    raise RuntimeError("ws failure")


@ws_app.websocket("/ws-policy")
async def ws_policy(websocket: WebSocket) -> None:
    await websocket.accept()
    raise WebSocketException(4001, "go away")


@ws_app.websocket("/ws-disconnect")
async def ws_disconnect(websocket: WebSocket) -> None:
    await websocket.accept()
    while True:
        await websocket.receive_text()


def test_websocket_with_typed_path_query_and_dependency() -> None:
    with TestClient(ws_app) as client, client.websocket_connect("/ws/7?name=ann") as session:
        assert session.receive_json() == {"room": 7, "name": "ann", "tag": "room"}
        session.send_text("hi")
        assert session.receive_text() == "echo hi"


def test_websocket_bad_path_param_is_refused_before_accept() -> None:
    with TestClient(ws_app) as client:
        with pytest.raises(WebSocketDenied) as denied, client.websocket_connect("/ws/abc"):
            pass
        assert denied.value.response.status_code == 403


def test_websocket_unknown_path_is_refused() -> None:
    with (
        TestClient(ws_app) as client,
        pytest.raises(WebSocketDenied),
        client.websocket_connect("/nope"),
    ):
        pass


def test_websocket_handler_error_closes_1011(caplog: pytest.LogCaptureFixture) -> None:
    with (
        caplog.at_level(logging.ERROR, logger="velocix.error"),
        TestClient(ws_app) as client,
        client.websocket_connect("/ws-error") as session,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        session.receive_text()
    assert closed.value.code == 1011
    assert any("ws failure" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_websocket_exception_closes_with_its_code() -> None:
    with (
        TestClient(ws_app) as client,
        client.websocket_connect("/ws-policy") as session,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        session.receive_text()
    assert (closed.value.code, closed.value.reason) == (4001, "go away")


def test_websocket_client_disconnect_is_a_normal_end() -> None:
    with TestClient(ws_app) as client, client.websocket_connect("/ws-disconnect") as session:
        session.send_text("x")
        # leaving the block disconnects; the handler's WebSocketDisconnect is not an error


def test_websocket_route_rejects_request_and_body_parameters() -> None:
    app = Velocix()

    async def wants_request(websocket: WebSocket, request: Request) -> None:
        return None

    with pytest.raises(TypeError, match="asks for a Request in a WebSocket route"):
        app.websocket("/a")(wants_request)

    async def wants_body(websocket: WebSocket, point: Point) -> None:
        return None

    with pytest.raises(TypeError, match="no request body"):
        app.websocket("/b")(wants_body)

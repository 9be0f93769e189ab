"""Lifespan handling of the TestClient, against raw ASGI applications and Starlette."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from velocix.testing import ASGIProtocolError, TestClient

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Any
Send = Any


async def _drain(receive: Receive) -> None:
    while (await receive()).get("more_body", False):
        pass


async def _respond(send: Send, body: bytes) -> None:
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class LifespanApp:
    """A raw app whose lifespan answers are configurable; records what happened."""

    def __init__(
        self,
        startup: Message | None = None,
        shutdown: Message | None = None,
    ) -> None:
        self.startup_reply = startup or {"type": "lifespan.startup.complete"}
        self.shutdown_reply = shutdown or {"type": "lifespan.shutdown.complete"}
        self.events: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(scope, receive, send)
            return
        await _drain(receive)
        self.events.append("request")
        state = scope["state"]
        state["added_by_request"] = True  # must not leak into the next request
        state["shared"].append(scope["path"])
        await _respond(send, repr(sorted(state)).encode())

    async def lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"
        self.events.append("startup")
        scope["state"]["pool"] = "connected"
        scope["state"]["shared"] = []
        await send(self.startup_reply)
        if self.startup_reply["type"] != "lifespan.startup.complete":
            return
        message = await receive()
        assert message["type"] == "lifespan.shutdown"
        self.events.append("shutdown")
        await send(self.shutdown_reply)


def test_startup_and_shutdown_run_exactly_once_around_requests() -> None:
    app = LifespanApp()
    with TestClient(app) as client:
        assert app.events == ["startup"]
        client.get("/a")
        client.get("/b")
        assert app.events == ["startup", "request", "request"]
    assert app.events == ["startup", "request", "request", "shutdown"]


def test_no_lifespan_without_with() -> None:
    app = LifespanApp()
    client = TestClient(app)
    with pytest.raises(KeyError, match="shared"):  # no startup: no state
        client.get("/")
    client.close()
    assert app.events == ["request"]


def test_state_is_a_shallow_copy_per_request() -> None:
    app = LifespanApp()
    with TestClient(app) as client:
        first = client.get("/one").text
        second = client.get("/two").text
        assert client.app_state["shared"] == ["/one", "/two"]  # same list object
        assert "added_by_request" not in client.app_state
    assert first == second == "['added_by_request', 'pool', 'shared']"


def test_startup_failed_raises_with_the_message_and_leaves_no_thread() -> None:
    before = set(threading.enumerate())
    app = LifespanApp(startup={"type": "lifespan.startup.failed", "message": "db unreachable"})
    with (
        pytest.raises(RuntimeError, match=r"^Lifespan startup failed: db unreachable$"),
        TestClient(app),
    ):
        pass
    assert app.events == ["startup"]
    assert set(threading.enumerate()) <= before


def test_startup_failed_without_a_message() -> None:
    app = LifespanApp(startup={"type": "lifespan.startup.failed"})
    with pytest.raises(RuntimeError, match=r"^Lifespan startup failed$"), TestClient(app):
        pass


def test_shutdown_failed_raises_with_the_message() -> None:
    app = LifespanApp(shutdown={"type": "lifespan.shutdown.failed", "message": "flush failed"})
    client = TestClient(app)
    with pytest.raises(RuntimeError, match="Lifespan shutdown failed: flush failed"), client:
        client.get("/")


def test_a_failing_shutdown_does_not_hide_the_test_error() -> None:
    app = LifespanApp(shutdown={"type": "lifespan.shutdown.failed", "message": "flush failed"})
    with pytest.raises(AssertionError) as info, TestClient(app):
        raise AssertionError("the test's own failure")
    assert "flush failed" in "".join(info.value.__notes__)


def test_wrong_lifespan_message_is_a_protocol_error() -> None:
    app = LifespanApp(startup={"type": "lifespan.startup.completed"})
    with pytest.raises(ASGIProtocolError, match=r"'lifespan\.startup\.completed'"), TestClient(app):
        pass


async def http_only_app(scope: Scope, receive: Receive, send: Send) -> None:
    assert scope["type"] == "http"
    await _drain(receive)
    await _respond(send, b"ok")


async def answers_everything_as_http(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await _respond(send, b"ok")


async def returns_on_lifespan(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        return
    await _drain(receive)
    await _respond(send, b"ok")


@pytest.mark.parametrize(
    "app",
    [
        pytest.param(http_only_app, id="raises-on-lifespan-scope"),
        pytest.param(answers_everything_as_http, id="answers-with-http"),
        pytest.param(returns_on_lifespan, id="returns"),
    ],
)
def test_apps_without_lifespan_support_still_work_with_with(app: Any) -> None:
    with TestClient(app) as client:
        assert client.get("/").text == "ok"


def test_a_crash_after_taking_startup_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def crashes(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()
            raise ConnectionError("cache server down")
        await _drain(receive)
        await _respond(send, b"ok")

    with caplog.at_level(logging.ERROR, logger="velocix.testing"), TestClient(crashes) as client:
        assert client.get("/").text == "ok"
    [record] = caplog.records
    assert "lifespan.startup" in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], ConnectionError)


def test_an_exception_during_shutdown_is_raised() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "lifespan"
        await receive()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        raise OSError("could not close pool")

    with pytest.raises(OSError, match="could not close pool"), TestClient(app):
        pass


def test_lifespan_resources_stay_usable_on_the_same_loop() -> None:
    """An asyncio primitive made at startup works in requests: same loop throughout."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()
            queue: asyncio.Queue[str] = asyncio.Queue()
            worker_done = asyncio.Event()

            async def worker() -> None:
                scope["state"]["seen"].append(await queue.get())
                worker_done.set()

            scope["state"].update(queue=queue, done=worker_done, seen=[])
            task = asyncio.create_task(worker())
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await task
            await send({"type": "lifespan.shutdown.complete"})
            return
        await _drain(receive)
        await scope["state"]["queue"].put(scope["path"])
        await scope["state"]["done"].wait()
        await _respond(send, repr(scope["state"]["seen"]).encode())

    with TestClient(app) as client:
        assert client.get("/job").text == "['/job']"


# -- Starlette -----------------------------------------------------------------------------


class StarletteRecorder:
    def __init__(self) -> None:
        self.events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[dict[str, Any]]:
        self.events.append("startup")
        yield {"greeting": "hello"}
        self.events.append("shutdown")


def _starlette_app(recorder: StarletteRecorder) -> Starlette:
    async def home(request: Request) -> JSONResponse:
        return JSONResponse({"greeting": request.state.greeting})

    return Starlette(routes=[Route("/", home)], lifespan=recorder.lifespan)


def test_starlette_lifespan_state_reaches_requests() -> None:
    recorder = StarletteRecorder()
    with TestClient(_starlette_app(recorder)) as client:
        assert client.get("/").json() == {"greeting": "hello"}
        assert recorder.events == ["startup"]
    assert recorder.events == ["startup", "shutdown"]


def test_starlette_startup_error_fails_startup() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        raise ValueError("bad settings")
        yield  # pragma: no cover

    app = Starlette(lifespan=lifespan)
    with pytest.raises(RuntimeError, match="bad settings") as info, TestClient(app):
        pass
    assert isinstance(info.value.__cause__, ValueError)

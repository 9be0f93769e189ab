"""Middleware: options, order, what they wrap, the scope they see, and when they can be added."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from velocix import HTTPException, Middleware, Velocix, WebSocket
from velocix.testing import TestClient


class Tag:
    """Adds ``x-tags: <name>`` to every response, innermost first; records what it saw."""

    instances: ClassVar[list[Tag]] = []

    def __init__(self, app: Any, name: str, *, seen: list[Any] | None = None) -> None:
        self.app = app
        self.name = name
        self.seen = seen if seen is not None else []
        Tag.instances.append(self)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status: list[int] = []

        async def tagging_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
                message = dict(message)
                message["headers"] = [*message["headers"], (b"x-tags", self.name.encode())]
            await send(message)

        await self.app(scope, receive, tagging_send)
        route = scope.get("route")
        self.seen.append((status[0], route.path if route is not None else None))


class Exploding:
    def __init__(self, app: Any, *, when: str) -> None:
        self.app = app
        self.when = when

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.when == "before":
            raise RuntimeError("middleware failed")

        async def send_then_fail(message: dict[str, Any]) -> None:
            await send(message)
            if message["type"] == "http.response.body":
                raise RuntimeError("after start")

        await self.app(scope, receive, send_then_fail)


def make_app() -> Velocix:
    app = Velocix()

    @app.get("/users/{user_id}")
    async def user(user_id: int) -> dict[str, int]:
        return {"user_id": user_id}

    @app.get("/boom")
    async def boom() -> None:
        raise ValueError("boom")

    @app.get("/denied")
    async def denied() -> None:
        raise HTTPException(403)

    return app


def test_options_order_and_what_middleware_wrap() -> None:
    seen: list[Any] = []
    app = make_app()
    app.add_middleware(Tag, "inner", seen=seen)
    app.add_middleware(Tag, name="outer")  # added last: outermost
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/users/1")
        assert response.headers.get_list("x-tags") == ["inner", "outer"]
        for path, status in [
            ("/missing", 404),
            ("/boom", 500),
            ("/denied", 403),
            ("/users/x", 422),
        ]:
            response = client.get(path)
            assert response.status_code == status
            assert response.headers.get_list("x-tags") == ["inner", "outer"]
        assert client.post("/users/1").status_code == 405
    assert seen == [
        (200, "/users/{user_id}"),
        (404, None),
        (500, "/boom"),
        (403, "/denied"),
        (422, "/users/{user_id}"),
        (405, None),
    ]


def test_constructor_middleware_list_first_is_outermost() -> None:
    app = Velocix(middleware=[Middleware(Tag, "first"), Middleware(Tag, "second")])

    @app.get("/")
    async def index() -> str:
        return "x"

    with TestClient(app) as client:
        assert client.get("/").headers.get_list("x-tags") == ["second", "first"]


def test_stack_is_built_once_and_adding_later_is_an_error() -> None:
    Tag.instances.clear()
    app = make_app()
    app.add_middleware(Tag, "only")
    with TestClient(app) as client:
        client.get("/users/1")
        client.get("/users/2")
        with pytest.raises(RuntimeError, match="already started"):
            app.add_middleware(Tag, "late")
    assert len(Tag.instances) == 1


def test_stack_is_built_at_the_first_request_without_lifespan() -> None:
    app = make_app()
    app.add_middleware(Tag, "lazy")
    client = TestClient(app)
    try:
        assert client.get("/users/1").headers["x-tags"] == "lazy"
    finally:
        client.close()
    with pytest.raises(RuntimeError, match="already started"):
        app.add_middleware(Tag, "late")


def test_error_raised_by_a_middleware_is_a_500() -> None:
    app = make_app()
    app.add_middleware(Exploding, when="before")
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/users/1")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error", "status": 500}


def test_error_after_the_response_started_is_reraised() -> None:
    app = make_app()
    app.add_middleware(Exploding, when="after")
    with TestClient(app) as client, pytest.raises(RuntimeError, match="after start"):
        client.get("/users/1")


def test_middleware_must_be_wrapped_in_middleware_items() -> None:
    with pytest.raises(TypeError, match="Middleware"):
        Velocix(middleware=[Tag])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="needs a class"):
        Middleware("nope")  # type: ignore[arg-type]


def test_middleware_sees_the_route_of_websocket_connections() -> None:
    seen: list[Any] = []

    class Recorder:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await self.app(scope, receive, send)
            if scope["type"] == "websocket":
                seen.append((scope["route"].path, scope["path_params"]))

    app = Velocix()

    @app.websocket("/ws/{room}")
    async def room(websocket: WebSocket, room: int) -> None:
        await websocket.accept()
        await websocket.close()

    app.add_middleware(Recorder)
    with TestClient(app) as client, client.websocket_connect("/ws/3"):
        pass
    assert seen == [("/ws/{room}", {"room": 3})]

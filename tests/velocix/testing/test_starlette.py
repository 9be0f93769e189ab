"""The TestClient driving a Starlette application over HTTP (a framework it must not know)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from velocix.testing import TestClient


async def item(request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "id": request.path_params["item_id"],
            "tags": request.query_params.getlist("tag"),
            "x_tag": request.headers.getlist("x-tag"),
            "root_path": request.scope["root_path"],
            "url": str(request.url),
        }
    )


async def upload(request: Request) -> JSONResponse:
    chunks = [len(chunk) async for chunk in request.stream() if chunk]
    return JSONResponse({"chunks": chunks})


async def login(request: Request) -> Response:
    response = PlainTextResponse("logged in")
    response.set_cookie("session", "s3cr3t", max_age=3600, httponly=True, samesite="strict")
    response.set_cookie("lang", "fr", path="/")
    return response


async def whoami(request: Request) -> JSONResponse:
    return JSONResponse(request.cookies)


async def fail(request: Request) -> Response:
    raise ZeroDivisionError("handler bug")


class Ticker:
    """A Starlette StreamingResponse that counts how far it got."""

    def __init__(self) -> None:
        self.produced = 0

    async def numbers(self) -> AsyncIterator[str]:
        while True:
            self.produced += 1
            yield f"{self.produced}\n"
            await asyncio.sleep(0)

    async def endpoint(self, request: Request) -> Response:
        return StreamingResponse(self.numbers(), media_type="text/plain")


ticker = Ticker()

app = Starlette(
    routes=[
        Route("/items/{item_id:int}", item),
        Route("/upload", upload, methods=["POST"]),
        Route("/login", login, methods=["POST"]),
        Route("/whoami", whoami),
        Route("/fail", fail),
        Route("/ticks", ticker.endpoint),
    ]
)


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def test_path_query_and_repeated_headers(client: TestClient) -> None:
    response = client.get(
        "/items/7", params=[("tag", "a"), ("tag", "b")], headers=[("x-tag", "1"), ("x-tag", "2")]
    )
    assert response.json() == {
        "id": 7,
        "tags": ["a", "b"],
        "x_tag": ["1", "2"],
        "root_path": "",
        "url": "http://testserver/items/7?tag=a&tag=b",
    }


def test_root_path_reaches_starlette_routing() -> None:
    with TestClient(app, root_path="/api") as client:
        for url in ("/items/1", "/api/items/1"):
            response = client.get(url)
            assert response.status_code == 200
            assert response.json()["url"] == "http://testserver/api/items/1"


def test_405_and_404(client: TestClient) -> None:
    assert client.post("/items/1").status_code == 405
    assert client.get("/missing").status_code == 404


def test_request_stream_sees_the_chunks(client: TestClient) -> None:
    response = client.post("/upload", content=b"x" * 150_000)
    assert response.json() == {"chunks": [65536, 65536, 18928]}


def test_cookies_round_trip_without_attributes(client: TestClient) -> None:
    assert client.post("/login").text == "logged in"
    assert sorted(client.cookies.keys()) == ["lang", "session"]
    assert client.get("/whoami").json() == {"session": "s3cr3t", "lang": "fr"}


def test_handler_exception_is_raised(client: TestClient) -> None:
    with pytest.raises(ZeroDivisionError, match="handler bug"):
        client.get("/fail")


def test_handler_exception_is_starlettes_500_when_not_raised() -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/fail")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"


def test_streaming_response_stops_when_the_client_hangs_up(client: TestClient) -> None:
    with client.stream("GET", "/ticks") as response:
        lines = response.iter_lines()
        assert [next(lines) for _ in range(3)] == ["1", "2", "3"]
    # Closing the stream disconnected the client: Starlette's send raised, it stopped
    # iterating, and the ClientDisconnect it raised in turn is not reported as a failure.
    produced = ticker.produced
    assert client.get("/items/1").status_code == 200
    assert ticker.produced == produced

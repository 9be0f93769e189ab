"""Dispatch: the one send path. A returned Response is rendered exactly like the value it holds,
once; customised responses keep every customisation; errors before sending become responses."""

from __future__ import annotations

from typing import Any

import pytest

from velocix import (
    BackgroundTask,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    Velocix,
)
from velocix.testing import TestClient


class Counted:
    """An object encoded through ``model_dump`` that counts how often it is encoded."""

    dumps = 0

    def model_dump(self, mode: str = "python") -> dict[str, int]:
        Counted.dumps += 1
        return {"n": 1}


ran: list[str] = []
app = Velocix()


@app.get("/text-value", response_class=PlainTextResponse)
async def text_value() -> str:
    return "héllo"


@app.get("/text-response")
async def text_response() -> PlainTextResponse:
    return PlainTextResponse("héllo")


@app.get("/json-value")
async def json_value() -> dict[str, Any]:
    return {"a": [1, 2]}


@app.get("/json-response")
async def json_response() -> JSONResponse:
    return JSONResponse({"a": [1, 2]})


@app.get("/html-value", response_class=HTMLResponse)
async def html_value() -> str:
    return "<p>x</p>"


@app.get("/html-response")
async def html_response() -> HTMLResponse:
    return HTMLResponse("<p>x</p>")


@app.get("/bytes-response")
async def bytes_response() -> Response:
    return Response(b"\x00\x01", media_type="application/octet-stream")


@app.get("/customised")
async def customised() -> JSONResponse:
    response = JSONResponse({"ok": True}, status_code=201, headers={"X-A": "1"})
    response.headers["X-B"] = "2"
    response.set_cookie("session", "abc")
    return response


@app.get("/edited-after")
async def edited_after() -> PlainTextResponse:
    response = PlainTextResponse("x")
    response.headers.append("X-Late", "yes")  # builds the headers: they must be the ones sent
    return response


@app.get("/no-content")
async def no_content() -> Response:
    return Response("ignored", status_code=204)


@app.get("/background")
async def background() -> PlainTextResponse:
    return PlainTextResponse("done", background=BackgroundTask(ran.append, "task"))


@app.get("/counted")
async def counted() -> JSONResponse:
    return JSONResponse({"value": Counted()})


@app.get("/unrenderable")
async def unrenderable() -> Response:
    return Response({"not": "bytes"})  # rendered lazily: the error surfaces before sending


@pytest.fixture(scope="module")
def client() -> Any:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("value", "response"),
    [
        ("/text-value", "/text-response"),
        ("/json-value", "/json-response"),
        ("/html-value", "/html-response"),
    ],
)
def test_returned_response_is_sent_like_the_value_it_holds(
    client: TestClient, value: str, response: str
) -> None:
    from_value = client.get(value)
    from_response = client.get(response)
    assert from_response.status_code == from_value.status_code == 200
    assert from_response.content == from_value.content
    assert from_response.headers.raw == from_value.headers.raw


@pytest.mark.parametrize("path", ["/text-response", "/json-response", "/customised"])
def test_head_gets_the_get_headers_and_no_body(client: TestClient, path: str) -> None:
    get, head = client.get(path), client.head(path)
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"] != "0"


def test_customised_response_keeps_every_customisation(client: TestClient) -> None:
    response = client.get("/customised")
    assert response.status_code == 201
    assert response.json() == {"ok": True}
    assert response.headers["x-a"] == "1" and response.headers["x-b"] == "2"
    assert response.cookies["session"] == "abc"
    assert client.get("/edited-after").headers["x-late"] == "yes"
    octets = client.get("/bytes-response")
    assert octets.content == b"\x00\x01"
    assert octets.headers["content-type"] == "application/octet-stream"


def test_statuses_without_a_body_and_background_tasks(client: TestClient) -> None:
    response = client.get("/no-content")
    assert response.status_code == 204 and response.content == b""
    assert "content-length" not in response.headers
    ran.clear()
    assert client.get("/background").text == "done"
    assert ran == ["task"]


def test_response_content_is_encoded_once(client: TestClient) -> None:
    Counted.dumps = 0
    assert client.get("/counted").json() == {"value": {"n": 1}}
    assert Counted.dumps == 1


def test_content_that_cannot_be_rendered_is_a_500_not_a_crash(client: TestClient) -> None:
    response = client.get("/unrenderable")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error", "status": 500}


def test_response_built_lazily_still_answers_as_an_asgi_app() -> None:
    response = JSONResponse({"a": 1}, status_code=202)
    assert response.body == b'{"a":1}'  # rendered on first use, then kept
    assert response.raw_headers == [
        (b"content-length", b"7"),
        (b"content-type", b"application/json"),
    ]
    assert response.body is response.body

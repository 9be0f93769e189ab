"""The batteries inside a Velocix app, through the TestClient (seed defects as tests)."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from velocix.core.app import Velocix
from velocix.core.dependencies import Depends
from velocix.core.response import StreamingResponse
from velocix.forms import File, Form, UploadFile
from velocix.middleware import (
    CORSMiddleware,
    GZipMiddleware,
    RateLimitMiddleware,
    RequestIDMiddleware,
    TrustedHostMiddleware,
)
from velocix.security import HTTPBasic, HTTPBasicCredentials, HTTPBearer, JWTAuth
from velocix.sse import EventSourceResponse, ServerSentEvent
from velocix.staticfiles import StaticFiles
from velocix.testing import TestClient

ORIGIN = "https://example.com"
jwt_auth = JWTAuth("k" * 32, algorithms=["HS256"])


def build_app(static_dir: Path) -> Velocix:
    app = Velocix()

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, Any]:
        return {"item_id": item_id, "padding": "x" * 2000}

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for index in range(5):
                yield (f"chunk {index} " * 100).encode()

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.get("/events")
    async def events() -> EventSourceResponse:
        async def feed() -> AsyncIterator[ServerSentEvent]:
            yield ServerSentEvent("line one\nline two", event="note", id="1")
            yield ServerSentEvent({"n": 2}, id="2")

        return EventSourceResponse(feed(), ping=None)

    @app.post("/profile")
    async def profile(
        name: str = Form(),
        age: int = Form(),
        avatar: UploadFile = File(),
        tags: list[str] = Form([]),
    ) -> dict[str, Any]:
        content = await avatar.read()
        return {
            "name": name,
            "age": age,
            "avatar": avatar.filename,
            "size": len(content),
            "tags": tags,
        }

    @app.post("/login")
    async def login(user: str = Form(), password: str = Form()) -> dict[str, str]:
        return {"user": user}

    @app.get("/basic")
    async def basic(credentials: HTTPBasicCredentials = Depends(HTTPBasic())) -> dict[str, str]:
        return {"user": credentials.username}

    @app.get("/bearer", dependencies=[Depends(HTTPBearer())])
    async def bearer() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/me")
    async def me(claims: dict[str, Any] = Depends(jwt_auth)) -> dict[str, Any]:
        return {"sub": claims["sub"]}

    app.mount("/static", StaticFiles(directory=static_dir))
    app.add_middleware(GZipMiddleware, minimum_size=500)
    app.add_middleware(RequestIDMiddleware)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=[ORIGIN],
        allow_methods=["GET", "POST"],
        allow_credentials=True,
    )
    return app


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    (tmp_path / "hello.txt").write_text("hello static")
    with TestClient(build_app(tmp_path)) as client:
        yield client


def preflight(client: TestClient, path: str) -> Any:
    return client.options(path, headers={"origin": ORIGIN, "access-control-request-method": "POST"})


def test_cors_preflight_on_get_only_route_and_unknown_path(client: TestClient) -> None:
    for path in ("/items/1", "/does-not-exist"):
        response = preflight(client, path)
        assert response.status_code == 200, path
        assert response.headers["access-control-allow-origin"] == ORIGIN
        assert response.headers["access-control-allow-credentials"] == "true"


def test_cors_headers_on_404_and_no_reflection_of_strangers(client: TestClient) -> None:
    missing = client.get("/nope", headers={"origin": ORIGIN})
    assert missing.status_code == 404
    assert missing.headers["access-control-allow-origin"] == ORIGIN
    stranger = client.get("/items/1", headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in stranger.headers


def test_gzip_and_request_id_on_a_route(client: TestClient) -> None:
    response = client.get("/items/5", headers={"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.json()["item_id"] == 5  # httpx decoded it
    assert len(response.headers["x-request-id"]) == 32
    assert response.headers["vary"] == "Accept-Encoding, Origin"


def test_gzip_on_a_streaming_response(client: TestClient) -> None:
    with client.stream("GET", "/stream", headers={"accept-encoding": "gzip"}) as response:
        raw = b"".join(response.iter_raw())
    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == b"".join(
        (f"chunk {index} " * 100).encode() for index in range(5)
    )


def test_sse_framing_through_the_app(client: TestClient) -> None:
    response = client.get("/events")
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.text == (
        'id: 1\nevent: note\ndata: line one\ndata: line two\n\nid: 2\ndata: {"n":2}\n\n'
    )


def test_multipart_form_with_file(client: TestClient) -> None:
    response = client.post(
        "/profile",
        data={"name": "Ada", "age": "36", "tags": ["a", "b"]},
        files={"avatar": ("ada.png", b"\x89PNG" + b"0" * 100, "image/png")},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "name": "Ada",
        "age": 36,
        "avatar": "ada.png",
        "size": 104,
        "tags": ["a", "b"],
    }


def test_form_validation_errors_are_422(client: TestClient) -> None:
    response = client.post(
        "/profile",
        data={"name": "Ada", "age": "old"},
        files={"avatar": ("a.txt", b"x", "text/plain")},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["form", "age"]
    missing = client.post("/login", data={"user": "ada"})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["loc"] == ["form", "password"]


def test_too_many_fields_through_the_app_is_400(client: TestClient) -> None:
    body = "&".join(f"f{i}=v" for i in range(1001))
    response = client.post(
        "/login", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "Too many fields: the limit is 1000", "status": 400}


def test_security_dependencies_answer_401_with_challenge(client: TestClient) -> None:
    response = client.get("/basic")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic realm=")
    assert response.json() == {"detail": "Not authenticated", "status": 401}
    assert client.get("/basic", auth=("ada", "pw")).json() == {"user": "ada"}
    bearer = client.get("/bearer")
    assert bearer.status_code == 401
    assert bearer.headers["www-authenticate"] == "Bearer"
    token = jwt_auth.encode({"sub": "ada"})
    assert client.get("/me", headers={"authorization": f"Bearer {token}"}).json() == {"sub": "ada"}
    bad = client.get("/me", headers={"authorization": "Bearer not.a.jwt"})
    assert bad.status_code == 401
    assert 'error="invalid_token"' in bad.headers["www-authenticate"]


def test_static_files_mounted(client: TestClient) -> None:
    response = client.get("/static/hello.txt")
    assert response.status_code == 200
    assert response.text == "hello static"
    assert client.get("/static/missing.txt").status_code == 404


def test_rate_limit_and_trusted_host_in_an_app() -> None:
    app = Velocix()

    @app.get("/")
    async def root() -> dict[str, bool]:
        return {"ok": True}

    app.add_middleware(RateLimitMiddleware, limit=2, period=60)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["testserver"])
    with TestClient(app) as client:
        assert [client.get("/").status_code for _ in range(3)] == [200, 200, 429]
        limited = client.get("/")
        assert limited.json() == {"detail": "Too Many Requests", "status": 429}
        assert int(limited.headers["retry-after"]) >= 1
        bad_host = client.get("/", headers={"host": "evil.example"})
        assert bad_host.status_code == 400

"""Depends(): kinds of dependencies, caching, nesting, teardown order and exceptions."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import msgspec
import pytest

from velocix import (
    BackgroundTasks,
    Depends,
    Header,
    HTTPException,
    PlainTextResponse,
    Request,
    Router,
    Velocix,
)
from velocix.core.dependencies import build_plan, parse_query, parse_query_multi
from velocix.testing import TestClient


class Item(msgspec.Struct):
    name: str


def test_dependency_kinds_nesting_and_parameters() -> None:
    app = Velocix()

    async def async_dep(q: int) -> int:
        return q * 2

    def sync_dep(x_user: str = Header()) -> dict[str, str]:
        return {"user": x_user, "thread": threading.current_thread().name}

    async def nested(doubled: int = Depends(async_dep), user: Any = Depends(sync_dep)) -> str:
        return f"{user['user']}:{doubled}"

    def request_dep(request: Request) -> str:
        return request.method

    async def body_dep(item: Item) -> str:
        return item.name.upper()

    @app.post("/deps")
    async def handler(
        summary: str = Depends(nested),
        user: dict[str, str] = Depends(sync_dep),
        method: str = Depends(request_dep),
        shout: str = Depends(body_dep),
        item: Item | None = None,
    ) -> dict[str, Any]:
        return {
            "summary": summary,
            "thread": user["thread"].split("_")[0],
            "method": method,
            "shout": shout,
            "item": item.name if item else None,
        }

    with TestClient(app) as client:
        response = client.post("/deps?q=21", headers={"x-user": "ann"}, json={"name": "pen"})
        assert response.json() == {
            "summary": "ann:42",
            "thread": "velocix-worker",
            "method": "POST",
            "shout": "PEN",
            "item": "pen",
        }
        missing = client.post("/deps", json={"name": "pen"}).json()
        assert sorted(e["loc"] for e in missing["errors"]) == [["header", "x-user"], ["query", "q"]]


def test_cache_per_request_and_use_cache_false() -> None:
    app = Velocix()
    calls: list[str] = []

    def counted() -> int:
        calls.append("call")
        return len(calls)

    def uses_counted(value: int = Depends(counted)) -> int:
        return value

    @app.get("/cached")
    async def cached(a: int = Depends(counted), b: int = Depends(uses_counted)) -> list[int]:
        return [a, b]

    @app.get("/uncached")
    async def uncached(
        a: int = Depends(counted, use_cache=False), b: int = Depends(counted, use_cache=False)
    ) -> list[int]:
        return [a, b]

    with TestClient(app) as client:
        assert client.get("/cached").json() == [1, 1]
        assert client.get("/cached").json() == [2, 2]  # a new request, a new value
        assert client.get("/uncached").json() == [3, 4]


def test_generator_teardown_runs_after_the_response_in_reverse_order() -> None:
    app = Velocix()
    events: list[str] = []

    def sync_resource() -> Iterator[str]:
        events.append("sync setup")
        yield "sync"
        events.append("sync teardown")

    async def async_resource(sync: str = Depends(sync_resource)) -> AsyncIterator[str]:
        events.append("async setup")
        yield f"async+{sync}"
        events.append("async teardown")

    @app.get("/resources")
    async def resources(
        background: BackgroundTasks, value: str = Depends(async_resource)
    ) -> PlainTextResponse:
        background.add_task(events.append, "background")
        events.append("handler")
        return PlainTextResponse(value)

    with TestClient(app) as client:
        assert client.get("/resources").text == "async+sync"
    assert events == [
        "sync setup",
        "async setup",
        "handler",
        "background",
        "async teardown",
        "sync teardown",
    ]


def test_handler_exception_is_thrown_into_generators() -> None:
    app = Velocix()
    seen: list[str] = []

    async def transaction() -> AsyncIterator[str]:
        try:
            yield "tx"
        except ValueError as exc:
            seen.append(f"rollback: {exc}")
            raise
        else:
            seen.append("commit")

    def translating() -> Iterator[None]:
        try:
            yield
        except KeyError as exc:
            raise HTTPException(404, f"no such key {exc}") from exc

    def swallowing() -> Iterator[None]:
        try:
            yield
        except RuntimeError:
            seen.append("swallowed")

    @app.get("/fail")
    async def fail(tx: str = Depends(transaction)) -> None:
        raise ValueError("bad")

    @app.get("/ok")
    async def ok(tx: str = Depends(transaction)) -> str:
        return tx

    @app.get("/translate")
    async def translate(_: None = Depends(translating)) -> None:
        raise KeyError("k")

    @app.get("/swallow")
    async def swallow(_: None = Depends(swallowing)) -> None:
        raise RuntimeError("still fails")

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/fail").status_code == 500
        assert seen == ["rollback: bad"]
        assert client.get("/ok").json() == "tx"
        assert seen[-1] == "commit"
        response = client.get("/translate")
        assert response.status_code == 404
        assert response.json()["detail"] == "no such key 'k'"
        assert client.get("/swallow").status_code == 500  # swallowing does not make it a success
        assert seen[-1] == "swallowed"


def test_dependency_raising_http_exception() -> None:
    app = Velocix()

    def require_token(authorization: str | None = Header(None)) -> str:
        if authorization != "Bearer good":
            raise HTTPException(401, "Invalid token", headers={"WWW-Authenticate": "Bearer"})
        return "user"

    @app.get("/private")
    async def private(user: str = Depends(require_token)) -> dict[str, str]:
        return {"user": user}

    with TestClient(app) as client:
        denied = client.get("/private")
        assert denied.status_code == 401
        assert denied.headers["www-authenticate"] == "Bearer"
        assert client.get("/private", headers={"authorization": "Bearer good"}).json() == {
            "user": "user"
        }


def test_route_and_router_level_dependencies_run_first() -> None:
    events: list[str] = []

    def audit(x_request: str = Header("none")) -> None:
        events.append(f"audit {x_request}")

    def guard() -> None:
        events.append("guard")

    router = Router(prefix="/admin", dependencies=[Depends(guard)])

    @router.get("/stats", dependencies=[Depends(audit)])
    async def stats() -> str:
        events.append("handler")
        return "ok"

    app = Velocix()
    app.include_router(router)
    with TestClient(app) as client:
        assert client.get("/admin/stats", headers={"x-request": "r1"}).json() == "ok"
    assert events == ["guard", "audit r1", "handler"]


class Pagination:
    def __init__(self, page: int = 1, size: int = 10) -> None:
        self.page, self.size = page, size


class Multiplier:
    def __init__(self, factor: int) -> None:
        self.factor = factor

    async def __call__(self, n: int) -> int:
        return n * self.factor


def test_callable_instances_classes_and_annotated_depends() -> None:
    app = Velocix()

    @app.get("/list")
    async def listing(
        pages: Annotated[Pagination, Depends()],
        tripled: int = Depends(Multiplier(3)),
    ) -> dict[str, int]:
        return {"page": pages.page, "size": pages.size, "tripled": tripled}

    with TestClient(app) as client:
        assert client.get("/list?page=2&n=5").json() == {"page": 2, "size": 10, "tripled": 15}
        assert client.get("/list?page=x&n=5").json()["errors"][0]["loc"] == ["query", "page"]


def test_dependency_errors_at_registration() -> None:
    with pytest.raises(TypeError, match="needs a callable"):
        Depends(42)  # type: ignore[arg-type]

    def a(value: Any = Depends(lambda: None)) -> None:
        return None

    def cycle_a(x: Any = None) -> None:
        return None

    def cycle_b(y: Any = Depends(cycle_a)) -> None:
        return None

    cycle_a.__defaults__ = (Depends(cycle_b),)
    with pytest.raises(TypeError, match="Dependency cycle"):
        build_plan(cycle_a)
    with pytest.raises(TypeError, match="takes Depends"):
        Velocix().get("/x", dependencies=[a])(a)  # type: ignore[list-item]

    def yields_nothing() -> Iterator[int]:
        return
        yield  # pragma: no cover

    app = Velocix()

    @app.get("/empty")
    async def empty(value: int = Depends(yields_nothing)) -> None:
        return None

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/empty").status_code == 500


def test_teardown_failure_after_the_response_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    app = Velocix()

    async def broken() -> AsyncIterator[int]:
        yield 1
        raise RuntimeError("teardown broke")

    @app.get("/x")
    async def handler(value: int = Depends(broken)) -> int:
        return value

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/x")
    assert response.status_code == 200 and response.json() == 1  # already sent
    assert any("teardown" in r.getMessage().lower() for r in caplog.records)


@pytest.mark.parametrize(
    ("query", "single", "multi"),
    [
        (b"", {}, {}),
        (b"a=1&b=2&a=3", {"a": "3", "b": "2"}, {"a": ["1", "3"], "b": ["2"]}),
        (b"a=&b", {"a": "", "b": ""}, {"a": [""], "b": [""]}),
        (b"q=a+b%26c&x%20y=%E2%82%AC", {"q": "a b&c", "x y": "€"}, {"q": ["a b&c"], "x y": ["€"]}),
        (b"&&a=1&", {"a": "1"}, {"a": ["1"]}),
    ],
)
def test_query_parsing_matches_query_params(
    query: bytes, single: dict[str, str], multi: dict[str, list[str]]
) -> None:
    from velocix.http.datastructures import QueryParams

    assert parse_query(query) == single
    assert parse_query_multi(query) == multi
    params = QueryParams(query)
    assert {key: params[key] for key in params} == single
    assert {key: params.getlist(key) for key in params} == multi

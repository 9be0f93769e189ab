"""dependency_overrides: replaced wherever declared, applied when changed, free when unused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from velocix import Depends, Router, Velocix, WebSocket
from velocix.core.dependencies import DependencyOverrides
from velocix.testing import TestClient


def get_db() -> str:
    return "real-db"


def get_user(db: str = Depends(get_db)) -> dict[str, str]:
    return {"name": "alice", "db": db}


calls: list[str] = []


def audit() -> None:
    calls.append("real-audit")


def fake_db() -> str:
    return "fake-db"


def build() -> tuple[Velocix, Router]:
    app = Velocix()
    router = Router(prefix="/r", dependencies=[Depends(audit)])

    @app.get("/user")
    async def user(current: dict[str, str] = Depends(get_user)) -> dict[str, str]:
        return current

    @app.get("/db")
    async def db(value: str = Depends(get_db)) -> dict[str, str]:
        return {"db": value}

    @app.get("/plain/{item_id}")
    async def plain(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    @router.get("/db")
    async def router_db(value: str = Depends(get_db)) -> dict[str, str]:
        return {"db": value}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, value: str = Depends(get_db)) -> None:
        await websocket.accept()
        await websocket.send_text(value)
        await websocket.close()

    app.include_router(router)
    return app, router


@pytest.fixture
def app_router() -> Iterator[tuple[Velocix, Router]]:
    calls.clear()
    yield build()


def test_override_replaces_the_dependency_everywhere_it_is_declared(
    app_router: tuple[Velocix, Router],
) -> None:
    app, _ = app_router
    with TestClient(app) as client:
        assert client.get("/db").json() == {"db": "real-db"}
        app.dependency_overrides[get_db] = fake_db
        assert client.get("/db").json() == {"db": "fake-db"}
        assert client.get("/user").json() == {"name": "alice", "db": "fake-db"}  # nested
        assert client.get("/r/db").json() == {"db": "fake-db"}  # a router's route
        with client.websocket_connect("/ws") as websocket:
            assert websocket.receive_text() == "fake-db"
        app.dependency_overrides.clear()
        assert client.get("/user").json() == {"name": "alice", "db": "real-db"}


def test_override_with_its_own_parameters_and_dependencies(
    app_router: tuple[Velocix, Router],
) -> None:
    app, _ = app_router

    def tenant_db(tenant: str = "t0") -> str:
        return f"db-of-{tenant}"

    def override_user(db: str = Depends(get_db)) -> dict[str, str]:
        return {"name": "test-user", "db": db}

    app.dependency_overrides.update({get_db: tenant_db, get_user: override_user})
    with TestClient(app) as client:
        assert client.get("/db?tenant=acme").json() == {"db": "db-of-acme"}
        # The override's own dependency is overridden too.
        assert client.get("/user").json() == {"name": "test-user", "db": "db-of-t0"}


def test_route_level_and_router_level_dependencies_are_overridden(
    app_router: tuple[Velocix, Router],
) -> None:
    app, _ = app_router
    with TestClient(app) as client:
        client.get("/r/db")
        assert calls == ["real-audit"]
        app.dependency_overrides[audit] = lambda: calls.append("fake-audit")
        client.get("/r/db")
        assert calls == ["real-audit", "fake-audit"]


def test_router_overrides_apply_to_its_routes_only_and_the_app_wins(
    app_router: tuple[Velocix, Router],
) -> None:
    app, router = app_router
    with TestClient(app) as client:
        router.dependency_overrides[get_db] = lambda: "router-db"
        assert client.get("/r/db").json() == {"db": "router-db"}
        assert client.get("/db").json() == {"db": "real-db"}  # not the router's route
        app.dependency_overrides[get_db] = fake_db
        assert client.get("/r/db").json() == {"db": "fake-db"}
        del app.dependency_overrides[get_db]
        assert client.get("/r/db").json() == {"db": "router-db"}
        router.dependency_overrides = {}
        assert client.get("/r/db").json() == {"db": "real-db"}


def test_overrides_set_before_the_routes_are_registered() -> None:
    app = Velocix()
    app.dependency_overrides = {get_db: fake_db}

    @app.get("/db")
    async def db(value: str = Depends(get_db)) -> dict[str, str]:
        return {"db": value}

    with TestClient(app) as client:
        assert client.get("/db").json() == {"db": "fake-db"}


def test_routes_without_the_dependency_keep_their_plan_and_invoker(
    app_router: tuple[Velocix, Router],
) -> None:
    app, _ = app_router
    routes = {route.path: route for route in app.routes if hasattr(route, "plan")}
    before = {path: (route.plan, getattr(route, "invoker", None)) for path, route in routes.items()}
    app.dependency_overrides[get_db] = fake_db
    after = {path: (route.plan, getattr(route, "invoker", None)) for path, route in routes.items()}
    assert after["/plain/{item_id}"] == before["/plain/{item_id}"]  # untouched: no cost
    assert after["/db"][0] is not before["/db"][0]  # planned again, with the replacement
    app.dependency_overrides.clear()
    restored = {path: route.plan for path, route in routes.items()}
    assert restored["/db"] is before["/db"][0]  # the registration plan is back


def test_requests_never_look_overrides_up(
    app_router: tuple[Velocix, Router], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _ = app_router
    app.dependency_overrides[get_db] = fake_db

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("dependency_overrides read while serving a request")

    with TestClient(app) as client:
        for name in ("__getitem__", "get", "__contains__", "items", "__iter__"):
            monkeypatch.setattr(DependencyOverrides, name, refuse)
        assert client.get("/db").json() == {"db": "fake-db"}
        assert client.get("/plain/7").json() == {"item_id": 7}
        assert client.get("/user").json()["db"] == "fake-db"


@pytest.mark.parametrize("bad", [("not-callable", fake_db), (get_db, "not-callable")])
def test_overrides_must_map_callables(bad: tuple[Any, Any]) -> None:
    app = Velocix()
    with pytest.raises(TypeError, match="both callables"):
        app.dependency_overrides[bad[0]] = bad[1]

"""Planning: where an unmarked parameter comes from, decided at registration."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from velocix import Body, Velocix, WebSocket
from velocix.core.planning import build_plan
from velocix.testing import TestClient


class Point(msgspec.Struct):
    x: int
    y: int


lists = Velocix()


@lists.get("/tags")
async def get_tags(tags: list[str] | None = None) -> dict[str, Any]:
    return {"tags": tags}


@lists.delete("/items")
async def delete_items(ids: list[int]) -> dict[str, Any]:
    return {"ids": ids}


@lists.post("/tags")
async def post_tags(tags: list[str]) -> dict[str, Any]:
    return {"tags": tags}


@lists.get("/points")
async def get_points(point: Point = Body()) -> dict[str, Any]:
    return {"x": point.x}


@pytest.fixture(scope="module")
def client() -> Any:
    with TestClient(lists) as test_client:
        yield test_client


def test_unmarked_list_on_get_is_a_repeated_query_parameter(client: TestClient) -> None:
    assert client.get("/tags?tags=a&tags=b").json() == {"tags": ["a", "b"]}
    assert client.head("/tags?tags=a").status_code == 200
    assert client.get("/tags").json() == {"tags": None}


def test_unmarked_list_on_delete_is_converted_from_the_query(client: TestClient) -> None:
    assert client.delete("/items?ids=1&ids=2").json() == {"ids": [1, 2]}
    bad = client.delete("/items?ids=1&ids=x")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["query", "ids", 1]
    missing = client.delete("/items")
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["loc"] == ["query", "ids"]


def test_unmarked_list_on_post_is_still_the_json_body(client: TestClient) -> None:
    assert client.post("/tags", json=["x", "y"]).json() == {"tags": ["x", "y"]}


def test_explicit_body_on_get_is_honoured(client: TestClient) -> None:
    assert client.request("GET", "/points", json={"x": 1, "y": 2}).json() == {"x": 1}


@pytest.mark.parametrize(
    "annotation",
    [Point, list[Point], dict[str, int], Point | None],
    ids=["struct", "list-of-structs", "dict", "optional-struct"],
)
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_structured_unmarked_parameter_without_a_body_names_the_marker(
    method: str, annotation: Any
) -> None:
    async def handler(value: Any) -> None:
        return None

    handler.__annotations__["value"] = annotation
    app = Velocix()
    with pytest.raises(TypeError, match=r"'value'.*no request body.*Query\(\).*Body\(\)"):
        app.add_api_route("/x", handler, methods=[method])


def test_same_handler_with_a_body_method_reads_the_body() -> None:
    async def handler(value: list[str]) -> None:
        return None

    plan = build_plan(handler, methods={"GET", "POST"})
    assert plan.body is not None and not plan.query
    plan = build_plan(handler, methods={"GET", "HEAD"})
    assert plan.body is None and [spec.alias for spec in plan.query] == ["value"]
    assert plan.query[0].multi


def test_websocket_list_is_a_query_parameter() -> None:
    app = Velocix()
    seen: list[Any] = []

    @app.websocket("/ws2")
    async def ws2(websocket: WebSocket, rooms: list[str]) -> None:
        seen.append(rooms)
        await websocket.accept()
        await websocket.close()

    with TestClient(app) as client, client.websocket_connect("/ws2?rooms=a&rooms=b"):
        pass
    assert seen == [["a", "b"]]

"""OpenAPI 3.1 generation: a valid document built from routes, before any request."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from openapi_spec_validator import validate

from velocix import HTMLResponse, RedirectResponse, StreamingResponse
from velocix.core.app import Velocix
from velocix.core.dependencies import Depends
from velocix.core.params import Body, Cookie, Header, Query
from velocix.core.response import PlainTextResponse
from velocix.forms import File, Form, UploadFile
from velocix.openapi import generate_openapi, install_openapi
from velocix.security import APIKeyHeader, HTTPBasic, JWTAuth
from velocix.sse import EventSourceResponse
from velocix.testing import TestClient


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str] = []


class ItemOut(msgspec.Struct):
    id: int
    item: Item


api_key = APIKeyHeader(name="X-API-Key")
jwt_auth = JWTAuth("k" * 32, algorithms=["HS256"])


def pagination(page: int = 1, size: int = Query(20, description="Page size")) -> dict[str, int]:
    return {"page": page, "size": size}


def build_app() -> Velocix:
    app = Velocix(title="Shop", version="1.2.3", description="Test shop")

    @app.get("/items/{item_id}", tags=["items"], summary="Read one item")
    async def read_item(item_id: int, q: str | None = None) -> ItemOut:
        """Return the item."""
        return ItemOut(item_id, Item("x", 1.0))

    @app.get("/files/{file_path:path}")
    async def read_file() -> dict[str, str]:
        return {}

    @app.get("/orders/{order_id:uuid}/lines/{line}")
    async def order_line(
        order_id: uuid.UUID, line: int, paging: dict[str, int] = Depends(pagination)
    ) -> list[int]:
        return []

    @app.post("/items", status_code=201, tags=["items"])
    async def create_item(
        item: Item, x_trace: str = Header(), session: str = Cookie("")
    ) -> ItemOut:
        return ItemOut(1, item)

    @app.put("/items/{item_id}/rename")
    async def rename(item_id: int, name: str = Body(embed=True)) -> None:
        return None

    @app.post("/upload")
    async def upload(
        title: str = Form(), doc: UploadFile = File(), extra: list[UploadFile] | None = File(None)
    ) -> dict[str, Any]:
        return {}

    @app.post("/login")
    async def login(user: str = Form(), password: str = Form()) -> dict[str, str]:
        return {}

    @app.get("/text", response_class=PlainTextResponse)
    async def text() -> str:
        return "hi"

    @app.delete("/items/{item_id}", status_code=204, dependencies=[Depends(api_key)])
    async def delete_item(item_id: int) -> None:
        return None

    @app.get("/me")
    async def me(
        claims: dict[str, Any] = Depends(jwt_auth.requires("admin")),
        basic: Any = Depends(HTTPBasic(auto_error=False)),
    ) -> dict[str, Any]:
        return claims

    @app.get("/hidden", include_in_schema=False)
    async def hidden() -> None:
        return None

    return app


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return generate_openapi(build_app())


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document["info"] == {"title": "Shop", "version": "1.2.3", "description": "Test shop"}


def test_dynamic_routes_listed_as_templates_before_any_request(document: dict[str, Any]) -> None:
    assert set(document["paths"]) == {
        "/items/{item_id}",
        "/files/{file_path}",
        "/orders/{order_id}/lines/{line}",
        "/items",
        "/items/{item_id}/rename",
        "/upload",
        "/login",
        "/text",
        "/me",
    }
    assert set(document["paths"]["/items/{item_id}"]) == {"get", "delete"}  # no HEAD operation


def params_by_name(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in operation.get("parameters", [])}


def test_path_params_are_typed_path_parameters(document: dict[str, Any]) -> None:
    operation = document["paths"]["/items/{item_id}"]["get"]
    params = params_by_name(operation)
    assert params["item_id"] == {
        "name": "item_id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer"},
    }
    assert params["q"]["in"] == "query"
    # The seed listed path parameters as query parameters: never again.
    assert [p["in"] for p in operation["parameters"] if p["name"] == "item_id"] == ["path"]
    assert params["q"]["required"] is False
    assert operation["summary"] == "Read one item"
    assert operation["description"] == "Return the item."
    assert operation["tags"] == ["items"]
    # Converter syntax gives the type even where the handler does not take the parameter.
    assert params_by_name(document["paths"]["/files/{file_path}"]["get"])["file_path"][
        "schema"
    ] == {"type": "string"}
    line = params_by_name(document["paths"]["/orders/{order_id}/lines/{line}"]["get"])
    assert line["order_id"]["schema"] == {"type": "string", "format": "uuid"}
    assert line["line"]["schema"] == {"type": "integer"}


def test_dependency_params_are_flattened(document: dict[str, Any]) -> None:
    params = params_by_name(document["paths"]["/orders/{order_id}/lines/{line}"]["get"])
    assert params["page"]["schema"] == {"type": "integer", "default": 1}
    assert params["size"]["description"] == "Page size"


def test_json_body_header_cookie_and_201(document: dict[str, Any]) -> None:
    operation = document["paths"]["/items"]["post"]
    body = operation["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Item"}
    params = params_by_name(operation)
    assert params["x-trace"]["in"] == "header"
    assert params["x-trace"]["required"] is True
    assert params["session"]["in"] == "cookie"
    created = operation["responses"]["201"]
    assert created["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ItemOut"
    }
    assert operation["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert document["components"]["schemas"]["Item"]["required"] == ["name", "price"]


def test_embedded_body_and_no_content(document: dict[str, Any]) -> None:
    operation = document["paths"]["/items/{item_id}/rename"]["put"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "required": ["name"],
    }
    deleted = document["paths"]["/items/{item_id}"]["delete"]["responses"]["204"]
    assert "content" not in deleted


def test_form_and_multipart_bodies(document: dict[str, Any]) -> None:
    multipart = document["paths"]["/upload"]["post"]["requestBody"]["content"]
    schema = multipart["multipart/form-data"]["schema"]
    assert schema["properties"]["title"] == {"type": "string"}
    assert schema["properties"]["doc"] == {
        "type": "string",
        "contentMediaType": "application/octet-stream",
    }
    assert schema["properties"]["extra"]["type"] == "array"
    assert schema["required"] == ["title", "doc"]
    login = document["paths"]["/login"]["post"]["requestBody"]["content"]
    assert set(login) == {"application/x-www-form-urlencoded"}


def test_text_response_media_type(document: dict[str, Any]) -> None:
    content = document["paths"]["/text"]["get"]["responses"]["200"]["content"]
    assert content == {"text/plain": {"schema": {"type": "string"}}}


def test_security_schemes_and_requirements(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["APIKeyHeader"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert schemes["JWTBearer"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["HTTPBasic"] == {"type": "http", "scheme": "basic"}
    delete = document["paths"]["/items/{item_id}"]["delete"]
    assert delete["security"] == [{"APIKeyHeader": []}]
    assert "401" in delete["responses"]
    me = document["paths"]["/me"]["get"]
    assert {"JWTBearer": ["admin"]} in me["security"]


def test_operation_ids_are_unique(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = build_app()
    install_openapi(app)
    with TestClient(app) as client:
        yield client


def test_served_document_and_docs_page(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    validate(response.json())
    assert "/openapi.json" not in response.json()["paths"]
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")
    assert 'data-spec="/openapi.json"' in docs.text
    assert "http://" not in docs.text and "https://" not in docs.text  # self-contained


def test_document_follows_routes_added_later(client: TestClient) -> None:
    assert "/late" not in client.get("/openapi.json").json()["paths"]
    app = client.app

    @app.get("/late/{n}")
    async def late(n: int) -> int:
        return n

    assert "/late/{n}" in client.get("/openapi.json").json()["paths"]


def test_swagger_ui_option_uses_configurable_assets() -> None:
    app = build_app()
    install_openapi(
        app, ui="swagger", swagger_js_url="/assets/sw.js", swagger_css_url="/assets/sw.css"
    )
    with TestClient(app) as client:
        page = client.get("/docs").text
    assert '<script src="/assets/sw.js">' in page
    assert 'href="/assets/sw.css"' in page


# --- The document tells the truth ---------------------------------------------------------------


def truth_app() -> Velocix:
    app = Velocix()

    @app.get("/plain")
    async def plain() -> dict[str, str]:
        return {}

    @app.get("/query")
    async def query(q: int) -> dict[str, int]:
        return {"q": q}

    @app.post("/json")
    async def json_body(item: Item) -> Item:
        return item

    @app.post("/form")
    async def form(name: str = Form()) -> dict[str, str]:
        return {"name": name}

    @app.get("/text", response_class=PlainTextResponse)
    async def text() -> str:
        return "x"

    @app.get("/html", response_class=HTMLResponse)
    async def html() -> str:
        return "<p>x</p>"

    @app.get("/events")
    async def events() -> EventSourceResponse:
        raise NotImplementedError

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        raise NotImplementedError

    @app.get("/go")
    async def go() -> RedirectResponse:
        return RedirectResponse("/plain")

    @app.get("/moved", response_class=RedirectResponse, status_code=301)
    async def moved() -> str:
        return "/plain"

    @app.post("/any")
    async def anything(data: Any) -> dict[str, Any]:
        return {"data": data}

    @app.get("/untyped")
    async def untyped(q) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        return {"q": q}

    return app


@pytest.fixture(scope="module")
def truth() -> dict[str, Any]:
    document = generate_openapi(truth_app())
    validate(document)
    return document["paths"]


@pytest.mark.parametrize(
    ("path", "method", "errors"),
    [
        pytest.param("/plain", "get", set(), id="no-input"),
        pytest.param("/query", "get", {"422"}, id="query"),
        pytest.param("/json", "post", {"400", "413", "415", "422"}, id="json-body"),
        pytest.param("/form", "post", {"400", "413", "415", "422"}, id="form-body"),
    ],
)
def test_every_error_a_route_can_send_is_documented(
    truth: dict[str, Any], path: str, method: str, errors: set[str]
) -> None:
    responses = truth[path][method]["responses"]
    documented = {code for code in responses if code.startswith("4")}
    assert documented == errors
    for code in errors:
        assert responses[code]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/text", "text/plain"),
        ("/html", "text/html"),
        ("/events", "text/event-stream"),
        ("/stream", "application/octet-stream"),
        ("/plain", "application/json"),
    ],
)
def test_success_media_type_is_the_response_class(
    truth: dict[str, Any], path: str, media_type: str
) -> None:
    assert list(truth[path]["get"]["responses"]["200"]["content"]) == [media_type]


def test_redirects_are_3xx_with_location_and_no_body(truth: dict[str, Any]) -> None:
    go = truth["/go"]["get"]["responses"]
    assert list(go) == ["307"]
    assert "Location" in go["307"]["headers"] and "content" not in go["307"]
    moved = truth["/moved"]["get"]["responses"]
    assert list(moved) == ["301"]


def test_any_parameter_is_the_body_or_a_string_never_an_empty_schema(
    truth: dict[str, Any],
) -> None:
    anything = truth["/any"]["post"]
    assert "parameters" not in anything  # not a required query parameter
    assert anything["requestBody"]["content"]["application/json"]["schema"] == {}
    (untyped,) = truth["/untyped"]["get"]["parameters"]
    assert untyped["schema"] == {"type": "string"}


def test_redirect_route_answers_what_the_document_says() -> None:
    with TestClient(truth_app(), follow_redirects=False) as client:
        assert client.get("/go").status_code == 307
        moved = client.get("/moved")
        assert moved.status_code == 301 and moved.headers["location"] == "/plain"
        assert client.post("/any", json=[1, "x"]).json() == {"data": [1, "x"]}
        assert client.get("/untyped?q=5").json() == {"q": "5"}


# --- Served by default ---------------------------------------------------------------------------


def test_openapi_and_docs_are_served_by_default() -> None:
    app = Velocix(title="Default")

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    with TestClient(app) as client:
        document = client.get("/openapi.json").json()
        docs = client.get("/docs")
    validate(document)
    assert list(document["paths"]) == ["/items/{item_id}"]  # its own routes are not listed
    assert docs.status_code == 200 and "/openapi.json" in docs.text


def test_openapi_can_be_turned_off_or_moved() -> None:
    off = Velocix(openapi_url=None)
    moved = Velocix(openapi_url="/api/schema.json", docs_url=None)
    with TestClient(off) as client:
        assert client.get("/openapi.json").status_code == 404
        assert client.get("/docs").status_code == 404
    with TestClient(moved) as client:
        assert client.get("/api/schema.json").json()["openapi"] == "3.1.0"
        assert client.get("/docs").status_code == 404


def test_an_application_route_at_the_docs_path_wins() -> None:
    app = Velocix()

    @app.get("/docs")
    async def my_docs() -> dict[str, str]:
        return {"mine": "yes"}

    with TestClient(app) as client:
        assert client.get("/docs").json() == {"mine": "yes"}
        assert client.get("/openapi.json").status_code == 200

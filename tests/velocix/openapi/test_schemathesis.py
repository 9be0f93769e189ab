"""The served OpenAPI document tells the truth: schemathesis generates requests from it and
checks every answer against it (no 500, documented status codes, content types, headers and
schemas), on an app that uses every parameter kind and response class.

Kept fast for CI: a bounded number of examples per operation, the app called in-process.
"""

from __future__ import annotations

import enum
import uuid
from typing import Annotated, Any

import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from velocix import (
    Body,
    Cookie,
    File,
    Form,
    Header,
    PlainTextResponse,
    Query,
    RedirectResponse,
    UploadFile,
    Velocix,
)
from velocix.sse import EventSourceResponse

MAX_EXAMPLES = 25
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Item(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    price: Annotated[float, msgspec.Meta(ge=0, le=1e6)]
    tags: list[str] = []


class ItemOut(msgspec.Struct):
    id: int
    name: str
    color: Color | None = None


app = Velocix(title="Every parameter kind", version="1.0.0")


@app.get("/items/{item_id}")
async def read_item(
    item_id: int,
    q: str | None = None,
    limit: Annotated[int, msgspec.Meta(ge=1, le=100)] = 10,
    tags: list[str] | None = None,
    color: Color | None = None,
    flag: bool = False,
    ratio: float = 1.0,
    x_token: str | None = Header(None),
    session: str | None = Cookie(None),
) -> ItemOut:
    return ItemOut(item_id, q or "item", color)


@app.get("/orders/{order_id:uuid}/lines/{line}")
async def order_line(
    order_id: uuid.UUID, line: int, verbose: bool = Query(False)
) -> dict[str, Any]:
    return {"order": str(order_id), "line": line, "verbose": verbose}


@app.post("/items", status_code=201)
async def create_item(item: Item) -> Item:
    return item


@app.put("/items/{item_id}")
async def replace_item(item_id: int, item: Item, note: str = Body("")) -> dict[str, Any]:
    return {"id": item_id, "name": item.name, "note": note}


@app.post("/any")
async def anything(data: Any) -> dict[str, Any]:
    return {"data": data}


@app.post("/form")
async def form(name: str = Form(), age: int = Form(), tags: list[str] = Form([])) -> dict[str, Any]:
    return {"name": name, "age": age, "tags": tags}


@app.post("/upload")
async def upload(file: UploadFile = File(), note: str = Form("")) -> dict[str, Any]:
    return {"size": len(await file.read()), "note": note}


@app.get("/text", response_class=PlainTextResponse)
async def text(name: str = "world") -> str:
    return f"hello {name}"


@app.get("/go")
async def go() -> RedirectResponse:
    return RedirectResponse("/text")


@app.get("/events")
async def events() -> EventSourceResponse:
    async def stream() -> Any:
        yield {"data": "one"}

    return EventSourceResponse(stream())


@app.delete("/items/{item_id}", status_code=204)
async def delete_item(item_id: int, ids: list[int] | None = None) -> None:
    return None


schema = schemathesis.openapi.from_asgi("/openapi.json", app)


def test_the_app_uses_every_parameter_kind() -> None:
    document = msgspec.json.decode(app_document())
    locations = {
        parameter["in"]
        for path in document["paths"].values()
        for operation in path.values()
        for parameter in operation.get("parameters", [])
    }
    media_types = {
        media_type
        for path in document["paths"].values()
        for operation in path.values()
        for media_type in operation.get("requestBody", {}).get("content", {})
    }
    assert locations == {"path", "query", "header", "cookie"}
    assert media_types == {
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    }


def app_document() -> bytes:
    from velocix.testing import TestClient

    with TestClient(app) as client:
        return client.get("/openapi.json").content


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_answer_matches_the_document(case: schemathesis.Case) -> None:
    excluded = []
    if case.media_type in FORM_TYPES:
        # On the wire a one-element array field is "tags=a", exactly what the "negative" case
        # "tags is a string, not an array" sends: a form cannot tell them apart.
        excluded.append(checks.negative_data_rejection)
    case.call_and_validate(excluded_checks=excluded)


@pytest.mark.parametrize("path", ["/go"])
def test_redirect_is_documented_as_a_redirect(path: str) -> None:
    document = msgspec.json.decode(app_document())
    responses = document["paths"][path]["get"]["responses"]
    assert list(responses) == ["307"]
    assert "Location" in responses["307"]["headers"]
    assert "content" not in responses["307"]

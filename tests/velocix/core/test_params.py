"""Handler parameters: query, header, cookie, path markers and JSON bodies.

Every case runs twice: through the generated invoker (the fast path) and through the general
solver (forced by a route-level dependency), which must agree exactly.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Callable, Iterator
from typing import Annotated, Any, ClassVar, TypedDict

import msgspec
import pydantic
import pytest

from velocix import Body, Cookie, Depends, Header, Path, Query, Request, Velocix
from velocix.core.dependencies import build_plan
from velocix.core.exceptions import RequestValidationError
from velocix.core.params import MISSING, CompiledParam, CustomParam, ParamSpec
from velocix.core.routing import Route
from velocix.testing import TestClient


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str] = []


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Movie(TypedDict):
    title: str
    year: int


class PydanticItem(pydantic.BaseModel):
    name: str
    price: float


# --- Handlers, registered on both apps ---------------------------------------------------


async def search(q: str, page: int = 1, size: int = 10) -> dict[str, Any]:
    return {"q": q, "page": page, "size": size}


async def tags(tag: list[str] = Query([]), n: list[int] = Query([])) -> dict[str, Any]:
    return {"tag": tag, "n": n}


async def optional(limit: int | None = None, flag: bool = False) -> dict[str, Any]:
    return {"limit": limit, "flag": flag}


async def aliased(q: str = Query(alias="search"), uid: uuid.UUID | None = None) -> dict[str, Any]:
    return {"q": q, "uid": str(uid) if uid else None}


async def annotated(page: Annotated[int, Query(alias="p")] = 1) -> dict[str, int]:
    return {"page": page}


async def constrained(n: Annotated[int, msgspec.Meta(ge=1, le=10)] = 5) -> dict[str, int]:
    return {"n": n}


async def headers(
    x_token: str = Header(),
    x_count: int = Header(0),
    user_agent: str = Header("none"),
    raw_name: str = Header("none", convert_underscores=False),
    accept: list[str] = Header([]),
) -> dict[str, Any]:
    return {
        "x_token": x_token,
        "x_count": x_count,
        "user_agent": user_agent,
        "raw_name": raw_name,
        "accept": accept,
    }


async def cookies(session: str = Cookie(), theme: str = Cookie("light")) -> dict[str, str]:
    return {"session": session, "theme": theme}


async def path_alias(ident: int = Path(alias="item_id")) -> dict[str, int]:
    return {"ident": ident}


async def struct_body(item: Item) -> Item:
    return item


async def dataclass_body(point: Point) -> dict[str, int]:
    return {"sum": point.x + point.y}


async def typeddict_body(movie: Movie) -> Movie:
    return movie


async def dict_body(data: dict[str, int]) -> dict[str, int]:
    return data


async def list_body(values: list[int]) -> dict[str, int]:
    return {"total": sum(values)}


async def optional_body(item: Item | None = None) -> dict[str, Any]:
    return {"item": None if item is None else item.name}


async def embedded_body(item: Item = Body(embed=True)) -> dict[str, str]:
    return {"name": item.name}


async def two_bodies(item: Item, count: int = Body(1)) -> dict[str, Any]:
    return {"name": item.name, "count": count}


async def pydantic_body(item: PydanticItem) -> PydanticItem:
    return item


async def mixed(item_id: int, item: Item, verbose: bool = False) -> dict[str, Any]:
    return {"item_id": item_id, "name": item.name, "verbose": verbose}


def sync_query(q: str) -> dict[str, str]:
    return {"q": q}


ROUTES: list[tuple[str, str, Callable[..., Any]]] = [
    ("GET", "/search", search),
    ("GET", "/tags", tags),
    ("GET", "/optional", optional),
    ("GET", "/aliased", aliased),
    ("GET", "/annotated", annotated),
    ("GET", "/constrained", constrained),
    ("GET", "/headers", headers),
    ("GET", "/cookies", cookies),
    ("GET", "/path-alias/{item_id}", path_alias),
    ("POST", "/struct", struct_body),
    ("POST", "/dataclass", dataclass_body),
    ("POST", "/typeddict", typeddict_body),
    ("POST", "/dict", dict_body),
    ("POST", "/list", list_body),
    ("POST", "/optional-body", optional_body),
    ("POST", "/embedded", embedded_body),
    ("POST", "/two-bodies", two_bodies),
    ("POST", "/pydantic", pydantic_body),
    ("POST", "/mixed/{item_id}", mixed),
    ("GET", "/sync", sync_query),
]


def noop() -> None:
    """A route-level dependency: forces the general solver without changing the handler."""


def build(general: bool) -> Velocix:
    app = Velocix(max_body_size=1024)
    for method, path, handler in ROUTES:
        dependencies = [Depends(noop)] if general else None
        app.route(path, methods=[method], dependencies=dependencies)(handler)
    return app


@pytest.fixture(scope="module", params=["invoker", "general"])
def client(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    app = build(request.param == "general")
    routes = [route for route in app.routes if isinstance(route, Route)]
    assert all(route.simple is (request.param == "invoker") for route in routes)
    with TestClient(app) as test_client:
        yield test_client


JSON = {"content-type": "application/json"}

# (id, method, url, request kwargs, status, expected JSON or, for errors, [error locs])
# fmt: off
CASES: list[tuple[str, str, str, dict[str, Any], int, Any]] = [
    ("query-typed", "GET", "/search?q=x&page=2&size=3", {}, 200, {"q": "x", "page": 2, "size": 3}),
    ("query-defaults", "GET", "/search?q=x", {}, 200, {"q": "x", "page": 1, "size": 10}),
    ("query-blank", "GET", "/search?q=", {}, 200, {"q": "", "page": 1, "size": 10}),
    ("query-escaped", "GET", "/search?q=a+b%26c", {}, 200, {"q": "a b&c", "page": 1, "size": 10}),
    ("query-last-wins", "GET", "/search?q=a&q=b", {}, 200, {"q": "b", "page": 1, "size": 10}),
    ("query-missing", "GET", "/search", {}, 422, [["query", "q"]]),
    ("query-all-errors", "GET", "/search?page=x&size=y", {}, 422,
     [["query", "q"], ["query", "page"], ["query", "size"]]),
    ("list-repeated", "GET", "/tags?tag=a&tag=b&n=1&n=2", {}, 200,
     {"tag": ["a", "b"], "n": [1, 2]}),
    ("list-default-copy", "GET", "/tags", {}, 200, {"tag": [], "n": []}),
    ("list-bad-item", "GET", "/tags?n=1&n=x", {}, 422, [["query", "n", 1]]),
    ("optional-none", "GET", "/optional", {}, 200, {"limit": None, "flag": False}),
    ("optional-given", "GET", "/optional?limit=3&flag=yes", {}, 200, {"limit": 3, "flag": True}),
    ("bool-bad", "GET", "/optional?flag=maybe", {}, 422, [["query", "flag"]]),
    ("alias", "GET", "/aliased?search=v", {}, 200, {"q": "v", "uid": None}),
    ("alias-name-unused", "GET", "/aliased?q=v", {}, 422, [["query", "search"]]),
    ("uuid-bad", "GET", "/aliased?search=v&uid=zz", {}, 422, [["query", "uid"]]),
    ("annotated-marker", "GET", "/annotated?p=4", {}, 200, {"page": 4}),
    ("constraint-ok", "GET", "/constrained?n=10", {}, 200, {"n": 10}),
    ("constraint-violated", "GET", "/constrained?n=11", {}, 422, [["query", "n"]]),
    ("headers", "GET", "/headers",
     {"headers": [("X-Token", "t"), ("X-Count", "3"), ("raw_name", "r"), ("Accept", "a"),
                  ("Accept", "b"), ("User-Agent", "ua")]},
     200, {"x_token": "t", "x_count": 3, "user_agent": "ua", "raw_name": "r",
           "accept": ["a", "b"]}),
    ("header-missing", "GET", "/headers", {}, 422, [["header", "x-token"]]),
    ("header-bad-int", "GET", "/headers", {"headers": {"x-token": "t", "x-count": "z"}}, 422,
     [["header", "x-count"]]),
    ("cookies", "GET", "/cookies", {"headers": {"cookie": "session=abc; theme=dark"}}, 200,
     {"session": "abc", "theme": "dark"}),
    ("cookie-default", "GET", "/cookies", {"headers": {"cookie": "session=abc"}}, 200,
     {"session": "abc", "theme": "light"}),
    ("cookie-missing", "GET", "/cookies", {}, 422, [["cookie", "session"]]),
    ("path-alias", "GET", "/path-alias/9", {}, 200, {"ident": 9}),
    ("path-alias-bad", "GET", "/path-alias/x", {}, 422, [["path", "item_id"]]),
    ("struct", "POST", "/struct", {"json": {"name": "a", "price": 1.5}}, 200,
     {"name": "a", "price": 1.5, "tags": []}),
    ("struct-nested-error", "POST", "/struct",
     {"json": {"name": "a", "price": 1, "tags": ["x", 2]}}, 422, [["body", "tags", 1]]),
    ("struct-missing-field", "POST", "/struct", {"json": {"name": "a"}}, 422, [["body", "price"]]),
    ("struct-wrong-type", "POST", "/struct", {"json": {"name": 1, "price": 1}}, 422,
     [["body", "name"]]),
    ("struct-empty-body", "POST", "/struct", {"headers": JSON}, 422, [["body"]]),
    ("dataclass", "POST", "/dataclass", {"json": {"x": 1, "y": 2}}, 200, {"sum": 3}),
    ("typeddict", "POST", "/typeddict", {"json": {"title": "T", "year": 1999}}, 200,
     {"title": "T", "year": 1999}),
    ("typeddict-error", "POST", "/typeddict", {"json": {"title": "T", "year": "x"}}, 422,
     [["body", "year"]]),
    ("dict", "POST", "/dict", {"json": {"a": 1}}, 200, {"a": 1}),
    ("dict-value-error", "POST", "/dict", {"json": {"a": "x"}}, 422, [["body", "..."]]),
    ("list", "POST", "/list", {"json": [1, 2, 3]}, 200, {"total": 6}),
    ("list-item-error", "POST", "/list", {"json": [1, "x"]}, 422, [["body", 1]]),
    ("optional-body-absent", "POST", "/optional-body", {}, 200, {"item": None}),
    ("optional-body-given", "POST", "/optional-body", {"json": {"name": "n", "price": 1}}, 200,
     {"item": "n"}),
    ("embedded", "POST", "/embedded", {"json": {"item": {"name": "e", "price": 2}}}, 200,
     {"name": "e"}),
    ("embedded-error", "POST", "/embedded", {"json": {"item": {"name": "e"}}}, 422,
     [["body", "item", "price"]]),
    ("two-bodies", "POST", "/two-bodies", {"json": {"item": {"name": "t", "price": 1}}}, 200,
     {"name": "t", "count": 1}),
    ("two-bodies-given", "POST", "/two-bodies",
     {"json": {"item": {"name": "t", "price": 1}, "count": 5}}, 200, {"name": "t", "count": 5}),
    ("pydantic", "POST", "/pydantic", {"json": {"name": "p", "price": 3}}, 200,
     {"name": "p", "price": 3.0}),
    ("pydantic-error", "POST", "/pydantic", {"json": {"name": "p", "price": "x"}}, 422,
     [["body", "price"]]),
    ("mixed", "POST", "/mixed/4?verbose=true", {"json": {"name": "m", "price": 1}}, 200,
     {"item_id": 4, "name": "m", "verbose": True}),
    ("mixed-all-errors", "POST", "/mixed/x?verbose=z", {"json": {"name": "m"}}, 422,
     [["path", "item_id"], ["query", "verbose"], ["body", "price"]]),
    ("json-subtype", "POST", "/struct",
     {"content": b'{"name":"a","price":1}', "headers": {"content-type": "application/vnd.x+json"}},
     200, {"name": "a", "price": 1.0, "tags": []}),
    ("no-content-type-is-json", "POST", "/struct", {"content": b'{"name":"a","price":1}'}, 200,
     {"name": "a", "price": 1.0, "tags": []}),
    ("sync-handler", "GET", "/sync?q=s", {}, 200, {"q": "s"}),
]
# fmt: on


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "status", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_parameters(
    client: TestClient, method: str, url: str, kwargs: dict[str, Any], status: int, expected: Any
) -> None:
    response = client.request(method, url, **kwargs)
    assert response.status_code == status, response.text
    body = response.json()
    if status == 200:
        assert body == expected
    else:
        assert body["status"] == 422
        assert body["detail"]
        assert [error["loc"] for error in body["errors"]] == expected
        assert all(error["msg"] and error["type"] for error in body["errors"])


def test_missing_values_are_typed_missing(client: TestClient) -> None:
    error = client.get("/search").json()["errors"][0]
    assert error == {"loc": ["query", "q"], "msg": "Field required", "type": "missing"}


def test_validation_message_is_msgspec_s(client: TestClient) -> None:
    error = client.get("/search?q=x&page=abc").json()["errors"][0]
    assert error["msg"] == "Expected `int`, got `str`"


@pytest.mark.parametrize(
    ("content", "headers", "status", "detail"),
    [
        pytest.param(b"{bad", JSON, 400, "Malformed JSON body", id="malformed"),
        pytest.param(b'{"name":"a","price":1', JSON, 400, "Malformed JSON body", id="truncated"),
        pytest.param(
            b"name=a",
            {"content-type": "application/x-www-form-urlencoded"},
            415,
            "Unsupported media type",
            id="form-content-type",
        ),
        pytest.param(b"{}", {"content-type": "text/plain"}, 415, "Unsupported", id="text"),
        pytest.param(b"x" * 2000, JSON, 413, "exceeds the limit of 1024 bytes", id="too-large"),
        pytest.param(
            b"{}", {**JSON, "content-length": "abc"}, 400, "Invalid Content-Length", id="bad-length"
        ),
    ],
)
def test_body_errors(
    client: TestClient, content: bytes, headers: dict[str, str], status: int, detail: str
) -> None:
    response = client.post("/struct", content=content, headers=headers)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status
    assert detail in body["detail"]
    assert "errors" not in body


async def post_in_chunks(app: Velocix, chunks: list[bytes]) -> tuple[int, int]:
    """POST ``chunks`` to ``/list``; returns (status, how many chunks the app read)."""
    sent: list[dict[str, Any]] = []
    pending = list(chunks)

    async def receive() -> dict[str, Any]:
        chunk = pending.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "method": "POST", "path": "/list", "query_string": b"",
        "root_path": "", "headers": [(b"content-type", b"application/json")],
    }  # fmt: skip
    await app(scope, receive, send)
    return sent[0]["status"], len(chunks) - len(pending)


@pytest.mark.parametrize("general", [False, True], ids=["invoker", "general"])
def test_oversized_body_is_refused_without_reading_it_all(general: bool) -> None:
    """A streamed body stops being read once it passes the limit (1024 bytes here)."""
    chunks = [b"[" + b"1," * 300, b"1," * 300, b"1," * 300, b"1]"]
    status, read = asyncio.run(post_in_chunks(build(general), chunks))
    assert status == 413
    assert read == 2  # the third and fourth chunks were never received
    status, read = asyncio.run(post_in_chunks(build(general), [b"[1,", b"2]"]))
    assert (status, read) == (200, 2)


def test_oversized_content_length_is_refused_before_reading() -> None:
    app = build(False)
    with TestClient(app) as client:
        response = client.post(
            "/struct", content=b"{}", headers={**JSON, "content-length": "99999999999999999999999"}
        )
    assert response.status_code in (400, 413)


# --- Registration errors -----------------------------------------------------------------


def test_registration_errors_name_the_handler() -> None:
    app = Velocix()

    async def positional_only(x: int, /) -> None:
        return None

    with pytest.raises(TypeError, match="positional-only"):
        app.get("/p")(positional_only)

    async def bad_path(other: int = Path()) -> None:
        return None

    with pytest.raises(TypeError, match="not in the route path"):
        app.get("/p2")(bad_path)

    async def struct_query(item: Item = Query()) -> None:
        return None

    with pytest.raises(TypeError, match="cannot be read from a string"):
        app.get("/p3")(struct_query)

    async def cookie_list(c: list[str] = Cookie()) -> None:
        return None

    with pytest.raises(TypeError, match="cannot be a list"):
        app.get("/p4")(cookie_list)

    async def double_default(q: Annotated[int, Query(3)] = 4) -> None:
        return None

    with pytest.raises(TypeError, match="two defaults"):
        app.get("/p5")(double_default)

    with pytest.raises(TypeError, match="always required"):
        Path(3)


def test_unresolvable_annotation_is_a_clear_error() -> None:
    async def handler(x: NotDefined) -> None:  # type: ignore[name-defined]  # noqa: F821
        return None

    with pytest.raises(TypeError, match="Cannot resolve the annotations"):
        Velocix().get("/x")(handler)


def test_param_specs_describe_every_parameter() -> None:
    plan = build_plan(headers)
    specs = {spec.name: spec for spec in plan.all_specs()}
    assert specs["x_token"] == ParamSpec(
        name="x_token", alias="x-token", location="header", annotation=str, required=True,
        default=MISSING, marker=specs["x_token"].marker,
    )  # fmt: skip
    assert specs["raw_name"].alias == "raw_name"
    assert specs["accept"].annotation == list[str]
    body = {spec.name: spec for spec in build_plan(two_bodies).all_specs()}
    assert body["item"].location == body["count"].location == "body"
    assert body["count"].default == 1 and not body["count"].required


def test_request_and_body_parameter_together() -> None:
    app = Velocix()

    @app.post("/both")
    async def both(request: Request, item: Item) -> dict[str, Any]:
        raw = await request.body()  # the body was already read for `item`: served from cache
        return {"name": item.name, "raw": raw.decode()}

    with TestClient(app) as client:
        response = client.post("/both", json={"name": "x", "price": 1})
        assert response.json() == {"name": "x", "raw": '{"name":"x","price":1}'}


class Shout(CustomParam):
    """An extension parameter: the upper-cased value of a query key, read from the Request."""

    location = "query"

    async def resolve(self, request: Request, spec: ParamSpec) -> Any:
        value = request.query_params.get(spec.alias)
        return MISSING if value is None else value.upper()


@pytest.mark.parametrize("general", [False, True], ids=["invoker", "general"])
def test_custom_params_resolve_from_the_request(general: bool) -> None:
    app = Velocix()
    dependencies = [Depends(noop)] if general else None

    @app.get("/shout", dependencies=dependencies)
    async def shout(
        request: Request, word: str = Shout(), extra: str = Shout("none")
    ) -> dict[str, Any]:
        return {"word": word, "extra": extra, "route": request.scope["route"].path}

    route = app.routes[0]
    assert isinstance(route, Route) and route.simple is not general
    assert [(spec.name, spec.location) for spec in route.params] == [
        ("word", "query"),
        ("extra", "query"),
    ]
    with TestClient(app) as client:
        assert client.get("/shout?word=hi").json() == {
            "word": "HI",
            "extra": "none",
            "route": "/shout",
        }
        missing = client.get("/shout")
        assert missing.status_code == 422
        assert missing.json()["errors"][0]["loc"] == ["query", "word"]


class Word(CustomParam):
    """An extension parameter that compiles: the query string is split once per request for
    every ``Word()`` (``LOADS`` counts the splits), each parameter then picks its key."""

    location = "query"
    LOADS: ClassVar[list[str]] = []

    @staticmethod
    async def split(request: Request) -> dict[str, str]:
        Word.LOADS.append(request.scope["path"])
        return dict(request.query_params)

    def compile(self, spec: ParamSpec) -> CompiledParam:
        def extract(words: dict[str, str]) -> Any:
            value = words.get(spec.alias, MISSING)
            if value is not MISSING and not value.isalpha():
                raise RequestValidationError(
                    [{"loc": ["query", spec.alias], "msg": "Not a word", "type": "word"}]
                )
            return value

        return CompiledParam(Word.split, extract)

    async def resolve(self, request: Request, spec: ParamSpec) -> Any:
        return self.compile(spec).extract(await Word.split(request))


@pytest.mark.parametrize("general", [False, True], ids=["invoker", "general"])
def test_compiled_custom_params_share_one_load_and_report_every_error(general: bool) -> None:
    app = Velocix()
    dependencies = [Depends(noop)] if general else None

    @app.get("/words", dependencies=dependencies)
    async def words(
        first: str = Word(), second: str = Word(), third: list[str] = Word([]), n: int = 0
    ) -> dict[str, Any]:
        return {"first": first, "second": second, "third": third, "n": n}

    Word.LOADS.clear()
    with TestClient(app) as client:
        assert client.get("/words?first=a&second=b").json() == {
            "first": "a",
            "second": "b",
            "third": [],
            "n": 0,
        }
        # Through the generated invoker, the three parameters share one load per request.
        loads_per_request = 3 if general else 1
        assert len(Word.LOADS) == loads_per_request
        response = client.get("/words?first=1&n=x")
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["errors"]] == [
        ["query", "n"],
        ["query", "first"],
        ["query", "second"],
    ]


@pytest.mark.parametrize("general", [False, True], ids=["invoker", "general"])
def test_custom_param_defaults_are_copied_per_request(general: bool) -> None:
    app = Velocix()
    dependencies = [Depends(noop)] if general else None

    @app.get("/collect", dependencies=dependencies)
    async def collect(seen: list[str] = Shout([]), label: str = Shout("x")) -> dict[str, Any]:
        seen.append("handled")  # mutating the default must not leak into the next request
        return {"seen": seen, "label": label}

    with TestClient(app) as client:
        for _ in range(2):
            assert client.get("/collect").json() == {"seen": ["handled"], "label": "x"}

"""Routing: templates, converters, 404/405/HEAD, trailing slashes, precedence, routers, mounts,
url_path_for, and the index staying bounded."""

from __future__ import annotations

import asyncio
import decimal
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from velocix import Depends, Request, Router, Velocix, WebSocket
from velocix.core.routing import NoMatchFound, Route, compile_path
from velocix.testing import TestClient

Message = dict[str, Any]


async def call(app: Any, method: str, path: str, query: bytes = b"") -> tuple[int, bytes]:
    """One HTTP request straight through ASGI; returns (status, body)."""
    messages: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query,
        "headers": [],
        "root_path": "",
    }
    await app(scope, receive, send)
    return messages[0]["status"], b"".join(m.get("body", b"") for m in messages[1:])


# --- Templates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "message"),
    [
        pytest.param("users", "must start with '/'", id="no-leading-slash"),
        pytest.param("/users/{}", "not a valid parameter name", id="empty-name"),
        pytest.param("/users/{1x}", "not a valid parameter name", id="bad-name"),
        pytest.param("/a/{x}/b/{x}", "appears twice", id="duplicate"),
        pytest.param("/a/{x:nope}", "unknown converter 'nope'", id="unknown-converter"),
        pytest.param("/a/{x", "unbalanced", id="unclosed"),
        pytest.param("/a/x}", "unbalanced", id="unopened"),
    ],
)
def test_bad_templates_fail_at_registration(template: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compile_path(template)
    app = Velocix()
    with pytest.raises(ValueError, match=message):
        app.get(template)(lambda: None)


def test_compile_path_bucket_keys() -> None:
    static = compile_path("/users/me")
    assert static.is_static and static.first_literal == "users" and static.segment_count == 2
    dynamic = compile_path("/users/{user_id:int}/posts")
    assert dynamic.param_names == ("user_id",)
    assert dynamic.converters == {"user_id": "int"}
    assert (dynamic.segment_count, dynamic.first_literal, dynamic.variable) == (3, "users", False)
    assert dynamic.format == "/users/{user_id}/posts"
    wildcard = compile_path("/{lang}/files/{rest:path}")
    assert wildcard.first_literal is None and wildcard.variable


# --- Typed path parameters ---------------------------------------------------------------

typed = Velocix()


@typed.get("/int/{value}")
async def int_param(value: int) -> dict[str, Any]:
    return {"value": value, "type": type(value).__name__}


@typed.get("/float/{value}")
async def float_param(value: float) -> dict[str, Any]:
    return {"value": value, "type": type(value).__name__}


@typed.get("/str/{value}")
async def str_param(value: str) -> dict[str, Any]:
    return {"value": value, "type": type(value).__name__}


@typed.get("/bool/{value}")
async def bool_param(value: bool) -> dict[str, Any]:
    return {"value": value, "type": type(value).__name__}


@typed.get("/uuid/{value}")
async def uuid_param(value: uuid.UUID) -> dict[str, Any]:
    return {"value": str(value), "type": type(value).__name__}


@typed.get("/decimal/{value}")
async def decimal_param(value: decimal.Decimal) -> dict[str, Any]:
    return {"value": str(value), "type": type(value).__name__}


@typed.get("/conv-int/{value:int}")
async def conv_int(value):  # type: ignore[no-untyped-def]  # the converter gives the type
    return {"value": value, "type": type(value).__name__}


@typed.get("/conv-float/{value:float}")
async def conv_float(value):  # type: ignore[no-untyped-def]
    return {"value": value, "type": type(value).__name__}


@typed.get("/conv-str/{value:str}")
async def conv_str(value):  # type: ignore[no-untyped-def]
    return {"value": value, "type": type(value).__name__}


@typed.get("/conv-uuid/{value:uuid}")
async def conv_uuid(value):  # type: ignore[no-untyped-def]
    return {"value": str(value), "type": type(value).__name__}


@typed.get("/files/{rest:path}")
async def conv_path(rest: str) -> dict[str, Any]:
    return {"value": rest, "type": type(rest).__name__}


@typed.get("/untyped/{value}")
async def untyped(value):  # type: ignore[no-untyped-def]
    return {"value": value, "type": type(value).__name__}


UUID_TEXT = "12345678-1234-5678-1234-567812345678"
PATH_CASES = [
    ("/int/42", 200, {"value": 42, "type": "int"}),
    ("/int/-7", 200, {"value": -7, "type": "int"}),
    ("/int/abc", 422, ["path", "value"]),
    ("/int/4.5", 422, ["path", "value"]),
    ("/int/1e3", 422, ["path", "value"]),
    ("/int/" + "9" * 5000, 422, ["path", "value"]),
    ("/int/12345678901234567890123", 200, {"value": 12345678901234567890123, "type": "int"}),
    ("/int/%20", 422, ["path", "value"]),
    ("/float/2.5", 200, {"value": 2.5, "type": "float"}),
    ("/float/3", 200, {"value": 3.0, "type": "float"}),
    ("/float/x", 422, ["path", "value"]),
    ("/str/hello", 200, {"value": "hello", "type": "str"}),
    ("/bool/true", 200, {"value": True, "type": "bool"}),
    ("/bool/0", 200, {"value": False, "type": "bool"}),
    ("/bool/maybe", 422, ["path", "value"]),
    (f"/uuid/{UUID_TEXT}", 200, {"value": UUID_TEXT, "type": "UUID"}),
    ("/uuid/not-a-uuid", 422, ["path", "value"]),
    ("/decimal/10.25", 200, {"value": "10.25", "type": "Decimal"}),
    ("/decimal/ten", 422, ["path", "value"]),
    ("/conv-int/5", 200, {"value": 5, "type": "int"}),
    ("/conv-int/five", 422, ["path", "value"]),
    ("/conv-float/1.5", 200, {"value": 1.5, "type": "float"}),
    ("/conv-str/x", 200, {"value": "x", "type": "str"}),
    (f"/conv-uuid/{UUID_TEXT}", 200, {"value": UUID_TEXT, "type": "UUID"}),
    ("/conv-uuid/nope", 422, ["path", "value"]),
    ("/files/a/b/c.txt", 200, {"value": "a/b/c.txt", "type": "str"}),
    ("/untyped/raw", 200, {"value": "raw", "type": "str"}),
]


@pytest.fixture(scope="module")
def typed_client() -> Iterator[TestClient]:
    with TestClient(typed) as client:
        yield client


@pytest.mark.parametrize(
    ("path", "status", "expected"), PATH_CASES, ids=[c[0][:40] for c in PATH_CASES]
)
def test_typed_path_parameters(
    typed_client: TestClient, path: str, status: int, expected: Any
) -> None:
    response = typed_client.get(path)
    assert response.status_code == status, response.text
    if status == 200:
        assert response.json() == expected
    else:
        body = response.json()
        assert body["status"] == 422
        assert body["errors"][0]["loc"] == expected
        assert body["errors"][0]["msg"]  # the reason, e.g. "Expected `int`, got `str`"


def test_failed_conversion_is_never_passed_through(typed_client: TestClient) -> None:
    response = typed_client.get("/int/abc")
    assert response.status_code == 422
    assert "abc" not in response.text.replace("Expected", "")  # no {"value": "abc"} echo


@pytest.mark.parametrize(
    ("path", "annotation"),
    [("/x/{v:int}", str), ("/x/{v:uuid}", int), ("/x/{v:path}", int)],
)
def test_converter_conflicting_with_annotation_fails(path: str, annotation: type) -> None:
    def handler(v: Any) -> None:
        return None

    handler.__annotations__["v"] = annotation
    with pytest.raises(TypeError, match="conflicts with the annotation"):
        Velocix().get(path)(handler)


# --- 404, 405, HEAD ----------------------------------------------------------------------

methods_app = Velocix()


@methods_app.get("/things")
async def list_things() -> list[str]:
    return ["a"]


@methods_app.post("/things")
async def create_thing() -> dict[str, bool]:
    return {"created": True}


@methods_app.delete("/things/{thing_id}")
async def delete_thing(thing_id: int) -> dict[str, int]:
    return {"deleted": thing_id}


@methods_app.route("/multi", methods=["PUT", "patch"])
async def multi(request: Request) -> dict[str, str]:
    return {"method": request.method}


@methods_app.get("/explicit-head")
async def explicit_head_get() -> dict[str, str]:
    return {"from": "get"}


@methods_app.head("/explicit-head")
async def explicit_head() -> None:
    return None


@pytest.fixture(scope="module")
def methods_client() -> Iterator[TestClient]:
    with TestClient(methods_app) as client:
        yield client


def test_not_found_body(methods_client: TestClient) -> None:
    response = methods_client.get("/missing")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found", "status": 404}


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/things", "GET, HEAD, POST"),
        ("GET", "/things/1", "DELETE"),
        ("GET", "/multi", "PATCH, PUT"),
        ("OPTIONS", "/things", "GET, HEAD, POST"),
    ],
)
def test_wrong_method_is_405_with_sorted_allow(
    methods_client: TestClient, method: str, path: str, allow: str
) -> None:
    response = methods_client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.json() == {"detail": "Method Not Allowed", "status": 405}


def test_route_with_several_methods(methods_client: TestClient) -> None:
    assert methods_client.put("/multi").json() == {"method": "PUT"}
    assert methods_client.patch("/multi").json() == {"method": "PATCH"}


def test_automatic_head_has_get_headers_and_no_body(methods_client: TestClient) -> None:
    get = methods_client.get("/things")
    head = methods_client.head("/things")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"] == str(len(get.content))
    assert head.headers["content-type"] == get.headers["content-type"]


def test_explicit_head_replaces_the_automatic_one(methods_client: TestClient) -> None:
    response = methods_client.head("/explicit-head")
    assert response.status_code == 200
    assert response.headers["content-length"] == "4"  # the HEAD handler's `null`, not GET's body


# --- Trailing slashes and empty segments -------------------------------------------------


def slash_app(redirect: bool) -> Velocix:
    app = Velocix(redirect_slashes=redirect)

    @app.get("/a")
    async def a() -> str:
        return "a"

    @app.get("/b/")
    async def b() -> str:
        return "b"

    @app.get("/users/{name}")
    async def user(name: str) -> str:
        return name

    return app


@pytest.mark.parametrize("path", ["/a/", "/b", "/users/x/"])
def test_trailing_slash_is_strict_by_default(path: str) -> None:
    with TestClient(slash_app(False)) as client:
        assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    ("path", "location"),
    [("/a/?x=1", "/a?x=1"), ("/b", "/b/"), ("/users/x/", "/users/x")],
)
def test_redirect_slashes_sends_307_to_the_other_form(path: str, location: str) -> None:
    with TestClient(slash_app(True), follow_redirects=False) as client:
        response = client.get(path)
        assert response.status_code == 307
        assert response.headers["location"] == location
        assert client.get(path, follow_redirects=True).status_code == 200


def test_redirect_slashes_never_builds_a_protocol_relative_url() -> None:
    with TestClient(slash_app(True), follow_redirects=False) as client:
        assert client.get("//a/").status_code == 404


@pytest.mark.parametrize("path", ["/users//42", "/users/", "/users//", "//users/42"])
def test_empty_segments_never_match_a_parameter(path: str) -> None:
    app = Velocix()

    @app.get("/users/{user_id}")
    async def user(user_id: str) -> str:
        return user_id

    assert asyncio.run(call(app, "GET", path))[0] == 404


# --- Precedence and siblings -------------------------------------------------------------

order_app = Velocix()


@order_app.get("/users/{user_id}")
async def user_by_id(user_id: str) -> dict[str, str]:
    return {"route": "dynamic", "user_id": user_id}


@order_app.get("/users/me")
async def user_me() -> dict[str, str]:
    return {"route": "static"}


@order_app.get("/{section}/items")
async def section_items(section: str) -> dict[str, str]:
    return {"route": "wildcard-first", "section": section}


@order_app.get("/shop/{item}")
async def shop_item(item: str) -> dict[str, str]:
    return {"route": "shop", "item": item}


@order_app.get("/a/{x}")
async def sibling_x(x: str) -> dict[str, str]:
    return {"x": x}


@order_app.get("/a/{y}/b")
async def sibling_y(y: str) -> dict[str, str]:
    return {"y": y}


@order_app.get("/same/{a}")
async def same_shape_get(a: str) -> dict[str, str]:
    return {"get": a}


@order_app.post("/same/{b}")
async def same_shape_post(b: str) -> dict[str, str]:
    return {"post": b}


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/users/me", {"route": "static"}),
        ("GET", "/users/7", {"route": "dynamic", "user_id": "7"}),
        ("GET", "/shop/items", {"route": "wildcard-first", "section": "shop"}),  # registered first
        ("GET", "/shop/hat", {"route": "shop", "item": "hat"}),
        ("GET", "/a/1", {"x": "1"}),
        ("GET", "/a/2/b", {"y": "2"}),
        ("GET", "/same/v", {"get": "v"}),
        ("POST", "/same/v", {"post": "v"}),
    ],
)
def test_precedence_and_sibling_routes(method: str, path: str, expected: dict[str, str]) -> None:
    with TestClient(order_app) as client:
        response = client.request(method, path)
        assert response.status_code == 200, response.text
        assert response.json() == expected


def test_many_routes_by_first_segment() -> None:
    app = Velocix()
    for i in range(100):

        def register(route: int) -> None:
            @app.get(f"/r{route}/items/{{item_id}}")
            async def item(item_id: int) -> dict[str, int]:
                return {"route": route, "id": item_id}

        register(i)
    with TestClient(app) as client:
        assert client.get("/r99/items/5").json() == {"route": 99, "id": 5}
        assert client.get("/r0/items/1").json() == {"route": 0, "id": 1}
        assert client.get("/r100/items/1").status_code == 404
        assert client.get("/r5/items/x").status_code == 422
    # 100 buckets of one route each: a request runs one small regex, not a scan of 100.
    sizes = app._http.sizes()
    assert sizes["buckets"] == 100


def test_distinct_404_paths_leave_the_index_unchanged() -> None:
    app = Velocix()

    @app.get("/users/{user_id}")
    async def user(user_id: int) -> dict[str, int]:
        return {"user_id": user_id}

    @app.get("/static")
    async def static() -> dict[str, str]:
        return {}

    async def many() -> None:
        for i in range(100_000):
            status, _ = await call(app, "GET", f"/missing/{i}/x{i}")
            assert status == 404

    asyncio.run(call(app, "GET", "/users/1"))  # build the lazily compiled buckets first
    before = app._http.sizes()
    asyncio.run(many())
    assert app._http.sizes() == before
    assert [route.path for route in app.routes] == [
        "/users/{user_id}",
        "/static",
        "/openapi.json",
        "/docs",
    ]


def test_duplicate_route_is_an_error() -> None:
    app = Velocix()

    @app.get("/x")
    async def first() -> None:
        return None

    with pytest.raises(ValueError, match="already registered"):
        app.get("/x")(first)
    app.post("/x")(first)  # another method on the same path is fine


def test_methods_must_be_a_list() -> None:
    with pytest.raises(TypeError, match="list of strings"):
        Velocix().route("/x", methods="GET")(lambda: None)  # type: ignore[arg-type]


def test_generator_handlers_are_refused() -> None:
    def gen() -> Iterator[int]:
        yield 1

    with pytest.raises(TypeError, match="StreamingResponse"):
        Velocix().get("/gen")(gen)


# --- Introspection -----------------------------------------------------------------------


def test_route_objects_expose_what_batteries_need() -> None:
    app = Velocix()

    def current_user(authorization: str = Depends(lambda: "x")) -> str:
        return authorization

    @app.post("/items/{item_id}", status_code=201, name="make", tags=["items"], summary="Make")
    async def make(item_id: int, q: str | None = None, user: str = Depends(current_user)) -> None:
        """Make an item."""

    route = app.routes[0]
    assert isinstance(route, Route)
    assert route.path == "/items/{item_id}"
    assert route.methods == frozenset({"POST"})
    assert route.endpoint is make
    assert (route.name, route.status_code, route.tags, route.summary) == (
        "make",
        201,
        ["items"],
        "Make",
    )
    assert route.description == "Make an item."
    assert route.include_in_schema is True
    by_name = {spec.name: spec for spec in route.params}
    assert by_name["item_id"].location == "path" and by_name["item_id"].required
    assert by_name["q"].location == "query" and not by_name["q"].required
    assert by_name["q"].default is None


def test_default_route_name_is_the_function_name() -> None:
    app = Velocix()

    @app.get("/x")
    async def some_handler() -> None:
        return None

    assert app.routes[0].name == "some_handler"
    assert app.url_path_for("some_handler") == "/x"


# --- url_path_for ------------------------------------------------------------------------

urls = Velocix()


@urls.get("/users/{user_id}/posts/{post_id}", name="post")
async def post(user_id: int, post_id: int) -> None:
    return None


@urls.get("/files/{rest:path}", name="file")
async def file(rest: str) -> None:
    return None


@urls.get("/about", name="about")
async def about() -> None:
    return None


def test_url_path_for_fills_and_quotes() -> None:
    assert urls.url_path_for("about") == "/about"
    assert urls.url_path_for("post", user_id=1, post_id=2) == "/users/1/posts/2"
    assert urls.url_path_for("post", user_id="a b/c", post_id="?") == "/users/a%20b%2Fc/posts/%3F"
    assert urls.url_path_for("file", rest="dir/a b.txt") == "/files/dir/a%20b.txt"


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("nope", {}, "No route named 'nope'"),
        ("post", {"user_id": 1}, r"needs path parameter\(s\) \['post_id'\]"),
        ("about", {"x": 1}, r"has no parameter\(s\) \['x'\]"),
        ("post", {"user_id": "", "post_id": 1}, "cannot be empty"),
    ],
)
def test_url_path_for_errors(name: str, params: dict[str, Any], message: str) -> None:
    with pytest.raises(NoMatchFound, match=message):
        urls.url_path_for(name, **params)


# --- Routers -----------------------------------------------------------------------------


def test_router_prefix_include_and_nesting() -> None:
    calls: list[str] = []

    def router_dependency() -> None:
        calls.append("router")

    def include_dependency() -> None:
        calls.append("include")

    inner = Router(prefix="/inner", tags=["inner"])

    @inner.get("/ping", name="inner_ping")
    async def ping() -> dict[str, str]:
        return {"pong": "inner"}

    v1 = Router(prefix="/v1", dependencies=[Depends(router_dependency)], tags=["v1"])

    @v1.get("/users/{user_id}")
    async def get_user(user_id: int) -> dict[str, int]:
        return {"user_id": user_id}

    v1.include_router(inner)
    app = Velocix()
    app.include_router(v1, prefix="/api", dependencies=[Depends(include_dependency)], tags=["api"])

    @v1.get("/late")
    async def late() -> None:  # added after include: not in the app
        return None

    with TestClient(app) as client:
        assert client.get("/api/v1/users/3").json() == {"user_id": 3}
        assert calls == ["include", "router"]
        assert client.get("/api/v1/inner/ping").json() == {"pong": "inner"}
        assert client.get("/api/v1/late").status_code == 404
        assert client.get("/v1/users/3").status_code == 404
    routes = {route.path: route for route in app.routes if isinstance(route, Route)}
    assert routes["/api/v1/users/{user_id}"].tags == ["api", "v1"]
    assert routes["/api/v1/inner/ping"].tags == ["api", "v1", "inner"]
    assert app.url_path_for("inner_ping") == "/api/v1/inner/ping"


@pytest.mark.parametrize("prefix", ["v1", "/v1/"])
def test_router_prefix_is_checked(prefix: str) -> None:
    with pytest.raises(ValueError, match="must start with '/' and not end with '/'"):
        Router(prefix=prefix)
    with pytest.raises(ValueError, match="must start with '/' and not end with '/'"):
        Velocix().include_router(Router(), prefix=prefix)


def test_router_websocket_and_mount_definitions_are_included() -> None:
    router = Router(prefix="/r")

    @router.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hi")
        await websocket.close()

    async def raw(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"raw"})

    router.mount("/raw", raw, name="raw")
    app = Velocix()
    app.include_router(router)
    with TestClient(app) as client:
        with client.websocket_connect("/r/ws") as session:
            assert session.receive_text() == "hi"
        assert client.get("/r/raw/anything").content == b"raw"
    assert app.url_path_for("raw", path="/x y") == "/r/raw/x%20y"


# --- Mounts ------------------------------------------------------------------------------


async def echo_scope(scope: Any, receive: Any, send: Any) -> None:
    body = f"{scope['root_path']}|{scope['path']}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def test_mount_extends_root_path_and_keeps_the_full_path() -> None:
    app = Velocix()
    app.mount("/sub", echo_scope)

    @app.get("/sub/route")
    async def route_wins() -> str:
        return "route"

    with TestClient(app) as client:
        assert client.get("/sub/a/b").text == "/sub|/sub/a/b"
        assert client.get("/sub").text == "/sub|/sub"
        assert client.get("/sub/route").json() == "route"
        assert client.get("/subway").status_code == 404


def test_mounted_velocix_routes_on_its_own_paths() -> None:
    child = Velocix()

    @child.get("/items/{item_id}")
    async def item(item_id: int, request: Request) -> dict[str, Any]:
        return {"item_id": item_id, "root_path": request.scope["root_path"]}

    parent = Velocix()
    parent.mount("/api", child)
    with TestClient(parent, root_path="/proxy") as client:
        response = client.get("/proxy/api/items/4")
        assert response.json() == {"item_id": 4, "root_path": "/proxy/api"}
        assert client.get("/proxy/api/nope").status_code == 404


def test_app_routes_below_the_server_root_path() -> None:
    app = Velocix()

    @app.get("/hello")
    async def hello() -> str:
        return "hi"

    with TestClient(app, root_path="/prefix") as client:
        assert client.get("/prefix/hello").json() == "hi"
        assert client.get("/hello").json() == "hi"  # the client adds the root_path itself


@pytest.mark.parametrize("path", ["sub", "/sub/", "/s/{x}"])
def test_bad_mount_paths(path: str) -> None:
    with pytest.raises(ValueError, match="Mount path"):
        Velocix().mount(path, echo_scope)


def test_single_route_buckets_match_by_prefix_with_the_same_rules() -> None:
    app = Velocix()

    @app.get("/users/{user_id}")
    async def user(user_id: str) -> str:
        return user_id

    @app.get("/files/{name}.txt")
    async def text_file(name: str) -> str:
        return name

    app._http.prepare()
    users = app._http._buckets[2]["users"]
    assert users.prefix == "/users/"  # no regex for the common /x/{param} shape
    assert app._http._buckets[2]["files"].prefix is None  # the parameter is not a whole segment

    async def run(path: str) -> tuple[int, bytes]:
        return await call(app, "GET", path)

    for path, expected in [
        ("/users/ann", (200, b'"ann"')),
        ("/users/", (404, None)),
        ("/users//", (404, None)),
        ("/users/a/b", (404, None)),
        ("/userss/a", (404, None)),
        ("/files/a.txt", (200, b'"a"')),
        ("/files/a.md", (404, None)),
    ]:
        status, body = asyncio.run(run(path))
        assert status == expected[0], path
        if expected[1] is not None:
            assert body == expected[1]

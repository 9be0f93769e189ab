"""The one application the fuzzer attacks: every parameter kind, response class and battery.

Each route exists so that a generated request can reach a different parser or converter:
typed path parameters (int, float, uuid, bool, Decimal, ``{rest:path}``), query scalars, lists
and aliases, headers, cookies, a msgspec Struct body, plain dict/list bodies, urlencoded and
multipart forms with uploads, sync/async/generator dependencies, background tasks, every
response class (JSON, text, HTML, redirect, streaming, file with Range/ETag, SSE, 204), a
router under a prefix, a mounted sub-application and a static directory, behind CORS, GZip
and RequestID middleware.

Handlers are honest, small and *correct*: whatever the fuzzer sends, a 500 can only come from
the framework (or a battery), never from the app itself. :class:`Probe` counts teardowns and
background tasks so tests can check they always ran.
"""

from __future__ import annotations

import decimal
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import msgspec

from velocix import (
    BackgroundTasks,
    Cookie,
    Depends,
    FileResponse,
    Header,
    HTMLResponse,
    HTTPException,
    PlainTextResponse,
    Query,
    RedirectResponse,
    Request,
    Response,
    Router,
    StreamingResponse,
    Velocix,
)
from velocix.forms import File, Form, UploadFile
from velocix.middleware import CORSMiddleware, GZipMiddleware, RequestIDMiddleware
from velocix.sse import EventSourceResponse
from velocix.staticfiles import StaticFiles

MAX_BODY_SIZE = 64 * 1024
"""The fuzzed app's body limit: small, so the fuzzer can cross it cheaply."""

FILE_CONTENT = bytes(range(256)) * 8  # 2 KiB served by /file (Range requests land inside)
STREAMING_PATHS = frozenset({"/stream", "/sse", "/api/v1/stream"})
"""Routes answering without Content-Length (the body length is not known up front)."""


class Address(msgspec.Struct):
    """A nested object inside the JSON body."""

    city: str
    zip_code: Annotated[str, msgspec.Meta(max_length=10)]


class Item(msgspec.Struct):
    """The validated JSON body: nested structs, constraints, optionals, lists and maps."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    price: Annotated[float, msgspec.Meta(ge=0)]
    quantity: int = 1
    tags: list[str] = []
    address: Address | None = None
    attributes: dict[str, int] = {}
    ident: uuid.UUID | None = None


class Profile(msgspec.Struct):
    """A whole urlencoded form as one object."""

    user: str
    age: int


@dataclass
class Probe:
    """What the app's side effects did: tests compare these counters with the requests sent."""

    setups: int = 0
    teardowns: int = 0
    background_runs: int = 0
    errors: list[str] = field(default_factory=list)

    def balanced(self) -> bool:
        """Every generator dependency set up was torn down."""
        return self.setups == self.teardowns


def build_app(static_dir: Path, probe: Probe) -> Velocix:
    """The fuzz target. ``static_dir`` gets the files served by ``/static`` and ``/file``."""
    static_dir.mkdir(parents=True, exist_ok=True)
    (static_dir / "hello.txt").write_bytes(b"hello, static\n")
    (static_dir / "sub").mkdir(exist_ok=True)
    (static_dir / "sub" / "index.html").write_bytes(b"<h1>index</h1>")
    data_file = static_dir / "data.bin"
    data_file.write_bytes(FILE_CONTENT)

    app = Velocix(max_body_size=MAX_BODY_SIZE, title="fuzz target")
    app.add_middleware(GZipMiddleware, minimum_size=64)
    app.add_middleware(RequestIDMiddleware)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["https://example.com", "http://localhost:3000"],
        allow_methods=["GET", "POST", "PUT", "DELETE"],
        allow_headers=["x-token", "content-type"],
        allow_credentials=True,
        expose_headers=["x-request-id"],
    )
    _add_params(app)
    _add_bodies(app)
    _add_forms(app)
    _add_dependencies(app, probe)
    _add_responses(app, data_file)
    app.include_router(_router(), prefix="/api/v1")
    app.mount("/sub", _sub_app())
    app.mount("/static", StaticFiles(directory=static_dir, html=True))
    return app


# --- path, query, header and cookie parameters ---------------------------------------------


def _add_params(app: Velocix) -> None:
    @app.get("/items/{item_id:int}")
    async def get_item(
        item_id: int,
        q: str | None = None,
        tags: list[str] = Query([]),
        limit: int = Query(10, alias="max"),
        ratio: float = 1.0,
        active: bool = False,
    ) -> dict[str, Any]:
        return {"id": item_id, "q": q, "tags": tags, "max": limit, "ratio": ratio, "on": active}

    @app.get("/floats/{value:float}")
    async def get_float(value: float) -> dict[str, Any]:
        return {"value": value}

    @app.get("/uuids/{ident:uuid}")
    async def get_uuid(ident: uuid.UUID) -> dict[str, str]:
        return {"uuid": str(ident)}

    @app.get("/typed/{flag}/{amount}")
    async def get_typed(flag: bool, amount: decimal.Decimal) -> dict[str, Any]:
        return {"flag": flag, "amount": str(amount)}

    @app.get("/files/{rest:path}")
    async def get_path(rest: str) -> dict[str, str]:
        return {"rest": rest}

    @app.get("/users/{user_id}/posts/{post_id}")
    async def get_post(user_id: int, post_id: str, ids: list[int] = Query([])) -> dict[str, Any]:
        return {"user": user_id, "post": post_id, "ids": ids}

    @app.get("/headers")
    async def get_headers(
        x_token: str = Header(),
        user_agent: str | None = Header(None),
        x_count: int = Header(0),
        x_multi: list[str] = Header([]),
        session: str = Cookie(),
        theme: str | None = Cookie(None),
    ) -> dict[str, Any]:
        return {
            "token": x_token,
            "agent": user_agent,
            "count": x_count,
            "multi": x_multi,
            "session": session,
            "theme": theme,
        }

    @app.get("/search")
    def search(
        term: str = Query(alias="search-term"), page: int = 1, sizes: list[float] = Query([])
    ) -> dict[str, Any]:
        # A sync handler: runs in the thread pool.
        return {"term": term, "page": page, "sizes": sizes}


# --- JSON bodies --------------------------------------------------------------------------------


def _add_bodies(app: Velocix) -> None:
    @app.post("/json", status_code=201)
    async def create_item(item: Item, dry_run: bool = False) -> Item:
        return item

    @app.put("/json/{item_id:int}")
    async def replace_item(item_id: int, item: Item) -> dict[str, Any]:
        return {"id": item_id, "name": item.name, "tags": len(item.tags)}

    @app.post("/json-list")
    async def sum_list(values: list[int]) -> dict[str, int]:
        return {"count": len(values), "total": sum(values)}

    @app.post("/json-dict")
    async def dict_keys(payload: dict[str, Any]) -> dict[str, Any]:
        return {"keys": sorted(payload)[:20]}

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, Any]:
        data = await request.json()
        return {"type": type(data).__name__, "query": len(request.query_params)}

    @app.post("/echo")
    async def echo(request: Request) -> Response:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return PlainTextResponse(f"{size} bytes, {len(request.cookies)} cookies")


# --- forms and uploads --------------------------------------------------------------------------


def _add_forms(app: Velocix) -> None:
    @app.post("/form")
    async def form(
        name: str = Form(), age: int = Form(0), tags: list[str] = Form([])
    ) -> dict[str, Any]:
        return {"name": name, "age": age, "tags": tags}

    @app.post("/form-struct")
    async def form_struct(profile: Profile = Form()) -> dict[str, Any]:
        return {"user": profile.user, "age": profile.age}

    @app.post("/upload")
    async def upload(upload: UploadFile = File(), note: str = Form("")) -> dict[str, Any]:
        content = await upload.read()
        return {"filename": upload.filename, "size": len(content), "note": note}

    @app.post("/upload-many")
    async def upload_many(files: list[UploadFile] = File([]), data: bytes = File(b"")) -> Any:
        return {"files": [f.size for f in files], "data": len(data)}

    @app.post("/form-request")
    async def form_request(request: Request) -> dict[str, Any]:
        form = await request.form()
        return {"fields": len(form.multi_items())}


# --- dependencies and background tasks --------------------------------------------------------


def _add_dependencies(app: Velocix, probe: Probe) -> None:
    def pagination(page: int = 1, size: int = Query(10, alias="per-page")) -> dict[str, int]:
        return {"page": page, "size": size}

    def sync_resource() -> Iterator[str]:
        probe.setups += 1
        try:
            yield "sync-resource"
        finally:
            probe.teardowns += 1

    async def async_resource(
        token: str | None = Header(None, alias="x-token"),
    ) -> AsyncIterator[str]:
        probe.setups += 1
        try:
            yield f"async-resource:{token is not None}"
        finally:
            probe.teardowns += 1

    async def current_user(
        resource: str = Depends(async_resource), session: str | None = Cookie(None)
    ) -> dict[str, Any]:
        if session == "forbidden":
            raise HTTPException(403, "Forbidden session", headers={"X-Reason": "session"})
        return {"resource": resource, "session": session}

    def note_background(tag: str) -> None:
        probe.background_runs += 1

    @app.get("/deps")
    async def with_deps(
        background: BackgroundTasks,
        paging: dict[str, int] = Depends(pagination),
        sync_res: str = Depends(sync_resource),
        user: dict[str, Any] = Depends(current_user),
        again: dict[str, Any] = Depends(current_user),  # cached: same object
    ) -> dict[str, Any]:
        background.add_task(note_background, "deps")
        return {"paging": paging, "sync": sync_res, "user": user, "cached": user is again}

    @app.post("/deps-body")
    async def deps_body(item: Item, user: dict[str, Any] = Depends(current_user)) -> Any:
        return {"item": item.name, "user": user["session"]}


# --- response classes ------------------------------------------------------------------------


def _add_responses(app: Velocix, data_file: Path) -> None:
    @app.get("/text", response_class=PlainTextResponse)
    async def text(word: str = "hello") -> str:
        return word * 3

    @app.get("/html", response_class=HTMLResponse)
    async def html() -> str:
        return "<p>hello</p>"

    @app.get("/redirect")
    async def redirect(to: str = "/text") -> RedirectResponse:
        # Only local targets: an open redirect is the app's bug, not the framework's.
        return RedirectResponse("/" + to.lstrip("/\\"), status_code=307)

    @app.get("/stream")
    async def stream(chunks: Annotated[int, msgspec.Meta(ge=0, le=20)] = 3) -> StreamingResponse:
        async def produce() -> AsyncIterator[bytes]:
            for index in range(chunks):
                yield b"chunk %d\n" % index

        return StreamingResponse(produce(), media_type="text/plain")

    @app.get("/sse")
    async def sse(count: Annotated[int, msgspec.Meta(ge=0, le=10)] = 2) -> EventSourceResponse:
        async def events() -> AsyncIterator[dict[str, str]]:
            for index in range(count):
                yield {"event": "tick", "data": f"line {index}\nsecond line"}

        return EventSourceResponse(events(), ping=None)

    @app.get("/file")
    async def file() -> FileResponse:
        return FileResponse(data_file, filename="data.bin")

    @app.delete("/things/{thing_id:int}", status_code=204)
    async def delete_thing(thing_id: int) -> None:
        return None

    @app.get("/cookie")
    async def set_cookies(value: str = "v") -> Response:
        # Header values are Latin-1: characters beyond it are the app's to encode (as in
        # Starlette, kludex/starlette#2217); ";", quotes and backslashes are set_cookie's job.
        value = value.encode("latin-1", "backslashreplace").decode("latin-1")
        response = PlainTextResponse("cookies set")
        response.set_cookie("a", value, httponly=True)
        response.set_cookie("b", value, max_age=60, samesite="strict")
        return response

    @app.get("/teapot")
    async def teapot(reason: str = "short and stout") -> None:
        raise HTTPException(418, reason, headers={"X-Teapot": "yes"})

    @app.route("/multi", methods=["GET", "POST", "PATCH"])
    async def multi(request: Request) -> dict[str, str]:
        return {"method": request.method}

    @app.get("/env")
    async def environment(request: Request) -> dict[str, Any]:
        return {
            "url": str(request.url),
            "client": request.client.host if request.client else None,
            "path_params": request.path_params,
            "queries": len(request.query_params.multi_items()),
            "pid": os.getpid() > 0,
        }


def _router() -> Router:
    router = Router()

    @router.get("/things/{thing_id:int}")
    async def get_thing(thing_id: int, verbose: bool = False) -> dict[str, Any]:
        return {"thing": thing_id, "verbose": verbose}

    @router.post("/things")
    async def create_thing(item: Item) -> dict[str, Any]:
        return {"created": item.name}

    @router.get("/stream")
    async def stream() -> StreamingResponse:
        return StreamingResponse(iter([b"a", b"b", b"c"]), media_type="text/plain")

    return router


def _sub_app() -> Velocix:
    sub = Velocix(max_body_size=1024)

    @sub.get("/")
    async def root() -> dict[str, str]:
        return {"sub": "root"}

    @sub.get("/hello/{name}")
    async def hello(name: str) -> dict[str, str]:
        return {"hello": name}

    @sub.post("/json")
    async def json(payload: dict[str, Any]) -> dict[str, int]:
        return {"keys": len(payload)}

    return sub


ROUTES = (
    ("GET", "/items/{int}"),
    ("GET", "/floats/{float}"),
    ("GET", "/uuids/{uuid}"),
    ("GET", "/typed/{bool}/{decimal}"),
    ("GET", "/files/{path}"),
    ("GET", "/users/{int}/posts/{str}"),
    ("GET", "/headers"),
    ("GET", "/search"),
    ("POST", "/json"),
    ("PUT", "/json/{int}"),
    ("POST", "/json-list"),
    ("POST", "/json-dict"),
    ("POST", "/raw"),
    ("POST", "/echo"),
    ("POST", "/form"),
    ("POST", "/form-struct"),
    ("POST", "/upload"),
    ("POST", "/upload-many"),
    ("POST", "/form-request"),
    ("GET", "/deps"),
    ("POST", "/deps-body"),
    ("GET", "/text"),
    ("GET", "/html"),
    ("GET", "/redirect"),
    ("GET", "/stream"),
    ("GET", "/sse"),
    ("GET", "/file"),
    ("DELETE", "/things/{int}"),
    ("GET", "/cookie"),
    ("GET", "/teapot"),
    ("PATCH", "/multi"),
    ("GET", "/env"),
    ("GET", "/api/v1/things/{int}"),
    ("POST", "/api/v1/things"),
    ("GET", "/api/v1/stream"),
    ("GET", "/sub"),
    ("GET", "/sub/"),
    ("GET", "/sub/hello/{str}"),
    ("POST", "/sub/json"),
    ("GET", "/static/hello.txt"),
    ("GET", "/static/sub"),
    ("GET", "/static/sub/"),
    ("GET", "/static/{path}"),
    ("GET", "/nowhere/{str}"),
)
"""(method, path shape) pairs the request generator fills in: ``{int}`` etc. get valid and
invalid values, and the method is sometimes another one."""

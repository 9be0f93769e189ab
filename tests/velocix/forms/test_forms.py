"""Form parsing: urlencoded and multipart, limits (Starlette CVE classes), markers, uploads."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import threading
from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from velocix import Depends, HTTPException, Response, StreamingResponse, Velocix
from velocix.core.exceptions import RequestValidationError
from velocix.core.params import FORMS_KEY, MISSING, ParamSpec
from velocix.core.request import ClientDisconnect, Request
from velocix.forms import (
    File,
    Form,
    FormData,
    FormError,
    FormLimits,
    UploadFile,
    close_form,
    close_forms,
    parse_form,
    parse_options_header,
)
from velocix.testing import TestClient

pytestmark = pytest.mark.anyio

BOUNDARY = "----velocixboundary"


def make_request(body: bytes | list[bytes], content_type: str | None) -> Request:
    chunks = [body] if isinstance(body, bytes) else list(body)
    headers = [(b"content-type", content_type.encode())] if content_type else []

    async def receive() -> dict[str, Any]:
        if chunks:
            chunk = chunks.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}
        return {"type": "http.disconnect"}

    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers, "query_string": b""}
    request = Request(scope, receive)
    OPEN_REQUESTS.append(request)
    return request


def multipart(
    fields: list[tuple[str, str]] = (),  # type: ignore[assignment]
    files: list[tuple[str, str, bytes, str]] = (),  # type: ignore[assignment]
) -> bytes:
    """Encode fields and (name, filename, content, content_type) files."""
    parts: list[bytes] = []
    for name, value in fields:
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    for name, filename, content, ctype in files:
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'.encode()
            + content
            + b"\r\n"
        )
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


MULTIPART_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
URLENCODED_TYPE = "application/x-www-form-urlencoded"


OPEN_REQUESTS: list[Request] = []


@pytest.fixture(autouse=True)
def close_uploads() -> Iterator[None]:
    """Close every parsed form's files after each test (unclosed spools warn)."""
    yield
    while OPEN_REQUESTS:
        form = getattr(OPEN_REQUESTS.pop(), "_velocix_form", None)
        for _, value in form.multi_items() if form is not None else ():
            if isinstance(value, UploadFile):
                value.file.close()


async def form_of(
    body: bytes | list[bytes], content_type: str | None, limits: FormLimits | None = None
) -> FormData:
    return await parse_form(make_request(body, content_type), limits)


async def expect_error(
    status: int,
    body: bytes | list[bytes],
    content_type: str | None,
    limits: FormLimits | None = None,
) -> str:
    with pytest.raises(FormError) as info:
        await form_of(body, content_type, limits)
    assert info.value.status_code == status
    return str(info.value.detail)


# --- Content-Type parsing (CVE-2024-24762 is about this step) --------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("text/plain", ("text/plain", {}), id="bare"),
        pytest.param(
            "Multipart/Form-Data; Boundary=abc",
            ("multipart/form-data", {"boundary": "abc"}),
            id="case",
        ),
        pytest.param(
            'form-data; name="a;b"; filename="c\\"d.txt"',
            ("form-data", {"name": "a;b", "filename": 'c"d.txt'}),
            id="quoted",
        ),
        pytest.param("a/b; ; x; y=1;", ("a/b", {"y": "1"}), id="empty-and-valueless"),
        pytest.param('a/b; y="unterminated', ("a/b", {"y": "unterminated"}), id="unterminated"),
    ],
)
def test_parse_options_header(value: str, expected: tuple[str, dict[str, str]]) -> None:
    assert parse_options_header(value) == expected


def test_content_type_redos_inputs_parse_linearly() -> None:
    # The CVE-2024-24762 shapes: long runs that make a backtracking regex explode.
    # This parser walks each character a bounded number of times (pytest-timeout guards).
    evil = 'application/x-www-form-urlencoded; !="' + "\\" * 200_000
    media_type, params = parse_options_header(evil)
    assert media_type == "application/x-www-form-urlencoded"
    assert params["!"].startswith("\\")
    evil_multipart = "multipart/form-data; boundary=" + "; a=" * 100_000
    assert parse_options_header(evil_multipart)[0] == "multipart/form-data"


# --- urlencoded --------------------------------------------------------------------------------


async def test_urlencoded_repeated_and_encoded_values() -> None:
    form = await form_of(b"a=1&b=hello+world&a=2&c=%C3%A9&empty=", URLENCODED_TYPE)
    assert form.getlist("a") == ["1", "2"]
    assert form["a"] == "2"
    assert form["b"] == "hello world"
    assert form["c"] == "é"
    assert form["empty"] == ""


async def test_urlencoded_streamed_in_chunks() -> None:
    form = await form_of([b"na", b"me=ve", b"locix&x", b"=1"], URLENCODED_TYPE)
    assert dict(form) == {"name": "velocix", "x": "1"}


async def test_urlencoded_field_count_limit_cve_2026_54283() -> None:
    body = "&".join(f"f{i}=v" for i in range(1001)).encode()
    assert "Too many fields" in await expect_error(400, body, URLENCODED_TYPE)
    ok = "&".join(f"f{i}=v" for i in range(1000)).encode()
    assert len(await form_of(ok, URLENCODED_TYPE)) == 1000


async def test_urlencoded_field_size_limit_cve_2026_54283() -> None:
    limits = FormLimits(max_part_size=100)
    chunks = [b"big="] + [b"x" * 64] * 4
    await expect_error(413, chunks, URLENCODED_TYPE, limits)


async def test_urlencoded_bad_percent_encoding_is_400() -> None:
    await expect_error(400, b"a=%FF", URLENCODED_TYPE)


# --- multipart ---------------------------------------------------------------------------------


async def test_multipart_fields_and_files() -> None:
    body = multipart(
        fields=[("name", "Ada"), ("tag", "a"), ("tag", "b")],
        files=[("doc", "notes.txt", b"hello file", "text/plain")],
    )
    form = await form_of(body, MULTIPART_TYPE)
    assert form["name"] == "Ada"
    assert form.getlist("tag") == ["a", "b"]
    upload = form["doc"]
    assert isinstance(upload, UploadFile)
    assert upload.filename == "notes.txt"
    assert upload.content_type == "text/plain"
    assert upload.size == 10
    assert await upload.read() == b"hello file"
    await form.close()
    assert upload.file.closed


async def test_multipart_split_across_many_chunks() -> None:
    body = multipart(
        fields=[("a", "1")],
        files=[("f", "x.bin", bytes(range(256)) * 40, "application/octet-stream")],
    )
    chunks = [body[i : i + 7] for i in range(0, len(body), 7)]
    form = await form_of(chunks, MULTIPART_TYPE)
    upload = form["f"]
    assert isinstance(upload, UploadFile)
    assert await upload.read() == bytes(range(256)) * 40
    assert form["a"] == "1"


async def test_rfc8187_filename() -> None:
    body = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f"; '
        f"filename*=UTF-8''%E2%82%AC%20rates.txt\r\n\r\ndata\r\n--{BOUNDARY}--\r\n"
    ).encode()
    upload = (await form_of(body, MULTIPART_TYPE))["f"]
    assert isinstance(upload, UploadFile)
    assert upload.filename == "€ rates.txt"


async def test_too_many_fields_raise_cve_2023_30798() -> None:
    body = multipart(fields=[(f"f{i}", "v") for i in range(1001)])
    assert "Too many fields" in await expect_error(400, body, MULTIPART_TYPE)


async def test_too_many_files_raise_cve_2023_30798() -> None:
    body = multipart(files=[(f"f{i}", "a.txt", b"x", "text/plain") for i in range(1001)])
    assert "Too many files" in await expect_error(400, body, MULTIPART_TYPE)


async def test_custom_field_and_file_limits() -> None:
    limits = FormLimits(max_fields=2, max_files=1)
    await expect_error(400, multipart(fields=[("a", "1")] * 3), MULTIPART_TYPE, limits)
    files = [("f", "a", b"x", "text/plain")] * 2
    await expect_error(400, multipart(files=files), MULTIPART_TYPE, limits)


async def test_unbounded_non_file_part_is_refused_cve_2024_47874() -> None:
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="big"\r\n\r\n'.encode()
    # 2 MiB without a filename, streamed: rejected once past 1 MiB, not buffered to the end.
    chunks = [head] + [b"x" * 65536] * 32 + [f"\r\n--{BOUNDARY}--\r\n".encode()]
    assert "Form field" in await expect_error(413, chunks, MULTIPART_TYPE)


async def test_file_parts_are_not_bound_by_the_field_limit() -> None:
    limits = FormLimits(max_part_size=10)
    body = multipart(files=[("f", "a.bin", b"y" * 1000, "application/octet-stream")])
    upload = (await form_of(body, MULTIPART_TYPE, limits))["f"]
    assert isinstance(upload, UploadFile)
    assert upload.size == 1000


async def test_file_and_total_size_limits() -> None:
    body = multipart(files=[("f", "a.bin", b"y" * 1000, "application/octet-stream")])
    await expect_error(413, body, MULTIPART_TYPE, FormLimits(max_file_size=999))
    await expect_error(413, body, MULTIPART_TYPE, FormLimits(max_size=500))


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(b"--x\r\n", "multipart/form-data", id="no-boundary"),
        pytest.param(b"--x\r\n", "multipart/form-data; boundary=" + "b" * 201, id="long-boundary"),
        pytest.param(
            f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n--{BOUNDARY}--\r\n".encode(),
            MULTIPART_TYPE,
            id="no-disposition",
        ),
        pytest.param(
            f"--{BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nx\r\n--{BOUNDARY}--"
            "\r\n".encode(),
            MULTIPART_TYPE,
            id="no-name",
        ),
        pytest.param(b"garbage without boundaries", MULTIPART_TYPE, id="garbage"),
        pytest.param(
            multipart(fields=[("a", "1")]).replace(b"1", b"\xff"), MULTIPART_TYPE, id="bad-utf8"
        ),
    ],
)
async def test_malformed_multipart_is_400(body: bytes, content_type: str) -> None:
    await expect_error(400, body, content_type)


def _cut_points() -> list[Any]:
    whole = multipart(
        fields=[("a", "1"), ("b", "2")], files=[("f", "f.txt", b"data", "text/plain")]
    )
    closing = f"--{BOUNDARY}--\r\n".encode()
    last_part_end = len(whole) - len(closing)
    return [
        pytest.param(whole[:last_part_end], id="no-closing-boundary"),
        pytest.param(
            whole[: last_part_end + len(BOUNDARY) + 2], id="closing-boundary-without-dashes"
        ),
        pytest.param(whole[: whole.index(b"data") + 2], id="inside-a-file"),
        pytest.param(whole[: whole.index(b"1\r\n") + 1], id="inside-a-field"),
        pytest.param(b"", id="empty"),
    ]


@pytest.mark.parametrize("body", _cut_points())
async def test_truncated_multipart_is_400_not_a_partial_form(body: bytes) -> None:
    detail = await expect_error(400, body, MULTIPART_TYPE)
    assert "Malformed multipart body" in detail


def test_truncated_multipart_through_the_app_is_400() -> None:
    app = Velocix()
    seen: list[dict[str, str]] = []

    @app.post("/form")
    async def form(a: str = Form(), b: str = Form("default")) -> dict[str, str]:
        seen.append({"a": a, "b": b})
        return {"a": a, "b": b}

    whole = multipart(fields=[("a", "1"), ("b", "2")])
    cut = whole[: whole.index(b'name="b"')]  # the second field and the closing boundary lost
    with TestClient(app) as client:
        response = client.post("/form", content=cut, headers={"content-type": MULTIPART_TYPE})
        assert response.status_code == 400
        assert response.json()["detail"].startswith("Malformed multipart body")
        assert seen == []  # the handler never saw a = "1", b = "default" as if the form were whole
        complete = client.post("/form", content=whole, headers={"content-type": MULTIPART_TYPE})
    assert complete.json() == {"a": "1", "b": "2"}


async def test_too_many_part_headers_is_400() -> None:
    headers = "".join(f"X-H{i}: v\r\n" for i in range(20))
    body = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="a"\r\n{headers}\r\n'
        f"x\r\n--{BOUNDARY}--\r\n"
    ).encode()
    await expect_error(400, body, MULTIPART_TYPE)


async def test_not_a_form_is_415_and_empty_is_empty() -> None:
    await expect_error(415, b"{}", "application/json")
    assert len(await form_of(b"", None)) == 0


async def test_form_is_parsed_once_per_request() -> None:
    request = make_request(b"a=1", URLENCODED_TYPE)
    first = await parse_form(request)
    assert await parse_form(request) is first


# --- UploadFile roll-over off the event loop (CVE-2025-54121) ---------------------------------


async def test_upload_rollover_runs_in_a_worker_thread() -> None:
    upload = UploadFile(spool_max_size=16)
    rollover_threads: list[threading.Thread] = []
    original = upload.file.rollover  # type: ignore[attr-defined]

    def recording_rollover() -> None:
        rollover_threads.append(threading.current_thread())
        original()

    upload.file.rollover = recording_rollover  # type: ignore[attr-defined]
    await upload.write(b"small")
    assert rollover_threads == []
    await upload.write(b"x" * 100)  # crosses the threshold: must not run on the loop thread
    assert len(rollover_threads) == 1
    assert rollover_threads[0] is not threading.main_thread()
    assert upload.file._rolled  # type: ignore[attr-defined]
    await upload.seek(0)
    assert await upload.read() == b"small" + b"x" * 100
    assert upload.size == 105
    await upload.close()


async def test_parsed_large_upload_is_spooled_to_disk() -> None:
    body = multipart(files=[("f", "big.bin", b"z" * 5000, "application/octet-stream")])
    upload = (await form_of(body, MULTIPART_TYPE, FormLimits(spool_max_size=1024)))["f"]
    assert isinstance(upload, UploadFile)
    assert upload.file._rolled  # type: ignore[attr-defined]
    assert await upload.read() == b"z" * 5000
    await upload.close()


# --- Markers -------------------------------------------------------------------------------------


class Profile(msgspec.Struct):
    name: str
    age: int


def spec(name: str, annotation: Any, location: str = "form") -> ParamSpec:
    return ParamSpec(name=name, alias=name, location=location, annotation=annotation, required=True)


async def test_form_marker_converts_by_annotation() -> None:
    request = make_request(b"age=42&tags=1&tags=2&name=Ada&flag=true", URLENCODED_TYPE)
    assert await Form().resolve(request, spec("age", int)) == 42
    assert await Form().resolve(request, spec("tags", list[int])) == [1, 2]
    assert await Form().resolve(request, spec("flag", bool)) is True
    assert await Form().resolve(request, spec("missing", str)) is MISSING
    assert await Form().resolve(request, spec("missing", list[str])) is MISSING
    assert await Form().resolve(request, spec("p", Profile)) == Profile("Ada", 42)


async def test_form_marker_bad_value_is_422_with_location() -> None:
    request = make_request(b"age=old", URLENCODED_TYPE)
    with pytest.raises(RequestValidationError) as info:
        await Form().resolve(request, spec("age", int))
    assert info.value.errors[0]["loc"] == ["form", "age"]


async def test_file_marker_returns_uploads_or_bytes() -> None:
    body = multipart(
        fields=[("note", "hi")],
        files=[("doc", "a.txt", b"A", "text/plain"), ("doc", "b.txt", b"B", "text/plain")],
    )
    request = make_request(body, MULTIPART_TYPE)
    uploads = await File().resolve(request, spec("doc", list[UploadFile], "file"))
    assert [u.filename for u in uploads] == ["a.txt", "b.txt"]
    last = await File().resolve(request, spec("doc", UploadFile | None, "file"))
    assert last.filename == "b.txt"
    assert await File().resolve(request, spec("absent", UploadFile, "file")) is MISSING
    with pytest.raises(RequestValidationError, match="Expected a file"):
        await File().resolve(request, spec("note", UploadFile, "file"))
    with pytest.raises(RequestValidationError, match="got a file"):
        await Form().resolve(request, spec("doc", str))


async def test_file_marker_bytes_annotation_reads_content() -> None:
    body = multipart(files=[("doc", "a.txt", b"content", "text/plain")])
    request = make_request(body, MULTIPART_TYPE)
    assert await File().resolve(request, spec("doc", bytes, "file")) == b"content"


def test_markers_have_their_locations() -> None:
    assert Form().location == "form"
    assert File().location == "file"
    assert Form(5).default == 5
    assert File().required


async def test_close_form_and_the_safety_net_close_uploads() -> None:
    body = multipart(files=[("f", "a.txt", b"x", "text/plain")])
    request = make_request(body, MULTIPART_TYPE)
    upload = (await parse_form(request))["f"]
    assert isinstance(upload, UploadFile)
    await close_form(request)
    assert upload.file.closed

    OPEN_REQUESTS.clear()
    dropped = make_request(body, MULTIPART_TYPE)
    OPEN_REQUESTS.clear()  # keep no reference: only the local one below
    orphan = (await parse_form(dropped))["f"]
    assert isinstance(orphan, UploadFile)
    del dropped
    gc.collect()
    assert orphan.file.closed


async def test_request_form_method_uses_parse_form() -> None:
    request = make_request(b"a=1&a=2", URLENCODED_TYPE)
    form = await request.form(FormLimits(max_fields=5))
    assert form.getlist("a") == ["1", "2"]
    assert await parse_form(request) is form
    limited = make_request(b"a=1&b=2&c=3", URLENCODED_TYPE)
    with pytest.raises(FormError):
        await limited.form(FormLimits(max_fields=2))


# --- urlencoded splitting agrees with the standard library ---------------------------------------

# Characters that exercise every rule: separators, blanks, plus signs, escapes valid and not.
_URLENCODED_PIECES = st.sampled_from(
    ["a", "b", "é", "=", "&", "&&", "+", "%20", "%zz", "%", "%C3%A9"]
)


@given(st.lists(_URLENCODED_PIECES, max_size=12).map("".join))
def test_urlencoded_split_matches_parse_qsl(text: str) -> None:
    request = make_request(text.encode(), URLENCODED_TYPE)
    OPEN_REQUESTS.clear()
    try:
        expected = parse_qsl(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:  # an escape that is not UTF-8: the form is a 400
        with pytest.raises(FormError) as info:
            asyncio.run(parse_form(request))
        assert info.value.status_code == 400
        return
    form = asyncio.run(parse_form(request))
    assert form.multi_items() == expected
    for name, _ in expected:
        assert form.getlist(name) == [value for key, value in expected if key == name]


@pytest.mark.parametrize(
    "body",
    [b"a=%FF", b"a=%C3", b"%FF=1", b"a=\xff"],
    ids=["bad-escape-value", "truncated-escape", "bad-escape-name", "raw-bad-utf8"],
)
async def test_urlencoded_invalid_utf8_is_400(body: bytes) -> None:
    assert "UTF-8" in await expect_error(400, body, URLENCODED_TYPE)


async def test_urlencoded_with_charset_parameter_and_form_limit() -> None:
    form = await form_of(b"a=1", URLENCODED_TYPE + "; charset=utf-8")
    assert form["a"] == "1"
    await expect_error(413, [b"a=" + b"x" * 40] * 3, URLENCODED_TYPE, FormLimits(max_size=100))


# --- Uploads are closed by the application once the response is sent --------------------------


async def test_only_forms_with_uploads_are_listed_for_closing() -> None:
    plain = make_request(b"a=1", URLENCODED_TYPE)
    await parse_form(plain)
    assert FORMS_KEY not in plain.scope
    request = make_request(multipart(files=[("f", "a.txt", b"x", "text/plain")]), MULTIPART_TYPE)
    form = await parse_form(request)
    assert request.scope[FORMS_KEY] == [form]
    upload = form["f"]
    assert isinstance(upload, UploadFile) and not upload.file.closed
    await close_forms(request.scope)
    assert upload.file.closed
    assert FORMS_KEY not in request.scope
    await close_forms(request.scope)  # nothing left: a second call does nothing


class PassThrough:
    """A pure ASGI middleware that changes nothing: runs the routes behind a middleware stack."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def noop() -> None:
    """A route-level dependency: sends the route through the general solver."""


@dataclasses.dataclass
class Seen:
    """What the app saw of one request's uploads while it was being handled."""

    requests: list[Request] = dataclasses.field(default_factory=list)  # kept alive on purpose
    uploads: list[UploadFile] = dataclasses.field(default_factory=list)
    open_while_handling: list[bool] = dataclasses.field(default_factory=list)

    def record(self, request: Request, uploads: list[UploadFile]) -> None:
        self.requests.append(request)
        self.uploads.extend(uploads)
        self.open_while_handling.extend(not upload.file.closed for upload in uploads)


def upload_app(way: str, seen: Seen) -> Velocix:
    """Routes that end every way a request can; ``way`` picks the dispatch path."""
    app = Velocix()
    dependencies = [Depends(noop)] if way == "general" else None
    if way == "middleware":
        app.add_middleware(PassThrough)

    @app.post("/ok", dependencies=dependencies)
    async def ok(request: Request, upload: UploadFile = File()) -> dict[str, Any]:
        seen.record(request, [upload])
        return {"size": upload.size}

    @app.post("/stream", dependencies=dependencies)
    async def stream(request: Request, upload: UploadFile = File()) -> StreamingResponse:
        seen.record(request, [upload])

        async def content() -> AsyncIterator[bytes]:
            yield await upload.read()  # still open while the body is sent

        return StreamingResponse(content(), media_type="text/plain")

    @app.post("/conflict", dependencies=dependencies)
    async def conflict(request: Request, upload: UploadFile = File()) -> None:
        seen.record(request, [upload])
        raise HTTPException(409, "taken")

    @app.post("/crash", dependencies=dependencies)
    async def crash(request: Request, upload: UploadFile = File()) -> None:
        seen.record(request, [upload])
        raise RuntimeError("handler failed")

    @app.post("/gone", dependencies=dependencies)
    async def gone(request: Request, upload: UploadFile = File()) -> None:
        seen.record(request, [upload])
        raise ClientDisconnect()  # as reading from a client that left does

    @app.post("/invalid", dependencies=dependencies)
    async def invalid(upload: UploadFile = File(), count: int = Form()) -> None:
        raise AssertionError("not called: count does not validate")

    @app.exception_handler(422)
    async def unprocessable(request: Request, exc: RequestValidationError) -> Response:
        # The handler never ran: the uploads parsed for validation are listed on the scope.
        forms: list[FormData] = request.scope.get(FORMS_KEY, [])
        uploads = [v for form in forms for _, v in form.multi_items() if isinstance(v, UploadFile)]
        seen.record(request, uploads)
        return exc.response()

    return app


UPLOAD_OUTCOMES = {  # path -> (status, body check)
    "/ok": (200, b'{"size":7}'),
    "/stream": (200, b"content"),
    "/conflict": (409, b"taken"),
    "/crash": (500, b"Internal Server Error"),
    "/invalid": (422, b'"loc":["form","count"]'),
}


@pytest.mark.parametrize("path", list(UPLOAD_OUTCOMES))
@pytest.mark.parametrize("way", ["invoker", "general", "middleware"])
def test_uploads_are_closed_right_after_the_response(
    way: str, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the garbage-collection safety net, only the application can close the files.
    monkeypatch.setattr(
        "velocix.forms.parsing.weakref", SimpleNamespace(finalize=lambda *args: None)
    )
    seen = Seen()
    body = multipart(
        fields=[("count", "many")], files=[("upload", "a.txt", b"content", "text/plain")]
    )
    status, expected = UPLOAD_OUTCOMES[path]
    with TestClient(upload_app(way, seen), raise_server_exceptions=False) as client:
        response = client.post(path, content=body, headers={"content-type": MULTIPART_TYPE})
    assert response.status_code == status
    assert expected in response.content
    assert len(seen.uploads) == 1
    assert seen.open_while_handling == [True]
    assert seen.uploads[0].file.closed


@pytest.mark.parametrize("way", ["invoker", "general", "middleware"])
def test_uploads_are_closed_when_the_client_is_gone(
    way: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "velocix.forms.parsing.weakref", SimpleNamespace(finalize=lambda *args: None)
    )
    seen = Seen()
    app = upload_app(way, seen)
    messages = [
        {
            "type": "http.request",
            "body": multipart(files=[("upload", "a.txt", b"content", "text/plain")]),
            "more_body": False,
        },
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/gone",
        "headers": [(b"content-type", MULTIPART_TYPE.encode())],
        "query_string": b"",
    }
    asyncio.run(app(scope, receive, send))
    assert sent == []  # nobody left to answer
    assert seen.open_while_handling == [True]
    assert seen.uploads[0].file.closed


# --- Every form parameter's error in one 422 -----------------------------------------------------


@pytest.mark.parametrize("way", ["invoker", "general"])
def test_every_form_and_file_error_is_reported_in_one_422(way: str) -> None:
    app = Velocix()
    dependencies = [Depends(noop)] if way == "general" else None

    @app.post("/profile", dependencies=dependencies)
    async def profile(
        name: str = Form(),
        age: int = Form(),
        scores: list[int] = Form([]),
        avatar: UploadFile = File(),
        note: str = Form(""),
        page: int = 1,
    ) -> None:
        raise AssertionError("not called: the form does not validate")

    body = multipart(
        fields=[("age", "old"), ("scores", "1"), ("scores", "x"), ("avatar", "text")],
        files=[("note", "n.txt", b"file", "text/plain")],
    )
    with TestClient(app) as client:
        response = client.post(
            "/profile?page=first", content=body, headers={"content-type": MULTIPART_TYPE}
        )
    assert response.status_code == 422
    errors = response.json()["errors"]
    # Parameters in declaration order, query values before form fields (read first).
    assert [error["loc"] for error in errors] == [
        ["query", "page"],
        ["form", "name"],
        ["form", "age"],
        ["form", "scores"],
        ["file", "avatar"],
        ["form", "note"],
    ]
    by_loc = {tuple(error["loc"]): error for error in errors}
    assert by_loc[("form", "name")]["type"] == "missing"
    assert "int" in by_loc[("form", "age")]["msg"]
    assert "Expected a file upload" in by_loc[("file", "avatar")]["msg"]
    assert "got a file" in by_loc[("form", "note")]["msg"]

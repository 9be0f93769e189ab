"""StaticFiles: serving, conditional requests, ranges, and traversal attempts as raw ASGI.

httpx normalises ``..`` out of URLs, so the traversal cases call the app directly with the
exact path a server would put in the scope (after percent-decoding).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
import pytest

from velocix import Velocix
from velocix.staticfiles import StaticFiles, safe_segments

pytestmark = pytest.mark.anyio


class Result:
    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self.status: int = messages[0]["status"]
        self.headers = {k.decode(): v.decode() for k, v in messages[0]["headers"]}
        self.body = b"".join(m.get("body", b"") for m in messages[1:])


async def call(
    app: StaticFiles | Velocix,
    path: str,
    method: str = "GET",
    headers: list[tuple[str, str]] | None = None,
    root_path: str = "",
) -> Result:
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": root_path + path,
        "root_path": root_path,
        "query_string": b"",
        "headers": [(k.encode(), v.encode()) for k, v in headers or []],
    }
    await app(scope, receive, send)
    return Result(messages)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "static"
    (root / "css").mkdir(parents=True)
    (root / "css" / "app.css").write_text("body{}")
    (root / "hello.txt").write_text("hello world")
    (root / "docs").mkdir()
    (root / "docs" / "index.html").write_text("<h1>docs</h1>")
    # Siblings sharing the directory's name as a prefix (CVE-2023-29159 shape).
    (tmp_path / "static_private").mkdir()
    (tmp_path / "static_private" / "secret.txt").write_text("secret")
    (tmp_path / "outside.txt").write_text("outside")
    return root


async def test_serves_file_with_validators(site: Path) -> None:
    result = await call(StaticFiles(directory=site), "/hello.txt")
    assert result.status == 200
    assert result.body == b"hello world"
    assert result.headers["content-type"] == "text/plain; charset=utf-8"
    assert result.headers["content-length"] == "11"
    assert "etag" in result.headers and "last-modified" in result.headers


async def test_conditional_request_gives_304(site: Path) -> None:
    app = StaticFiles(directory=site)
    etag = (await call(app, "/hello.txt")).headers["etag"]
    result = await call(app, "/hello.txt", headers=[("if-none-match", etag)])
    assert result.status == 304
    assert result.body == b""


async def test_range_request_gives_206(site: Path) -> None:
    result = await call(StaticFiles(directory=site), "/hello.txt", headers=[("range", "bytes=6-")])
    assert result.status == 206
    assert result.body == b"world"
    assert result.headers["content-range"] == "bytes 6-10/11"


async def test_mounted_under_root_path(site: Path) -> None:
    result = await call(StaticFiles(directory=site), "/css/app.css", root_path="/static")
    assert result.status == 200
    assert result.body == b"body{}"


async def test_head_has_no_body(site: Path) -> None:
    result = await call(StaticFiles(directory=site), "/hello.txt", method="HEAD")
    assert result.status == 200
    assert result.body == b""
    assert result.headers["content-length"] == "11"


async def test_other_methods_are_405_with_allow(site: Path) -> None:
    result = await call(StaticFiles(directory=site), "/hello.txt", method="POST")
    assert result.status == 405
    assert result.headers["allow"] == "GET, HEAD"
    assert orjson.loads(result.body)["status"] == 405


TRAVERSALS = [
    pytest.param("/../outside.txt", id="dotdot"),
    pytest.param("/css/../../outside.txt", id="nested-dotdot"),
    pytest.param("/../static_private/secret.txt", id="sibling-prefix-cve-2023-29159"),
    pytest.param("/..\\outside.txt", id="backslash"),
    pytest.param("/css\\..\\..\\outside.txt", id="backslashes"),
    pytest.param("/C:\\Windows\\win.ini", id="drive"),
    pytest.param("/c:/outside.txt", id="drive-forward"),
    pytest.param("/\\\\server\\share\\outside.txt", id="unc-cve-2026-48818"),
    pytest.param("/hello.txt\0.png", id="nul"),
    pytest.param("/css/", id="directory"),
    pytest.param("/missing.txt", id="missing"),
]


@pytest.mark.parametrize("path", TRAVERSALS)
async def test_traversal_and_missing_are_404(site: Path, path: str) -> None:
    result = await call(StaticFiles(directory=site), path)
    assert result.status == 404
    assert orjson.loads(result.body) == {"detail": "Not Found", "status": 404}


async def test_absolute_path_stays_inside(site: Path, tmp_path: Path) -> None:
    # "//etc/passwd"-style paths: leading slashes are empty segments, not an absolute path.
    result = await call(StaticFiles(directory=site), "/" + str(tmp_path / "outside.txt"))
    assert result.status == 404


async def test_symlink_leaving_the_root_is_refused(site: Path, tmp_path: Path) -> None:
    os.symlink(tmp_path / "static_private" / "secret.txt", site / "link.txt")
    os.symlink(tmp_path / "static_private", site / "linkdir")
    app = StaticFiles(directory=site)
    assert (await call(app, "/link.txt")).status == 404
    assert (await call(app, "/linkdir/secret.txt")).status == 404
    trusting = StaticFiles(directory=site, follow_symlink=True)
    assert (await call(trusting, "/link.txt")).body == b"secret"


async def test_symlink_inside_the_root_is_served(site: Path) -> None:
    os.symlink(site / "hello.txt", site / "alias.txt")
    assert (await call(StaticFiles(directory=site), "/alias.txt")).body == b"hello world"


async def test_html_mode_index_redirect_and_404_page(site: Path) -> None:
    app = StaticFiles(directory=site, html=True)
    index = await call(app, "/docs/")
    assert index.status == 200
    assert index.body == b"<h1>docs</h1>"
    redirect = await call(app, "/docs", root_path="/static")
    assert redirect.status == 307
    assert redirect.headers["location"] == "/static/docs/"
    assert (await call(app, "/nope")).status == 404
    (site / "404.html").write_text("custom missing")
    page = await call(app, "/nope")
    assert page.status == 404
    assert page.body == b"custom missing"


@pytest.mark.parametrize("path", ["//docs", "///docs", "//./docs", "/.//docs"])
async def test_directory_redirect_stays_on_the_same_origin(site: Path, path: str) -> None:
    # Mounted at "/", GET //docs used to answer Location: //docs/, which a browser reads as
    # the protocol-relative URL of the host "docs": an open redirect.
    # (httpx would read "//docs" as a host, so the scope is built here, as a server sends it.)
    app = Velocix()
    app.mount("/", StaticFiles(directory=site, html=True))
    response = await call(app, path)
    assert response.status == 307
    assert response.headers["location"] == "/docs/"


async def test_directory_redirect_keeps_the_mount_point_and_query(site: Path) -> None:
    app = StaticFiles(directory=site, html=True)
    redirect = await call(app, "//docs", root_path="/static")
    assert redirect.headers["location"] == "/static/docs/"


def test_missing_directory_fails_at_construction(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="does not exist"):
        StaticFiles(directory=tmp_path / "nope")


@pytest.mark.parametrize(
    ("path", "segments"),
    [
        ("/a/b.txt", ["a", "b.txt"]),
        ("//a/./b", ["a", "b"]),
        ("/a/../b", None),
        ("/a\\b", None),
        ("/D:x", None),
        ("/..foo", ["..foo"]),
    ],
)
def test_safe_segments(path: str, segments: list[str] | None) -> None:
    assert safe_segments(path) == segments


async def test_pathological_range_header_cve_2025_62727(site: Path) -> None:
    # Thousands of overlapping ranges made Starlette's range merging quadratic; here several
    # ranges are ignored (RFC 9110 §14.2) and the full file is sent (pytest-timeout guards).
    ranges = "bytes=" + ",".join(f"{i}-{i + 5}" for i in range(20_000))
    result = await call(StaticFiles(directory=site), "/hello.txt", headers=[("range", ranges)])
    assert result.status == 200
    assert result.body == b"hello world"

"""Serve files from a directory: ``app.mount("/static", StaticFiles(directory="static"))``.

Responses come from :class:`~velocix.core.response.FileResponse` (thread-pooled I/O, ETag,
Last-Modified, 304, single ranges). Only ``GET``/``HEAD`` are served (else 405 with
``Allow``); anything not found is a 404 in the framework's error format.

Path safety: the requested path is split into segments and refused (404) if any segment is
``..``, contains a backslash, a NUL or a Windows drive/UNC prefix (``C:``, ``\\\\server``) -
so neither ``/static/../secret`` nor ``%2e%2e``, ``..\\secret``, ``C:\\x`` or ``//host/share``
can leave the directory on any OS (CVE-2023-29159, CVE-2026-48818). The resolved file must lie
inside the directory by path components (``os.path.commonpath``, not a string prefix, so
``/srv/static_private`` is not "inside" ``/srv/static``). Symbolic links are followed only while
they stay inside the directory, unless ``follow_symlink=True`` explicitly trusts links that
point elsewhere.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Sequence
from typing import Any

from velocix.core.concurrency import run_in_threadpool
from velocix.core.exceptions import error_response
from velocix.core.response import FileResponse, RedirectResponse, Response
from velocix.core.routing import route_path
from velocix.http.datastructures import Scope

__all__ = ["StaticFiles"]

Receive = Any
Send = Any

_DRIVE = re.compile(r"^[A-Za-z]:")
_ALLOW = {"Allow": "GET, HEAD"}


def safe_segments(path: str) -> list[str] | None:
    """The path's segments, or ``None`` when any segment could escape the directory."""
    segments: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == ".." or "\\" in segment or "\0" in segment or _DRIVE.match(segment):
            return None
        segments.append(segment)
    return segments


def _is_inside(path: str, root: str) -> bool:
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:  # different drives on Windows
        return False


class StaticFiles:
    """An ASGI app serving the files under ``directory``.

    ``html=True`` serves ``index.html`` for directories (redirecting ``/dir`` to ``/dir/``) and
    ``404.html``, when present, for missing files. ``check_dir`` refuses a missing directory at
    construction.
    """

    def __init__(
        self,
        *,
        directory: str | os.PathLike[str],
        html: bool = False,
        follow_symlink: bool = False,
        check_dir: bool = True,
    ) -> None:
        self.directory = os.path.abspath(directory)
        self.root = os.path.realpath(self.directory)
        if check_dir and not os.path.isdir(self.root):
            raise RuntimeError(f"StaticFiles directory {os.fspath(directory)!r} does not exist")
        self.html = html
        self.follow_symlink = follow_symlink

    def lookup(self, segments: Sequence[str]) -> tuple[str, os.stat_result] | None:
        """Find the file for ``segments`` inside the directory (blocking: call in a thread)."""
        joined = os.path.join(self.directory, *segments)
        if self.follow_symlink:
            candidate = os.path.abspath(joined)
            inside = _is_inside(candidate, self.directory)
        else:
            candidate = os.path.realpath(joined)
            inside = _is_inside(candidate, self.root)
        if not inside:
            return None
        try:
            return candidate, os.stat(candidate)
        except (OSError, ValueError):
            return None

    def _find(self, segments: list[str]) -> tuple[str, str, os.stat_result] | None:
        """``(kind, path, stat)`` with kind "file", "index" or "redirect" (blocking)."""
        found = self.lookup(segments)
        if found is not None and stat.S_ISREG(found[1].st_mode):
            return "file", *found
        if found is not None and self.html and stat.S_ISDIR(found[1].st_mode):
            index = self.lookup([*segments, "index.html"])
            if index is not None and stat.S_ISREG(index[1].st_mode):
                return "index", *index
        return None

    def _not_found_page(self) -> tuple[str, os.stat_result] | None:
        found = self.lookup(["404.html"]) if self.html else None
        return found if found is not None and stat.S_ISREG(found[1].st_mode) else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http", "StaticFiles only serves HTTP requests"
        response = await self.get_response(scope)
        await response(scope, receive, send)

    async def get_response(self, scope: Scope) -> Response:
        """The response for the request in ``scope``."""
        if scope["method"] not in ("GET", "HEAD"):
            return error_response(405, headers=_ALLOW)
        path = route_path(scope)
        segments = safe_segments(path)
        if segments is None:
            return error_response(404)
        found = await run_in_threadpool(self._find, segments)
        if found is not None:
            kind, file_path, stat_result = found
            if kind == "index" and not path.endswith("/"):
                return RedirectResponse(_with_slash(scope, segments), status_code=307)
            return FileResponse(file_path, stat_result=stat_result)
        page = await run_in_threadpool(self._not_found_page)
        if page is not None:
            return FileResponse(page[0], status_code=404, stat_result=page[1])
        return error_response(404)


def _with_slash(scope: Scope, segments: list[str]) -> str:
    """The directory's URL with a trailing slash, always a path on this origin.

    Built from the checked segments, not from the raw path: ``GET //sub`` must not answer
    ``Location: //sub/``, which a browser reads as the protocol-relative URL of host ``sub``
    (an open redirect). Empty and ``.`` segments are dropped on the way.
    """
    root_path: str = scope.get("root_path", "")
    path = "/" + "/".join([*root_path.split("/"), *segments, ""]).lstrip("/")
    query: bytes = scope.get("query_string", b"")
    return path + ("?" + query.decode("latin-1") if query else "")

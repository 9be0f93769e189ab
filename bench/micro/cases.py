"""The micro benchmark cases: one request each and the exact response it must produce."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.frameworks import Capability, Target

__all__ = ["CASES", "MicroCase", "case_ids"]


@dataclass(frozen=True, slots=True)
class MicroCase:
    """One request of the app contract and its expected response.

    ``expected_json`` is compared as a parsed value on the first call (frameworks format JSON
    differently); ``expected_text`` as bytes. Every timed call is then compared byte for byte
    with that first, checked response.
    """

    name: str
    method: str
    path: str
    query: bytes = b""
    body: bytes = b""
    headers: tuple[tuple[bytes, bytes], ...] = ()
    status: int = 200
    content_type: str = "application/json"
    expected_json: Any = None
    expected_text: bytes | None = None
    description: str = field(default="", compare=False)
    # Which of the framework's apps serves the case (:func:`bench.frameworks.load`): the
    # contract's ``app``, ``app_mw`` (the middleware stack) or ``forms`` (the form app, outside
    # the contract); ``requires`` is the capability a framework needs for the case to apply.
    target: Target = "app"
    requires: Capability | None = None


CASES: tuple[MicroCase, ...] = (
    MicroCase(
        name="plaintext",
        method="GET",
        path="/plaintext",
        content_type="text/plain",
        expected_text=b"Hello, World!",
        description="GET /plaintext",
    ),
    MicroCase(
        name="json",
        method="GET",
        path="/json",
        expected_json={"message": "Hello, World!"},
        description="GET /json",
    ),
    MicroCase(
        name="path",
        method="GET",
        path="/users/12345",
        expected_json={"user_id": 12345},
        description="GET /users/{id}",
    ),
    MicroCase(
        name="query",
        method="GET",
        path="/search",
        query=b"q=velocix&page=3&size=25",
        expected_json={"q": "velocix", "page": 3, "size": 25},
        description="GET /search?q=&page=&size=",
    ),
    MicroCase(
        name="body",
        method="POST",
        path="/items",
        body=b'{"name":"widget","price":9.5,"tags":["a","b"]}',
        headers=((b"content-type", b"application/json"),),
        expected_json={"name": "widget", "price": 9.5, "tags": ["a", "b"]},
        description="POST /items (validated JSON)",
    ),
    MicroCase(
        name="middleware",
        method="GET",
        path="/json",
        headers=((b"origin", b"https://example.com"), (b"accept-encoding", b"gzip, br")),
        expected_json={"message": "Hello, World!"},
        description="GET /json, CORS+GZip+ReqID",
        target="app_mw",
    ),
    MicroCase(
        name="form",
        method="POST",
        path="/form",
        body=b"name=widget&age=7&tags=a&tags=b",
        headers=((b"content-type", b"application/x-www-form-urlencoded"),),
        expected_json={"name": "widget", "age": 7, "tags": ["a", "b"]},
        description="POST /form (urlencoded)",
        target="forms",
        requires="forms",
    ),
)


def case_ids() -> list[str]:
    """Case names in table order."""
    return [case.name for case in CASES]

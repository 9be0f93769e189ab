"""Scope checks: each malformed scope is flagged by its rule; a good scope by none."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conformance import validate
from conformance.inprocess import http_call, http_scope, websocket_scope
from conformance.validator.scope import mutations, snapshot

Edit = Callable[[dict[str, Any]], None]


def _set(key: str, value: Any) -> Edit:
    return lambda scope: scope.__setitem__(key, value)


BAD_SCOPES: list[tuple[str, Edit, str]] = [
    ("port-as-str", _set("client", ["127.0.0.1", "5000"]), "scope.address"),
    ("server-not-pair", _set("server", ["127.0.0.1"]), "scope.address"),
    ("http-version-1", _set("http_version", "1"), "scope.http-version"),
    ("lowercase-method", _set("method", "get"), "scope.method"),
    ("empty-scheme", _set("scheme", ""), "scope.scheme"),
    ("path-bytes", _set("path", b"/"), "scope.path"),
    ("raw-path-with-query", _set("raw_path", b"/?a=1"), "scope.raw-path"),
    ("raw-path-mismatch", _set("raw_path", b"/other"), "scope.path"),
    ("root-path-not-prefix", _set("root_path", "/api"), "scope.root-path"),
    ("query-string-str", _set("query_string", "a=1"), "scope.query-string"),
    ("header-str", _set("headers", [["host", "x"]]), "scope.headers"),
    ("pseudo-header", _set("headers", [[b":authority", b"x"]]), "scope.headers"),
    ("uppercase-header", _set("headers", [[b"Host", b"x"]]), "scope.headers.case"),
    ("asgi-version", _set("asgi", {"version": "2.0"}), "scope.asgi"),
    (
        "spec-version-number",
        _set("asgi", {"version": "3.0", "spec_version": 2.3}),
        "scope.spec-version",
    ),
    ("state-list", _set("state", []), "scope.state"),
    ("extensions-not-dicts", _set("extensions", {"x": True}), "scope.extensions"),
]


async def ok_app(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


@pytest.mark.parametrize(
    ("edit", "rule"), [(e, r) for _, e, r in BAD_SCOPES], ids=[name for name, _, _ in BAD_SCOPES]
)
@pytest.mark.anyio
async def test_bad_scope_is_flagged(edit: Edit, rule: str) -> None:
    scope = http_scope("GET", "/")
    edit(scope)
    wrapped = validate(ok_app, strict=False)
    await http_call(wrapped, scope)
    assert rule in wrapped.rules_violated()


@pytest.mark.anyio
async def test_good_scopes_pass() -> None:
    wrapped = validate(ok_app, strict=False)
    await http_call(
        wrapped, http_scope("GET", "/caf%C3%A9".replace("%C3%A9", "é"), raw_path=b"/caf%C3%A9")
    )
    await http_call(wrapped, http_scope("GET", "/api/x", root_path="/api"))
    assert wrapped.violations == []


def test_websocket_subprotocols_must_be_strings() -> None:
    from conformance.validator.report import Reporter
    from conformance.validator.scope import check_scope

    found: list[str] = []
    scope = websocket_scope("/ws")
    scope["subprotocols"] = "chat"
    check_scope(scope, Reporter(lambda v: found.append(v.rule), strict=False))
    assert found == ["scope.subprotocols"]


def test_mutation_detection_ignores_state_contents() -> None:
    scope = http_scope(state={"a": 1})
    before = snapshot(scope)
    scope["state"]["b"] = 2  # the app's own namespace: allowed
    assert mutations(before, scope) == []
    scope["path"] = "/changed"
    scope["extra"] = 1
    assert mutations(before, scope) == ["+extra", "~path"]

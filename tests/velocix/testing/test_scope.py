"""Scope construction from httpx requests."""

from __future__ import annotations

import httpx
import pytest

from velocix.testing.scope import http_scope, request_headers, websocket_scope


def _http(url: str, root_path: str = "", **kwargs: object) -> dict[str, object]:
    request = httpx.Request("GET", url, **kwargs)  # type: ignore[arg-type]
    return dict(http_scope(request, root_path=root_path, client=("c", 1), state={"k": []}))


@pytest.mark.parametrize(
    ("url", "root_path", "path", "raw_path"),
    [
        pytest.param("http://t/a/b", "", "/a/b", b"/a/b", id="plain"),
        pytest.param("http://t/%E2%82%AC?x=1", "", "/€", b"/%E2%82%AC", id="utf8-decoded"),
        pytest.param("http://t/api", "/api", "/api", b"/api", id="root-itself"),
        pytest.param("http://t/api/x", "/api", "/api/x", b"/api/x", id="already-prefixed"),
        pytest.param("http://t/x", "/api", "/api/x", b"/api/x", id="prefix-added"),
        pytest.param("http://t/apix", "/api", "/api/apix", b"/api/apix", id="not-a-segment"),
        pytest.param("http://t/a b", "/my app", "/my app/a b", b"/my%20app/a%20b", id="quoted"),
    ],
)
def test_paths(url: str, root_path: str, path: str, raw_path: bytes) -> None:
    scope = _http(url, root_path)
    assert scope["path"] == path
    assert scope["raw_path"] == raw_path
    assert scope["root_path"] == root_path


def test_state_is_copied_shallowly() -> None:
    state: dict[str, object] = {"shared": []}
    request = httpx.Request("GET", "http://t/")
    scope = http_scope(request, root_path="", client=None, state=state)
    assert scope["state"] == state
    assert scope["state"] is not state
    assert scope["state"]["shared"] is state["shared"]


def test_asgi_dict_is_not_shared_between_scopes() -> None:
    first, second = _http("http://t/"), _http("http://t/")
    assert first["asgi"] == second["asgi"]
    assert first["asgi"] is not second["asgi"]


@pytest.mark.parametrize(
    ("url", "server"),
    [
        ("http://t/", ("t", 80)),
        ("https://t/", ("t", 443)),
        ("http://t:8000/", ("t", 8000)),
    ],
)
def test_server_port_defaults_by_scheme(url: str, server: tuple[str, int]) -> None:
    assert _http(url)["server"] == server


def test_request_headers_are_lowercased_in_order() -> None:
    request = httpx.Request("GET", "http://t/", headers=[("X-B", "1"), ("x-a", "2"), ("X-B", "3")])
    assert request_headers(request) == [
        (b"host", b"t"),
        (b"x-b", b"1"),
        (b"x-a", b"2"),
        (b"x-b", b"3"),
    ]


@pytest.mark.parametrize(
    ("header_values", "subprotocols"),
    [
        ([], []),
        (["chat"], ["chat"]),
        (["a, b", "c"], ["a", "b", "c"]),
        ([" a ,, b "], ["a", "b"]),
    ],
)
def test_websocket_subprotocols_are_split_on_commas(
    header_values: list[str], subprotocols: list[str]
) -> None:
    headers = [("sec-websocket-protocol", value) for value in header_values]
    request = httpx.Request("GET", "ws://t/ws", headers=headers)
    scope = websocket_scope(request, root_path="", client=None, state={})
    assert scope["subprotocols"] == subprotocols
    assert scope["scheme"] == "ws"

"""velocix.http.datastructures: headers, query params, URL, Address, State."""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import parse_qsl

import pytest

from velocix.http.datastructures import (
    URL,
    Address,
    Headers,
    MutableHeaders,
    QueryParams,
    State,
    encode_header,
    parse_query_string,
)


def make_scope(**overrides: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http",
        "scheme": "http",
        "path": "/items",
        "query_string": b"",
        "headers": [(b"host", b"example.com")],
        "server": ("10.0.0.1", 8000),
    }
    scope.update(overrides)
    return scope


# --- Headers ----------------------------------------------------------------------------------

RAW = [
    (b"host", b"example.com"),
    (b"accept", b"text/html"),
    (b"x-tag", b"a"),
    (b"x-tag", b"b"),
]


def test_headers_lookup_is_case_insensitive_and_returns_first() -> None:
    headers = Headers(raw=list(RAW))
    assert headers["Host"] == "example.com"
    assert headers["X-TAG"] == "a"
    assert headers.get("missing") is None
    assert headers.get("missing", "d") == "d"
    assert "ACCEPT" in headers
    assert "nope" not in headers
    assert not headers.__contains__(3)
    with pytest.raises(KeyError):
        headers["nope"]


def test_repeated_headers_are_kept() -> None:
    """Seed defect: repeated headers collapsed into one."""
    headers = Headers(raw=list(RAW))
    assert headers.getlist("x-tag") == ["a", "b"]
    assert headers.getlist("absent") == []
    assert headers.multi_items()[-2:] == [("x-tag", "a"), ("x-tag", "b")]


def test_headers_iterate_distinct_names() -> None:
    headers = Headers(raw=list(RAW))
    assert list(headers) == ["host", "accept", "x-tag"]
    assert len(headers) == 3
    assert dict(headers.items())["x-tag"] == "a"


def test_headers_from_scope_and_mapping() -> None:
    assert Headers(scope=make_scope())["host"] == "example.com"
    headers = Headers({"Content-Type": "text/plain"})
    assert headers.raw == [(b"content-type", b"text/plain")]
    assert Headers().raw == []


def test_headers_from_scope_accepts_any_iterable_of_pairs() -> None:
    scope = make_scope(headers=((b"a", b"1"), [b"b", b"2"]))
    assert Headers(scope=scope).multi_items() == [("a", "1"), ("b", "2")]


def test_headers_equality_and_repr() -> None:
    assert Headers(raw=[(b"a", b"1"), (b"b", b"2")]) == Headers(raw=[(b"b", b"2"), (b"a", b"1")])
    assert Headers(raw=[(b"a", b"1")]) != Headers(raw=[(b"a", b"2")])
    assert Headers(raw=[(b"a", b"1")]).__eq__({"a": "1"}) is NotImplemented
    assert "('a', '1')" in repr(Headers(raw=[(b"a", b"1")]))


def test_lookup_table_is_built_lazily() -> None:
    headers = Headers(raw=list(RAW))
    assert headers._lookup is None
    headers.get("host")
    assert headers._lookup is not None


def test_mutable_headers_edit_the_raw_list() -> None:
    raw: list[tuple[bytes, bytes]] = [(b"x-a", b"1"), (b"x-b", b"2"), (b"x-a", b"3")]
    headers = MutableHeaders(raw=raw)
    headers["X-A"] = "9"
    assert raw == [(b"x-a", b"9"), (b"x-b", b"2")]
    headers.append("x-b", "4")
    assert headers.getlist("x-b") == ["2", "4"]
    del headers["x-b"]
    assert raw == [(b"x-a", b"9")]
    headers["new"] = "v"
    assert raw[-1] == (b"new", b"v")
    with pytest.raises(KeyError):
        del headers["x-b"]


def test_mutable_headers_see_direct_list_edits() -> None:
    raw: list[tuple[bytes, bytes]] = []
    headers = MutableHeaders(raw=raw)
    assert headers.get("set-cookie") is None
    raw.append((b"set-cookie", b"a=1"))
    assert headers.get("set-cookie") == "a=1"


def test_mutable_headers_mapping_methods() -> None:
    headers = MutableHeaders()
    headers.update({"a": "1", "b": "2"})
    assert headers.setdefault("a", "x") == "1"
    assert headers.pop("b") == "2"
    assert headers.raw == [(b"a", b"1")]


def test_mutable_headers_over_scope_write_back() -> None:
    scope = make_scope(headers=((b"host", b"h"),))
    MutableHeaders(scope=scope).append("x-forwarded-for", "1.2.3.4")
    assert scope["headers"] == [(b"host", b"h"), (b"x-forwarded-for", b"1.2.3.4")]


def test_mutablecopy_is_independent() -> None:
    original = Headers(raw=[(b"a", b"1")])
    mutable = original.mutablecopy()
    mutable["a"] = "2"
    assert original["a"] == "1"
    assert mutable["a"] == "2"


@pytest.mark.parametrize(
    ("existing", "added", "expected"),
    [
        (None, "Origin", "Origin"),
        ("Accept-Encoding", "Origin", "Accept-Encoding, Origin"),
        ("Origin", "origin", "Origin"),
    ],
)
def test_add_vary_header(existing: str | None, added: str, expected: str) -> None:
    headers = MutableHeaders()
    if existing is not None:
        headers["vary"] = existing
    headers.add_vary_header(added)
    assert headers["vary"] == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("x-a", "v\r\nset-cookie: evil=1", id="crlf-injection"),
        pytest.param("x-a", "v\n", id="lf"),
        pytest.param("x-a", "v\x00", id="nul"),
        pytest.param("bad name", "v", id="space-in-name"),
        pytest.param("x:y", "v", id="colon-in-name"),
        pytest.param("", "v", id="empty-name"),
        pytest.param("x-a", "\u2603", id="not-latin-1"),
    ],
)
def test_invalid_headers_are_rejected(name: str, value: str) -> None:
    with pytest.raises(ValueError, match="header"):
        encode_header(name, value)
    with pytest.raises(ValueError):
        MutableHeaders()[name] = value


def test_encode_header_lowercases_name() -> None:
    assert encode_header("X-Request-ID", "café") == (b"x-request-id", "café".encode("latin-1"))


# --- QueryParams ------------------------------------------------------------------------------


def test_repeated_query_keys_are_kept() -> None:
    """Seed defect: query_params kept only the first value."""
    params = QueryParams(b"tag=a&tag=b&page=2")
    assert params.getlist("tag") == ["a", "b"]
    assert params["tag"] == "b"  # documented: last value wins for single access
    assert params.get("page") == "2"
    assert params.multi_items() == [("tag", "a"), ("tag", "b"), ("page", "2")]
    assert list(params) == ["tag", "page"]
    assert len(params) == 2


def test_query_params_blank_values_and_decoding() -> None:
    params = QueryParams(b"a=&b=%C3%A9t%C3%A9&c=x+y&d")
    assert params["a"] == ""
    assert params["b"] == "été"
    assert params["c"] == "x y"
    assert params["d"] == ""
    assert "zz" not in params
    assert params.get("zz", "default") == "default"


def test_query_params_parse_lazily() -> None:
    params = QueryParams(b"a=1")
    assert params._list is None
    assert params["a"] == "1"
    assert params._list == [("a", "1")]


def test_query_params_other_sources_and_str() -> None:
    assert QueryParams("a=1&a=2").getlist("a") == ["1", "2"]
    assert QueryParams({"a": "1"})["a"] == "1"
    assert QueryParams([("a", "1"), ("a", "2")]).getlist("a") == ["1", "2"]
    assert QueryParams().multi_items() == []
    assert str(QueryParams([("q", "a b"), ("q", "&")])) == "q=a+b&q=%26"
    assert QueryParams("a=1&b=2") == QueryParams("b=2&a=1")
    assert QueryParams("a=1").__eq__("a=1") is NotImplemented
    assert repr(QueryParams("a=1")) == "QueryParams('a=1')"


def test_query_params_tolerate_raw_utf8() -> None:
    assert QueryParams("q=é".encode())["q"] == "é"


def test_query_params_is_linear_on_many_keys() -> None:
    params = QueryParams(b"&".join(b"k=%d" % i for i in range(10_000)))
    assert len(params.getlist("k")) == 10_000


# --- URL --------------------------------------------------------------------------------------


def test_url_from_scope_uses_host_header() -> None:
    url = URL(scope=make_scope(query_string=b"a=1"))
    assert str(url) == "http://example.com/items?a=1"
    assert (url.scheme, url.netloc, url.path, url.query) == ("http", "example.com", "/items", "a=1")
    assert url.hostname == "example.com"
    assert url.port is None
    assert not url.is_secure


def test_url_from_scope_falls_back_to_server() -> None:
    assert str(URL(scope=make_scope(headers=[]))) == "http://10.0.0.1:8000/items"
    scope = make_scope(headers=[], scheme="https", server=("::1", 443))
    assert str(URL(scope=scope)) == "https://[::1]/items"
    assert str(URL(scope=make_scope(headers=[], server=None))) == "/items"


def test_url_ignores_malformed_host_header() -> None:
    scope = make_scope(headers=[(b"host", b"evil.com/path?x")])
    assert str(URL(scope=scope)) == "http://10.0.0.1:8000/items"


def test_url_escapes_path_delimiters() -> None:
    scope = make_scope(path="/a?b#c\\d")
    assert URL(scope=scope).path == "/a%3Fb%23c%5Cd"
    assert str(URL(scope=make_scope(headers=[], server=None, path="//x"))) == "/%2Fx"


def test_url_replace_and_query_helpers() -> None:
    url = URL("https://user:pw@example.com:8443/p?a=1&b=2#frag")
    assert (url.username, url.password, url.port, url.fragment) == ("user", "pw", 8443, "frag")
    assert url.is_secure
    assert str(url.replace(path="/q")) == "https://user:pw@example.com:8443/q?a=1&b=2#frag"
    assert str(url.replace(port=None)) == "https://user:pw@example.com/p?a=1&b=2#frag"
    assert str(url.replace(hostname="::1")) == "https://user:pw@[::1]:8443/p?a=1&b=2#frag"
    assert (
        str(url.replace(username=None, password=None)) == "https://example.com:8443/p?a=1&b=2#frag"
    )
    assert url.include_query_params(a=3).query == "b=2&a=3"
    assert url.remove_query_params("a").query == "b=2"
    assert url.remove_query_params(["a", "b"]).query == ""
    assert "********" in repr(url)
    assert "pw" not in repr(url)


def test_url_replace_keeps_ipv6_host() -> None:
    assert str(URL("http://[::1]:80/").replace(port=81)) == "http://[::1]:81/"


def test_url_from_components_and_equality() -> None:
    url = URL(scheme="https", netloc="example.com", path="/x")
    assert url == "https://example.com/x"
    assert url == URL("https://example.com/x")
    assert hash(url) == hash(URL("https://example.com/x"))
    assert url.__eq__(3) is NotImplemented
    with pytest.raises(ValueError):
        URL("http://x", scope=make_scope())
    with pytest.raises(ValueError):
        URL("http://x", path="/")


# --- Address, State ---------------------------------------------------------------------------


def test_address_is_a_named_tuple() -> None:
    address = Address("1.2.3.4", 5)
    assert address.host == "1.2.3.4"
    assert address.port == 5
    assert tuple(address) == ("1.2.3.4", 5)


def test_state_is_an_attribute_bag_over_a_dict() -> None:
    backing: dict[str, Any] = {}
    state = State(backing)
    state.db = "conn"
    assert backing == {"db": "conn"}
    assert state.db == "conn"
    assert "db" in state
    del state.db
    assert "db" not in state
    with pytest.raises(AttributeError, match="no attribute 'db'"):
        state.db  # noqa: B018
    with pytest.raises(AttributeError):
        del state.db


def test_state_copy_is_shallow() -> None:
    shared: list[int] = []
    state = State({"items": shared})
    per_request = state.copy()
    per_request.user = "alice"
    per_request.items.append(1)
    assert "user" not in state
    assert state.items == [1]
    assert repr(State({"a": 1})) == "State({'a': 1})"


def test_state_survives_copy_module() -> None:
    state = State({"a": 1})
    clone = copy.copy(state)
    assert clone.a == 1


@pytest.mark.parametrize(
    "query",
    [
        "",
        "a=1&b=2",
        "a=1&a=2&a=",
        "a&b=&=c&&",
        "q=a+b%20c&x=%2B%26%3D",
        "n%C3%A4me=v%C3%A4lue",
        "bad=%ZZ&trunc=%E2%82",
        "eq=a=b=c",
        ";semi=1;x",
        "+=+",
    ],
)
def test_parse_query_string_matches_parse_qsl(query: str) -> None:
    assert parse_query_string(query) == parse_qsl(query, keep_blank_values=True)

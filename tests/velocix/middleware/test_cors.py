"""CORSMiddleware: preflights for every path, Vary: Origin, no origin reflection leaks."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from velocix.middleware import CORSMiddleware

pytestmark = pytest.mark.anyio


async def plain_app(scope: Any, receive: Any, send: Any) -> None:
    """A GET-only endpoint: any other method is 405 (as a router would answer)."""
    status = 200 if scope["method"] in ("GET", "HEAD") else 405
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"2")],
        }
    )
    await send({"type": "http.response.body", "body": b"ok"})


def cors(**options: Any) -> CORSMiddleware:
    return CORSMiddleware(plain_app, **options)


async def test_wildcard_with_credentials_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="allow_credentials"):
        cors(allow_origins=["*"], allow_credentials=True)


async def test_wildcard_answers_star_never_the_origin(asgi: Any) -> None:
    app = cors(allow_origins=["*"])
    result = await asgi(app, headers=[("origin", "https://evil.example")])
    assert result.status == 200
    assert result.header("access-control-allow-origin") == "*"
    assert result.header("access-control-allow-credentials") is None


async def test_allowed_origin_is_echoed_with_vary(asgi: Any) -> None:
    app = cors(
        allow_origins=["https://example.com"], allow_credentials=True, expose_headers=["X-Total"]
    )
    result = await asgi(app, headers=[("origin", "https://example.com")])
    assert result.header("access-control-allow-origin") == "https://example.com"
    assert result.header("access-control-allow-credentials") == "true"
    assert result.header("access-control-expose-headers") == "X-Total"
    assert result.header("vary") == "Origin"
    assert result.body == b"ok"


async def test_disallowed_origin_gets_no_cors_headers(asgi: Any) -> None:
    app = cors(allow_origins=["https://example.com"], allow_credentials=True)
    result = await asgi(app, headers=[("origin", "https://evil.example")])
    assert result.status == 200
    assert result.header("access-control-allow-origin") is None
    assert result.header("access-control-allow-credentials") is None
    assert result.header("vary") == "Origin"


async def test_vary_origin_even_without_origin_header(asgi: Any) -> None:
    # A cache must not serve an Origin-less response to a cross-origin request (Fetch §3.2.5).
    result = await asgi(cors(allow_origins=["https://example.com"]))
    assert result.header("vary") == "Origin"
    assert result.header("access-control-allow-origin") is None


async def test_vary_is_merged_with_the_app_vary(asgi: Any) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"vary", b"Accept-Encoding")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    middleware = CORSMiddleware(app, allow_origins=["https://a.example"])
    result = await asgi(middleware, headers=[("origin", "https://a.example")])
    assert result.header_values("vary") == ["Accept-Encoding, Origin"]


async def test_preflight_is_answered_for_a_get_only_route(asgi: Any) -> None:
    app = cors(
        allow_origins=["https://example.com"],
        allow_methods=["GET", "POST"],
        allow_headers=["X-Token"],
        max_age=1234,
    )
    result = await asgi(
        app,
        method="OPTIONS",
        path="/only-get",
        headers=[
            ("origin", "https://example.com"),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "x-token, content-type"),
        ],
    )
    assert result.status == 200
    assert result.header("access-control-allow-origin") == "https://example.com"
    assert result.header("access-control-allow-methods") == "GET, POST"
    assert result.header("access-control-allow-headers") == "content-type, x-token"
    assert result.header("access-control-max-age") == "1234"
    assert result.header("vary") == "Origin"
    assert result.body == b""


async def test_preflight_for_unknown_path_still_answered(asgi: Any) -> None:
    async def not_found(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = CORSMiddleware(not_found, allow_origins=["https://example.com"])
    result = await asgi(
        app,
        method="OPTIONS",
        path="/nope",
        headers=[("origin", "https://example.com"), ("access-control-request-method", "GET")],
    )
    assert result.status == 200


@pytest.mark.parametrize(
    ("origin", "method", "request_headers", "problem"),
    [
        pytest.param("https://evil.example", "GET", "", "origin", id="origin"),
        pytest.param("https://example.com", "DELETE", "", "method", id="method"),
        pytest.param("https://example.com", "GET", "x-secret", "headers", id="headers"),
    ],
)
async def test_rejected_preflight_is_400_with_error_body(
    asgi: Any, origin: str, method: str, request_headers: str, problem: str
) -> None:
    app = cors(allow_origins=["https://example.com"], allow_methods=["GET"], allow_credentials=True)
    headers = [("origin", origin), ("access-control-request-method", method)]
    if request_headers:
        headers.append(("access-control-request-headers", request_headers))
    result = await asgi(app, method="OPTIONS", headers=headers)
    assert result.status == 400
    body = orjson.loads(result.body)
    assert body["status"] == 400
    assert problem in body["detail"]
    # A refused preflight grants nothing, credentials least of all.
    granted = [name for name, _ in result.headers if name.startswith(b"access-control-")]
    assert granted == []
    assert result.header("access-control-allow-credentials") is None
    assert result.header("vary") == "Origin"


async def test_all_headers_with_credentials_echoes_requested_names(asgi: Any) -> None:
    app = cors(
        allow_origins=["https://example.com"],
        allow_headers=["*"],
        allow_credentials=True,
        allow_methods=["*"],
    )
    result = await asgi(
        app,
        method="OPTIONS",
        headers=[
            ("origin", "https://example.com"),
            ("access-control-request-method", "PATCH"),
            ("access-control-request-headers", "X-Anything"),
        ],
    )
    assert result.status == 200
    assert result.header("access-control-allow-headers") == "x-anything"
    assert "PATCH" in (result.header("access-control-allow-methods") or "")


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        pytest.param("https://api.example.com", True, id="subdomain"),
        pytest.param("https://example.com", False, id="bare-domain"),
        pytest.param("https://api.example.com.evil.net", False, id="suffix-attack"),
        pytest.param("http://api.example.com", False, id="wrong-scheme"),
    ],
)
async def test_origin_regex_must_match_fully(asgi: Any, origin: str, allowed: bool) -> None:
    app = cors(allow_origin_regex=r"https://[a-z]+\.example\.com", allow_credentials=True)
    result = await asgi(app, headers=[("origin", origin)])
    assert (result.header("access-control-allow-origin") == origin) is allowed


async def test_options_without_request_method_is_not_a_preflight(asgi: Any) -> None:
    app = cors(allow_origins=["https://example.com"])
    result = await asgi(app, method="OPTIONS", headers=[("origin", "https://example.com")])
    assert result.status == 405  # Passed to the app, with CORS headers added.
    assert result.header("access-control-allow-origin") == "https://example.com"


async def test_non_http_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    await CORSMiddleware(app, allow_origins=["*"])({"type": "lifespan"}, None, None)
    assert seen == ["lifespan"]

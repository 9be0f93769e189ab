"""SecurityHeadersMiddleware: defaults, options, app-set headers win, bad values refused."""

from __future__ import annotations

from typing import Any

import pytest

from velocix.middleware import SecurityHeadersMiddleware

pytestmark = pytest.mark.anyio


def app_with(headers: list[tuple[bytes, bytes]]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    return app


async def test_defaults(asgi: Any) -> None:
    result = await asgi(SecurityHeadersMiddleware(app_with([])))
    assert result.header("x-content-type-options") == "nosniff"
    assert result.header("referrer-policy") == "strict-origin-when-cross-origin"
    assert result.header("x-frame-options") == "DENY"
    assert result.header("strict-transport-security") is None
    assert result.header("content-security-policy") is None


async def test_optional_headers(asgi: Any) -> None:
    middleware = SecurityHeadersMiddleware(
        app_with([]),
        hsts_max_age=31_536_000,
        hsts_preload=True,
        content_security_policy="default-src 'self'",
        permissions_policy="camera=()",
        cross_origin_opener_policy="same-origin",
        frame_options="sameorigin",
    )
    result = await asgi(middleware)
    assert result.header("strict-transport-security") == (
        "max-age=31536000; includeSubDomains; preload"
    )
    assert result.header("content-security-policy") == "default-src 'self'"
    assert result.header("permissions-policy") == "camera=()"
    assert result.header("cross-origin-opener-policy") == "same-origin"
    assert result.header("x-frame-options") == "SAMEORIGIN"


async def test_app_set_header_is_kept(asgi: Any) -> None:
    result = await asgi(SecurityHeadersMiddleware(app_with([(b"X-Frame-Options", b"SAMEORIGIN")])))
    assert result.header_values("x-frame-options") == ["SAMEORIGIN"]


@pytest.mark.parametrize(
    ("options", "match"),
    [
        pytest.param({"frame_options": "ALLOW-FROM x"}, "frame_options", id="frame"),
        pytest.param({"content_security_policy": "a\r\nb"}, "CR", id="crlf"),
        pytest.param({"hsts_max_age": 60, "hsts_preload": True}, "preload", id="preload"),
        pytest.param({"hsts_max_age": -1}, "hsts_max_age", id="negative"),
    ],
)
def test_bad_options_fail_at_construction(options: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        SecurityHeadersMiddleware(app_with([]), **options)

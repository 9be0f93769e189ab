"""HTTPBasic and HTTPBearer: credentials, 401 challenges, auto_error=False."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from velocix.core.exceptions import HTTPException
from velocix.core.request import Request
from velocix.security import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)

pytestmark = pytest.mark.anyio


def request_with(authorization: str | None) -> Request:
    headers = [(b"authorization", authorization.encode())] if authorization is not None else []
    return Request(
        {"type": "http", "method": "GET", "path": "/", "headers": headers, "query_string": b""}
    )


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


async def expect_401(dependency: Any, authorization: str | None) -> HTTPException:
    with pytest.raises(HTTPException) as info:
        await dependency(request_with(authorization))
    assert info.value.status_code == 401
    assert info.value.headers is not None
    return info.value


async def test_basic_credentials() -> None:
    credentials = await HTTPBasic()(request_with(basic("ada", "p:ss wörd")))
    assert credentials == HTTPBasicCredentials("ada", "p:ss wörd")


async def test_basic_scheme_is_case_insensitive() -> None:
    value = basic("a", "b").replace("Basic", "bAsIc")
    assert await HTTPBasic()(request_with(value)) == HTTPBasicCredentials("a", "b")


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="missing"),
        pytest.param("Bearer abc", id="other-scheme"),
        pytest.param("Basic !!!notbase64", id="bad-base64"),
        pytest.param("Basic " + base64.b64encode(b"no-colon").decode(), id="no-colon"),
        pytest.param("Basic " + base64.b64encode(b"\xff:\xfe").decode(), id="not-utf8"),
    ],
)
async def test_basic_rejections_are_401_with_challenge(authorization: str | None) -> None:
    error = await expect_401(HTTPBasic(realm='my "app"'), authorization)
    assert error.headers == {"WWW-Authenticate": 'Basic realm="my \\"app\\"", charset="UTF-8"'}


async def test_basic_without_auto_error_returns_none() -> None:
    assert await HTTPBasic(auto_error=False)(request_with(None)) is None
    assert await HTTPBasic(auto_error=False)(request_with("Basic ???")) is None


async def test_bearer_credentials() -> None:
    credentials = await HTTPBearer()(request_with("Bearer abc.DEF-_~+/=="))
    assert credentials == HTTPAuthorizationCredentials("Bearer", "abc.DEF-_~+/==")


@pytest.mark.parametrize(
    "authorization",
    [None, "Basic abc", "Bearer", "Bearer "],
    ids=["missing", "basic", "bare", "empty"],
)
async def test_bearer_missing_is_401_plain_challenge(authorization: str | None) -> None:
    error = await expect_401(HTTPBearer(realm="api"), authorization)
    assert error.headers == {"WWW-Authenticate": 'Bearer realm="api"'}


async def test_malformed_bearer_token_is_invalid_token() -> None:
    error = await expect_401(HTTPBearer(), "Bearer a b")
    assert error.headers is not None
    assert error.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


async def test_openapi_descriptions() -> None:
    assert HTTPBasic().openapi == {"type": "http", "scheme": "basic"}
    assert HTTPBearer(bearer_format="opaque", description="d").openapi == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "opaque",
        "description": "d",
    }

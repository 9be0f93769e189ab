"""API keys in header, query and cookie; constant-time key check; 401 with a challenge."""

from __future__ import annotations

from typing import Any

import pytest

from velocix.core.exceptions import HTTPException
from velocix.core.request import Request
from velocix.security import APIKeyCookie, APIKeyHeader, APIKeyQuery

pytestmark = pytest.mark.anyio


def make_request(headers: list[tuple[bytes, bytes]] = (), query: bytes = b"") -> Request:  # type: ignore[assignment]
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/",
            "headers": list(headers),
            "query_string": query,
        }
    )


CASES = [
    pytest.param(APIKeyHeader, make_request([(b"x-api-key", b"k1")]), id="header"),
    pytest.param(APIKeyQuery, make_request(query=b"x-api-key=k1"), id="query"),
    pytest.param(APIKeyCookie, make_request([(b"cookie", b"x-api-key=k1")]), id="cookie"),
]


@pytest.mark.parametrize(("cls", "request_"), CASES)
async def test_key_is_extracted(cls: Any, request_: Request) -> None:
    assert await cls(name="x-api-key")(request_) == "k1"
    assert await cls(name="x-api-key", keys=["k0", "k1"])(request_) == "k1"


@pytest.mark.parametrize(("cls", "request_"), CASES)
async def test_wrong_key_is_401(cls: Any, request_: Request) -> None:
    with pytest.raises(HTTPException) as info:
        await cls(name="x-api-key", keys=["other"])(request_)
    assert info.value.status_code == 401
    assert info.value.detail == "Invalid API key"


@pytest.mark.parametrize("cls", [APIKeyHeader, APIKeyQuery, APIKeyCookie])
async def test_missing_key_is_401_with_challenge(cls: Any) -> None:
    dependency = cls(name="token")
    with pytest.raises(HTTPException) as info:
        await dependency(make_request())
    assert info.value.status_code == 401
    assert info.value.headers == {
        "WWW-Authenticate": f'APIKey in="{dependency.location}", name="token"'
    }
    assert await cls(name="token", auto_error=False)(make_request()) is None


def test_openapi_and_construction_checks() -> None:
    assert APIKeyQuery(name="k").openapi == {"type": "apiKey", "in": "query", "name": "k"}
    with pytest.raises(ValueError, match="name"):
        APIKeyHeader(name="")
    with pytest.raises(ValueError, match="keys"):
        APIKeyHeader(name="k", keys=[])

"""JWTAuth: construction safety checks, claim verification, 401/403 challenges."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import jwt as pyjwt
import pytest

from velocix.core.exceptions import HTTPException
from velocix.core.request import Request
from velocix.security import JWTAuth

pytestmark = pytest.mark.anyio

SECRET = "s" * 32


def bearer(token: str) -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/",
            "headers": [(b"authorization", f"Bearer {token}".encode())],
            "query_string": b"",
        }
    )


@pytest.mark.parametrize(
    ("options", "match"),
    [
        pytest.param({"algorithms": []}, "non-empty", id="empty"),
        pytest.param({"algorithms": "HS256"}, "non-empty", id="string"),
        pytest.param({"algorithms": ["none"]}, "none", id="none"),
        pytest.param({"algorithms": ["HS256", "NONE"]}, "none", id="none-mixed"),
        pytest.param({"algorithms": ["HS999"]}, "unsupported", id="unknown"),
        pytest.param({"algorithms": ["HS256", "RS256"]}, "confusion", id="mixed-families"),
        pytest.param({"algorithms": ["HS256"], "key": "short"}, "32 bytes", id="short-key"),
        pytest.param({"algorithms": ["HS256"], "key": b"x" * 31}, "32 bytes", id="31-bytes"),
        pytest.param({"algorithms": ["HS512"], "key": "k" * 32}, "64 bytes", id="hs512-key"),
    ],
)
def test_unsafe_configuration_is_refused(options: dict[str, Any], match: str) -> None:
    key = options.pop("key", SECRET)
    with pytest.raises(ValueError, match=match):
        JWTAuth(key, **options)


def test_algorithms_are_required() -> None:
    with pytest.raises(TypeError):
        JWTAuth(SECRET)  # type: ignore[call-arg]


async def test_round_trip_with_issuer_and_audience() -> None:
    auth = JWTAuth(SECRET, algorithms=["HS256"], issuer="https://api", audience="clients")
    claims = await auth(bearer(auth.encode({"sub": "42"})))
    assert claims is not None
    assert claims["sub"] == "42"
    assert claims["iss"] == "https://api"
    assert claims["aud"] == "clients"
    assert claims["exp"] - claims["iat"] == 15 * 60


async def expect_invalid(auth: JWTAuth, token: str, description: str) -> None:
    with pytest.raises(HTTPException) as info:
        await auth(bearer(token))
    assert info.value.status_code == 401
    assert info.value.headers is not None
    challenge = info.value.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer error="invalid_token"')
    assert description in challenge


def forge(claims: dict[str, Any], key: str = SECRET, algorithm: str = "HS256") -> str:
    return pyjwt.encode(claims, key, algorithm=algorithm)


async def test_expired_token() -> None:
    auth = JWTAuth(SECRET, algorithms=["HS256"])
    await expect_invalid(auth, auth.encode({}, expires_in=timedelta(seconds=-10)), "expired")


async def test_leeway_tolerates_skew() -> None:
    auth = JWTAuth(SECRET, algorithms=["HS256"], leeway=60)
    assert await auth(bearer(auth.encode({}, expires_in=timedelta(seconds=-10)))) is not None


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"sub": "1"}, id="no-exp"),
        pytest.param({"exp": 2**40, "nbf": 2**39}, id="not-yet-valid"),
        pytest.param({"exp": 2**40, "aud": "someone-else", "iss": "https://api"}, id="wrong-aud"),
        pytest.param({"exp": 2**40, "aud": "clients", "iss": "https://evil"}, id="wrong-iss"),
        pytest.param({"exp": 2**40, "iss": "https://api"}, id="missing-aud"),
    ],
)
async def test_claims_are_verified(claims: dict[str, Any]) -> None:
    if "aud" in claims or "iss" in claims:
        auth = JWTAuth(SECRET, algorithms=["HS256"], issuer="https://api", audience="clients")
    else:
        auth = JWTAuth(SECRET, algorithms=["HS256"])
    await expect_invalid(auth, forge(claims), "invalid")


async def test_wrong_signature_and_unsigned_tokens_are_rejected() -> None:
    auth = JWTAuth(SECRET, algorithms=["HS256"])
    await expect_invalid(auth, forge({"exp": 2**40}, key="t" * 32), "invalid")
    unsigned = pyjwt.encode({"exp": 2**40}, None, algorithm="none")
    await expect_invalid(auth, unsigned, "invalid")
    other_algorithm = forge({"exp": 2**40}, key="k" * 64, algorithm="HS512")
    await expect_invalid(auth, other_algorithm, "invalid")


async def test_missing_token_is_plain_bearer_challenge() -> None:
    auth = JWTAuth(SECRET, algorithms=["HS256"])
    request = Request(
        {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    )
    with pytest.raises(HTTPException) as info:
        await auth(request)
    assert info.value.headers == {"WWW-Authenticate": "Bearer"}
    assert await JWTAuth(SECRET, algorithms=["HS256"], auto_error=False)(request) is None


async def test_scopes_insufficient_is_403() -> None:
    auth = JWTAuth(SECRET, algorithms=["HS256"])
    admin = auth.requires("admin")
    assert await admin(bearer(auth.encode({"scope": "read admin"}))) is not None
    assert await admin(bearer(auth.encode({"scopes": ["admin"]}))) is not None
    with pytest.raises(HTTPException) as info:
        await admin(bearer(auth.encode({"scope": "read"})))
    assert info.value.status_code == 403
    assert info.value.headers is not None
    assert 'error="insufficient_scope"' in info.value.headers["WWW-Authenticate"]
    assert 'scope="admin"' in info.value.headers["WWW-Authenticate"]


async def test_public_key_algorithms() -> None:
    ed25519 = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ed25519")
    private = ed25519.Ed25519PrivateKey.generate()
    auth = JWTAuth(private.public_key(), signing_key=private, algorithms=["EdDSA"])
    token = auth.encode({"sub": "x"})
    claims = await auth(bearer(token))
    assert claims is not None
    assert claims["sub"] == "x"
    assert auth.openapi == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


def test_encode_keeps_explicit_claims() -> None:
    auth = JWTAuth(SECRET, algorithms=["HS256"])
    exp = int(time.time()) + 5
    token = auth.encode({"exp": exp, "role": "x"})
    assert auth.decode(token)["exp"] == exp

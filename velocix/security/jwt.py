"""JSON Web Tokens (RFC 7519) through PyJWT, as a bearer-token dependency.

::

    auth = JWTAuth(settings.jwt_secret, algorithms=["HS256"], issuer="https://api.example")

    @app.post("/login")
    async def login(...) -> dict[str, str]:
        return {"access_token": auth.encode({"sub": user.id}), "token_type": "bearer"}

    @app.get("/me")
    async def me(claims: dict[str, Any] = Depends(auth)) -> dict[str, Any]: ...

    @app.delete("/users/{id}", dependencies=[Depends(auth.requires("admin"))])

Misconfigurations that make tokens forgeable are refused at construction: an empty algorithm
allow-list, ``none``, HMAC algorithms mixed with public-key ones (algorithm confusion) and
HMAC keys shorter than the hash (RFC 7518 §3.2: 32 bytes for HS256, 48 for HS384, 64 for
HS512). ``exp`` is required by default; ``aud``/``iss`` are required and checked when
configured. A bad token gets 401 with ``WWW-Authenticate: Bearer error="invalid_token"``;
missing scopes get 403 with ``error="insufficient_scope"`` (RFC 6750 §3.1).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from velocix.core.exceptions import HTTPException
from velocix.core.request import Request
from velocix.security.base import SecurityBase, quote_param, unauthorized
from velocix.security.http import HTTPBearer

try:
    import jwt as pyjwt
except ImportError:  # pragma: no cover - only without the extra installed
    raise ImportError("velocix.security.jwt needs PyJWT: pip install 'velocix[jwt]'") from None

__all__ = ["JWTAuth", "JWTScopes"]

_HMAC_MIN_KEY_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}


def _check_algorithms(algorithms: Sequence[str]) -> tuple[str, ...]:
    if isinstance(algorithms, str) or not algorithms:
        raise ValueError("JWTAuth: algorithms must be a non-empty list, e.g. ['HS256']")
    supported = set(pyjwt.algorithms.get_default_algorithms()) - {"none"}
    for algorithm in algorithms:
        if algorithm.lower() == "none":
            raise ValueError("JWTAuth: the 'none' algorithm accepts unsigned tokens; refused")
        if algorithm not in supported:
            raise ValueError(
                f"JWTAuth: unsupported algorithm {algorithm!r}; choose from {sorted(supported)}"
            )
    hmac = [a for a in algorithms if a in _HMAC_MIN_KEY_BYTES]
    if hmac and len(hmac) != len(algorithms):
        raise ValueError(
            "JWTAuth: HMAC (HS*) and public-key algorithms cannot share one key "
            "(algorithm confusion); use separate JWTAuth instances"
        )
    return tuple(algorithms)


def _key_bytes(key: Any) -> bytes:
    return key.encode() if isinstance(key, str) else bytes(key)


class JWTAuth(HTTPBearer):
    """Issue and verify JWTs; as a dependency, returns the verified claims of the bearer token.

    ``key`` verifies signatures (the shared secret for HS*, the public key for RS/PS/ES/EdDSA);
    ``signing_key`` signs in :meth:`encode` (defaults to ``key``, right for HS*).
    ``require``: claims every token must carry. ``leeway``: clock skew tolerated, seconds.
    ``expires_in``: default lifetime of issued tokens.
    """

    def __init__(
        self,
        key: Any,
        *,
        algorithms: Sequence[str],
        signing_key: Any = None,
        audience: str | None = None,
        issuer: str | None = None,
        require: Iterable[str] = ("exp",),
        leeway: float = 0.0,
        expires_in: timedelta = timedelta(minutes=15),
        realm: str | None = None,
        scheme_name: str = "JWTBearer",
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(
            realm=realm,
            bearer_format="JWT",
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
        )
        self.algorithms = _check_algorithms(algorithms)
        for algorithm in self.algorithms:
            minimum = _HMAC_MIN_KEY_BYTES.get(algorithm)
            if minimum is not None and len(_key_bytes(key)) < minimum:
                raise ValueError(
                    f"JWTAuth: {algorithm} needs a key of at least {minimum} bytes "
                    "(RFC 7518 §3.2); use secrets.token_bytes(64)"
                )
        self.key = key
        self.signing_key = signing_key if signing_key is not None else key
        self.audience = audience
        self.issuer = issuer
        required = list(dict.fromkeys(require))
        required += [
            claim
            for claim, on in (("aud", audience), ("iss", issuer))
            if on is not None and claim not in required
        ]
        self.options: dict[str, Any] = {"require": required}
        self.leeway = leeway
        self.expires_in = expires_in

    def encode(
        self,
        claims: Mapping[str, Any],
        *,
        expires_in: timedelta | None = None,
        algorithm: str | None = None,
        headers: dict[str, Any] | None = None,
    ) -> str:
        """Sign ``claims`` with ``iat``, ``exp`` (now + ``expires_in``), ``iss`` and ``aud``
        added (values already in ``claims`` win)."""
        now = int(time.time())
        lifetime = expires_in if expires_in is not None else self.expires_in
        payload: dict[str, Any] = {"iat": now, "exp": now + int(lifetime.total_seconds())}
        if self.issuer is not None:
            payload["iss"] = self.issuer
        if self.audience is not None:
            payload["aud"] = self.audience
        payload.update(claims)
        return pyjwt.encode(
            payload, self.signing_key, algorithm=algorithm or self.algorithms[0], headers=headers
        )

    def decode(self, token: str) -> dict[str, Any]:
        """Verify ``token`` and return its claims; raises :class:`jwt.InvalidTokenError`."""
        return pyjwt.decode(
            token,
            self.key,
            algorithms=list(self.algorithms),
            audience=self.audience,
            issuer=self.issuer,
            leeway=self.leeway,
            options=self.options,  # type: ignore[arg-type]
        )

    async def __call__(self, request: Request) -> dict[str, Any] | None:  # type: ignore[override]
        credentials = await super().__call__(request)
        if credentials is None:
            return None
        try:
            return self.decode(credentials.credentials)
        except pyjwt.ExpiredSignatureError:
            description = "The token has expired"
        except pyjwt.InvalidTokenError:
            # The reason (bad signature, wrong audience...) helps attackers more than clients.
            description = "The token is invalid"
        if self.auto_error:
            raise unauthorized(self.error_challenge("invalid_token", description), description)
        return None

    def requires(self, *scopes: str) -> JWTScopes:
        """A dependency that also demands ``scopes`` (from the ``scope``/``scopes`` claim)."""
        return JWTScopes(self, scopes)


def token_scopes(claims: Mapping[str, Any]) -> set[str]:
    """Scopes granted by a token: ``scope`` (space-separated, RFC 8693) or a ``scopes`` list."""
    granted: set[str] = set()
    scope = claims.get("scope")
    if isinstance(scope, str):
        granted.update(scope.split())
    scopes = claims.get("scopes")
    if isinstance(scopes, list):
        granted.update(str(item) for item in scopes)
    return granted


class JWTScopes(SecurityBase):
    """``auth.requires("a", "b")``: the claims, once the token grants every listed scope."""

    def __init__(self, auth: JWTAuth, scopes: Sequence[str]) -> None:
        self.auth = auth
        self.scopes = tuple(scopes)
        self.scheme_name = auth.scheme_name
        self.description = auth.description
        self.auto_error = auth.auto_error

    @property
    def openapi(self) -> dict[str, Any]:
        return self.auth.openapi

    async def __call__(self, request: Request) -> dict[str, Any] | None:
        claims = await self.auth(request)
        if claims is None:
            return None
        missing = [scope for scope in self.scopes if scope not in token_scopes(claims)]
        if not missing:
            return claims
        challenge = self.auth.error_challenge("insufficient_scope", "Missing required scope")
        challenge += f", scope={quote_param(' '.join(self.scopes))}"
        raise HTTPException(403, "Insufficient scope", headers={"WWW-Authenticate": challenge})

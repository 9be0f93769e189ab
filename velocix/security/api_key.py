"""API keys sent in a header, a query parameter or a cookie.

A missing key gets 401 with ``WWW-Authenticate: APIKey`` (RFC 9110 requires a challenge with
every 401; there is no registered scheme for API keys, so the challenge names the location).
With ``keys`` given, the key must be one of them (compared in constant time), otherwise 401
``Invalid API key``; without ``keys`` the dependency returns the key for your own check.
"""

from __future__ import annotations

import abc
import hmac
from collections.abc import Collection
from typing import Any, ClassVar

from velocix.core.request import Request
from velocix.security.base import SecurityBase, quote_param, unauthorized


class APIKeyBase(SecurityBase):
    """Shared logic of the three API key locations."""

    location: ClassVar[str] = ""

    def __init__(
        self,
        *,
        name: str,
        keys: Collection[str] | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        if not name:
            raise ValueError(f"{type(self).__name__}: name must not be empty")
        if keys is not None and not keys:
            raise ValueError(f"{type(self).__name__}: keys, when given, must not be empty")
        self.name = name
        self.keys = tuple(key.encode() for key in keys) if keys is not None else None
        self.scheme_name = scheme_name or type(self).__name__
        self.description = description
        self.auto_error = auto_error
        self.challenge = f"APIKey in={quote_param(self.location)}, name={quote_param(name)}"

    @property
    def openapi(self) -> dict[str, Any]:
        return self._openapi({"type": "apiKey", "in": self.location, "name": self.name})

    @abc.abstractmethod
    def extract(self, request: Request) -> str | None:
        """The raw key from the request, or ``None``."""

    def is_valid(self, key: str) -> bool:
        """Whether ``key`` is one of the configured keys (constant-time comparisons)."""
        if self.keys is None:
            return True
        candidate = key.encode()
        # Compare against every key so the timing does not reveal which one matched.
        matches = [hmac.compare_digest(candidate, known) for known in self.keys]
        return any(matches)

    async def __call__(self, request: Request) -> str | None:
        key = self.extract(request)
        if not key:
            if self.auto_error:
                raise unauthorized(self.challenge)
            return None
        if not self.is_valid(key):
            if self.auto_error:
                raise unauthorized(self.challenge, "Invalid API key")
            return None
        return key


class APIKeyHeader(APIKeyBase):
    """An API key in a request header (``APIKeyHeader(name="X-API-Key")``)."""

    location = "header"

    def extract(self, request: Request) -> str | None:
        value: str | None = request.headers.get(self.name)
        return value


class APIKeyQuery(APIKeyBase):
    """An API key in the query string (``APIKeyQuery(name="api_key")``)."""

    location = "query"

    def extract(self, request: Request) -> str | None:
        value: str | None = request.query_params.get(self.name)
        return value


class APIKeyCookie(APIKeyBase):
    """An API key in a cookie (``APIKeyCookie(name="session")``)."""

    location = "cookie"

    def extract(self, request: Request) -> str | None:
        return request.cookies.get(self.name)

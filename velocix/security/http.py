"""HTTP authentication schemes: Basic (RFC 7617) and Bearer tokens (RFC 6750).

Status codes follow RFC 9110 §15.5.2 and RFC 6750 §3.1: missing credentials, another scheme
than expected or malformed credentials all get ``401`` with a ``WWW-Authenticate`` challenge
(the client may retry with proper credentials). ``403`` is for authenticated clients that lack
a permission (e.g. :class:`~velocix.security.jwt.JWTBearer` with missing scopes).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from velocix.core.request import Request
from velocix.security.base import SecurityBase, quote_param, unauthorized

# RFC 6750 §2.1 b64token
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


@dataclass(frozen=True, slots=True)
class HTTPBasicCredentials:
    """User name and password from an ``Authorization: Basic`` header."""

    username: str
    password: str


@dataclass(frozen=True, slots=True)
class HTTPAuthorizationCredentials:
    """Scheme and credentials from an ``Authorization`` header."""

    scheme: str
    credentials: str


def split_authorization(request: Request) -> tuple[str, str] | None:
    """``(scheme lower-cased, credentials)`` of the ``Authorization`` header, or ``None``."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, credentials = header.strip().partition(" ")
    return scheme.lower(), credentials.strip()


class HTTPBasic(SecurityBase):
    """``Authorization: Basic`` credentials; compare them with :func:`secrets.compare_digest`.

    A missing, foreign or undecodable header raises 401 with ``WWW-Authenticate: Basic
    realm="<realm>", charset="UTF-8"`` (or returns ``None`` with ``auto_error=False``).
    """

    def __init__(
        self,
        *,
        realm: str = "velocix",
        scheme_name: str = "HTTPBasic",
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        self.realm = realm
        self.scheme_name = scheme_name
        self.description = description
        self.auto_error = auto_error
        self.challenge = f'Basic realm={quote_param(realm)}, charset="UTF-8"'

    @property
    def openapi(self) -> dict[str, Any]:
        return self._openapi({"type": "http", "scheme": "basic"})

    def _fail(self, detail: str) -> None:
        if self.auto_error:
            raise unauthorized(self.challenge, detail)

    async def __call__(self, request: Request) -> HTTPBasicCredentials | None:
        parts = split_authorization(request)
        if parts is None or parts[0] != "basic":
            self._fail("Not authenticated")
            return None
        try:
            decoded = base64.b64decode(parts[1], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            self._fail("Invalid Basic credentials")
            return None
        username, separator, password = decoded.partition(":")
        if not separator:
            self._fail("Invalid Basic credentials")
            return None
        return HTTPBasicCredentials(username, password)


class HTTPBearer(SecurityBase):
    """``Authorization: Bearer <token>``; returns the credentials without validating them.

    Missing or non-Bearer authorization: 401 ``WWW-Authenticate: Bearer realm=...``; a token
    with characters outside RFC 6750's ``b64token``: 401 with ``error="invalid_token"``.
    """

    def __init__(
        self,
        *,
        realm: str | None = None,
        bearer_format: str | None = None,
        scheme_name: str = "HTTPBearer",
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        self.bearer_format = bearer_format
        self.scheme_name = scheme_name
        self.description = description
        self.auto_error = auto_error
        self.challenge = "Bearer" + (f" realm={quote_param(realm)}" if realm else "")

    @property
    def openapi(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"type": "http", "scheme": "bearer"}
        if self.bearer_format:
            fields["bearerFormat"] = self.bearer_format
        return self._openapi(fields)

    def error_challenge(self, error: str, description: str) -> str:
        """The challenge for a rejected token (RFC 6750 §3)."""
        separator = ", " if " " in self.challenge else " "
        return (
            f"{self.challenge}{separator}error={quote_param(error)}, "
            f"error_description={quote_param(description)}"
        )

    async def __call__(self, request: Request) -> HTTPAuthorizationCredentials | None:
        parts = split_authorization(request)
        if parts is None or parts[0] != "bearer" or not parts[1]:
            if self.auto_error:
                raise unauthorized(self.challenge)
            return None
        if not _B64TOKEN.fullmatch(parts[1]):
            if self.auto_error:
                raise unauthorized(
                    self.error_challenge("invalid_token", "Malformed token"),
                    "Malformed bearer token",
                )
            return None
        return HTTPAuthorizationCredentials("Bearer", parts[1])

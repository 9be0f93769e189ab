"""What every security scheme shares: an OpenAPI description and the 401 it raises."""

from __future__ import annotations

import abc
from typing import Any

from velocix.core.exceptions import HTTPException


class SecurityBase(abc.ABC):
    """Base of the security dependencies (``Depends(HTTPBearer())`` and friends).

    ``scheme_name`` names the scheme in the OpenAPI ``securitySchemes``; :attr:`openapi`
    is its Security Scheme Object. ``auto_error=False`` makes a missing or unusable credential
    return ``None`` instead of raising, for endpoints with optional or alternative auth.
    """

    scheme_name: str
    description: str | None
    auto_error: bool

    @property
    @abc.abstractmethod
    def openapi(self) -> dict[str, Any]:
        """The OpenAPI 3.1 Security Scheme Object for this scheme."""

    def _openapi(self, fields: dict[str, Any]) -> dict[str, Any]:
        if self.description:
            fields["description"] = self.description
        return fields


def unauthorized(challenge: str, detail: str = "Not authenticated") -> HTTPException:
    """A 401 carrying the ``WWW-Authenticate`` challenge (RFC 9110 §11.6.1 requires one)."""
    return HTTPException(401, detail, headers={"WWW-Authenticate": challenge})


def quote_param(value: str) -> str:
    """``value`` as an RFC 9110 quoted-string (for ``realm="..."`` and error descriptions)."""
    printable = "".join(ch for ch in value if " " <= ch <= "~")
    return '"' + printable.replace("\\", "\\\\").replace('"', '\\"') + '"'

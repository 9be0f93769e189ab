"""Authentication as dependencies: ``Depends(HTTPBearer())``, ``Depends(JWTAuth(...))``...

HTTP Basic/Bearer and API keys need nothing beyond Velocix. The JWT and password helpers need
the ``velocix[security]`` extra (PyJWT, argon2-cffi) and are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from velocix.security.api_key import APIKeyCookie, APIKeyHeader, APIKeyQuery
from velocix.security.base import SecurityBase
from velocix.security.http import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)

_LAZY = {
    "JWTAuth": "velocix.security.jwt",
    "JWTScopes": "velocix.security.jwt",
    "PasswordHasher": "velocix.security.passwords",
    "hash_password": "velocix.security.passwords",
    "verify_password": "velocix.security.passwords",
    "needs_rehash": "velocix.security.passwords",
}

__all__ = [
    "APIKeyCookie",
    "APIKeyHeader",
    "APIKeyQuery",
    "HTTPAuthorizationCredentials",
    "HTTPBasic",
    "HTTPBasicCredentials",
    "HTTPBearer",
    "JWTAuth",
    "JWTScopes",
    "PasswordHasher",
    "SecurityBase",
    "hash_password",
    "needs_rehash",
    "verify_password",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'velocix.security' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

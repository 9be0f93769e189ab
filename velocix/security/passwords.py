"""Password hashing with Argon2id (argon2-cffi), off the event loop.

Hashing is deliberately slow (tens of milliseconds); :func:`hash_password` and
:func:`verify_password` run it in the thread pool so other requests keep being served.
"""

from __future__ import annotations

from typing import Any

from velocix.core.concurrency import run_in_threadpool

try:
    import argon2
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
except ImportError:  # pragma: no cover - only without the extra installed
    raise ImportError(
        "velocix.security.passwords needs argon2-cffi: pip install 'velocix[security]'"
    ) from None

__all__ = ["PasswordHasher", "hash_password", "needs_rehash", "verify_password"]


class PasswordHasher:
    """Argon2id hashing with argon2-cffi's parameters (RFC 9106 low-memory profile by
    default); pass ``time_cost``, ``memory_cost``, ``parallelism``... to tune it."""

    def __init__(self, **parameters: Any) -> None:
        self.hasher = argon2.PasswordHasher(**parameters)

    async def hash(self, password: str) -> str:
        """The encoded Argon2id hash of ``password`` (salted), computed in the thread pool."""
        return await run_in_threadpool(self.hasher.hash, password)

    async def verify(self, password: str, hashed: str) -> bool:
        """Whether ``password`` matches ``hashed``; ``False`` for a malformed hash too."""
        try:
            return await run_in_threadpool(self.hasher.verify, hashed, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, hashed: str) -> bool:
        """Whether ``hashed`` used other parameters than this hasher (re-hash after login)."""
        try:
            return self.hasher.check_needs_rehash(hashed)
        except InvalidHashError:
            return True


_default = PasswordHasher()


async def hash_password(password: str) -> str:
    """Hash ``password`` with Argon2id, off the event loop."""
    return await _default.hash(password)


async def verify_password(password: str, hashed: str) -> bool:
    """Check ``password`` against an Argon2 ``hashed`` value, off the event loop."""
    return await _default.verify(password, hashed)


def needs_rehash(hashed: str) -> bool:
    """Whether ``hashed`` should be replaced by a hash with the current parameters."""
    return _default.needs_rehash(hashed)

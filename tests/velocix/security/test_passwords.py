"""Password hashing: Argon2id, verified off the event loop thread."""

from __future__ import annotations

import threading

import argon2
import pytest

from velocix.security import PasswordHasher, hash_password, needs_rehash, verify_password

pytestmark = pytest.mark.anyio

FAST = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


async def test_hash_and_verify() -> None:
    hashed = await hash_password("correct horse")
    assert hashed.startswith("$argon2id$")
    assert await verify_password("correct horse", hashed)
    assert not await verify_password("wrong horse", hashed)
    assert await hash_password("correct horse") != hashed  # salted


async def test_malformed_hash_is_a_mismatch_not_a_crash() -> None:
    assert not await verify_password("x", "not-a-hash")
    assert needs_rehash("not-a-hash")


async def test_rehash_when_parameters_change() -> None:
    weak = PasswordHasher(**FAST)
    hashed = await weak.hash("pw")
    assert not weak.needs_rehash(hashed)
    assert PasswordHasher(time_cost=2, memory_cost=8, parallelism=1).needs_rehash(hashed)


class RecordingHasher:
    """Wraps argon2's hasher (which has __slots__) to record the thread of each call."""

    def __init__(self, inner: argon2.PasswordHasher) -> None:
        self.inner = inner
        self.threads: list[threading.Thread] = []

    def hash(self, password: str) -> str:
        self.threads.append(threading.current_thread())
        return self.inner.hash(password)

    def verify(self, hashed: str, password: str) -> bool:
        self.threads.append(threading.current_thread())
        return self.inner.verify(hashed, password)


async def test_hashing_runs_off_the_event_loop_thread() -> None:
    hasher = PasswordHasher(**FAST)
    recorder = RecordingHasher(hasher.hasher)
    hasher.hasher = recorder  # type: ignore[assignment]
    assert await hasher.verify("pw", await hasher.hash("pw"))
    loop_thread = threading.current_thread()
    assert len(recorder.threads) == 2
    assert all(thread is not loop_thread for thread in recorder.threads)

"""velocix.core.concurrency: the bounded thread pool and thread-offloaded iteration."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator

import pytest

from velocix.core import concurrency
from velocix.core.concurrency import (
    DEFAULT_MAX_WORKERS,
    get_executor,
    iterate_in_threadpool,
    run_in_threadpool,
    set_threadpool_size,
)

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


@pytest.mark.anyio
async def test_runs_off_the_event_loop_thread_with_args() -> None:
    def work(a: int, *, b: int) -> tuple[int, int]:
        return a + b, threading.get_ident()

    total, thread = await run_in_threadpool(work, 2, b=3)
    assert total == 5
    assert thread != threading.get_ident()


@pytest.mark.anyio
async def test_context_variables_are_copied() -> None:
    request_id.set("req-42")
    assert await run_in_threadpool(request_id.get) == "req-42"


@pytest.mark.anyio
async def test_exceptions_propagate() -> None:
    def boom() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await run_in_threadpool(boom)


@pytest.mark.anyio
async def test_iterate_in_threadpool() -> None:
    threads: set[int] = set()

    def numbers() -> Iterator[int]:
        for i in range(3):
            threads.add(threading.get_ident())
            yield i

    assert [i async for i in iterate_in_threadpool(numbers())] == [0, 1, 2]
    assert threading.get_ident() not in threads


@pytest.mark.anyio
async def test_iterate_in_threadpool_closes_generator_early() -> None:
    closed: list[bool] = []

    def endless() -> Iterator[int]:
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.append(True)

    iterator = iterate_in_threadpool(endless())
    assert await iterator.__anext__() == 0
    await iterator.aclose()  # type: ignore[attr-defined]
    assert closed == [True]


def test_default_pool_size() -> None:
    assert DEFAULT_MAX_WORKERS == 40


def test_pool_size_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(concurrency, "_max_workers", None)
    monkeypatch.setattr(concurrency, "_executor", None)
    try:
        monkeypatch.setenv("VELOCIX_THREADPOOL_SIZE", "3")
        assert get_executor()._max_workers == 3
        set_threadpool_size(5)
        assert get_executor()._max_workers == 5
        assert get_executor() is get_executor()
    finally:
        set_threadpool_size(DEFAULT_MAX_WORKERS)


@pytest.mark.parametrize("raw", ["0", "-2", "many"])
def test_bad_pool_size_from_environment(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setattr(concurrency, "_max_workers", None)
    monkeypatch.setattr(concurrency, "_executor", None)
    monkeypatch.setenv("VELOCIX_THREADPOOL_SIZE", raw)
    with pytest.raises(ValueError, match="VELOCIX_THREADPOOL_SIZE"):
        get_executor()


def test_bad_pool_size_argument() -> None:
    with pytest.raises(ValueError, match="positive"):
        set_threadpool_size(0)

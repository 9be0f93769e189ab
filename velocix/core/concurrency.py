"""Running blocking code off the event loop.

Sync handlers, dependencies, background tasks, sync iterators of streaming responses and file
I/O all go through :func:`run_in_threadpool`, which uses one bounded, module-level
:class:`~concurrent.futures.ThreadPoolExecutor` (created on first use). The default size is
:data:`DEFAULT_MAX_WORKERS` (40, the same budget as Starlette/AnyIO's default limiter); change it
with :func:`set_threadpool_size` before the first request, or with the ``VELOCIX_THREADPOOL_SIZE``
environment variable.

The caller's :mod:`contextvars` are copied into the worker, so context-local state (request IDs,
tracing spans) set by middleware is visible inside sync code.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import os
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

__all__ = [
    "DEFAULT_MAX_WORKERS",
    "get_executor",
    "iterate_in_threadpool",
    "run_in_threadpool",
    "set_threadpool_size",
]

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_MAX_WORKERS = 40
"""Default number of worker threads for sync code (override: ``VELOCIX_THREADPOOL_SIZE``)."""

_executor: ThreadPoolExecutor | None = None
_max_workers: int | None = None
_lock = threading.Lock()


def _configured_size() -> int:
    if _max_workers is not None:
        return _max_workers
    raw = os.environ.get("VELOCIX_THREADPOOL_SIZE")
    if raw is None:
        return DEFAULT_MAX_WORKERS
    message = f"VELOCIX_THREADPOOL_SIZE must be a positive integer, got {raw!r}"
    try:
        size = int(raw)
    except ValueError:
        raise ValueError(message) from None
    if size < 1:
        raise ValueError(message)
    return size


def set_threadpool_size(max_workers: int) -> None:
    """Set the number of worker threads used by :func:`run_in_threadpool`.

    Takes effect for the next executor: an existing one is shut down (without waiting for the
    work it is running), so call this at startup rather than while requests are in flight.
    """
    global _executor, _max_workers
    if max_workers < 1:
        raise ValueError(f"max_workers must be a positive integer, got {max_workers!r}")
    with _lock:
        _max_workers = max_workers
        old, _executor = _executor, None
    if old is not None:
        old.shutdown(wait=False)


def get_executor() -> ThreadPoolExecutor:
    """Return the shared executor, creating it on first use."""
    global _executor
    executor = _executor
    if executor is None:
        with _lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(
                    max_workers=_configured_size(), thread_name_prefix="velocix-worker"
                )
            executor = _executor
    return executor


async def run_in_threadpool(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Call ``func(*args, **kwargs)`` in the worker pool and await its result.

    The current context is copied into the worker thread. Cancelling the awaiting task does not
    stop the thread: the call runs to completion and its result is discarded.
    """
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    call: Callable[[], T] = functools.partial(context.run, func, *args, **kwargs)
    return await loop.run_in_executor(get_executor(), call)


# StopIteration cannot travel through a Future (asyncio turns it into a TypeError), so
# exhaustion is signalled with a sentinel default to ``next`` instead.
_EXHAUSTED: Any = object()


def _next_item(iterator: Iterator[Any]) -> Any:
    return next(iterator, _EXHAUSTED)


async def iterate_in_threadpool(iterable: Iterable[T]) -> AsyncIterator[T]:
    """Iterate a sync iterable in the worker pool, one ``next()`` per thread hop.

    All ``next()`` calls share one copy of the caller's context (like a generator would). When
    the async generator is closed early (client gone, ``aclose()``, cancellation), the
    underlying iterator's ``close()`` - a generator's ``finally`` - runs in the pool before
    ``aclose()`` returns; if a ``next()`` is still running in a worker at that moment, it is
    allowed to finish first (closing a running generator is an error).
    """
    iterator = iter(iterable)
    executor = get_executor()
    context = contextvars.copy_context()
    in_flight: concurrent.futures.Future[Any] | None = None
    try:
        while True:
            in_flight = executor.submit(context.run, _next_item, iterator)
            item: T = await asyncio.wrap_future(in_flight)
            if item is _EXHAUSTED:
                return
            yield item
    finally:
        if in_flight is not None and not in_flight.done():
            await asyncio.wait([asyncio.wrap_future(in_flight)])
        close = getattr(iterator, "close", None)
        if close is not None:
            await asyncio.wrap_future(executor.submit(context.run, close))

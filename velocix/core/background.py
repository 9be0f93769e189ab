"""Work that runs after the response has been sent.

A :class:`BackgroundTask` attached to a response (``Response(background=...)``) runs once the
last body chunk is out; a handler asking for ``background: BackgroundTasks`` gets one collection
per request and its tasks run in the order they were added. Sync callables run in the thread
pool, never on the event loop. An exception in a task propagates (the server logs it) and the
remaining tasks of that collection do not run.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec

from velocix.core.concurrency import run_in_threadpool

__all__ = ["BackgroundTask", "BackgroundTasks"]

P = ParamSpec("P")


def is_async_callable(obj: object) -> bool:
    """True for coroutine functions, partials of them, and objects with an ``async __call__``."""
    while isinstance(obj, functools.partial):
        obj = obj.func
    return inspect.iscoroutinefunction(obj) or (
        callable(obj) and inspect.iscoroutinefunction(type(obj).__call__)
    )


class BackgroundTask:
    """One call, ``func(*args, **kwargs)``, to make after the response is sent."""

    __slots__ = ("args", "func", "is_async", "kwargs")

    def __init__(self, func: Callable[P, Any], *args: P.args, **kwargs: P.kwargs) -> None:
        self.func = func
        self.args = args
        self.kwargs = kwargs
        self.is_async = is_async_callable(func)

    async def __call__(self) -> None:
        if self.is_async:
            await self.func(*self.args, **self.kwargs)
        else:
            await run_in_threadpool(self.func, *self.args, **self.kwargs)

    def __repr__(self) -> str:
        name = getattr(self.func, "__qualname__", repr(self.func))
        return f"{type(self).__name__}({name})"


class BackgroundTasks(BackgroundTask):
    """An ordered collection of :class:`BackgroundTask`, itself usable as a response's task."""

    __slots__ = ("tasks",)

    def __init__(self, tasks: Sequence[BackgroundTask] | None = None) -> None:
        self.tasks: list[BackgroundTask] = list(tasks) if tasks is not None else []

    def add_task(self, func: Callable[P, Any], *args: P.args, **kwargs: P.kwargs) -> None:
        """Queue ``func(*args, **kwargs)``; tasks run in the order they were added."""
        self.tasks.append(BackgroundTask(func, *args, **kwargs))

    async def __call__(self) -> None:
        for task in self.tasks:
            await task()

    def __repr__(self) -> str:
        return f"BackgroundTasks({self.tasks!r})"

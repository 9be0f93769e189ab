"""velocix.core.background: tasks run once, in order, sync ones in the thread pool."""

from __future__ import annotations

import functools
import threading

import pytest

from velocix.core.background import BackgroundTask, BackgroundTasks, is_async_callable


@pytest.mark.anyio
async def test_task_passes_arguments() -> None:
    seen: list[tuple[int, str]] = []

    async def record(n: int, *, label: str) -> None:
        seen.append((n, label))

    await BackgroundTask(record, 1, label="x")()
    assert seen == [(1, "x")]


@pytest.mark.anyio
async def test_sync_task_runs_in_worker_thread() -> None:
    threads: list[int] = []
    await BackgroundTask(lambda: threads.append(threading.get_ident()))()
    assert threads
    assert threads[0] != threading.get_ident()


class AsyncCallable:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> None:
        self.calls += 1


async def coroutine_function(a: int) -> None:
    return None


def test_async_detection() -> None:
    assert is_async_callable(coroutine_function)
    assert is_async_callable(functools.partial(coroutine_function, 1))
    assert is_async_callable(AsyncCallable())
    assert not is_async_callable(print)
    assert not is_async_callable(functools.partial(print, 1))


@pytest.mark.anyio
async def test_tasks_run_in_order_and_stop_on_error() -> None:
    order: list[str] = []
    obj = AsyncCallable()

    def fail() -> None:
        raise RuntimeError("task failed")

    tasks = BackgroundTasks([BackgroundTask(order.append, "preset")])
    tasks.add_task(order.append, "sync")
    tasks.add_task(obj)
    tasks.add_task(fail)
    tasks.add_task(order.append, "never")
    with pytest.raises(RuntimeError, match="task failed"):
        await tasks()
    assert order == ["preset", "sync"]
    assert obj.calls == 1


def test_repr() -> None:
    assert repr(BackgroundTask(coroutine_function, 1)) == "BackgroundTask(coroutine_function)"
    tasks = BackgroundTasks([BackgroundTask(coroutine_function, 1)])
    assert repr(tasks) == "BackgroundTasks([BackgroundTask(coroutine_function)])"

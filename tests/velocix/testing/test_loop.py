"""The background event loop thread."""

from __future__ import annotations

import asyncio
import threading

import pytest

from velocix.testing.loop import EventLoopThread, LoopClosedError, settle, wait


def test_starts_on_first_use_and_runs_coroutines_off_the_caller_thread() -> None:
    loop_thread = EventLoopThread()
    assert loop_thread.loop is None

    async def where() -> int:
        return threading.get_ident()

    try:
        assert loop_thread.call(where) != threading.get_ident()
        assert loop_thread.loop is not None
    finally:
        loop_thread.close()
    assert loop_thread.loop is None


def test_the_same_loop_serves_every_call() -> None:
    loop_thread = EventLoopThread()

    async def current() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    try:
        assert loop_thread.call(current) is loop_thread.call(current)
    finally:
        loop_thread.close()


def test_exceptions_cross_to_the_caller() -> None:
    loop_thread = EventLoopThread()

    async def fail() -> None:
        raise LookupError("from the loop")

    try:
        with pytest.raises(LookupError, match="from the loop"):
            loop_thread.call(fail)
    finally:
        loop_thread.close()


def test_close_cancels_what_still_runs_and_joins_the_thread() -> None:
    loop_thread = EventLoopThread()
    cancelled = threading.Event()

    async def forever() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    future = loop_thread.submit(forever())
    before_close = [t for t in threading.enumerate() if t.name == "velocix-testclient"]
    loop_thread.close()
    assert cancelled.is_set()
    assert future.cancelled()
    assert len(before_close) == 1
    assert not before_close[0].is_alive()
    with pytest.raises(RuntimeError, match="closed while this call"):
        wait(future)


def test_it_can_be_started_again_after_close() -> None:
    loop_thread = EventLoopThread()

    async def loop_id() -> int:
        return id(asyncio.get_running_loop())

    first = loop_thread.call(loop_id)
    old_loop = loop_thread.loop
    loop_thread.close()
    try:
        second = loop_thread.call(loop_id)
        assert loop_thread.loop is not old_loop
        assert isinstance(second, int)
        assert isinstance(first, int)
    finally:
        loop_thread.close()


def test_work_for_a_closed_loop_is_refused() -> None:
    loop_thread = EventLoopThread()
    old_loop = loop_thread.start()
    loop_thread.close()
    loop_thread.start()

    async def nothing() -> None:
        return None

    try:
        with pytest.raises(LoopClosedError):
            loop_thread.submit_to(old_loop, nothing())
        assert loop_thread.call_soon(old_loop, lambda: None) is False
        current = loop_thread.loop
        assert current is not None
        assert loop_thread.call_soon(current, lambda: None) is True
    finally:
        loop_thread.close()


def test_calling_from_the_loop_thread_is_refused() -> None:
    loop_thread = EventLoopThread()

    async def nothing() -> None:
        return None

    async def reenter() -> None:
        loop_thread.call(nothing)

    try:
        with pytest.raises(RuntimeError, match="deadlock"):
            loop_thread.call(reenter)
    finally:
        loop_thread.close()


def test_close_from_the_loop_thread_does_not_wait_for_itself() -> None:
    loop_thread = EventLoopThread()

    async def close_myself() -> None:
        loop_thread.close()

    loop_thread.start()
    thread = next(t for t in threading.enumerate() if t.name == "velocix-testclient")
    loop_thread.submit(close_myself())
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert loop_thread.loop is None


@pytest.mark.anyio
async def test_settle_lets_a_task_finish_on_its_own() -> None:
    async def quick() -> str:
        await asyncio.sleep(0)
        return "done"

    task = asyncio.ensure_future(quick())
    await settle(task, grace=60)
    assert task.result() == "done"


@pytest.mark.anyio
async def test_settle_cancels_a_task_that_does_not_finish() -> None:
    task = asyncio.ensure_future(asyncio.Event().wait())
    await settle(task, grace=0)
    assert task.cancelled()

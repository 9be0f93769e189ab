"""The event loop the application under test runs on.

One asyncio loop in one background thread serves the lifespan and every request of a
client, so whatever the application creates at startup (connection pools, locks, tasks)
stays bound to the loop that later uses it. The test thread only ever blocks on
``concurrent.futures`` results; it never runs the loop itself, so the client works the
same from a plain sync test, from another thread, or while the caller's own loop runs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopClosedError(RuntimeError):
    """Work was sent to an event loop that the client has already shut down."""


#: How long an application gets to finish on its own after it was told the client is
#: gone (``http.disconnect`` / ``websocket.disconnect``) before it is cancelled. Only an
#: application that ignores the disconnect ever waits this long.
SETTLE_GRACE_SECONDS = 5.0


class EventLoopThread:
    """An asyncio event loop running in a daemon thread, started on first use.

    ``close()`` stops it the way ``asyncio.run`` ends: remaining tasks are cancelled,
    async generators closed and the default executor (``asyncio.to_thread``) shut down,
    then the thread is joined. It can be started again afterwards.
    """

    def __init__(self, name: str = "velocix-testclient") -> None:
        self._name = name
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The running loop, or ``None`` while the thread is not started."""
        return self._loop

    def in_loop_thread(self) -> bool:
        """Whether the current thread is the loop's own thread."""
        thread = self._thread
        return thread is not None and thread.ident == threading.get_ident()

    def start(self) -> asyncio.AbstractEventLoop:
        """Start the loop thread if needed and return its loop."""
        with self._lock:
            if self._loop is None:
                self._launch()
            assert self._loop is not None
            return self._loop

    def _launch(self) -> None:
        ready = threading.Event()
        failure: list[BaseException] = []
        thread = threading.Thread(
            target=self._main, args=(ready, failure), name=self._name, daemon=True
        )
        thread.start()
        ready.wait()
        if failure:
            thread.join()
            raise RuntimeError("The test client's event loop failed to start.") from failure[0]
        self._thread = thread

    def _main(self, ready: threading.Event, failure: list[BaseException]) -> None:
        try:
            asyncio.run(self._serve(ready))
        except BaseException as exc:
            failure.append(exc)
            ready.set()
            raise

    async def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        ready.set()
        await self._stop.wait()

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coroutine`` on the loop (starting it if needed); return its future."""
        try:
            self._refuse_loop_thread()
            loop = self.start()
            return asyncio.run_coroutine_threadsafe(coroutine, loop)
        except BaseException:
            coroutine.close()  # never scheduled: don't leave an un-awaited coroutine behind
            raise

    def submit_to(
        self, loop: asyncio.AbstractEventLoop, coroutine: Coroutine[Any, Any, T]
    ) -> concurrent.futures.Future[T]:
        """Schedule ``coroutine`` on ``loop``, which must still be this thread's loop.

        Work tied to one connection goes through here, so it never lands on a loop that
        is shutting down (it would never run) or on a newer loop (wrong objects).
        """
        try:
            self._refuse_loop_thread()
            with self._lock:
                if self._loop is not loop:
                    raise LoopClosedError("The test client's event loop has been closed.")
                return asyncio.run_coroutine_threadsafe(coroutine, loop)
        except BaseException:
            coroutine.close()
            raise

    def call(self, function: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run ``function()`` on the loop and block until it returns (or raises)."""
        return wait(self.submit(function()))

    def call_soon(self, loop: asyncio.AbstractEventLoop, callback: Callable[[], object]) -> bool:
        """Run a plain callback on ``loop`` if it is still this thread's loop.

        Returns whether the callback was scheduled.
        """
        with self._lock:
            if self._loop is not loop:
                return False
            loop.call_soon_threadsafe(callback)
            return True

    def close(self) -> None:
        """Stop the loop (cancelling what still runs on it) and join its thread."""
        with self._lock:
            loop, stop, thread = self._loop, self._stop, self._thread
            self._loop = self._stop = self._thread = None
        if loop is None or stop is None or thread is None:
            return
        loop.call_soon_threadsafe(stop.set)
        if thread.ident != threading.get_ident():
            thread.join()

    def _refuse_loop_thread(self) -> None:
        # The loop thread would wait for itself: a certain deadlock, so say so instead.
        if self.in_loop_thread():
            raise RuntimeError(
                "The TestClient was called from inside the application it is testing "
                "(on its event loop thread); that would deadlock."
            )


def wait(future: concurrent.futures.Future[T]) -> T:
    """Block on ``future``; cancel it if the wait itself is interrupted."""
    try:
        return future.result()
    except concurrent.futures.CancelledError:
        raise RuntimeError(
            "The test client's event loop was closed while this call was still running."
        ) from None
    except BaseException:
        future.cancel()
        raise


async def settle(task: asyncio.Future[Any], grace: float = SETTLE_GRACE_SECONDS) -> None:
    """Give ``task`` ``grace`` seconds to finish on its own, then cancel it.

    Never raises: the caller inspects the task's outcome.
    """
    if not task.done():
        await asyncio.wait({task}, timeout=grace)
    if not task.done():
        task.cancel()
        await asyncio.wait({task})

"""The synchronous test client."""

from __future__ import annotations

import base64
import secrets
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, ParamSpec, Self, TypeVar

import httpx

from velocix.testing.asgi_types import ASGIApp
from velocix.testing.lifespan import Lifespan
from velocix.testing.transport import ASGITransport
from velocix.testing.websocket import WebSocketTestSession

P = ParamSpec("P")
T = TypeVar("T")


class TestClient(httpx.Client):
    """A synchronous HTTP and WebSocket client for any ASGI 3 application.

    It is an :class:`httpx.Client`: ``get``/``post``/``request``/``stream`` return
    :class:`httpx.Response`, and cookies live in httpx's cookie jar. The application runs
    on one event loop in a background thread for as long as the client is open, so
    what it creates at startup stays usable by every request.

    ``with TestClient(app) as client:`` runs the lifespan: startup before the block
    (``lifespan.startup.failed`` raises ``RuntimeError`` with the application's
    message) and shutdown after it; the thread is stopped on the way out. Without
    ``with`` requests still work, with no lifespan events; call :meth:`close` (or let
    the client be garbage collected) to stop the thread.

    ``raise_server_exceptions=True`` re-raises the application's exceptions in the
    test; with ``False`` they become what the wire would show (a 500 response, a
    truncated body, close code 1011).

    ``root_path`` is the mount point reported to the application. ASGI's ``path``
    includes it: request ``"/api/items"`` or ``"/items"`` with ``root_path="/api"``,
    the application sees ``path == "/api/items"`` either way.
    """

    __test__ = False  # not a pytest test class, despite the name

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        client: tuple[str, int] | None = ("testclient", 50000),
        headers: Mapping[str, str] | None = None,
        follow_redirects: bool = True,
        cookies: httpx.Cookies | dict[str, str] | None = None,
    ) -> None:
        if not callable(app):
            raise TypeError(f"TestClient needs an ASGI application, got {app!r}.")
        if root_path and (not root_path.startswith("/") or root_path.endswith("/")):
            raise ValueError(f"root_path must start with '/' and not end with one: {root_path!r}.")
        self.app = app
        #: The lifespan ``state`` namespace; requests get a shallow copy of it.
        self.app_state: dict[str, Any] = {}
        self._asgi = ASGITransport(
            app,
            raise_server_exceptions=raise_server_exceptions,
            root_path=root_path,
            client=client,
            app_state=self.app_state,
        )
        self._lifespan: Lifespan | None = None
        default_headers = httpx.Headers({"user-agent": "testclient"})
        default_headers.update(headers or {})
        super().__init__(
            base_url=base_url,
            headers=default_headers,
            cookies=cookies,
            transport=self._asgi,
            follow_redirects=follow_redirects,
        )
        # An unclosed client must not leave its loop thread running for ever. The
        # finalizer holds the thread object, never the client.
        self._finalizer = weakref.finalize(self, self._asgi.loop_thread.close)

    def websocket_connect(
        self,
        url: str,
        subprotocols: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        params: httpx.QueryParams | Mapping[str, str] | None = None,
    ) -> WebSocketTestSession:
        """Open a WebSocket; use as ``with client.websocket_connect("/ws") as ws:``.

        Raises :class:`velocix.testing.WebSocketDenied` (an ``httpx.HTTPStatusError``)
        when the application refuses the handshake: status 403 for a close before
        accept, or the application's own denial response.
        """
        if self.is_closed:
            raise RuntimeError("Cannot open a WebSocket: the client has been closed.")
        handshake = httpx.Headers(
            {
                "connection": "upgrade",
                "upgrade": "websocket",
                "sec-websocket-key": base64.b64encode(secrets.token_bytes(16)).decode("ascii"),
                "sec-websocket-version": "13",
            }
        )
        if subprotocols:
            handshake["sec-websocket-protocol"] = ", ".join(subprotocols)
        handshake.update(headers or {})
        request = self.build_request("GET", url, headers=handshake, params=params)
        return self._asgi.connect_websocket(request)

    def run_async(
        self, function: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``await function(*args, **kwargs)`` on the application's event loop.

        For test code that must touch what the application created at startup (a
        connection pool, a queue): those objects belong to that loop.
        """

        async def run() -> T:
            return await function(*args, **kwargs)

        return self._asgi.loop_thread.call(run)

    def __enter__(self) -> Self:
        """Start the loop thread and run lifespan startup."""
        if self.is_closed:
            raise RuntimeError("Cannot reopen a TestClient once it has been closed.")
        if self._lifespan is not None:
            raise RuntimeError("This TestClient is already open; `with` cannot be nested.")
        self.app_state.clear()
        lifespan = Lifespan(self.app, self.app_state)
        try:
            self._asgi.loop_thread.call(lifespan.startup)
        except BaseException:
            self._asgi.close()
            raise
        self._lifespan = lifespan
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        """Close open connections, run lifespan shutdown and stop the loop thread.

        The client can be entered again afterwards (a new loop, a new lifespan).
        """
        try:
            self._shutdown()
        except Exception as error:
            if exc_value is None:
                raise
            exc_value.add_note(f"The application's shutdown also failed: {error!r}.")

    def close(self) -> None:
        """Shut down like leaving ``with`` and close the client for good."""
        try:
            self._shutdown()
        finally:
            super().close()

    def _shutdown(self) -> None:
        lifespan, self._lifespan = self._lifespan, None
        try:
            self._asgi.close_connections()  # ASGI: shutdown only once connections are closed
            if lifespan is not None:
                self._asgi.loop_thread.call(lifespan.shutdown)
        finally:
            self._asgi.loop_thread.close()

"""Errors raised by the test client."""

from __future__ import annotations

import httpx


class ASGIProtocolError(RuntimeError):
    """The application broke the ASGI protocol (wrong message order, bad types, ...).

    Raised inside the application's ``send()`` (as a real server would refuse the
    message), so it reaches the test through ``raise_server_exceptions``.
    """


class ClientDisconnected(OSError):
    """``send()`` was called on a connection that is already closed.

    ASGI spec 2.4 asks servers to raise an ``OSError`` subclass here. The client does
    not report it as an application error when the application lets it propagate,
    because it is the expected way for a streaming application to learn that the
    client went away.
    """


def caused_by_disconnect(error: BaseException) -> bool:
    """Whether ``error`` is, or was raised while handling, a :class:`ClientDisconnected`.

    Frameworks often translate the ``OSError`` into their own exception (Starlette
    raises ``ClientDisconnect`` from it); that is still the expected reaction to a
    client going away, not an application failure.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, ClientDisconnected):
            return True
        seen.add(id(current))
        if current.__cause__ is not None:
            current = current.__cause__
        elif current.__suppress_context__:  # `raise ... from None`: chain cut on purpose
            return False
        else:
            current = current.__context__
    return False


class WebSocketDenied(httpx.HTTPStatusError):
    """The application refused the WebSocket handshake.

    This is what the wire shows: an HTTP response instead of ``101 Switching
    Protocols``. Closing before accepting gives ``403`` with an empty body; the
    ``websocket.http.response`` extension gives the application's own status, headers
    and body. ``.response`` is the full :class:`httpx.Response`.
    """

    def __init__(self, *, request: httpx.Request, response: httpx.Response) -> None:
        message = (
            f"WebSocket handshake denied: HTTP {response.status_code} "
            f"{response.reason_phrase} for {request.url}"
        )
        super().__init__(message, request=request, response=response)

    @property
    def status_code(self) -> int:
        """The HTTP status of the denial (403 for a plain close before accept)."""
        return self.response.status_code

    @property
    def headers(self) -> httpx.Headers:
        """The denial response's headers."""
        return self.response.headers

    @property
    def content(self) -> bytes:
        """The denial response's body."""
        return self.response.content

    @property
    def text(self) -> str:
        """The denial response's body, decoded."""
        return self.response.text

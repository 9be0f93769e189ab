"""The client's exceptions."""

from __future__ import annotations

import httpx
import pytest

from velocix.testing.exceptions import ClientDisconnected, WebSocketDenied, caused_by_disconnect


class FrameworkDisconnect(Exception):
    """Stands for a framework translating the OSError (Starlette's ClientDisconnect)."""


def _translated() -> BaseException:
    try:
        try:
            raise ClientDisconnected("gone")
        except OSError:
            raise FrameworkDisconnect()  # noqa: B904 - implicit context, as Starlette does
    except FrameworkDisconnect as error:
        return error


def _raise_chained(cause: BaseException | None, *, suppress: bool) -> BaseException:
    try:
        try:
            raise ClientDisconnected("gone")
        except OSError:
            if suppress:
                raise ValueError("cut") from None
            if cause is not None:
                raise ValueError("caused") from cause
            raise ValueError("context")  # noqa: B904 - the implicit context is the point
    except ValueError as error:
        return error


def test_client_disconnected_is_an_oserror() -> None:
    assert issubclass(ClientDisconnected, OSError)
    assert caused_by_disconnect(ClientDisconnected())


def test_exceptions_raised_while_handling_the_disconnect_count() -> None:
    assert caused_by_disconnect(_translated())
    assert caused_by_disconnect(_raise_chained(None, suppress=False))
    assert caused_by_disconnect(_raise_chained(ClientDisconnected(), suppress=False))


def test_unrelated_or_deliberately_cut_chains_do_not_count() -> None:
    assert not caused_by_disconnect(ValueError("plain"))
    assert not caused_by_disconnect(_raise_chained(None, suppress=True))
    assert not caused_by_disconnect(_raise_chained(KeyError("other"), suppress=False))


def test_cyclic_chains_terminate() -> None:
    first, second = ValueError("a"), ValueError("b")
    first.__context__, second.__context__ = second, first
    assert not caused_by_disconnect(first)


def test_websocket_denied_describes_the_response() -> None:
    request = httpx.Request("GET", "http://testserver/ws")
    response = httpx.Response(
        401, headers={"x-reason": "token"}, content=b'{"detail":"no"}', request=request
    )
    denied = WebSocketDenied(request=request, response=response)
    assert (
        str(denied) == "WebSocket handshake denied: HTTP 401 Unauthorized for http://testserver/ws"
    )
    assert denied.status_code == 401
    assert denied.headers["x-reason"] == "token"
    assert denied.content == b'{"detail":"no"}'
    assert denied.text == '{"detail":"no"}'
    with pytest.raises(httpx.HTTPStatusError):
        raise denied

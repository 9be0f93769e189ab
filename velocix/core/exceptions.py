"""Exceptions that become HTTP error responses, and the one error body format.

Every framework error answers with the same JSON body, built by :func:`error_response`::

    {"detail": "<human readable message>", "status": 422,
     "errors": [{"loc": ["query", "page"], "msg": "...", "type": "..."}]}

``errors`` is present only for validation errors (:class:`RequestValidationError`, 422);
``detail`` is always present and defaults to the status phrase ("Not Found").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from velocix.core.response import JSONResponse
from velocix.http.datastructures import encode_header

__all__ = [
    "HTTPException",
    "RequestValidationError",
    "WebSocketException",
    "error_response",
    "status_phrase",
]

_PHRASES = {status.value: status.phrase for status in HTTPStatus}


def status_phrase(status_code: int) -> str:
    """The reason phrase for ``status_code`` ("Not Found"), or "Error" for unregistered codes."""
    return _PHRASES.get(status_code, "Error")


def error_response(
    status_code: int,
    detail: Any = None,
    *,
    errors: Sequence[Mapping[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The framework's error response: ``{"detail", "status"[, "errors"]}`` as JSON.

    ``detail`` defaults to the status phrase; ``headers`` (e.g. ``WWW-Authenticate``,
    ``Retry-After``, ``Allow``) are sent as given.
    """
    content: dict[str, Any] = {
        "detail": status_phrase(status_code) if detail is None else detail,
        "status": status_code,
    }
    if errors is not None:
        content["errors"] = list(errors)
    return JSONResponse(content, status_code, headers)


class HTTPException(Exception):
    """Raise to answer with ``status_code``; ``headers`` are sent with the error response.

    ``detail`` is any JSON-encodable value (normally a message) and defaults to the status
    phrase.
    """

    def __init__(
        self,
        status_code: int,
        detail: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if detail is None:
            detail = status_phrase(status_code)
        if headers:
            # Checked where the application sets them, not when the error response is built
            # (a ValueError naming the header, instead of a 500 far from its cause).
            for name, value in headers.items():
                encode_header(name, value)
        super().__init__(status_code, detail)
        self.status_code = status_code
        self.detail = detail
        self.headers = headers

    def response(self) -> JSONResponse:
        """This exception as the framework's error response (headers included)."""
        return error_response(self.status_code, self.detail, headers=self.headers)

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, detail={self.detail!r})"


class RequestValidationError(Exception):
    """Request data failed validation: a 422 listing every problem.

    ``errors`` is a list of ``{"loc": [...], "msg": "...", "type": "..."}`` dicts; ``loc`` starts
    with where the value came from (``"path"``, ``"query"``, ``"header"``, ``"cookie"``,
    ``"body"``...).
    """

    status_code = 422

    def __init__(
        self, errors: Sequence[Mapping[str, Any]], detail: str = "Request validation failed"
    ) -> None:
        super().__init__(detail)
        self.errors: list[Mapping[str, Any]] = list(errors)
        self.detail = detail

    def response(self) -> JSONResponse:
        """This exception as the framework's 422 error response."""
        return error_response(self.status_code, self.detail, errors=self.errors)

    def __str__(self) -> str:
        return f"{self.detail}: {self.errors!r}"


class WebSocketException(Exception):
    """Raise inside a WebSocket endpoint to close the connection with ``code`` and ``reason``.

    The application closes the socket with this code (or denies the handshake, if it was not
    accepted yet). Codes follow :meth:`velocix.websocket.WebSocket.close`.
    """

    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}" if self.reason else str(self.code)

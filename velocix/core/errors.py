"""From an exception to the response that reports it: exception handlers and the defaults.

``app.exception_handler(ExcClass or status_code)`` registers ``handler(request, exc)`` (sync or
async) returning a :class:`~velocix.core.response.Response`. A status-code handler applies to
:class:`~velocix.core.exceptions.HTTPException` and to the framework's own 404/405/422/500, and
is more specific than a class handler for HTTP errors; any other exception goes by class (most
derived first), then to the 500 handler. Without a handler, HTTP errors answer the framework's
one error body and anything else a generic 500, logged on ``velocix.error`` (with the exception
and traceback in the body only when ``debug`` is on). A handler that fails, or returns something
that is not a Response, is logged and answered with a 500.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from velocix.core.background import is_async_callable
from velocix.core.concurrency import run_in_threadpool
from velocix.core.exceptions import HTTPException, RequestValidationError, error_response
from velocix.core.params import FORMS_KEY
from velocix.core.request import ClientDisconnect, Request
from velocix.core.response import JSONResponse, Response

__all__ = ["ErrorResponder", "ExceptionHandler", "close_forms_quietly", "logger"]

ExceptionHandler = Callable[[Request, Any], Any]
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

logger = logging.getLogger("velocix.error")


class ErrorResponder:
    """Turns exceptions into responses for one application (see the module doc)."""

    def __init__(
        self, handlers: dict[type[BaseException] | int, ExceptionHandler], debug: Callable[[], bool]
    ) -> None:
        self.handlers = handlers
        self.debug = debug

    def lookup(self, exc: Exception) -> ExceptionHandler | None:
        """The registered handler for ``exc``, or ``None`` for the framework default."""
        handlers = self.handlers
        if not handlers:
            return None
        is_http = isinstance(exc, HTTPException | RequestValidationError)
        if isinstance(exc, HTTPException | RequestValidationError):
            handler = handlers.get(exc.status_code)
            if handler is not None:
                return handler
        for cls in type(exc).__mro__:
            handler = handlers.get(cls)
            if handler is not None:
                return handler
        return None if is_http else handlers.get(500)

    async def response(self, request: Request, exc: Exception) -> Response:
        """The response for ``exc``: the registered handler's, or the framework default."""
        handler = self.lookup(exc)
        if handler is not None:
            try:
                if is_async_callable(handler):
                    response = await handler(request, exc)
                else:
                    response = await run_in_threadpool(handler, request, exc)
            except Exception as handler_exc:
                logger.error("Exception handler %r failed", handler, exc_info=handler_exc)
                return self.server_error(request, handler_exc)
            if not isinstance(response, Response):
                logger.error("Exception handler %r returned %r, not a Response", handler, response)
                return self.server_error(request, exc)
            return response
        if isinstance(exc, HTTPException | RequestValidationError):
            return exc.response()
        return self.server_error(request, exc)

    def server_error(self, request: Request, exc: Exception) -> Response:
        """The 500 for an unhandled ``exc`` (logged with its traceback)."""
        logger.error(
            "Exception in %s %s",
            request.scope.get("method"),
            request.scope.get("path"),
            exc_info=exc,
        )
        if not self.debug():
            return error_response(500, "Internal Server Error")
        # The generic body, plus what a developer needs to see.
        return JSONResponse(
            {
                "detail": "Internal Server Error",
                "status": 500,
                "exception": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exception(exc),
            },
            500,
        )

    async def send(self, scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
        """Send the response for ``exc`` on the application's own ``scope``."""
        if isinstance(exc, ClientDisconnect):
            if FORMS_KEY in scope:
                await close_forms_quietly(scope)
            return  # nobody is left to answer
        request = Request(scope, receive, send)
        try:
            response = await self.response(request, exc)
            await response(scope, receive, send)
        finally:
            # Forms parsed by the failed handler or by an exception handler: their uploads are
            # closed once the error response is sent.
            if FORMS_KEY in scope:
                await close_forms_quietly(scope)


async def close_forms_quietly(scope: Scope) -> None:
    """Close the uploads of the forms parsed for this request (:func:`velocix.forms.close_forms`).

    Only called when ``scope`` lists such forms, so the forms package is imported only by
    applications that parse multipart forms. A failure is logged: the response is already sent.
    """
    from velocix.forms import close_forms

    try:
        await close_forms(scope)
    except Exception as exc:
        logger.error("Closing uploaded files failed", exc_info=exc)

"""The Velocix application: an ASGI callable with a decorator API.

::

    from velocix import Velocix

    app = Velocix()

    @app.get("/users/{user_id}")
    async def get_user(user_id: int):
        return {"user_id": user_id}

Requests
--------
The application routes on ``scope["path"]`` minus ``root_path`` (see
:mod:`velocix.core.routing`). A handler's return value becomes the response:

* a :class:`~velocix.core.response.Response` is sent as it is;
* with the default response class, anything else is JSON (dict, list, msgspec Struct,
  dataclass, pydantic model...; ``None`` is ``null``), with the route's ``status_code``;
  a ``status_code`` without a body (204, 304) sends no body at all;
* with ``response_class=...`` the value is passed to that class (``PlainTextResponse`` for a
  ``str``...).

Errors - one body format
------------------------
Every error the framework produces is ``{"detail": ..., "status": ...}`` (plus ``errors`` for
422), built by :func:`velocix.core.exceptions.error_response`:

=====  =====================================================================================
400    malformed JSON body, invalid ``Content-Length``
404    no route for the path
405    the path exists for other methods (``Allow`` lists them)
413    request body over ``max_body_size`` (default 1 MiB = 1,048,576 bytes; ``None``: no limit)
415    a JSON body parameter but a ``Content-Type`` that is not JSON (``application/json`` or
       ``application/*+json``). A body without ``Content-Type`` is read as JSON.
422    path/query/header/cookie/body validation; ``errors[].loc`` says where
       (``["query", "page"]``, ``["body", "items", 0, "price"]``)
500    an unhandled exception: ``{"detail": "Internal Server Error", "status": 500}``,
       logged on the ``velocix.error`` logger; the exception and traceback are added to the
       body only with ``debug=True``
=====  =====================================================================================

``app.exception_handler(ExcClass or status_code)`` overrides any of them (status-code handlers
apply to ``HTTPException`` and to the framework's own 404/405/422/500). When an exception
happens after the response has started, nothing more can be sent: it is re-raised so the
server closes the connection.

Performance notes
-----------------
Everything that can be decided at registration is: routes are compiled, handler plans built,
and a handler without dependencies gets a generated invoker (path/query/header/cookie values,
the JSON body or the Request, see :mod:`velocix.core.invoker`). When no middleware is
installed, ``__call__`` dispatches such a handler and sends its JSON (or text) directly,
without a Response object and without copying the scope. A copy of the scope (``route``,
``path_params``, ``app`` added) is made only when something can observe it: a Request, a
dependency, an exception handler, or middleware.

Uploads
-------
A form parsed with uploads is listed under ``scope[FORMS_KEY]``; the routes that own a scope
(Request, form or file parameters, the general solver, behind middleware) and the error path
close those files once the response is sent, after dependency teardowns. Other routes never
look.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import traceback
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

import msgspec

from velocix.core.background import BackgroundTasks, is_async_callable
from velocix.core.concurrency import run_in_threadpool
from velocix.core.exceptions import (
    HTTPException,
    RequestValidationError,
    WebSocketException,
    error_response,
)
from velocix.core.lifespan import Lifespan, LifespanContext, run_lifespan
from velocix.core.middleware import Middleware, build_stack
from velocix.core.params import FORMS_KEY, Depends
from velocix.core.request import MAX_BODY_SIZE_KEY, ClientDisconnect, Request
from velocix.core.response import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    json_body,
)
from velocix.core.routing import (
    Endpoint,
    Mount,
    MountDefinition,
    NoMatchFound,
    PathEntry,
    Route,
    RouteDecorators,
    RouteDefinition,
    RouteIndex,
    Router,
    WebSocketDefinition,
    WebSocketRoute,
    build_path,
    expand_router,
    route_path,
)
from velocix.core.solving import SolveContext, call_plan, run_teardowns, solve
from velocix.http.datastructures import State
from velocix.validation.convert import ConversionError
from velocix.validation.errors import ErrorItem, error_item

__all__ = ["Velocix"]

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]
ExceptionHandler = Callable[[Request, Any], Any]
H = TypeVar("H", bound=Callable[..., Any])

logger = logging.getLogger("velocix.error")

DEFAULT_MAX_BODY_SIZE = 1_048_576
"""Default request body limit: 1 MiB."""

_WEBSOCKET = "WEBSOCKET"  # the "method" WebSocket routes are indexed under
# What msgspec encodes natively it encodes exactly as json_body does; json_body (used on
# TypeError) adds pydantic models and orjson's extra types. Calling the encoder directly saves
# a Python call on the hot path.
_encode_json = msgspec.json.Encoder().encode
_JSON_CONTENT_TYPE = b"application/json"
_CONTENT_LENGTH = b"content-length"
_CONTENT_TYPE = b"content-type"
# Response classes whose __call__ cannot fail before sending the start message.
_PLAIN_RESPONSES = frozenset(
    {Response, JSONResponse, PlainTextResponse, HTMLResponse, RedirectResponse}
)


class Velocix(RouteDecorators):
    """An ASGI application.

    :param debug: add the exception and traceback to 500 responses (never in production).
    :param lifespan: a function ``lifespan(app)`` returning an async context manager, entered
        at startup and exited at shutdown; a mapping it yields is merged into request state.
    :param on_startup: / :param on_shutdown: callables (sync or async) run at startup/shutdown.
    :param max_body_size: request body limit in bytes (default 1 MiB); ``None`` for no limit.
    :param redirect_slashes: redirect (307) ``/a/`` to ``/a`` and back when only the other form
        has a route; by default trailing slashes are strict and the other form is a 404.
    :param middleware: :class:`~velocix.core.middleware.Middleware` items, outermost first.
    """

    def __init__(
        self,
        *,
        debug: bool = False,
        lifespan: LifespanContext | None = None,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        max_body_size: int | None = DEFAULT_MAX_BODY_SIZE,
        redirect_slashes: bool = False,
        middleware: Sequence[Middleware] | None = None,
        title: str = "Velocix",
        version: str = "0.1.0",
        description: str = "",
    ) -> None:
        if max_body_size is not None and max_body_size < 0:
            raise ValueError(f"max_body_size must be >= 0 or None, got {max_body_size!r}")
        self.debug = debug
        self.max_body_size = max_body_size
        self.redirect_slashes = redirect_slashes
        self.title = title
        self.version = version
        self.description = description
        self.state = State()
        self.lifespan = Lifespan(lifespan, on_startup, on_shutdown)
        self.exception_handlers: dict[type[BaseException] | int, ExceptionHandler] = {}
        self.user_middleware: list[Middleware] = list(middleware or ())
        for item in self.user_middleware:
            if not isinstance(item, Middleware):
                raise TypeError(f"middleware= takes Middleware(cls, **options) items, got {item!r}")
        self.routes: list[Route | WebSocketRoute | Mount] = []
        self._http = RouteIndex()
        self._static: dict[str, PathEntry] = self._http.static
        self._websockets = RouteIndex()
        self._mounts: list[Mount] = []
        self._names: dict[str, Route | WebSocketRoute | Mount] = {}
        # None once the stack is built and there is no middleware; otherwise the callable to
        # hand every scope to (first the stack builder, then the built stack).
        self._outer: ASGIApp | None = self._build_and_call
        self._stack_built = False

    # --- Registration --------------------------------------------------------------------

    def add_api_route(self, path: str, endpoint: Endpoint, **options: Any) -> None:
        """Register ``endpoint`` for ``path``; options as for :meth:`route`."""
        if inspect.isgeneratorfunction(endpoint) or inspect.isasyncgenfunction(endpoint):
            raise TypeError(
                f"Route {path!r}: a handler cannot be a generator; return a StreamingResponse"
            )
        route = Route(path, endpoint, max_body_size=self.max_body_size, **options)
        for method in sorted(route.methods):
            self._http.add(route.compiled, method, route)
        self._register(route)

    def add_websocket_route(
        self,
        path: str,
        endpoint: Endpoint,
        *,
        name: str | None = None,
        dependencies: Sequence[Depends] | None = None,
    ) -> None:
        """Register a WebSocket ``endpoint`` for ``path``."""
        route = WebSocketRoute(path, endpoint, name=name, dependencies=dependencies)
        self._websockets.add(route.compiled, _WEBSOCKET, route)
        self._register(route)

    def mount(self, path: str, app: ASGIApp, *, name: str | None = None) -> None:
        """Serve the ASGI ``app`` under ``path`` (HTTP and WebSocket), after all routes."""
        mount = Mount(path, app, name=name)
        self._mounts.append(mount)
        self._register(mount)

    def _register(self, route: Route | WebSocketRoute | Mount) -> None:
        self.routes.append(route)
        if route.name is not None:
            self._names.setdefault(route.name, route)

    def include_router(
        self,
        router: Router,
        *,
        prefix: str = "",
        dependencies: Sequence[Depends] | None = None,
        tags: Sequence[str] | None = None,
    ) -> None:
        """Register ``router``'s routes under ``prefix``, adding ``dependencies`` and ``tags``."""
        for definition in expand_router(router, prefix, dependencies, tags):
            if isinstance(definition, RouteDefinition):
                self.add_api_route(definition.path, definition.endpoint, **definition.options)
            elif isinstance(definition, WebSocketDefinition):
                self.add_websocket_route(
                    definition.path,
                    definition.endpoint,
                    name=definition.name,
                    dependencies=definition.dependencies,
                )
            elif isinstance(definition, MountDefinition):
                self.mount(definition.path, definition.app, name=definition.name)

    def url_path_for(self, name: str, /, **params: Any) -> str:
        """The path of the route called ``name`` with ``params`` filled in (percent-quoted).

        Relative to the application (``root_path`` not included). Raises
        :class:`~velocix.core.routing.NoMatchFound` for an unknown name or wrong parameters.
        """
        route = self._names.get(name)
        if route is None:
            known = ", ".join(sorted(self._names)) or "none"
            raise NoMatchFound(f"No route named {name!r} (routes: {known})")
        return build_path(route, params)

    def exception_handler(self, key: type[BaseException] | int) -> Callable[[H], H]:
        """Decorator: handle ``key`` (an exception class or a status code) with
        ``handler(request, exc) -> Response`` (sync or async)."""

        def decorator(handler: H) -> H:
            self.add_exception_handler(key, handler)
            return handler

        return decorator

    def add_exception_handler(
        self, key: type[BaseException] | int, handler: ExceptionHandler
    ) -> None:
        """Register ``handler`` for an exception class or a status code."""
        if not (isinstance(key, int) or (isinstance(key, type) and issubclass(key, BaseException))):
            raise TypeError(
                f"Exception handlers are keyed by exception class or status code, got {key!r}"
            )
        if not callable(handler):
            raise TypeError(f"Exception handler {handler!r} is not callable")
        self.exception_handlers[key] = handler

    def add_middleware(self, cls: Callable[..., ASGIApp], *args: Any, **options: Any) -> None:
        """Add a pure ASGI middleware ``cls(app, *args, **options)``; the last added runs first.

        Raises :class:`RuntimeError` once the application has started (the stack is built once,
        at startup or at the first request).
        """
        if self._stack_built:
            raise RuntimeError(
                f"Cannot add middleware {getattr(cls, '__name__', cls)!r}: the application has"
                " already started and its middleware stack is built. Add middleware before the"
                " first request or lifespan startup."
            )
        self.user_middleware.insert(0, Middleware(cls, *args, **options))

    # --- ASGI entry ----------------------------------------------------------------------

    def build_middleware_stack(self) -> None:
        """Build the middleware stack now (done automatically at startup / first request)."""
        if self._stack_built:
            return
        self._stack_built = True
        self._http.prepare()  # routes added later are compiled at their first lookup
        self._websockets.prepare()
        if self.user_middleware:
            self._outer = build_stack(
                self._dispatch, self.user_middleware, self._own_scope, self._send_guard_error
            )
        else:
            self._outer = None

    async def _build_and_call(self, scope: Any, receive: Receive, send: Send) -> None:
        self.build_middleware_stack()
        await self(scope, receive, send)

    async def __call__(self, scope: Any, receive: Receive, send: Send) -> None:
        outer = self._outer
        if outer is not None:
            await outer(scope, receive, send)
            return
        if scope["type"] != "http":
            await self._dispatch_other(scope, receive, send, False)
            return
        # The hot path: no middleware, HTTP. Kept flat on purpose (each extra coroutine level
        # costs about as much as the whole routing step).
        path = scope["path"]
        if scope.get("root_path"):
            path = route_path(scope)
        entry = self._static.get(path)
        if entry is None:
            found = self._http.match(path)
            if found is None:
                await self._no_route(scope, receive, send, path, False)
                return
            entry, values = found
        else:
            values = ()
        method = scope["method"]
        route = entry.methods.get(method)
        if route is None:
            await self._wrong_method(scope, receive, send, path, False)
            return
        if not route.simple:
            await self._run_general(scope, receive, send, route, values, False)
            return
        if route.owns_scope:
            # Reads the Request (forms...): on the app's own scope, with uploads closed after.
            await self._run_route(self._own_scope(scope), receive, send, route, values)
            return
        try:
            if route.noargs:
                result = await route.endpoint()
            else:
                result = await route.invoker(scope, values, receive, send)
            direct = _render_direct(route, result)
        except Exception as exc:
            await self._send_error(self._own_scope(scope, route, values), receive, send, exc)
            return
        if direct is None:
            await self._send_result(scope, receive, send, route, result)
            return
        status, headers, body = direct
        try:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})
        except OSError:
            pass  # the client went away (ASGI 2.4); nothing left to do

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The router behind the middleware stack; ``scope`` is already the app's own copy."""
        if scope["type"] != "http":
            await self._dispatch_other(scope, receive, send, True)
            return
        path = route_path(scope)
        entry = self._static.get(path)
        if entry is None:
            found = self._http.match(path)
            if found is None:
                await self._no_route(scope, receive, send, path, True)
                return
            entry, values = found
        else:
            values = ()
        route = entry.methods.get(scope["method"])
        if route is None:
            await self._wrong_method(scope, receive, send, path, True)
            return
        await self._run_route(scope, receive, send, route, values)

    async def _dispatch_other(self, scope: Any, receive: Receive, send: Send, owned: bool) -> None:
        scope_type = scope["type"]
        if scope_type == "websocket":
            await self._run_websocket(scope if owned else self._own_scope(scope), receive, send)
        elif scope_type == "lifespan":
            await run_lifespan(
                self, self.lifespan, scope, receive, send, self.build_middleware_stack
            )
        else:
            raise RuntimeError(
                f"Velocix cannot handle ASGI scope type {scope_type!r}"
                " (expected 'http', 'websocket' or 'lifespan')"
            )

    # --- Scopes ----------------------------------------------------------------------------

    def _own_scope(
        self, scope: Any, route: Any = None, values: tuple[str, ...] | None = None
    ) -> Scope:
        """The application's one copy of the server's scope, with its own keys added."""
        owned: Scope = dict(scope)
        owned["app"] = self
        owned[MAX_BODY_SIZE_KEY] = self.max_body_size
        if route is not None:
            owned["route"] = route
            owned["path_params"] = _convert_path_params(route, values or ())
        return owned

    # --- Running routes ------------------------------------------------------------------

    async def _run_route(
        self, scope: Scope, receive: Receive, send: Send, route: Route, values: tuple[str, ...]
    ) -> None:
        """Run ``route`` on an owned scope (behind middleware)."""
        if not route.simple:
            await self._run_general(scope, receive, send, route, values, True)
            return
        scope["route"] = route
        scope["path_params"] = _convert_path_params(route, values) if values else {}
        try:
            if route.noargs:
                result = await route.endpoint()
            else:
                assert route.invoker is not None
                result = await route.invoker(scope, values, receive, send)
            direct = _render_direct(route, result)
            response = self._make_response(route, result) if direct is None else None
        except Exception as exc:
            await self._send_error(scope, receive, send, exc)
        else:
            if direct is not None:
                await _send_direct(send, direct, scope["method"] == "HEAD")
            else:
                assert response is not None
                await self._send_response(scope, receive, send, response)
        finally:
            if FORMS_KEY in scope:  # a form with uploads was parsed: close them now
                await _close_forms(scope)

    async def _run_general(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        route: Route,
        values: tuple[str, ...],
        owned: bool,
    ) -> None:
        """Run a route that needs the general solver (dependencies, body, Request...)."""
        if not owned:
            scope = self._own_scope(scope)
        scope["route"] = route
        errors: list[ErrorItem] = []
        path_params = _convert_path_params(route, values, errors)
        scope["path_params"] = path_params
        ctx = SolveContext(scope, receive, send, path_params)
        ctx.errors.extend(errors)
        try:
            kwargs = await solve(route.plan, ctx)
            if kwargs is None or ctx.errors:
                raise RequestValidationError(ctx.errors)
            result = await call_plan(route.plan, kwargs, ctx)
            background = ctx.background if ctx.background and ctx.background.tasks else None
            direct = _render_direct(route, result) if background is None else None
            response = self._make_response(route, result) if direct is None else None
            if response is not None and background is not None:
                _attach_background(response, background)
        except Exception as exc:
            if ctx.exits:
                exc = await run_teardowns(ctx, exc) or exc
            await self._send_error(scope, receive, send, exc)
            return
        try:
            if direct is not None:
                await _send_direct(send, direct, scope["method"] == "HEAD")
            else:
                assert response is not None
                await self._send_response(scope, receive, send, response)
        finally:
            failure = await run_teardowns(ctx, None) if ctx.exits else None
            if FORMS_KEY in scope:  # after the teardowns, which may still use the uploads
                await _close_forms(scope)
            if failure is not None:
                logger.error("Dependency teardown failed", exc_info=failure)
                raise failure

    def _make_response(self, route: Route, result: Any) -> Response:
        """Turn a handler's return value into a Response (see the module docstring)."""
        if isinstance(result, Response):
            return result
        response_class = route.response_class
        if response_class is not None:
            return response_class(result, status_code=route.status_code)
        if not route.body_allowed:
            return Response(None, status_code=route.status_code)
        return JSONResponse(result, route.status_code)

    async def _send_result(
        self, scope: Any, receive: Receive, send: Send, route: Route, result: Any
    ) -> None:
        """Send a result the hot path did not handle itself (Response objects and the rest)."""
        try:
            response = self._make_response(route, result)
        except Exception as exc:
            await self._send_error(self._own_scope(scope, route, ()), receive, send, exc)
            return
        await self._send_response(scope, receive, send, response)

    async def _send_response(
        self, scope: Any, receive: Receive, send: Send, response: Response
    ) -> None:
        """Send ``response``; an error before its first message becomes a 500 instead."""
        if type(response) in _PLAIN_RESPONSES:
            await response(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await response(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise  # too late for an error response: the server closes the connection
            await self._send_error(scope, receive, send, exc)

    # --- Misses: mounts, redirects, 404, 405 ----------------------------------------------

    async def _no_route(
        self, scope: Any, receive: Receive, send: Send, path: str, owned: bool
    ) -> None:
        for mount in self._mounts:
            if mount.matches(path):
                await self._call_mount(mount, scope, receive, send, owned)
                return
        if self.redirect_slashes:
            target = _other_slash_form(path)
            if target is not None and self._has_path(target):
                await self._redirect(scope, receive, send, target)
                return
        await self._send_error(
            scope if owned else self._own_scope(scope), receive, send, HTTPException(404)
        )

    async def _wrong_method(
        self, scope: Any, receive: Receive, send: Send, path: str, owned: bool
    ) -> None:
        method = scope["method"]
        allowed: set[str] = set()
        for entry, values in self._http.all_matches(path):
            route = entry.methods.get(method)
            if route is not None:  # a later route with the same shape takes this method
                if owned:
                    await self._run_route(scope, receive, send, route, values)
                else:
                    await self._run_general(scope, receive, send, route, values, False)
                return
            allowed.update(entry.methods)
        for mount in self._mounts:
            if mount.matches(path):
                await self._call_mount(mount, scope, receive, send, owned)
                return
        allow = ", ".join(sorted(allowed))
        exc = HTTPException(405, headers={"Allow": allow})
        await self._send_error(scope if owned else self._own_scope(scope), receive, send, exc)

    async def _call_mount(
        self, mount: Mount, scope: Any, receive: Receive, send: Send, owned: bool
    ) -> None:
        if owned:
            scope["route"] = mount
        child = dict(scope)
        child["root_path"] = scope.get("root_path", "") + mount.path
        child.pop("route", None)
        child.pop("path_params", None)
        await mount.app(child, receive, send)

    def _has_path(self, path: str) -> bool:
        return path in self._static or self._http.match(path) is not None

    async def _redirect(self, scope: Any, receive: Receive, send: Send, target: str) -> None:
        location = quote(scope.get("root_path", "") + target, safe="/%")
        query = scope.get("query_string", b"")
        if query:
            location += "?" + query.decode("latin-1")
        await RedirectResponse(location, status_code=307)(scope, receive, send)

    # --- WebSockets ----------------------------------------------------------------------

    async def _run_websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route a WebSocket connection (``scope`` already owned)."""
        from velocix.websocket import WebSocket

        path = route_path(scope)
        entry = self._websockets.static.get(path)
        values: tuple[str, ...] = ()
        if entry is None:
            found = self._websockets.match(path)
            if found is None:
                for mount in self._mounts:
                    if mount.matches(path):
                        await self._call_mount(mount, scope, receive, send, True)
                        return
                # Closing before accepting makes the server deny the handshake (HTTP 403).
                await send({"type": "websocket.close", "code": 1000, "reason": ""})
                return
            entry, values = found
        route: WebSocketRoute = entry.methods[_WEBSOCKET]
        scope["route"] = route
        errors: list[ErrorItem] = []
        path_params = _convert_path_params(route, values, errors)
        scope["path_params"] = path_params
        websocket = WebSocket(scope, receive, send)
        ctx = SolveContext(scope, receive, send, path_params, websocket)
        ctx.errors.extend(errors)
        try:
            kwargs = await solve(route.plan, ctx)
            if kwargs is None or ctx.errors:
                raise RequestValidationError(ctx.errors)
            await call_plan(route.plan, kwargs, ctx)
        except Exception as exc:
            if ctx.exits:
                exc = await run_teardowns(ctx, exc) or exc
            await self._websocket_error(websocket, exc)
            return
        if ctx.exits:
            failure = await run_teardowns(ctx, None)
            if failure is not None:
                logger.error("Dependency teardown failed", exc_info=failure)

    async def _websocket_error(self, websocket: Any, exc: Exception) -> None:
        from velocix.websocket import WebSocketDisconnect

        if isinstance(exc, WebSocketDisconnect):
            return  # the client left: the normal end of a session
        if isinstance(exc, WebSocketException):
            code, reason = exc.code, exc.reason
        elif isinstance(exc, RequestValidationError):
            code = 1008  # policy violation: the handshake's path/query/headers are invalid
            first = exc.errors[0] if exc.errors else {}
            loc = ".".join(str(part) for part in first.get("loc", ()))
            reason = f"{loc}: {first.get('msg', 'invalid')}" if loc else "Invalid request"
        elif isinstance(exc, HTTPException):
            code, reason = 1008, str(exc.detail)
        else:
            logger.error("Exception in WebSocket %s", websocket.scope.get("path"), exc_info=exc)
            code, reason = 1011, "Internal Server Error"
        await _close_quietly(websocket, code, reason)

    # --- Errors --------------------------------------------------------------------------

    def _lookup_handler(self, exc: Exception) -> ExceptionHandler | None:
        handlers = self.exception_handlers
        if not handlers:
            return None
        # A status-code handler is more specific than a class handler for HTTP errors (404,
        # 422...); other exceptions go by class (most derived first), then the 500 handler.
        if isinstance(exc, HTTPException | RequestValidationError):
            handler = handlers.get(exc.status_code)
            if handler is not None:
                return handler
        for cls in type(exc).__mro__:
            handler = handlers.get(cls)
            if handler is not None:
                return handler
        if isinstance(exc, HTTPException | RequestValidationError):
            return None
        return handlers.get(500)

    async def error_response(self, request: Request, exc: Exception) -> Response:
        """The response for ``exc``: the registered handler's, or the framework default."""
        handler = self._lookup_handler(exc)
        if handler is not None:
            try:
                if is_async_callable(handler):
                    response = await handler(request, exc)
                else:
                    response = await run_in_threadpool(handler, request, exc)
            except Exception as handler_exc:
                logger.error("Exception handler %r failed", handler, exc_info=handler_exc)
                return self._server_error(request, handler_exc)
            if not isinstance(response, Response):
                logger.error("Exception handler %r returned %r, not a Response", handler, response)
                return self._server_error(request, exc)
            return response
        if isinstance(exc, HTTPException | RequestValidationError):
            return exc.response()
        return self._server_error(request, exc)

    def _server_error(self, request: Request, exc: Exception) -> Response:
        logger.error(
            "Exception in %s %s",
            request.scope.get("method"),
            request.scope.get("path"),
            exc_info=exc,
        )
        if not self.debug:
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

    async def _send_error(self, scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
        if isinstance(exc, ClientDisconnect):
            if FORMS_KEY in scope:
                await _close_forms(scope)
            return  # nobody is left to answer
        request = Request(scope, receive, send)
        try:
            response = await self.error_response(request, exc)
            await response(scope, receive, send)
        finally:
            # Forms parsed by the failed handler or by an exception handler: their uploads are
            # closed once the error response is sent.
            if FORMS_KEY in scope:
                await _close_forms(scope)

    async def _send_guard_error(
        self, scope: Scope, receive: Receive, send: Send, exc: Exception
    ) -> None:
        await self._send_error(scope, receive, send, exc)


async def _close_forms(scope: Scope) -> None:
    """Close the uploads of the forms parsed for this request (:func:`velocix.forms.close_forms`).

    Only called when ``scope`` lists such forms, so the forms battery is imported only by
    applications that parse multipart forms. A failure is logged: the response is already sent.
    """
    from velocix.forms import close_forms

    try:
        await close_forms(scope)
    except Exception as exc:
        logger.error("Closing uploaded files failed", exc_info=exc)


def _convert_path_params(
    route: Route | WebSocketRoute, values: tuple[str, ...], errors: list[ErrorItem] | None = None
) -> dict[str, Any]:
    """Converted path parameters; a value that does not convert is left out (and reported)."""
    params: dict[str, Any] = {}
    for (name, converter), raw in zip(route.path_converters, values, strict=False):
        try:
            params[name] = converter(raw)
        except ConversionError as exc:
            if errors is not None:
                errors.append(error_item(("path", name), str(exc)))
    return params


async def _close_quietly(websocket: Any, code: int, reason: str) -> None:
    """Close with ``code`` unless the socket is already closed (close frames: <= 123 bytes)."""
    encoded = reason.encode("utf-8")[:123].decode("utf-8", "ignore")
    with contextlib.suppress(RuntimeError, OSError):  # already closed, or the client is gone
        await websocket.close(code, encoded)


Direct = tuple[int, "list[tuple[bytes, bytes]]", bytes]


def _render_direct(route: Route, result: Any) -> Direct | None:
    """``(status, headers, body)`` for results sent without a Response object's ``__call__``:
    JSON with the default response class, ``str`` with a text response class, and plain
    Responses without background work. ``None`` for everything else."""
    if route.json_direct and (type(result) is dict or not isinstance(result, Response)):
        try:
            body = _encode_json(result)
        except TypeError:
            body = json_body(result)
        content_type = _JSON_CONTENT_TYPE
    elif route.text_content_type is not None and type(result) is str:
        body = result.encode()
        content_type = route.text_content_type
    elif type(result) in _PLAIN_RESPONSES and result.background is None:
        return result.status_code, result.raw_headers, result.body
    else:
        return None
    if not route.body_allowed:
        return route.status_code, [], b""
    return (
        route.status_code,
        [(_CONTENT_LENGTH, b"%d" % len(body)), (_CONTENT_TYPE, content_type)],
        body,
    )


async def _send_direct(send: Send, direct: Direct, head: bool) -> None:
    status, headers, body = direct
    try:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else body})
    except OSError:
        pass  # the client went away (ASGI 2.4)


def _attach_background(response: Response, background: BackgroundTasks) -> None:
    existing = response.background
    if existing is None:
        response.background = background
    else:
        response.background = BackgroundTasks([existing, background])


def _other_slash_form(path: str) -> str | None:
    """``/a/`` <-> ``/a``; None when there is no safe other form (``/``, ``//host``)."""
    if path == "/" or path.startswith("//"):
        return None
    other = path[:-1] if path.endswith("/") else path + "/"
    return None if other.startswith("//") else other

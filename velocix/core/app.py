"""The Velocix application: an ASGI callable with a decorator API.

::

    from velocix import Velocix

    app = Velocix()

    @app.get("/users/{user_id}")
    async def get_user(user_id: int):
        return {"user_id": user_id}

The application holds the configuration, the registries (routes, exception handlers,
middleware, dependency overrides) and hands every scope to its
:class:`~velocix.core.dispatch.Dispatcher` - behind the middleware stack when there is one.

Requests
--------
The application routes on ``scope["path"]`` minus ``root_path`` (see
:mod:`velocix.core.routing`). A handler's return value becomes the response:

* a :class:`~velocix.core.response.Response` is sent as it is;
* with the default response class, anything else is JSON (dict, list, msgspec Struct,
  dataclass, pydantic model...; ``None`` is ``null``), with the route's ``status_code``;
  a ``status_code`` without a body (204, 304) sends no body at all; a ``response_model`` (or a
  return annotation naming a model) validates and filters it first
  (:mod:`velocix.core.response_model`);
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

``app.exception_handler(ExcClass or status_code)`` overrides any of them (see
:mod:`velocix.core.errors`). When an exception happens after the response has started, nothing
more can be sent: it is re-raised so the server closes the connection.

OpenAPI
-------
``GET /openapi.json`` serves the OpenAPI 3.1 document and ``GET /docs`` a documentation page,
added when the application starts unless a route already has that path; ``openapi_url=None``
(or ``docs_url=None``) turns them off. :func:`velocix.openapi.install_openapi` configures them
by hand.

Performance notes
-----------------
Everything that can be decided at registration is: routes are compiled, handler plans built,
and a handler without dependencies gets a generated invoker (see :mod:`velocix.core.invoker`).
Dependency overrides are applied when they change, never looked up per request.

Uploads
-------
A form parsed with uploads is listed under ``scope[FORMS_KEY]``; the routes that own a scope
(Request, form or file parameters, the general solver, behind middleware) and the error path
close those files once the response is sent, after dependency teardowns. Other routes never
look.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from velocix.core.dependencies import DependencyOverrides, merge_overrides
from velocix.core.dispatch import WEBSOCKET, Dispatcher
from velocix.core.errors import ErrorResponder, ExceptionHandler
from velocix.core.lifespan import Lifespan, LifespanContext
from velocix.core.middleware import Middleware, build_stack
from velocix.core.params import Depends
from velocix.core.request import Request
from velocix.core.response import Response
from velocix.core.routers import (
    MountDefinition,
    RouteDecorators,
    RouteDefinition,
    Router,
    WebSocketDefinition,
    expand_router,
)
from velocix.core.routing import (
    Endpoint,
    Mount,
    NoMatchFound,
    Route,
    WebSocketRoute,
    build_path,
)
from velocix.http.datastructures import State

__all__ = ["Velocix"]

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]
H = TypeVar("H", bound=Callable[..., Any])

DEFAULT_MAX_BODY_SIZE = 1_048_576
"""Default request body limit: 1 MiB."""


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
    :param openapi_url: / :param docs_url: where the OpenAPI document and the docs page are
        served (``None``: not at all).
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
        openapi_url: str | None = "/openapi.json",
        docs_url: str | None = "/docs",
    ) -> None:
        if max_body_size is not None and max_body_size < 0:
            raise ValueError(f"max_body_size must be >= 0 or None, got {max_body_size!r}")
        self.debug = debug
        self.max_body_size = max_body_size
        self.redirect_slashes = redirect_slashes
        self.title = title
        self.version = version
        self.description = description
        self.openapi_url = openapi_url
        self.docs_url = docs_url
        self.state = State()
        self.lifespan = Lifespan(lifespan, on_startup, on_shutdown)
        self.exception_handlers: dict[type[BaseException] | int, ExceptionHandler] = {}
        self.errors = ErrorResponder(self.exception_handlers, lambda: self.debug)
        self.user_middleware: list[Middleware] = list(middleware or ())
        for item in self.user_middleware:
            if not isinstance(item, Middleware):
                raise TypeError(f"middleware= takes Middleware(cls, **options) items, got {item!r}")
        self.routes: list[Route | WebSocketRoute | Mount] = []
        self.router = Dispatcher(self)
        self._http = self.router.http
        self._names: dict[str, Route | WebSocketRoute | Mount] = {}
        self._overrides = DependencyOverrides()
        self._overrides.add_listener(self._apply_overrides)
        # What every scope is handed to: the dispatcher, or the middleware stack around it;
        # None until the stack is built (at startup or at the first request).
        self._asgi: ASGIApp | None = None

    async def __call__(self, scope: Any, receive: Receive, send: Send) -> None:
        asgi = self._asgi
        if asgi is None:
            asgi = self.build_middleware_stack()
        await asgi(scope, receive, send)

    # --- Registration --------------------------------------------------------------------

    def add_api_route(self, path: str, endpoint: Endpoint, **options: Any) -> None:
        """Register ``endpoint`` for ``path``; options as for :meth:`route`."""
        if inspect.isgeneratorfunction(endpoint) or inspect.isasyncgenfunction(endpoint):
            raise TypeError(
                f"Route {path!r}: a handler cannot be a generator; return a StreamingResponse"
            )
        route = Route(path, endpoint, max_body_size=self.max_body_size, **options)
        self._add_route(route, ())

    def _add_route(self, route: Route, scopes: tuple[Mapping[Any, Any], ...]) -> None:
        self._scoped_overrides(route, scopes)
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
        self._add_websocket(
            WebSocketRoute(path, endpoint, name=name, dependencies=dependencies), ()
        )

    def _add_websocket(self, route: WebSocketRoute, scopes: tuple[Mapping[Any, Any], ...]) -> None:
        self._scoped_overrides(route, scopes)
        self.router.websockets.add(route.compiled, WEBSOCKET, route)
        self._register(route)

    def mount(self, path: str, app: ASGIApp, *, name: str | None = None) -> None:
        """Serve the ASGI ``app`` under ``path`` (HTTP and WebSocket), after all routes."""
        mount = Mount(path, app, name=name)
        self.router.mounts.append(mount)
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
                route = Route(
                    definition.path,
                    definition.endpoint,
                    max_body_size=self.max_body_size,
                    **definition.options,
                )
                self._add_route(route, definition.overrides)
            elif isinstance(definition, WebSocketDefinition):
                websocket = WebSocketRoute(
                    definition.path,
                    definition.endpoint,
                    name=definition.name,
                    dependencies=definition.dependencies,
                )
                self._add_websocket(websocket, definition.overrides)
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

    # --- Dependency overrides ------------------------------------------------------------

    @property
    def dependency_overrides(self) -> DependencyOverrides:
        """``{dependency: replacement}`` for every route (see :mod:`velocix.core.dependencies`).

        A ``dict``; each change re-plans the routes that declare an overridden dependency, at
        once. Assigning a mapping replaces the contents.
        """
        return self._overrides

    @dependency_overrides.setter
    def dependency_overrides(self, overrides: Mapping[Any, Any]) -> None:
        self._overrides.replace(overrides)

    def _scoped_overrides(
        self, route: Route | WebSocketRoute, scopes: tuple[Mapping[Any, Any], ...]
    ) -> None:
        route.override_scopes = scopes
        for scope in scopes:
            if isinstance(scope, DependencyOverrides):
                scope.add_listener(self._apply_overrides)
        if self._overrides or any(scopes):
            route.apply_overrides(merge_overrides([*scopes, self._overrides]))

    def _apply_overrides(self) -> None:
        for route in self.routes:
            if isinstance(route, Route | WebSocketRoute):
                route.apply_overrides(merge_overrides([*route.override_scopes, self._overrides]))

    # --- Errors --------------------------------------------------------------------------

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

    async def error_response(self, request: Request, exc: Exception) -> Response:
        """The response for ``exc``: the registered handler's, or the framework default."""
        return await self.errors.response(request, exc)

    # --- Middleware and start-up ---------------------------------------------------------

    def add_middleware(self, cls: Callable[..., ASGIApp], *args: Any, **options: Any) -> None:
        """Add a pure ASGI middleware ``cls(app, *args, **options)``; the last added runs first.

        Raises :class:`RuntimeError` once the application has started (the stack is built once,
        at startup or at the first request).
        """
        if self._asgi is not None:
            raise RuntimeError(
                f"Cannot add middleware {getattr(cls, '__name__', cls)!r}: the application has"
                " already started and its middleware stack is built. Add middleware before the"
                " first request or lifespan startup."
            )
        self.user_middleware.insert(0, Middleware(cls, *args, **options))

    def build_middleware_stack(self) -> ASGIApp:
        """Build the middleware stack now (done automatically at startup / first request);
        the OpenAPI routes are added here too."""
        if self._asgi is not None:
            return self._asgi
        self._add_openapi_routes()
        router = self.router
        router.http.prepare()  # routes added later are compiled at their first lookup
        router.websockets.prepare()
        if self.user_middleware:
            self._asgi = build_stack(
                router.owned, self.user_middleware, router.own_scope, router.send_error
            )
        else:
            self._asgi = router.route
        return self._asgi

    def _add_openapi_routes(self) -> None:
        if self.openapi_url is None:
            return
        taken = {route.path for route in self.routes if isinstance(route, Route)}
        if self.openapi_url in taken:
            return  # installed by hand (install_openapi), or the application's own route
        from velocix.openapi import install_openapi

        docs_url = None if self.docs_url in taken else self.docs_url
        install_openapi(self, openapi_url=self.openapi_url, docs_url=docs_url)

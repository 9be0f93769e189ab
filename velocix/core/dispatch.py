"""Dispatch: from an ASGI scope to a route, a mount, a redirect or an error, and back out.

:class:`Dispatcher` is what the application hands every scope to (behind its middleware, if
any). It routes on ``scope["path"]`` minus ``root_path`` (:mod:`velocix.core.routing`), runs the
route and sends what the handler returned through the one send path, :meth:`Dispatcher.respond`:

* :func:`render` turns a return value into ``(status, headers, body, background)`` - JSON for
  values with the default response class (through the route's response model, if any), text
  for ``str`` with a text response class, and plain :class:`~velocix.core.response.Response`
  objects rendered exactly as the values they hold (lazily built, encoded once);
* anything :func:`render` cannot flatten (streaming, files, custom response classes) is sent
  by its own ``__call__``, and an error before its first message becomes an error response.

Misses: a path that matches nothing tries the mounts, then (``redirect_slashes``) the other
slash form, then answers 404; a path that matches with other methods answers 405 with
``Allow``. Errors go through the application's :class:`~velocix.core.errors.ErrorResponder`.

Scopes: without middleware, the server's scope is used as it is by routes that cannot observe
it; a copy (``app``, ``route``, ``path_params`` added) is made only for what can observe it: a
Request, a dependency, an exception handler. Behind middleware the scope is already that copy
(``owned``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import msgspec

from velocix.core.background import BackgroundTasks
from velocix.core.errors import close_forms_quietly, logger
from velocix.core.exceptions import HTTPException, RequestValidationError, WebSocketException
from velocix.core.lifespan import run_lifespan
from velocix.core.params import FORMS_KEY
from velocix.core.request import MAX_BODY_SIZE_KEY
from velocix.core.response import (
    CONTENT_LENGTHS,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    json_body,
)
from velocix.core.route_index import RouteIndex
from velocix.core.routing import Mount, Route, WebSocketRoute, route_path
from velocix.core.solving import SolveContext, call_plan, run_teardowns, solve
from velocix.validation.convert import ConversionError
from velocix.validation.errors import ErrorItem, error_item

if TYPE_CHECKING:
    from velocix.core.app import Velocix

__all__ = ["WEBSOCKET", "Dispatcher", "Rendered", "render"]

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Rendered = tuple[int, "list[tuple[bytes, bytes]]", bytes, Any]

WEBSOCKET = "WEBSOCKET"  # the "method" WebSocket routes are indexed under
# What msgspec encodes natively it encodes exactly as json_body does; json_body (used on
# TypeError) adds pydantic models and orjson's extra types.
_encode_json = msgspec.json.Encoder().encode
_CONTENT_LENGTH = b"content-length"
_LENGTHS = CONTENT_LENGTHS
_JSON_CONTENT_TYPE = (b"content-type", b"application/json")
_NO_BODY = frozenset([*range(100, 200), 204, 304])
# Response classes rendered from what they hold, and their content-type header.
_LAZY: dict[type[Response], tuple[bytes, bytes] | None] = {
    cls: cls._content_type for cls in (Response, JSONResponse, PlainTextResponse, HTMLResponse)
}


def render(route: Route, result: Any) -> Rendered | None:
    """``(status, headers, body, background)`` for ``result``, or ``None`` when it is a response
    that sends itself (streaming, file, custom classes). Raises what encoding raises."""
    kind = type(result)
    if kind in _LAZY:
        if result._raw_headers is not None:  # customised, or its headers were asked for
            return result.status_code, result._raw_headers, result.body, result.background
        # Rendered from the value it holds, the way a returned value is.
        status = result.status_code
        if status in _NO_BODY:
            return status, [], b"", result.background
        content = result._content
        if kind is JSONResponse:
            try:
                body = _encode_json(content)
            except TypeError:
                body = json_body(content)
        elif type(content) is str:
            body = content.encode()
        else:
            body = result.render(content)
        size = len(body)
        length = _LENGTHS[size] if size < 1024 else (_CONTENT_LENGTH, b"%d" % size)
        content_type = _LAZY[kind]
        headers = [length] if content_type is None else [length, content_type]
        return status, headers, body, result.background
    if isinstance(result, Response):
        if kind is RedirectResponse:
            return result.status_code, result.raw_headers, result.body, result.background
        return None
    if route.json_direct:
        model = route.response_model
        if model is not None and kind is not model.exact_type:
            body = model.encode(result)
        else:
            try:
                body = _encode_json(result)
            except TypeError:
                body = json_body(result)
        value_type = _JSON_CONTENT_TYPE
    elif route.text_content_type is not None and kind is str:
        body = result.encode()
        value_type = route.text_content_type
    else:
        return _render_with_class(route, result)
    if not route.body_allowed:
        return route.status_code, [], b"", None
    size = len(body)
    length = _LENGTHS[size] if size < 1024 else (_CONTENT_LENGTH, b"%d" % size)
    return route.status_code, [length, value_type], body, None


def _render_with_class(route: Route, value: Any) -> Rendered | None:
    """A value for a route whose ``response_class`` wraps it."""
    assert route.response_class is not None
    if route.response_model is not None:
        value = route.response_model.to_builtins(value)
    if not route.explicit_status:  # the class's own default (a redirect's 307)
        return render(route, route.response_class(value))
    return render(route, route.response_class(value, status_code=route.status_code))


class Dispatcher:
    """Routes scopes for one application (see the module doc)."""

    def __init__(self, app: Velocix) -> None:
        self.app = app
        self.http = RouteIndex()
        self.static = self.http.static
        self.websockets = RouteIndex()
        self.mounts: list[Mount] = []

    # --- Entry points ------------------------------------------------------------------

    def route(self, scope: Any, receive: Receive, send: Send) -> Awaitable[None]:
        """Without middleware: what answers ``scope``, as the awaitable that runs it.

        Routing is synchronous and the route's handler is called (its coroutine created) here,
        so the only coroutine between the application and the handler is :meth:`respond`.
        The server's scope is used as it is; a copy is made only when something can observe it.
        """
        if scope["type"] != "http":
            return self.other(scope, receive, send, False)
        path = scope["path"]
        if scope.get("root_path"):
            path = route_path(scope)
        entry = self.static.get(path)
        if entry is None:
            found = self.http.match(path)
            if found is None:
                return self.no_route(scope, receive, send, path, False)
            entry, values = found
        else:
            values = ()
        route = entry.methods.get(scope["method"])
        if route is None:
            return self.wrong_method(scope, receive, send, path, False)
        if not route.fast:
            return self.run(self.own_scope(scope), receive, send, route, values)
        try:
            pending = (
                route.endpoint() if route.noargs else route.invoker(scope, values, receive, send)
            )
        except Exception as exc:  # path/query/header/cookie validation (a 422)
            return self.send_error(self.own_scope(scope, route, values), receive, send, exc)
        return self.respond(scope, receive, send, route, pending, values)

    def owned(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        """Behind middleware: ``scope`` is already the application's own copy."""
        if scope["type"] != "http":
            return self.other(scope, receive, send, True)
        path = route_path(scope)
        entry = self.static.get(path)
        if entry is None:
            found = self.http.match(path)
            if found is None:
                return self.no_route(scope, receive, send, path, True)
            entry, values = found
        else:
            values = ()
        route = entry.methods.get(scope["method"])
        if route is None:
            return self.wrong_method(scope, receive, send, path, True)
        return self.run(scope, receive, send, route, values)

    async def other(self, scope: Any, receive: Receive, send: Send, owned: bool) -> None:
        """WebSocket and lifespan scopes."""
        scope_type = scope["type"]
        if scope_type == "websocket":
            await self.websocket(scope if owned else self.own_scope(scope), receive, send)
        elif scope_type == "lifespan":
            app = self.app
            await run_lifespan(app, app.lifespan, scope, receive, send, app.build_middleware_stack)
        else:
            raise RuntimeError(
                f"Velocix cannot handle ASGI scope type {scope_type!r}"
                " (expected 'http', 'websocket' or 'lifespan')"
            )

    def own_scope(
        self, scope: Any, route: Any = None, values: tuple[str, ...] | None = None
    ) -> Scope:
        """The application's one copy of the server's scope, with its own keys added."""
        owned: Scope = dict(scope)
        owned["app"] = self.app
        owned[MAX_BODY_SIZE_KEY] = self.app.max_body_size
        if route is not None:
            owned["route"] = route
            owned["path_params"] = convert_path_params(route, values or ())
        return owned

    # --- Running routes and sending what they return ------------------------------------

    def run(
        self, scope: Scope, receive: Receive, send: Send, route: Route, values: tuple[str, ...]
    ) -> Awaitable[None]:
        """Run ``route`` on the application's own ``scope``."""
        scope["route"] = route
        if route.invoker is None:
            return self._run_solved(scope, receive, send, route, values)
        scope["path_params"] = convert_path_params(route, values) if values else {}
        try:
            pending = (
                route.endpoint() if route.noargs else route.invoker(scope, values, receive, send)
            )
        except Exception as exc:
            return self._failed(scope, receive, send, route, values, exc, None, True)
        return self.respond(scope, receive, send, route, pending, values, None, True)

    async def _run_solved(
        self, scope: Scope, receive: Receive, send: Send, route: Route, values: tuple[str, ...]
    ) -> None:
        """A route that needs the general solver (dependencies, background tasks...)."""
        errors: list[ErrorItem] = []
        path_params = convert_path_params(route, values, errors)
        scope["path_params"] = path_params
        ctx = SolveContext(scope, receive, send, path_params)
        ctx.errors.extend(errors)
        pending = _solve_and_call(route, ctx)
        await self.respond(scope, receive, send, route, pending, values, ctx, True)

    async def respond(
        self,
        scope: Any,
        receive: Receive,
        send: Send,
        route: Route,
        pending: Awaitable[Any],
        values: tuple[str, ...],
        ctx: SolveContext | None = None,
        owned: bool = False,  # positional: keyword-only defaults make every call slower
    ) -> None:
        """The one send path: await the handler, render what it returned and send it.

        ``ctx`` is the solver's context (its background tasks run after the response's own,
        its dependency teardowns after that). ``owned``: ``scope`` is the application's own
        copy, whose parsed uploads are closed once the response is sent; otherwise it is the
        server's, and a copy is made only if an error needs one.
        """
        try:
            result = await pending
            rendered = render(route, result)
            if ctx is not None and ctx.background is not None and ctx.background.tasks:
                rendered, result = _with_background(rendered, result, ctx.background)
        except Exception as exc:
            await self._failed(scope, receive, send, route, values, exc, ctx, owned)
            return
        try:
            if rendered is not None:
                status, headers, body, background = rendered
                try:
                    await send(
                        {"type": "http.response.start", "status": status, "headers": headers}
                    )
                    if scope["method"] == "HEAD":
                        body = b""
                    await send({"type": "http.response.body", "body": body})
                except OSError:
                    pass  # the client went away (ASGI 2.4); background work still runs
                if background is not None:
                    await background()
            else:
                await self._send_itself(scope, receive, send, result, owned)
        finally:
            if owned:
                await _finish(scope, ctx)

    async def _send_itself(
        self, scope: Any, receive: Receive, send: Send, response: Any, owned: bool
    ) -> None:
        """A response that sends itself; an error before its first message is answered."""
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
            await self.send_error(scope if owned else self.own_scope(scope), receive, send, exc)

    async def _failed(
        self,
        scope: Any,
        receive: Receive,
        send: Send,
        route: Route,
        values: tuple[str, ...],
        exc: Exception,
        ctx: SolveContext | None,
        owned: bool,
    ) -> None:
        """The handler (or rendering its result) raised: teardowns, then the error response."""
        if ctx is not None and ctx.exits:
            exc = await run_teardowns(ctx, exc) or exc
        await self.send_error(
            scope if owned else self.own_scope(scope, route, values), receive, send, exc
        )

    async def send_error(self, scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
        """Answer ``exc`` (see :mod:`velocix.core.errors`) on the application's own scope."""
        await self.app.errors.send(scope, receive, send, exc)

    # --- Misses: mounts, redirects, 404, 405 ------------------------------------------

    async def no_route(
        self, scope: Any, receive: Receive, send: Send, path: str, owned: bool
    ) -> None:
        for mount in self.mounts:
            if mount.matches(path):
                await self.call_mount(mount, scope, receive, send, owned)
                return
        if self.app.redirect_slashes:
            target = _other_slash_form(path)
            if target is not None and self._has_path(target):
                await self._redirect(scope, receive, send, target, owned)
                return
        await self.send_error(
            scope if owned else self.own_scope(scope), receive, send, HTTPException(404)
        )

    async def wrong_method(
        self, scope: Any, receive: Receive, send: Send, path: str, owned: bool
    ) -> None:
        method = scope["method"]
        allowed: set[str] = set()
        for entry, values in self.http.all_matches(path):
            route = entry.methods.get(method)
            if route is not None:  # a later route with the same shape takes this method
                await self.run(
                    scope if owned else self.own_scope(scope), receive, send, route, values
                )
                return
            allowed.update(entry.methods)
        for mount in self.mounts:
            if mount.matches(path):
                await self.call_mount(mount, scope, receive, send, owned)
                return
        exc = HTTPException(405, headers={"Allow": ", ".join(sorted(allowed))})
        await self.send_error(scope if owned else self.own_scope(scope), receive, send, exc)

    async def call_mount(
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
        return path in self.static or self.http.match(path) is not None

    async def _redirect(
        self, scope: Any, receive: Receive, send: Send, target: str, owned: bool
    ) -> None:
        location = quote(scope.get("root_path", "") + target, safe="/%")
        query = scope.get("query_string", b"")
        if query:
            location += "?" + query.decode("latin-1")
        await self._send_itself(scope, receive, send, RedirectResponse(location), owned)

    # --- WebSockets ----------------------------------------------------------------------

    async def websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route a WebSocket connection (``scope`` already owned)."""
        path = route_path(scope)
        entry = self.websockets.static.get(path)
        values: tuple[str, ...] = ()
        if entry is None:
            found = self.websockets.match(path)
            if found is None:
                for mount in self.mounts:
                    if mount.matches(path):
                        await self.call_mount(mount, scope, receive, send, True)
                        return
                # Closing before accepting makes the server deny the handshake (HTTP 403).
                await send({"type": "websocket.close", "code": 1000, "reason": ""})
                return
            entry, values = found
        await self._run_websocket(scope, receive, send, entry.methods[WEBSOCKET], values)

    async def _run_websocket(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        route: WebSocketRoute,
        values: tuple[str, ...],
    ) -> None:
        from velocix.websocket import WebSocket

        scope["route"] = route
        errors: list[ErrorItem] = []
        path_params = convert_path_params(route, values, errors)
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


async def _solve_and_call(route: Route, ctx: SolveContext) -> Any:
    kwargs = await solve(route.plan, ctx)
    if kwargs is None or ctx.errors:
        raise RequestValidationError(ctx.errors)
    return await call_plan(route.plan, kwargs, ctx)


async def _finish(scope: Scope, ctx: SolveContext | None) -> None:
    """After the response: dependency teardowns, then the uploads (which they may use)."""
    failure = await run_teardowns(ctx, None) if ctx is not None and ctx.exits else None
    if FORMS_KEY in scope:
        await close_forms_quietly(scope)
    if failure is not None:
        logger.error("Dependency teardown failed", exc_info=failure)
        raise failure


def convert_path_params(
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


def _with_background(
    rendered: Rendered | None, result: Any, background: BackgroundTasks
) -> tuple[Rendered | None, Any]:
    """Run the request's ``BackgroundTasks`` after the response's own background work."""
    if rendered is not None:
        status, headers, body, existing = rendered
        tasks = background if existing is None else BackgroundTasks([existing, background])
        return (status, headers, body, tasks), result
    existing = result.background
    result.background = background if existing is None else BackgroundTasks([existing, background])
    return None, result


async def _close_quietly(websocket: Any, code: int, reason: str) -> None:
    """Close with ``code`` unless the socket is already closed (close frames: <= 123 bytes)."""
    encoded = reason.encode("utf-8")[:123].decode("utf-8", "ignore")
    with contextlib.suppress(RuntimeError, OSError):  # already closed, or the client is gone
        await websocket.close(code, encoded)


def _other_slash_form(path: str) -> str | None:
    """``/a/`` <-> ``/a``; None when there is no safe other form (``/``, ``//host``)."""
    if path == "/" or path.startswith("//"):
        return None
    other = path[:-1] if path.endswith("/") else path + "/"
    return None if other.startswith("//") else other

"""Path templates and route objects (``Route``, ``WebSocketRoute``, ``Mount``).

Path templates
--------------
``/users/{user_id}`` declares a path parameter typed by the handler's annotation (``int``,
``float``, ``str``, ``bool``, ``uuid.UUID``, ``decimal.Decimal``...); ``{name:int}``,
``{name:float}``, ``{name:str}``, ``{name:uuid}``, ``{name:decimal}``, ``{name:bool}`` give the type
in the path instead, and ``{name:path}`` matches the rest of the path, slashes included. A
parameter matches one or more characters other than ``/``, so an empty segment never matches
(``/users//42`` is a 404) and a value that does not convert (``/users/abc`` for an ``int``) is a
422 naming the parameter - never passed through as a string.

Matching rules
--------------
* Trailing slashes are strict: ``/a/`` and ``/a`` are different paths. With
  ``redirect_slashes=True`` a request that matches nothing but would match with the trailing
  slash added or removed gets a 307 redirect to that form (query string kept).
* Static paths (no parameters) take precedence over dynamic ones; dynamic routes are tried in
  registration order; mounts come after routes.
* A path that matches with another method is a 405 with ``Allow`` (sorted; every GET route
  also answers HEAD automatically, and OPTIONS only when declared).

Where the rest lives: the lookup structure in :mod:`velocix.core.route_index`, the decorators
and :class:`~velocix.core.routers.Router` in :mod:`velocix.core.routers` (both importable from
here too, as before the split).
"""

from __future__ import annotations

import dataclasses
import decimal
import functools
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

from velocix.core.invoker import Invoker, build_invoker
from velocix.core.params import Depends, ParamSpec
from velocix.core.planning import Plan, build_plan, is_simple
from velocix.core.response import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    body_allowed,
    content_type_header,
)
from velocix.core.response_model import ResponseModel, model_from_annotation
from velocix.core.route_index import PathEntry, RouteIndex
from velocix.validation.convert import Converter, string_converter

__all__ = [
    "BaseRoute",
    "CompiledPath",
    "Mount",
    "NoMatchFound",
    "PathEntry",
    "Route",
    "RouteIndex",
    "WebSocketRoute",
    "build_path",
    "compile_path",
    "route_path",
]

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]
Endpoint = Callable[..., Any]
F = TypeVar("F", bound=Callable[..., Any])

_CONTENT_TYPE = b"content-type"
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})


class NoMatchFound(LookupError):
    """``url_path_for`` found no route of that name, or the parameters do not fit it."""


# --- Path templates ----------------------------------------------------------------------

_PARAM = re.compile(r"{([^{}:]*)(?::([^{}]*))?}")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

CONVERTER_TYPES: dict[str, Any] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "uuid": uuid.UUID,
    "decimal": decimal.Decimal,
    "path": str,
}
"""Converter names usable as ``{name:converter}`` and the type each one produces."""

_SEGMENT = "([^/]+)"
_REST = "(.+)"


@dataclasses.dataclass(frozen=True, slots=True)
class CompiledPath:
    """A path template compiled once: its parameters, regex and bucket keys."""

    template: str
    param_names: tuple[str, ...]
    converters: Mapping[str, str]  # explicit "{name:conv}" converters
    pattern: str  # regex source with one unnamed group per parameter
    regex: re.Pattern[str]
    segment_count: int  # number of "/" in the template
    variable: bool  # has a {name:path} parameter (matches more segments)
    first_literal: str | None  # first segment when it holds no parameter
    format: str  # the template without converters, for url_path_for

    @property
    def is_static(self) -> bool:
        return not self.param_names


def compile_path(template: str) -> CompiledPath:
    """Compile ``template``; raises :class:`ValueError` with the reason for a bad template."""
    if not template.startswith("/"):
        raise ValueError(f"Route path {template!r} must start with '/'")
    names: list[str] = []
    converters: dict[str, str] = {}
    pattern: list[str] = []
    fmt: list[str] = []
    position = 0
    for match in _PARAM.finditer(template):
        literal = template[position : match.start()]
        _check_literal(template, literal)
        pattern.append(re.escape(literal))
        fmt.append(literal)
        name, converter = match.group(1), match.group(2)
        if not _IDENTIFIER.fullmatch(name):
            raise ValueError(f"Route path {template!r}: {name!r} is not a valid parameter name")
        if name in names:
            raise ValueError(f"Route path {template!r}: parameter {name!r} appears twice")
        if converter is not None:
            if converter not in CONVERTER_TYPES:
                known = ", ".join(sorted(CONVERTER_TYPES))
                raise ValueError(
                    f"Route path {template!r}: unknown converter {converter!r} (known: {known})"
                )
            converters[name] = converter
        names.append(name)
        pattern.append(_REST if converter == "path" else _SEGMENT)
        fmt.append("{" + name + "}")
        position = match.end()
    tail = template[position:]
    _check_literal(template, tail)
    pattern.append(re.escape(tail))
    fmt.append(tail)
    source = "".join(pattern)
    first_segment = template[1:].split("/", 1)[0]
    return CompiledPath(
        template=template,
        param_names=tuple(names),
        converters=converters,
        pattern=source,
        regex=re.compile(source),
        segment_count=template.count("/"),
        variable="path" in converters.values(),
        first_literal=None if "{" in first_segment else first_segment,
        format="".join(fmt),
    )


def _check_literal(template: str, literal: str) -> None:
    if "{" in literal or "}" in literal:
        raise ValueError(f"Route path {template!r} has an unbalanced '{{' or '}}'")


def route_path(scope: Mapping[str, Any]) -> str:
    """The path to route on: ``scope["path"]`` without the ``root_path`` prefix.

    ASGI servers (uvicorn >= 0.26, granian, hypercorn) and mounts put the full path in
    ``path`` and the mount point in ``root_path``; an application routes on the remainder.
    """
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        if len(path) == len(root_path):
            return "/"
        if path[len(root_path)] == "/":
            return path[len(root_path) :]
    return path


# --- Route objects -----------------------------------------------------------------------


def _endpoint_name(endpoint: Callable[..., Any]) -> str:
    target: Any = endpoint
    while isinstance(target, functools.partial):
        target = target.func
    return str(getattr(target, "__name__", None) or type(target).__name__)


def _path_converters(compiled: CompiledPath, plan: Plan) -> tuple[tuple[str, Converter], ...]:
    """One converter per path parameter, agreed between the template and every annotation."""
    uses = plan.all_path_types()
    result: list[tuple[str, Converter]] = []
    for name in compiled.param_names:
        explicit = compiled.converters.get(name)
        declared = {repr(a): a for _, a in uses.get(name, ()) if a is not Any}
        if len(declared) > 1:
            raise TypeError(
                f"Route {compiled.template!r}: path parameter {name!r} is declared with different"
                f" types: {', '.join(sorted(declared))}"
            )
        annotation = next(iter(declared.values()), None)
        if explicit is not None:
            expected = CONVERTER_TYPES[explicit]
            if annotation is not None and annotation is not expected:
                raise TypeError(
                    f"Route {compiled.template!r}: {{{name}:{explicit}}} conflicts with the"
                    f" annotation {annotation!r}"
                )
            annotation = expected
        result.append((name, string_converter(annotation if annotation is not None else str)))
    return tuple(result)


class BaseRoute:
    """What every entry of ``app.routes`` has: a ``path`` template and a ``name``."""

    path: str
    name: str | None


_UNSET: Any = object()  # response_model not given: the return annotation's model, if any


class Route(BaseRoute):
    """An HTTP route: introspectable (``path``, ``methods``, ``endpoint``, ``params``...) and
    precompiled for dispatch (``plan``, ``invoker``, ``fast``, ``response_model``)."""

    def __init__(
        self,
        path: str,
        endpoint: Endpoint,
        *,
        methods: Sequence[str] | None = None,
        name: str | None = None,
        status_code: int | None = None,
        response_class: type[Response] | None = None,
        response_model: Any = _UNSET,
        response_model_exclude_none: bool = False,
        response_model_exclude_unset: bool = False,
        tags: Sequence[str] | None = None,
        summary: str | None = None,
        description: str | None = None,
        include_in_schema: bool = True,
        dependencies: Sequence[Depends] | None = None,
        max_body_size: int | None = None,
    ) -> None:
        if not callable(endpoint):
            raise TypeError(f"Route {path!r}: endpoint {endpoint!r} is not callable")
        self.path = path
        self.endpoint = endpoint
        self.methods = _normalise_methods(path, methods)
        self.name = name if name is not None else _endpoint_name(endpoint)
        self.status_code = 200 if status_code is None else int(status_code)
        self.explicit_status = status_code is not None
        if response_class is not None and not (
            isinstance(response_class, type) and issubclass(response_class, Response)
        ):
            raise TypeError(f"Route {path!r}: response_class must be a Response subclass")
        self.response_class = response_class
        self.tags = list(tags or ())
        self.summary = summary
        self.description = description if description is not None else endpoint.__doc__
        self.include_in_schema = include_in_schema
        self.dependencies = list(dependencies or ())
        self.max_body_size = max_body_size
        self.compiled = compile_path(path)
        self.base_plan = build_plan(
            endpoint,
            self.compiled.param_names,
            dependencies=self.dependencies,
            methods=self.methods,
        )
        self.params: list[ParamSpec] = self.base_plan.all_specs()
        self.response_model = _response_model(
            path,
            endpoint,
            response_model,
            response_model_exclude_none,
            response_model_exclude_unset,
        )
        #: Router-level ``dependency_overrides`` in force for this route (outermost first).
        self.override_scopes: tuple[Mapping[Any, Any], ...] = ()
        self.body_allowed = body_allowed(self.status_code)
        # JSON results are encoded and sent directly (no Response object) when the route's
        # response class is the default one; str results with a text response class too.
        self.json_direct = response_class is None or response_class is JSONResponse
        self.text_content_type: tuple[bytes, bytes] | None = None
        if response_class in (PlainTextResponse, HTMLResponse):
            assert response_class is not None
            media_type = response_class.media_type or "text/plain"
            self.text_content_type = (
                _CONTENT_TYPE,
                content_type_header(media_type, response_class.charset),
            )
        self.set_plan(self.base_plan)

    def set_plan(self, plan: Plan) -> None:
        """Dispatch with ``plan`` (the base plan, or one with dependency overrides applied)."""
        self.path_converters = _path_converters(self.compiled, plan)
        self.plan = plan
        simple = is_simple(plan)
        # Dispatch shortcuts, decided once: a generated invoker for simple plans; "fast" when
        # it can run on the server's scope (nothing can observe the scope: no Request).
        self.invoker: Invoker | None = (
            build_invoker(
                plan, self.compiled.param_names, dict(self.path_converters), self.max_body_size
            )
            if simple
            else None
        )
        self.simple = simple
        self.fast = simple and not (plan.request or plan.custom)
        self.noargs = simple and not (plan.specs or plan.request) and plan.kind == "async"

    def apply_overrides(self, overrides: Mapping[Any, Any]) -> None:
        """Plan again with ``overrides`` when they touch this route's dependencies; otherwise
        (and when they are cleared) keep or restore the plan built at registration."""
        if overrides and self.base_plan.declares_any(overrides):
            self.set_plan(
                build_plan(
                    self.endpoint,
                    self.compiled.param_names,
                    dependencies=self.dependencies,
                    methods=self.methods,
                    overrides=overrides,
                )
            )
        elif self.plan is not self.base_plan:
            self.set_plan(self.base_plan)

    def __repr__(self) -> str:
        methods = ",".join(sorted(self.methods))
        return f"Route(path={self.path!r}, methods={{{methods}}}, name={self.name!r})"


def _response_model(
    path: str, endpoint: Endpoint, declared: Any, exclude_none: bool, exclude_unset: bool
) -> ResponseModel | None:
    annotation = model_from_annotation(endpoint) if declared is _UNSET else declared
    if annotation is None:
        if exclude_none or exclude_unset:
            raise TypeError(
                f"Route {path!r}: response_model_exclude_none/unset need a response_model"
            )
        return None
    try:
        return ResponseModel(annotation, exclude_none=exclude_none, exclude_unset=exclude_unset)
    except TypeError as exc:
        raise TypeError(f"Route {path!r}: {exc}") from None


def _normalise_methods(path: str, methods: Sequence[str] | None) -> frozenset[str]:
    if methods is None:
        return frozenset({"GET"})
    if isinstance(methods, str):
        raise TypeError(f"Route {path!r}: methods must be a list of strings, not a string")
    result = frozenset(method.upper() for method in methods)
    if not result:
        raise ValueError(f"Route {path!r}: methods must not be empty")
    unknown = result - HTTP_METHODS
    for method in unknown:
        if not re.fullmatch(r"[A-Z!#$%&'*+\-.^_`|~0-9]+", method):
            raise ValueError(f"Route {path!r}: {method!r} is not a valid HTTP method")
    return result


class WebSocketRoute(BaseRoute):
    """A WebSocket route; its handler takes ``websocket: WebSocket`` plus any path, query,
    header, cookie or dependency parameters."""

    def __init__(
        self,
        path: str,
        endpoint: Endpoint,
        *,
        name: str | None = None,
        dependencies: Sequence[Depends] | None = None,
    ) -> None:
        if not callable(endpoint):
            raise TypeError(f"WebSocket route {path!r}: endpoint {endpoint!r} is not callable")
        self.path = path
        self.endpoint = endpoint
        self.name = name if name is not None else _endpoint_name(endpoint)
        self.dependencies = list(dependencies or ())
        self.compiled = compile_path(path)
        self.plan = build_plan(
            endpoint,
            self.compiled.param_names,
            connection="websocket",
            dependencies=self.dependencies,
        )
        if self.plan.body is not None:
            raise TypeError(f"WebSocket route {path!r}: a WebSocket has no request body")
        self.params: list[ParamSpec] = self.plan.all_specs()
        self.path_converters = _path_converters(self.compiled, self.plan)
        self.base_plan = self.plan
        self.override_scopes: tuple[Mapping[Any, Any], ...] = ()

    def apply_overrides(self, overrides: Mapping[Any, Any]) -> None:
        """As :meth:`Route.apply_overrides`."""
        plan = self.base_plan
        if overrides and plan.declares_any(overrides):
            plan = build_plan(
                self.endpoint,
                self.compiled.param_names,
                connection="websocket",
                dependencies=self.dependencies,
                overrides=overrides,
            )
        self.path_converters = _path_converters(self.compiled, plan)
        self.plan = plan

    def __repr__(self) -> str:
        return f"WebSocketRoute(path={self.path!r}, name={self.name!r})"


class Mount(BaseRoute):
    """An ASGI application served under a path prefix.

    The application gets a copy of the scope whose ``root_path`` is extended by the prefix;
    ``path`` stays the full path (as ASGI servers send it), so the mounted app routes on
    ``path`` minus ``root_path``, which every current framework (Velocix, Starlette) does.
    """

    def __init__(self, path: str, app: ASGIApp, *, name: str | None = None) -> None:
        if path == "/":
            path = ""
        if path and (not path.startswith("/") or path.endswith("/")):
            raise ValueError(f"Mount path {path!r} must start with '/' and not end with '/'")
        if "{" in path or "}" in path:
            raise ValueError(f"Mount path {path!r}: mount paths cannot have parameters")
        if not callable(app):
            raise TypeError(f"Mount {path!r}: {app!r} is not an ASGI application")
        self.path = path
        self.app = app
        self.name = name

    def matches(self, path: str) -> bool:
        prefix = self.path
        return not prefix or path == prefix or path.startswith(prefix + "/")

    def __repr__(self) -> str:
        return f"Mount(path={self.path!r}, name={self.name!r})"


def build_path(route: Route | WebSocketRoute | Mount, params: Mapping[str, Any]) -> str:
    """Fill ``route``'s template with ``params`` (percent-quoted); raise NoMatchFound."""
    if isinstance(route, Mount):
        rest = params.get("path")
        extra = set(params) - {"path"}
        if extra:
            raise NoMatchFound(f"Mount {route.name!r} takes only 'path', got {sorted(extra)}")
        if rest is None:
            return route.path or "/"
        rest = str(rest)
        return route.path + quote(rest if rest.startswith("/") else "/" + rest, safe="/")
    compiled = route.compiled
    names = set(compiled.param_names)
    missing = names - set(params)
    if missing:
        raise NoMatchFound(
            f"Route {route.name!r} ({route.path}) needs path parameter(s) {sorted(missing)}"
        )
    extra = set(params) - names
    if extra:
        raise NoMatchFound(
            f"Route {route.name!r} ({route.path}) has no parameter(s) {sorted(extra)}"
        )
    path = compiled.format
    for name in compiled.param_names:
        value = params[name]
        text = str(value).lower() if isinstance(value, bool) else str(value)
        if not text:
            raise NoMatchFound(f"Route {route.name!r}: path parameter {name!r} cannot be empty")
        safe = "/" if compiled.converters.get(name) == "path" else ""
        path = path.replace("{" + name + "}", quote(text, safe=safe))
    return path


# Names that moved to velocix.core.routers, still importable from here (resolved on first use:
# routers imports this module).
_MOVED = frozenset(
    {
        "MountDefinition",
        "RouteDecorators",
        "RouteDefinition",
        "Router",
        "WebSocketDefinition",
        "expand_router",
        "join_paths",
    }
)


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        from velocix.core import routers

        return getattr(routers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

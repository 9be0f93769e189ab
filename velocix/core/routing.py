"""Routes, routers and the route index.

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

How lookup stays fast
---------------------
Static paths live in one ``dict`` (path -> method -> route). Dynamic routes are grouped into
buckets by segment count and first literal segment; each bucket is ONE compiled regex, the
alternation of its routes in registration order, whose matched alternative is read back from
``match.lastindex``. A request costs one dict lookup, or a couple of dict lookups and one regex
match, however many routes there are. The index only holds what was registered: nothing is
cached per request path.
"""

from __future__ import annotations

import dataclasses
import decimal
import functools
import re
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

from velocix.core.dependencies import DependencyOverrides
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
from velocix.validation.convert import Converter, string_converter

__all__ = [
    "BaseRoute",
    "CompiledPath",
    "Mount",
    "NoMatchFound",
    "Route",
    "RouteIndex",
    "Router",
    "WebSocketRoute",
    "compile_path",
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


# --- The index ---------------------------------------------------------------------------


class PathEntry:
    """All routes registered for one path template, by method (HEAD added for GET)."""

    __slots__ = ("allow", "compiled", "methods", "order")

    def __init__(self, compiled: CompiledPath, order: int) -> None:
        self.compiled = compiled
        self.order = order
        self.methods: dict[str, Any] = {}
        self.allow: frozenset[str] = frozenset()

    def add(self, method: str, route: Any) -> None:
        explicit = self.methods.get(method)
        if explicit is not None and not (method == "HEAD" and self._implicit_head()):
            raise ValueError(f"Route {method} {self.compiled.template} is already registered")
        self.methods[method] = route
        if method == "GET" and "HEAD" not in self.methods:
            self.methods["HEAD"] = route
        self.allow = frozenset(self.methods)

    def _implicit_head(self) -> bool:
        head = self.methods.get("HEAD")
        return head is not None and head is self.methods.get("GET")


class _Bucket:
    """One combined regex over several entries, in registration order.

    ``prefix`` is set for the most common bucket, one route ending in a single parameter
    segment (``/users/{user_id}``) in a bucket of known segment count: the bucket key already
    guarantees the segment count and first segment, so ``startswith`` replaces the regex.
    """

    __slots__ = ("entries", "prefix", "regex", "table")

    def __init__(self, entries: list[PathEntry], fixed_count: bool = False) -> None:
        self.entries = entries
        self.prefix: str | None = None
        if fixed_count and len(entries) == 1:
            compiled = entries[0].compiled
            head, _, last = compiled.format.rpartition("/")
            only_last_segment = compiled.param_names == (last[1:-1],) and "{" not in head
            if only_last_segment and last == f"{{{last[1:-1]}}}" and not compiled.variable:
                self.prefix = head + "/"
        parts: list[str] = []
        # table[lastindex] = (entry, group numbers of its parameters)
        self.table: list[tuple[PathEntry, tuple[int, ...]] | None] = [None]
        for entry in entries:
            outer = len(self.table)
            count = len(entry.compiled.param_names)
            self.table.append((entry, tuple(range(outer + 1, outer + 1 + count))))
            self.table.extend([None] * count)
            parts.append(f"({entry.compiled.pattern})")
        self.regex = re.compile("|".join(parts))


_Lookup = dict[str | None, _Bucket]


class RouteIndex:
    """Path -> route lookup for one kind of route (HTTP or WebSocket); see the module doc."""

    def __init__(self) -> None:
        self.static: dict[str, PathEntry] = {}
        self._entries: dict[str, PathEntry] = {}  # template -> entry, registration order
        self._dynamic: list[PathEntry] = []
        self._buckets: dict[int, _Lookup] = {}
        self._variable: _Lookup = {}
        self._prefixed: dict[str, PathEntry] = {}
        self._dirty = False

    def add(self, compiled: CompiledPath, method: str, route: Any) -> None:
        entry = self._entries.get(compiled.template)
        if entry is None:
            entry = PathEntry(compiled, len(self._entries))
            self._entries[compiled.template] = entry
            if compiled.is_static:
                self.static[compiled.template] = entry
            else:
                self._dynamic.append(entry)
                self._dirty = True
        entry.add(method, route)

    def entries(self) -> Iterator[PathEntry]:
        return iter(self._entries.values())

    def _rebuild(self) -> None:
        fixed: dict[int, list[PathEntry]] = {}
        variable: list[PathEntry] = []
        for entry in self._dynamic:
            if entry.compiled.variable:
                variable.append(entry)
            else:
                fixed.setdefault(entry.compiled.segment_count, []).append(entry)
        buckets: dict[int, _Lookup] = {}
        for count, entries in fixed.items():
            candidates = entries + [e for e in variable if e.compiled.segment_count <= count]
            buckets[count] = _bucket_lookup(sorted(candidates, key=_order), True)
        self._buckets = buckets
        self._variable = _bucket_lookup(variable, False)
        self._prefixed = {
            bucket.prefix: bucket.entries[0]
            for lookup in buckets.values()
            for bucket in lookup.values()
            if bucket.prefix is not None
        }
        self._dirty = False

    def prepare(self) -> None:
        """Compile the bucket regexes now (else done at the first lookup after a change)."""
        if self._dirty:
            self._rebuild()

    def match(self, path: str) -> tuple[PathEntry, tuple[str, ...]] | None:
        """The first dynamic entry matching ``path`` and its raw parameter values."""
        if self._dirty:
            self._rebuild()
        # The most common dynamic route, alone in its bucket and ending in one parameter
        # segment (/users/{id}): everything before the last "/" names it (see _Bucket.prefix).
        last = path.rfind("/") + 1
        entry = self._prefixed.get(path[:last])
        if entry is not None and last < len(path):
            return entry, (path[last:],)
        lookup = self._buckets.get(path.count("/"))
        if lookup is None:
            lookup = self._variable
            if not lookup:
                return None
        end = path.find("/", 1)
        bucket = lookup.get(path[1:end] if end > 0 else path[1:])
        if bucket is None:
            bucket = lookup.get(None)
            if bucket is None:
                return None
        prefix = bucket.prefix
        if prefix is not None:  # one route, /.../{param}: the key fixed everything else
            if len(path) > len(prefix) and path.startswith(prefix):
                return bucket.entries[0], (path[len(prefix) :],)
            return None
        found = bucket.regex.fullmatch(path)
        if found is None:
            return None
        slot = bucket.table[found.lastindex or 0]
        assert slot is not None
        entry, groups = slot
        if len(groups) == 1:
            return entry, (found.group(groups[0]),)
        return entry, found.group(*groups)

    def all_matches(self, path: str) -> list[tuple[PathEntry, tuple[str, ...]]]:
        """Every entry matching ``path`` in precedence order (static first), for 405/fallbacks."""
        found: list[tuple[PathEntry, tuple[str, ...]]] = []
        static = self.static.get(path)
        if static is not None:
            found.append((static, ()))
        for entry in self._dynamic:
            match = entry.compiled.regex.fullmatch(path)
            if match is not None:
                found.append((entry, match.groups()))
        return found

    def sizes(self) -> dict[str, int]:
        """Sizes of the internal structures (tests check nothing grows per request)."""
        return {
            "static": len(self.static),
            "entries": len(self._entries),
            "dynamic": len(self._dynamic),
            "buckets": sum(len(lookup) for lookup in self._buckets.values()),
            "variable": len(self._variable),
        }


def _order(entry: PathEntry) -> int:
    return entry.order


def _bucket_lookup(entries: list[PathEntry], fixed_count: bool) -> _Lookup:
    """first literal segment -> bucket of the entries that can match a path starting with it.

    ``fixed_count``: every path looked up here has the entries' segment count.
    """
    if not entries:
        return {}
    literals = {e.compiled.first_literal for e in entries} - {None}
    lookup: _Lookup = {}
    for literal in literals:
        lookup[literal] = _Bucket(
            [e for e in entries if e.compiled.first_literal in (literal, None)], fixed_count
        )
    wildcard = [e for e in entries if e.compiled.first_literal is None]
    if wildcard:
        lookup[None] = _Bucket(wildcard, fixed_count)
    return lookup


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


# --- Decorators and routers --------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class RouteDefinition:
    """A route recorded by a :class:`Router`, registered when the router is included."""

    path: str
    endpoint: Endpoint
    options: dict[str, Any]
    # The dependency_overrides of the routers it came through, outermost first.
    overrides: tuple[Mapping[Any, Any], ...] = ()


@dataclasses.dataclass(slots=True)
class WebSocketDefinition:
    path: str
    endpoint: Endpoint
    name: str | None
    dependencies: list[Depends]
    overrides: tuple[Mapping[Any, Any], ...] = ()


@dataclasses.dataclass(slots=True)
class MountDefinition:
    path: str
    app: ASGIApp
    name: str | None


class RouteDecorators:
    """``get``/``post``/.../``route``/``websocket`` decorators over two registration methods."""

    def add_api_route(self, path: str, endpoint: Endpoint, **options: Any) -> None:
        """Register ``endpoint`` for ``path`` (options as for :meth:`route`)."""
        raise TypeError(f"{type(self).__name__} does not accept routes")

    def add_websocket_route(
        self,
        path: str,
        endpoint: Endpoint,
        *,
        name: str | None = None,
        dependencies: Sequence[Depends] | None = None,
    ) -> None:
        """Register a WebSocket ``endpoint`` for ``path``."""
        raise TypeError(f"{type(self).__name__} does not accept WebSocket routes")

    def route(
        self,
        path: str,
        *,
        methods: Sequence[str] | None = None,
        status_code: int | None = None,
        response_class: type[Response] | None = None,
        response_model: Any = _UNSET,
        response_model_exclude_none: bool = False,
        response_model_exclude_unset: bool = False,
        name: str | None = None,
        tags: Sequence[str] | None = None,
        summary: str | None = None,
        description: str | None = None,
        include_in_schema: bool = True,
        dependencies: Sequence[Depends] | None = None,
    ) -> Callable[[F], F]:
        """Register the decorated function for ``path`` and ``methods`` (default ``["GET"]``).

        ``status_code`` is the status of a successful response built from the return value;
        ``response_class`` wraps the return value (e.g. ``PlainTextResponse`` for a ``str``);
        ``response_model`` validates and filters it (default: the return annotation when it
        names a model, see :mod:`velocix.core.response_model`; ``None``: never);
        ``name`` is what :meth:`url_path_for` looks up (default: the function's name);
        ``dependencies`` run before the handler, their values unused.
        """
        model_options: dict[str, Any] = {}
        if response_model is not _UNSET:
            model_options["response_model"] = response_model
        if response_model_exclude_none:
            model_options["response_model_exclude_none"] = True
        if response_model_exclude_unset:
            model_options["response_model_exclude_unset"] = True

        def decorator(endpoint: F) -> F:
            self.add_api_route(
                path,
                endpoint,
                methods=methods,
                status_code=status_code,
                response_class=response_class,
                **model_options,
                name=name,
                tags=tags,
                summary=summary,
                description=description,
                include_in_schema=include_in_schema,
                dependencies=dependencies,
            )
            return endpoint

        return decorator

    def _method(self, method: str, path: str, options: dict[str, Any]) -> Callable[[F], F]:
        if "methods" in options:
            raise TypeError(f"{method.lower()}() takes no 'methods'; use route(methods=...)")
        return self.route(path, methods=[method], **options)

    def get(self, path: str, **options: Any) -> Callable[[F], F]:
        """Register a GET handler (HEAD is answered automatically)."""
        return self._method("GET", path, options)

    def post(self, path: str, **options: Any) -> Callable[[F], F]:
        """Register a POST handler."""
        return self._method("POST", path, options)

    def put(self, path: str, **options: Any) -> Callable[[F], F]:
        """Register a PUT handler."""
        return self._method("PUT", path, options)

    def patch(self, path: str, **options: Any) -> Callable[[F], F]:
        """Register a PATCH handler."""
        return self._method("PATCH", path, options)

    def delete(self, path: str, **options: Any) -> Callable[[F], F]:
        """Register a DELETE handler."""
        return self._method("DELETE", path, options)

    def head(self, path: str, **options: Any) -> Callable[[F], F]:
        """Register an explicit HEAD handler (replaces the automatic one of a GET route)."""
        return self._method("HEAD", path, options)

    def options(self, path: str, **options: Any) -> Callable[[F], F]:
        """Register an OPTIONS handler."""
        return self._method("OPTIONS", path, options)

    def websocket(
        self, path: str, *, name: str | None = None, dependencies: Sequence[Depends] | None = None
    ) -> Callable[[F], F]:
        """Register a WebSocket handler for ``path``."""

        def decorator(endpoint: F) -> F:
            self.add_websocket_route(path, endpoint, name=name, dependencies=dependencies)
            return endpoint

        return decorator


def join_paths(prefix: str, path: str) -> str:
    """``prefix + path``, checking the prefix (``/v1``: leading slash, no trailing slash)."""
    if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
        raise ValueError(f"Prefix {prefix!r} must start with '/' and not end with '/'")
    return prefix + path


class Router(RouteDecorators):
    """A group of routes with a common prefix, dependencies and tags, included into an app::

        router = Router(prefix="/v1", tags=["v1"])

        @router.get("/users/{user_id}")
        async def get_user(user_id: int): ...

        app.include_router(router, prefix="/api")   # GET /api/v1/users/{user_id}

    Routes are copied when the router is included; routes added to the router afterwards are
    not seen by that app. ``router.dependency_overrides`` stays live: a change applies to its
    routes in every app that included it.
    """

    def __init__(
        self,
        prefix: str = "",
        *,
        dependencies: Sequence[Depends] | None = None,
        tags: Sequence[str] | None = None,
    ) -> None:
        join_paths(prefix, "/")  # validates the prefix
        self.prefix = prefix
        self.dependencies = list(dependencies or ())
        self.tags = list(tags or ())
        self.definitions: list[RouteDefinition | WebSocketDefinition | MountDefinition] = []
        self._overrides = DependencyOverrides()

    @property
    def dependency_overrides(self) -> DependencyOverrides:
        """``{dependency: replacement}`` for this router's routes, in every app that includes
        it (the app's own ``dependency_overrides`` win); changes apply at once."""
        return self._overrides

    @dependency_overrides.setter
    def dependency_overrides(self, overrides: Mapping[Any, Any]) -> None:
        self._overrides.replace(overrides)

    def add_api_route(self, path: str, endpoint: Endpoint, **options: Any) -> None:
        compile_path(join_paths(self.prefix, path))  # fail at the decorator, not at include
        self.definitions.append(RouteDefinition(path, endpoint, options))

    def add_websocket_route(
        self,
        path: str,
        endpoint: Endpoint,
        *,
        name: str | None = None,
        dependencies: Sequence[Depends] | None = None,
    ) -> None:
        compile_path(join_paths(self.prefix, path))
        self.definitions.append(WebSocketDefinition(path, endpoint, name, list(dependencies or ())))

    def mount(self, path: str, app: ASGIApp, *, name: str | None = None) -> None:
        """Mount an ASGI app under ``prefix + path`` when the router is included."""
        self.definitions.append(MountDefinition(path, app, name))

    def include_router(
        self,
        router: Router,
        *,
        prefix: str = "",
        dependencies: Sequence[Depends] | None = None,
        tags: Sequence[str] | None = None,
    ) -> None:
        """Copy ``router``'s routes into this router under ``prefix``."""
        for definition in expand_router(router, prefix, dependencies, tags):
            self.definitions.append(definition)


def expand_router(
    router: Router,
    prefix: str,
    dependencies: Sequence[Depends] | None,
    tags: Sequence[str] | None,
) -> list[RouteDefinition | WebSocketDefinition | MountDefinition]:
    """``router``'s definitions with prefixes joined and dependencies/tags merged (outer first)."""
    full_prefix = join_paths(prefix, router.prefix)
    outer_deps = [*(dependencies or ()), *router.dependencies]
    outer_tags = [*(tags or ()), *router.tags]
    result: list[RouteDefinition | WebSocketDefinition | MountDefinition] = []
    for definition in router.definitions:
        if isinstance(definition, RouteDefinition):
            options = dict(definition.options)
            options["dependencies"] = [*outer_deps, *(options.get("dependencies") or ())]
            options["tags"] = [*outer_tags, *(options.get("tags") or ())]
            result.append(
                RouteDefinition(
                    join_paths(full_prefix, definition.path),
                    definition.endpoint,
                    options,
                    (router.dependency_overrides, *definition.overrides),
                )
            )
        elif isinstance(definition, WebSocketDefinition):
            result.append(
                WebSocketDefinition(
                    join_paths(full_prefix, definition.path),
                    definition.endpoint,
                    definition.name,
                    [*outer_deps, *definition.dependencies],
                    (router.dependency_overrides, *definition.overrides),
                )
            )
        else:
            result.append(
                MountDefinition(
                    join_paths(full_prefix, definition.path), definition.app, definition.name
                )
            )
    return result

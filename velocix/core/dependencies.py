"""Handler plans: how each argument of a handler (or dependency) is produced, decided once.

At registration every handler is analysed into a :class:`Plan`: for each parameter, where its
value comes from (path, query, header, cookie, body, the request itself, background tasks, a
dependency) and which converter turns the request string into the declared type. Nothing about
the signature is inspected per request.

Per request, :func:`solve` walks the plan against a :class:`SolveContext` (the lazily parsed
request data, the dependency cache, the teardown stack and the validation errors collected so
far). Every problem with the request is collected first and reported together as one 422.

Handlers that need nothing but path, query, header, cookie and JSON body values (the common
case, :func:`is_simple`) get a generated invoker instead, see :mod:`velocix.core.invoker`.

Dependencies
------------
``Depends(callable, use_cache=True)``: the callable is analysed like a handler (it may take the
same parameters, other dependencies included). Sync callables run in the thread pool. Within one
request a dependency is called once and its value reused wherever it is used again
(``use_cache=False`` calls it every time). Generator dependencies (sync or async) provide the
value they yield; the code after ``yield`` (the *teardown*) runs after the response has been sent
and its background tasks have finished, in reverse order of setup. When the handler raises, the
exception is thrown into the generators first, so ``try/except/finally`` around ``yield`` sees
it, and a dependency may replace it with another exception (say an ``HTTPException``); a
dependency that swallows it does not turn the failure into a success.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import inspect
import typing
from collections.abc import (
    AsyncGenerator,
    Awaitable,
    Callable,
    Collection,
    Generator,
    Mapping,
    Sequence,
)
from typing import Any, Literal
from urllib.parse import unquote_plus

import msgspec

from velocix.core.background import BackgroundTasks, is_async_callable
from velocix.core.concurrency import run_in_threadpool
from velocix.core.exceptions import HTTPException, RequestValidationError
from velocix.core.params import (
    MISSING,
    Body,
    CustomParam,
    Header,
    Param,
    ParamSpec,
    Path,
    Query,
)
from velocix.core.request import HTTPConnection, Request, cookie_parser
from velocix.validation.body import InvalidBody, JSONBodyDecoder, MalformedJSON, is_pydantic_model
from velocix.validation.convert import (
    ConversionError,
    Converter,
    is_optional,
    string_converter,
    strip_optional,
)
from velocix.validation.errors import ErrorItem, error_item, missing_item

__all__ = [
    "Depends",
    "Plan",
    "SolveContext",
    "build_plan",
    "call_plan",
    "is_simple",
    "parse_query",
    "parse_query_multi",
    "run_teardowns",
    "solve",
]

ConnectionKind = Literal["http", "websocket"]
CallKind = Literal["async", "sync", "asyncgen", "gen"]


class Depends:
    """Declare a dependency: ``db: Session = Depends(get_session)``.

    ``dependency`` is any callable - function, coroutine function, (async) generator function,
    class, callable instance, bound method or ``functools.partial``. Without one, the
    parameter's annotation is called (``user: User = Depends()``).
    """

    __slots__ = ("dependency", "use_cache")

    def __init__(
        self, dependency: Callable[..., Any] | None = None, *, use_cache: bool = True
    ) -> None:
        if dependency is not None and not callable(dependency):
            raise TypeError(f"Depends() needs a callable, got {dependency!r}")
        self.dependency = dependency
        self.use_cache = use_cache

    def __repr__(self) -> str:
        name = getattr(self.dependency, "__qualname__", repr(self.dependency))
        cache = "" if self.use_cache else ", use_cache=False"
        return f"Depends({name}{cache})"


# --- Query string ------------------------------------------------------------------------


def parse_query(query_string: bytes) -> dict[str, str]:
    """Parse a query string to ``{key: last value}`` (blank values kept).

    Same result as :class:`~velocix.http.datastructures.QueryParams` single-value access, with
    a fast path for the common all-ASCII, nothing-escaped query string.
    """
    if not query_string:
        return {}
    text = query_string.decode("utf-8", "replace")
    result: dict[str, str] = {}
    if "%" in text or "+" in text:
        for pair in text.split("&"):
            if pair:
                key, _, value = pair.partition("=")
                result[unquote_plus(key)] = unquote_plus(value)
        return result
    for pair in text.split("&"):
        if pair:
            key, _, value = pair.partition("=")
            result[key] = value
    return result


def parse_query_multi(query_string: bytes) -> dict[str, list[str]]:
    """Parse a query string to ``{key: [values in order]}`` (blank values kept)."""
    result: dict[str, list[str]] = {}
    if not query_string:
        return result
    text = query_string.decode("utf-8", "replace")
    escaped = "%" in text or "+" in text
    for pair in text.split("&"):
        if pair:
            key, _, value = pair.partition("=")
            if escaped:
                key, value = unquote_plus(key), unquote_plus(value)
            values = result.get(key)
            if values is None:
                result[key] = [value]
            else:
                values.append(value)
    return result


def header_values(scope: Mapping[str, Any]) -> dict[str, list[str]]:
    """Request headers as ``{lower-case name: [values in order]}`` (latin-1 decoded)."""
    result: dict[str, list[str]] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        values = result.get(name)
        if values is None:
            result[name] = [value]
        else:
            values.append(value)
    return result


def request_cookies(scope: Mapping[str, Any]) -> dict[str, str]:
    """Cookies from every ``Cookie`` header, parsed like :attr:`Request.cookies`."""
    values = [v.decode("latin-1") for k, v in scope["headers"] if k == b"cookie"]
    return cookie_parser("; ".join(values)) if values else {}


# --- Plans -------------------------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class ValueSpec:
    """How to produce one path/query/header/cookie argument."""

    kwname: str
    alias: str
    location: str
    converter: Converter
    default: Any
    required: bool
    multi: bool  # list[T]: every value of a repeated key
    copy_default: bool  # mutable default (list/dict/set): copied per request

    @property
    def loc(self) -> tuple[str, str]:
        return (self.location, self.alias)

    def default_value(self) -> Any:
        return copy.copy(self.default) if self.copy_default else self.default


@dataclasses.dataclass(slots=True)
class BodySpec:
    """How to produce the JSON body argument(s)."""

    decoder: JSONBodyDecoder
    # Whole body into one parameter: [(kwname, alias)] with embed False; embedded: one entry per
    # body parameter, read from the decoded object's member named alias.
    params: list[tuple[str, str]]
    embed: bool
    required: bool
    default: Any


@dataclasses.dataclass(slots=True)
class DependencySpec:
    kwname: str | None  # None: a route-level dependency whose value is not used
    plan: Plan
    use_cache: bool


@dataclasses.dataclass(slots=True)
class Plan:
    """Everything needed to call one handler or dependency, decided at registration."""

    call: Callable[..., Any]
    name: str
    kind: CallKind
    path: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (kwname, alias)
    path_types: dict[str, Any] = dataclasses.field(default_factory=dict)  # alias -> annotation
    query: list[ValueSpec] = dataclasses.field(default_factory=list)
    header: list[ValueSpec] = dataclasses.field(default_factory=list)
    cookie: list[ValueSpec] = dataclasses.field(default_factory=list)
    body: BodySpec | None = None
    request: list[str] = dataclasses.field(default_factory=list)
    connection: list[str] = dataclasses.field(default_factory=list)  # WebSocket / HTTPConnection
    background: list[str] = dataclasses.field(default_factory=list)
    custom: list[tuple[str, CustomParam, ParamSpec]] = dataclasses.field(default_factory=list)
    dependencies: list[DependencySpec] = dataclasses.field(default_factory=list)
    specs: list[ParamSpec] = dataclasses.field(default_factory=list)

    def all_specs(self) -> list[ParamSpec]:
        """This plan's parameters and its dependencies', flattened, without duplicates."""
        seen: set[tuple[str, str]] = set()
        result: list[ParamSpec] = []
        for spec in self._walk_specs():
            key = (spec.location, spec.alias)
            if key not in seen:
                seen.add(key)
                result.append(spec)
        return result

    def _walk_specs(self) -> list[ParamSpec]:
        specs: list[ParamSpec] = []
        for dependency in self.dependencies:
            specs.extend(dependency.plan._walk_specs())
        specs.extend(self.specs)
        return specs

    def all_path_types(self) -> dict[str, list[tuple[str, Any]]]:
        """alias -> [(who, annotation)] for every path parameter used in the plan tree."""
        result: dict[str, list[tuple[str, Any]]] = {}
        for dependency in self.dependencies:
            for alias, uses in dependency.plan.all_path_types().items():
                result.setdefault(alias, []).extend(uses)
        for alias, annotation in self.path_types.items():
            result.setdefault(alias, []).append((self.name, annotation))
        return result

    def needs_body(self) -> bool:
        return self.body is not None or any(d.plan.needs_body() for d in self.dependencies)


def is_simple(plan: Plan) -> bool:
    """True when the plan has no dependencies, background tasks or WebSocket, and reads either
    the JSON body or the Request and extension parameters (not both: the Request would then
    have to serve a body already read).

    Such plans get a generated invoker (:mod:`velocix.core.invoker`) instead of :func:`solve`.
    """
    if (plan.request or plan.custom) and plan.body is not None:
        return False
    return not (plan.dependencies or plan.connection or plan.background)


def _callable_name(call: Callable[..., Any]) -> str:
    target: Any = call
    while isinstance(target, functools.partial):
        target = target.func
    name = getattr(target, "__qualname__", None) or getattr(type(target), "__qualname__", None)
    return str(name or repr(target))


def _hint_target(call: Callable[..., Any]) -> Any:
    """The function whose annotations describe ``call``'s parameters."""
    target: Any = call
    while isinstance(target, functools.partial):
        target = target.func
    if inspect.isclass(target):
        return target.__init__
    if inspect.ismethod(target):
        return target.__func__
    if not (inspect.isfunction(target) or inspect.isbuiltin(target)) and callable(target):
        return type(target).__call__
    return target


def _type_hints(call: Callable[..., Any]) -> dict[str, Any]:
    target = _hint_target(call)
    try:
        return typing.get_type_hints(target, include_extras=True)
    except (NameError, TypeError) as exc:
        raise TypeError(
            f"Cannot resolve the annotations of {_callable_name(call)}: {exc}. Annotations must "
            "name types importable from the module where the handler is defined."
        ) from None


def _call_kind(call: Callable[..., Any]) -> CallKind:
    target: Any = call
    while isinstance(target, functools.partial):
        target = target.func
    function: Any = target if (inspect.isfunction(target) or inspect.ismethod(target)) else None
    if function is None and not inspect.isclass(target) and callable(target):
        function = type(target).__call__
    if function is not None:
        if inspect.isasyncgenfunction(function):
            return "asyncgen"
        if inspect.isgeneratorfunction(function):
            return "gen"
    return "async" if is_async_callable(call) else "sync"


_SCALARS = (str, int, float, bool, bytes)


def _is_body_type(annotation: Any) -> bool:
    """Types that are read from the JSON body when the parameter has no marker."""
    annotation = strip_optional(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _is_body_type(typing.get_args(annotation)[0])
    if origin is not None:
        return origin in (list, dict, set, frozenset, tuple) or (
            isinstance(origin, type)
            and issubclass(origin, (Sequence, Mapping))
            and not issubclass(origin, (str, bytes))
        )
    if not isinstance(annotation, type):
        return False
    if annotation in (list, dict, set, frozenset, tuple):
        return True
    return (
        issubclass(annotation, msgspec.Struct)
        or dataclasses.is_dataclass(annotation)
        or typing.is_typeddict(annotation)
        or is_pydantic_model(annotation)
    )


def _split_annotated(annotation: Any) -> tuple[Any, Param | Depends | None]:
    """``Annotated[T, Query(...)]`` -> ``(T, Query(...))``; other annotations unchanged."""
    if typing.get_origin(annotation) is typing.Annotated:
        base, *extras = typing.get_args(annotation)
        markers = [extra for extra in extras if isinstance(extra, Param | Depends)]
        if len(markers) > 1:
            raise TypeError(f"{annotation!r} has more than one parameter marker")
        if markers:
            others = [extra for extra in extras if extra is not markers[0]]
            kept = typing.Annotated[(base, *others)] if others else base
            return kept, markers[0]
    return annotation, None


def _list_item_type(annotation: Any) -> Any | None:
    """``list[T]``/``Sequence[T]``/``set[T]``/``tuple[T, ...]`` -> ``T``; otherwise None."""
    origin = typing.get_origin(annotation)
    if origin in (list, set, frozenset, Sequence, typing.Sequence):
        args = typing.get_args(annotation)
        return args[0] if args else str
    if origin is tuple:
        args = typing.get_args(annotation)
        if len(args) == 2 and args[1] is Ellipsis:
            return args[0]
    if annotation in (list, set, frozenset):
        return str
    return None


class _Analyser:
    """Turns one callable's signature into a :class:`Plan` (registration time only)."""

    def __init__(
        self,
        path_names: frozenset[str],
        connection: ConnectionKind,
        seen: tuple[Callable[..., Any], ...] = (),
    ) -> None:
        self.path_names = path_names
        self.connection = connection
        self.seen = seen

    def build(self, call: Callable[..., Any]) -> Plan:
        if call in self.seen:
            chain = " -> ".join(_callable_name(c) for c in (*self.seen, call))
            raise TypeError(f"Dependency cycle: {chain}")
        try:
            signature = inspect.signature(call)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"Cannot read the signature of {call!r}: {exc}") from None
        hints = _type_hints(call)
        plan = Plan(call=call, name=_callable_name(call), kind=_call_kind(call))
        body_params: list[tuple[str, Any, Param | None, Any]] = []
        for parameter in signature.parameters.values():
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                continue  # *args/**kwargs receive nothing
            if parameter.kind is parameter.POSITIONAL_ONLY:
                raise TypeError(
                    f"{plan.name}: positional-only parameter {parameter.name!r} is not supported;"
                    " handler parameters are passed by keyword"
                )
            self._add_parameter(plan, parameter, hints, body_params)
        if body_params:
            plan.body = self._body_spec(plan, body_params)
        return plan

    def _add_parameter(
        self,
        plan: Plan,
        parameter: inspect.Parameter,
        hints: dict[str, Any],
        body_params: list[tuple[str, Any, Param | None, Any]],
    ) -> None:
        name = parameter.name
        annotation = hints.get(name, Any)
        annotation, marker = _split_annotated(annotation)
        default = MISSING if parameter.default is parameter.empty else parameter.default
        if isinstance(default, Param | Depends):
            if marker is not None:
                raise TypeError(f"{plan.name}: {name!r} has a marker in Annotated and as default")
            marker, default = default, MISSING
        elif isinstance(marker, Param) and default is not MISSING:
            marker_default = marker.default
            if marker_default is not MISSING:
                raise TypeError(f"{plan.name}: {name!r} has two defaults (marker and `=`)")
        if isinstance(marker, Depends):
            self._add_dependency(plan, name, annotation, marker)
            return
        if isinstance(marker, Param) and marker.default is not MISSING:
            default = marker.default
        if marker is None:
            marker = self._implicit_marker(plan, name, annotation)
            if marker is None:
                return  # request / connection / background, recorded by _implicit_marker
        if isinstance(marker, CustomParam):
            spec = self._spec(
                name, marker.alias or name, marker.location, annotation, default, marker
            )
            plan.custom.append((name, marker, spec))
            plan.specs.append(spec)
        elif isinstance(marker, Body):
            body_params.append((name, annotation, marker, default))
        elif isinstance(marker, Path):
            self._add_path(plan, name, marker.alias or name, annotation, marker)
        else:
            self._add_value(plan, name, annotation, default, marker)

    def _implicit_marker(self, plan: Plan, name: str, annotation: Any) -> Param | None:
        bare = strip_optional(annotation)
        if isinstance(bare, type):
            if issubclass(bare, Request):
                if self.connection != "http":
                    raise TypeError(
                        f"{plan.name}: {name!r} asks for a Request in a WebSocket route"
                    )
                plan.request.append(name)
                return None
            if issubclass(bare, HTTPConnection):
                # WebSocket, or the HTTPConnection base: whatever the connection is.
                if self.connection == "http" and bare is not HTTPConnection:
                    raise TypeError(f"{plan.name}: {name!r} asks for a WebSocket in an HTTP route")
                if bare is HTTPConnection and self.connection == "http":
                    plan.request.append(name)
                else:
                    plan.connection.append(name)
                return None
            if issubclass(bare, BackgroundTasks):
                plan.background.append(name)
                return None
        if name in self.path_names:
            return Path()
        if _is_body_type(annotation):
            return Body()
        return Query()

    def _add_dependency(self, plan: Plan, name: str, annotation: Any, marker: Depends) -> None:
        dependency = marker.dependency
        if dependency is None:
            dependency = strip_optional(annotation)
            if not callable(dependency) or dependency is Any:
                raise TypeError(f"{plan.name}: Depends() for {name!r} needs a callable annotation")
        sub = _Analyser(self.path_names, self.connection, (*self.seen, plan.call)).build(dependency)
        plan.dependencies.append(DependencySpec(name, sub, marker.use_cache))

    def _spec(
        self,
        name: str,
        alias: str,
        location: str,
        annotation: Any,
        default: Any,
        marker: Param | None,
    ) -> ParamSpec:
        return ParamSpec(
            name=name,
            alias=alias,
            location=location,
            annotation=annotation,
            required=default is MISSING,
            default=default,
            marker=marker,
            description=marker.description if marker is not None else None,
        )

    def _add_path(
        self, plan: Plan, name: str, alias: str, annotation: Any, marker: Param | None
    ) -> None:
        if alias not in self.path_names:
            raise TypeError(
                f"{plan.name}: path parameter {alias!r} is not in the route path"
                f" (path parameters: {sorted(self.path_names) or 'none'})"
            )
        plan.path.append((name, alias))
        plan.path_types[alias] = strip_optional(annotation)
        plan.specs.append(self._spec(name, alias, "path", annotation, MISSING, marker))

    def _add_value(
        self, plan: Plan, name: str, annotation: Any, default: Any, marker: Param
    ) -> None:
        location = marker.location
        alias = marker.alias or name
        if isinstance(marker, Header) and marker.alias is None and marker.convert_underscores:
            alias = name.replace("_", "-")
        if location == "header":
            alias = alias.lower()
        bare = strip_optional(annotation)
        item_type = _list_item_type(bare)
        multi = item_type is not None and location in ("query", "header")
        if item_type is not None and not multi:
            raise TypeError(f"{plan.name}: {location} parameter {name!r} cannot be a list")
        target = item_type if multi else bare
        if _is_body_type(target):
            raise TypeError(
                f"{plan.name}: {location} parameter {name!r} has type {target!r}, which cannot be"
                " read from a string; use Body() for structured data"
            )
        try:
            converter = string_converter(target)
        except TypeError as exc:
            raise TypeError(f"{plan.name}: parameter {name!r}: {exc}") from None
        if default is MISSING and is_optional(annotation):
            default = None  # `x: int | None` without a default means "optional, None"
        spec = ValueSpec(
            kwname=name,
            alias=alias,
            location=location,
            converter=converter,
            default=default,
            required=default is MISSING,
            multi=multi,
            copy_default=isinstance(default, list | dict | set),
        )
        getattr(plan, location).append(spec)
        plan.specs.append(self._spec(name, alias, location, annotation, default, marker))

    def _body_spec(self, plan: Plan, params: list[tuple[str, Any, Param | None, Any]]) -> BodySpec:
        embed = len(params) > 1 or any(isinstance(m, Body) and m.embed for _, _, m, _ in params)
        specs = [
            self._spec(name, (m.alias if m and m.alias else name), "body", ann, default, m)
            for name, ann, m, default in params
        ]
        plan.specs.extend(specs)
        if not embed:
            name, annotation, _, default = params[0]
            if default is MISSING and is_optional(annotation):
                default = None
            return BodySpec(
                decoder=JSONBodyDecoder(annotation),
                params=[(name, name)],
                embed=False,
                required=default is MISSING,
                default=default,
            )
        fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
        rename: dict[str, str] = {}
        for spec in specs:
            if spec.default is MISSING and not is_optional(spec.annotation):
                fields.append((spec.name, spec.annotation))
            else:
                fields.append((spec.name, spec.annotation, None if spec.required else spec.default))
            rename[spec.name] = spec.alias
        model = msgspec.defstruct(
            f"{plan.name.replace('.', '_')}_Body", fields, kw_only=True, rename=rename
        )
        return BodySpec(
            decoder=JSONBodyDecoder(model),
            params=[(spec.name, spec.name) for spec in specs],
            embed=True,
            required=True,
            default=MISSING,
        )


def build_plan(
    call: Callable[..., Any],
    path_names: Collection[str] = (),
    *,
    connection: ConnectionKind = "http",
    dependencies: Sequence[Depends] = (),
) -> Plan:
    """Analyse ``call`` (and its dependencies) into a :class:`Plan`.

    ``path_names`` are the route's path parameters; ``dependencies`` are route-level
    ``Depends`` whose values are computed (in order, before the handler's own parameters) but
    not passed. Raises :class:`TypeError` with the handler's name for anything that cannot work.
    """
    analyser = _Analyser(frozenset(path_names), connection)
    plan = analyser.build(call)
    extra: list[DependencySpec] = []
    for marker in dependencies:
        if not isinstance(marker, Depends) or marker.dependency is None:
            raise TypeError(f"dependencies= takes Depends(callable) objects, got {marker!r}")
        sub = _Analyser(frozenset(path_names), connection, (call,)).build(marker.dependency)
        extra.append(DependencySpec(None, sub, marker.use_cache))
    plan.dependencies[:0] = extra
    return plan


# --- Solving (per request) ---------------------------------------------------------------


class SolveContext:
    """Per-request state shared by a handler and its dependencies.

    Request data is parsed on first use and kept: a query string read by three dependencies is
    parsed once.
    """

    __slots__ = (
        "_cookies",
        "_headers",
        "_query",
        "_query_multi",
        "background",
        "cache",
        "connection",
        "errors",
        "exits",
        "path_params",
        "receive",
        "request",
        "scope",
        "send",
    )

    def __init__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
        path_params: dict[str, Any],
        connection: HTTPConnection | None = None,
    ) -> None:
        self.scope = scope
        self.receive = receive
        self.send = send
        self.path_params = path_params
        self.connection = connection
        self.request: Request | None = None
        self.background: BackgroundTasks | None = None
        self.cache: dict[Callable[..., Any], Any] = {}
        self.exits: list[Generator[Any, None, None] | AsyncGenerator[Any, None]] = []
        self.errors: list[ErrorItem] = []
        self._query: dict[str, str] | None = None
        self._query_multi: dict[str, list[str]] | None = None
        self._headers: dict[str, list[str]] | None = None
        self._cookies: dict[str, str] | None = None

    def get_request(self) -> Request:
        request = self.request
        if request is None:
            request = self.request = Request(self.scope, self.receive, self.send)
        return request

    def get_background(self) -> BackgroundTasks:
        background = self.background
        if background is None:
            background = self.background = BackgroundTasks()
        return background

    def source(self, location: str, multi: bool) -> Mapping[str, Any]:
        if location == "query":
            if multi:
                if self._query_multi is None:
                    self._query_multi = parse_query_multi(self.scope.get("query_string", b""))
                return self._query_multi
            if self._query is None:
                self._query = parse_query(self.scope.get("query_string", b""))
            return self._query
        if location == "header":
            if self._headers is None:
                self._headers = header_values(self.scope)
            return self._headers
        if self._cookies is None:
            self._cookies = request_cookies(self.scope)
        return self._cookies


def _convert_list(spec: ValueSpec, raws: list[str], errors: list[ErrorItem]) -> Any:
    values = []
    failed = False
    for index, raw in enumerate(raws):
        try:
            values.append(spec.converter(raw))
        except ConversionError as exc:
            errors.append(error_item([spec.location, spec.alias, index], str(exc)))
            failed = True
    return MISSING if failed else values


def extract_values(
    specs: list[ValueSpec],
    source: Mapping[str, Any],
    kwargs: dict[str, Any],
    errors: list[ErrorItem],
) -> None:
    """Convert query/header/cookie values into ``kwargs``; problems go to ``errors``."""
    for spec in specs:
        raw = source.get(spec.alias)
        if raw is None or (spec.multi and not raw):
            if spec.required:
                errors.append(missing_item(spec.loc))
            else:
                kwargs[spec.kwname] = spec.default_value()
            continue
        if spec.multi:
            value = _convert_list(spec, raw if spec.location != "cookie" else [raw], errors)
            if value is not MISSING:
                kwargs[spec.kwname] = value
            continue
        if isinstance(raw, list):
            # Headers: the first value (like Headers[name]); query: the last (like QueryParams).
            raw = raw[0] if spec.location == "header" else raw[-1]
        try:
            kwargs[spec.kwname] = spec.converter(raw)
        except ConversionError as exc:
            errors.append(error_item(spec.loc, str(exc)))


_JSON_TYPES = ("application/json",)


def is_json_media_type(content_type: str) -> bool:
    """``application/json`` or any ``application/*+json`` (parameters such as charset ignored)."""
    media_type = content_type.partition(";")[0].strip().lower()
    return media_type in _JSON_TYPES or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def _read_body(spec: BodySpec, ctx: SolveContext, kwargs: dict[str, Any]) -> None:
    headers = ctx.source("header", False)
    content_type = headers.get("content-type")
    if content_type is not None and not is_json_media_type(content_type[0]):
        raise HTTPException(
            415,
            f"Unsupported media type {content_type[0]!r}: send the body as application/json",
        )
    body = await ctx.get_request().body()  # honours max_body_size (413) and Content-Length
    if not body:
        if spec.required:
            ctx.errors.append(missing_item(("body",)))
        else:
            for kwname, _ in spec.params:
                kwargs[kwname] = copy.copy(spec.default)
        return
    try:
        value = spec.decoder.decode(body)
    except MalformedJSON as exc:
        raise HTTPException(400, f"Malformed JSON body: {exc}") from None
    except InvalidBody as exc:
        ctx.errors.extend(exc.errors)
        return
    if spec.embed:
        for kwname, attribute in spec.params:
            kwargs[kwname] = getattr(value, attribute)
    else:
        kwargs[spec.params[0][0]] = value


async def solve(plan: Plan, ctx: SolveContext) -> dict[str, Any] | None:
    """Produce the keyword arguments for ``plan.call``, running its dependencies.

    Returns ``None`` when something failed validation (the problems are in ``ctx.errors``; the
    caller raises one :class:`RequestValidationError` for all of them).
    """
    kwargs: dict[str, Any] = {}
    errors = ctx.errors
    failed = False
    for dependency in plan.dependencies:
        value = await _resolve_dependency(dependency, ctx)
        if value is _FAILED:
            failed = True
        elif dependency.kwname is not None:
            kwargs[dependency.kwname] = value
    before = len(errors)
    path_params = ctx.path_params
    for kwname, alias in plan.path:
        if alias in path_params:
            kwargs[kwname] = path_params[alias]
        else:
            failed = True  # its conversion error is already recorded
    if plan.query:
        extract_values(
            plan.query, ctx.source("query", any(s.multi for s in plan.query)), kwargs, errors
        )
    if plan.header:
        extract_values(plan.header, ctx.source("header", True), kwargs, errors)
    if plan.cookie:
        extract_values(plan.cookie, ctx.source("cookie", False), kwargs, errors)
    for kwname in plan.request:
        kwargs[kwname] = ctx.get_request()
    for kwname in plan.connection:
        kwargs[kwname] = ctx.connection
    for kwname in plan.background:
        kwargs[kwname] = ctx.get_background()
    for kwname, marker, spec in plan.custom:
        try:
            value = await marker.resolve(ctx.get_request(), spec)
        except RequestValidationError as exc:
            errors.extend(dict(item) for item in exc.errors)  # reported with the others
            continue
        if value is MISSING:
            if spec.required:
                errors.append(missing_item((spec.location, spec.alias)))
                continue
            value = copy.copy(spec.default)
        kwargs[kwname] = value
    if plan.body is not None:
        await _read_body(plan.body, ctx, kwargs)
    if failed or len(errors) > before:
        return None
    return kwargs


_FAILED: Any = object()
_EXHAUSTED: Any = object()


async def _resolve_dependency(dependency: DependencySpec, ctx: SolveContext) -> Any:
    plan = dependency.plan
    if dependency.use_cache and plan.call in ctx.cache:
        return ctx.cache[plan.call]
    kwargs = await solve(plan, ctx)
    if kwargs is None:
        if dependency.use_cache:
            ctx.cache[plan.call] = _FAILED  # report its errors once, not once per use
        return _FAILED
    value = await call_plan(plan, kwargs, ctx)
    if dependency.use_cache:
        ctx.cache[plan.call] = value
    return value


async def call_plan(plan: Plan, kwargs: dict[str, Any], ctx: SolveContext) -> Any:
    """Call ``plan.call(**kwargs)`` the right way for its kind; generators register teardown."""
    kind = plan.kind
    if kind == "async":
        return await plan.call(**kwargs)
    if kind == "sync":
        return await run_in_threadpool(functools.partial(plan.call, **kwargs))
    if kind == "asyncgen":
        agen: AsyncGenerator[Any, None] = plan.call(**kwargs)
        try:
            value = await agen.__anext__()
        except StopAsyncIteration:
            raise RuntimeError(f"Dependency {plan.name} did not yield a value") from None
        ctx.exits.append(agen)
        return value
    gen: Generator[Any, None, None] = plan.call(**kwargs)
    value = await run_in_threadpool(next, gen, _EXHAUSTED)
    if value is _EXHAUSTED:
        raise RuntimeError(f"Dependency {plan.name} did not yield a value")
    ctx.exits.append(gen)
    return value


def _gen_name(gen: object) -> str:
    return str(getattr(gen, "__qualname__", gen))


def _close_sync(gen: Generator[Any, None, None], exc: BaseException | None) -> None:
    if exc is None:
        if next(gen, _EXHAUSTED) is not _EXHAUSTED:
            gen.close()
            raise RuntimeError(f"Generator dependency {_gen_name(gen)} yielded more than once")
        return
    try:
        gen.throw(exc)
    except StopIteration:
        return  # swallowed: the original failure still stands
    except BaseException as raised:
        if raised is exc:
            return
        raise
    gen.close()
    raise RuntimeError(f"Generator dependency {_gen_name(gen)} yielded more than once")


async def _close_async(agen: AsyncGenerator[Any, None], exc: BaseException | None) -> None:
    if exc is None:
        try:
            await agen.__anext__()
        except StopAsyncIteration:
            return
        await agen.aclose()
        raise RuntimeError(f"Generator dependency {_gen_name(agen)} yielded more than once")
    try:
        await agen.athrow(exc)
    except StopAsyncIteration:
        return
    except BaseException as raised:
        if raised is exc:
            return
        raise
    await agen.aclose()
    raise RuntimeError(f"Generator dependency {_gen_name(agen)} yielded more than once")


async def run_teardowns(ctx: SolveContext, exc: Exception | None) -> Exception | None:
    """Finish generator dependencies, last set up first.

    ``exc`` is the handler's exception (thrown into each generator) or ``None`` on success.
    Returns the exception to report: ``exc``, or the one a teardown raised instead.
    """
    exits = ctx.exits
    while exits:
        gen = exits.pop()
        try:
            if isinstance(gen, Generator):
                await run_in_threadpool(_close_sync, gen, exc)
            else:
                await _close_async(gen, exc)
        except Exception as raised:
            exc = raised
    return exc

"""Handler plans: how each argument of a handler (or dependency) is produced, decided once.

At registration every handler is analysed into a :class:`Plan`: for each parameter, where its
value comes from (path, query, header, cookie, body, the request itself, background tasks, a
dependency) and which converter turns the request string into the declared type. Nothing about
the signature is inspected per request; :mod:`velocix.core.solving` walks the plan per request.

Where an unmarked parameter comes from
--------------------------------------
A name in the path template is a path parameter; ``Request``/``WebSocket``/``HTTPConnection``
and ``BackgroundTasks`` are provided; a structured type (Struct, dataclass, TypedDict, pydantic
model, dict, list...) is the JSON body, and so is ``data: Any`` on a route with a body method;
anything else (an unannotated parameter included) is a query parameter, read as a string.
On a route whose methods carry no body (GET, HEAD, DELETE, OPTIONS, TRACE) and on WebSocket
routes, a list of
scalars (``tags: list[str]``) is a repeated query parameter, and any other structured type is
a registration error naming the marker to add - never a body parameter that silently reads as
``None``.

Handlers that need nothing but path, query, header, cookie and JSON body values (the common
case, :func:`is_simple`) get a generated invoker instead of the solver, see
:mod:`velocix.core.invoker`.

Dependency overrides (``app.dependency_overrides``) are applied here: a plan built with
``overrides`` analyses the replacement callable wherever the original is declared, so the
per-request solver never looks an override up.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, Literal

import msgspec

from velocix.core.background import BackgroundTasks, is_async_callable
from velocix.core.params import (
    MISSING,
    Body,
    CustomParam,
    Depends,
    Header,
    Param,
    ParamSpec,
    Path,
    Query,
)
from velocix.core.request import HTTPConnection, Request
from velocix.validation.body import JSONBodyDecoder, is_pydantic_model
from velocix.validation.convert import (
    Converter,
    is_optional,
    string_converter,
    strip_optional,
)

__all__ = [
    "BODYLESS_METHODS",
    "BodySpec",
    "DependencySpec",
    "Plan",
    "ValueSpec",
    "build_plan",
    "is_simple",
]

ConnectionKind = Literal["http", "websocket"]
CallKind = Literal["async", "sync", "asyncgen", "gen"]
Overrides = Mapping[Callable[..., Any], Callable[..., Any]]

BODYLESS_METHODS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS", "TRACE"})
"""Methods whose requests carry no body: unmarked list parameters are query parameters."""

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

    def declares_any(self, dependencies: Collection[Callable[..., Any]]) -> bool:
        """Whether this plan's dependency tree declares one of ``dependencies``."""
        return any(
            dependency.plan.call in dependencies or dependency.plan.declares_any(dependencies)
            for dependency in self.dependencies
        )

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
        *,
        bodyless: str | None = None,
        overrides: Overrides | None = None,
    ) -> None:
        self.path_names = path_names
        self.connection = connection
        self.seen = seen
        # What has no body ("GET requests", "WebSocket connections"), or None.
        self.bodyless = bodyless
        self.overrides: Overrides = overrides or {}

    def _child(self, call: Callable[..., Any]) -> _Analyser:
        return _Analyser(
            self.path_names,
            self.connection,
            (*self.seen, call),
            bodyless=self.bodyless,
            overrides=self.overrides,
        )

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
            marker = self._implicit_marker(plan, name, annotation, name in hints)
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

    def _implicit_marker(
        self, plan: Plan, name: str, annotation: Any, annotated: bool
    ) -> Param | None:
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
            return self._unmarked_structured(plan, name, annotation)
        if annotation is Any and annotated and self.bodyless is None:
            return Body()  # `data: Any` on a route with a body: any JSON value
        return Query()

    def _unmarked_structured(self, plan: Plan, name: str, annotation: Any) -> Param:
        """A structured type without a marker: the body, unless there is no body (see the
        module doc): then a list of scalars is a query parameter, anything else an error."""
        if self.bodyless is None:
            return Body()
        item = _list_item_type(strip_optional(annotation))
        if item is not None and not _is_body_type(item):
            return Query()
        anyway = "" if self.connection == "websocket" else ", or Body() to read a body anyway"
        raise TypeError(
            f"{plan.name}: parameter {name!r} ({_type_name(annotation)}) would be read from"
            f" the request body, but {self.bodyless} have no request body. Mark it Query() to"
            f" read it from the query string, Depends() to compute it{anyway}"
        )

    def _add_dependency(self, plan: Plan, name: str, annotation: Any, marker: Depends) -> None:
        dependency = marker.dependency
        if dependency is None:
            dependency = strip_optional(annotation)
            if not callable(dependency) or dependency is Any:
                raise TypeError(f"{plan.name}: Depends() for {name!r} needs a callable annotation")
        sub = self._child(plan.call).build(self.overrides.get(dependency, dependency))
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
    methods: Collection[str] | None = None,
    overrides: Overrides | None = None,
) -> Plan:
    """Analyse ``call`` (and its dependencies) into a :class:`Plan`.

    ``path_names`` are the route's path parameters; ``dependencies`` are route-level
    ``Depends`` whose values are computed (in order, before the handler's own parameters) but
    not passed; ``methods`` the route's methods (all of them without a body: unmarked lists are
    query parameters); ``overrides`` maps dependencies to their replacements. Raises
    :class:`TypeError` with the handler's name for anything that cannot work.
    """
    bodyless: str | None = None
    if connection == "websocket":
        bodyless = "WebSocket connections"
    elif methods and BODYLESS_METHODS.issuperset(methods):
        bodyless = f"{'/'.join(sorted(methods))} requests"
    analyser = _Analyser(frozenset(path_names), connection, bodyless=bodyless, overrides=overrides)
    plan = analyser.build(call)
    extra: list[DependencySpec] = []
    for marker in dependencies:
        if not isinstance(marker, Depends) or marker.dependency is None:
            raise TypeError(f"dependencies= takes Depends(callable) objects, got {marker!r}")
        replacement = analyser.overrides.get(marker.dependency, marker.dependency)
        sub = analyser._child(call).build(replacement)
        extra.append(DependencySpec(None, sub, marker.use_cache))
    plan.dependencies[:0] = extra
    return plan


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or repr(annotation)

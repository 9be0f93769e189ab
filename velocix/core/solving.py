"""Solving handler plans per request: values, the JSON body, dependencies and teardowns.

:func:`solve` walks a :class:`~velocix.core.planning.Plan` against a :class:`SolveContext` (the
lazily parsed request data, the dependency cache, the teardown stack and the validation errors
collected so far). Every problem with the request is collected first and reported together as
one 422.

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
import functools
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Mapping
from typing import Any
from urllib.parse import unquote_plus

from velocix.core.background import BackgroundTasks
from velocix.core.concurrency import run_in_threadpool
from velocix.core.exceptions import HTTPException, RequestValidationError
from velocix.core.params import MISSING
from velocix.core.planning import BodySpec, DependencySpec, Plan, ValueSpec
from velocix.core.request import HTTPConnection, Request, cookie_parser
from velocix.validation.body import InvalidBody, MalformedJSON
from velocix.validation.convert import ConversionError
from velocix.validation.errors import ErrorItem, error_item, missing_item

__all__ = [
    "SolveContext",
    "call_plan",
    "extract_values",
    "header_values",
    "is_json_media_type",
    "parse_query",
    "parse_query_multi",
    "request_cookies",
    "run_teardowns",
    "solve",
]


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

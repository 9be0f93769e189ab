"""Generated invokers: the per-handler fast path for simple plans.

A handler whose parameters all come from the path, the query string, headers, cookies or the
JSON body (:func:`~velocix.core.planning.is_simple`) is called through an *invoker*
generated for it at registration: a small function, specialised for that handler's
parameters and compiled with ``exec``, that converts each value and calls the handler with no
intermediate dictionaries, loops or Request object. Generating code at registration is what
msgspec and attrs do for the same reason. The generated source is kept on the function
(``invoker.__source__``) for debugging, and the tests run the same cases through invokers and
through the general solver.

``invoker(scope, path_values, receive, send)`` returns an awaitable of the handler's return value
and raises :class:`~velocix.core.exceptions.RequestValidationError` listing every problem found
(or ``HTTPException`` 400/413/415 for a body that cannot be read). Handlers without a body get a
plain ``def`` invoker returning the handler's coroutine; with a body it is an ``async def``.
A handler taking the :class:`~velocix.core.request.Request`, or extension parameters that read
it (forms, files: :class:`~velocix.core.params.CustomParam`), gets one built on ``scope``, which
must then be the application's own copy (``route.owns_scope``). Extension parameters that
compile (:meth:`~velocix.core.params.CustomParam.compile`) share one ``load`` per request (one
form parse for every ``Form()``) and are then extracted synchronously.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import msgspec

from velocix.core.concurrency import run_in_threadpool
from velocix.core.exceptions import HTTPException, RequestValidationError
from velocix.core.params import MISSING
from velocix.core.planning import BodySpec, Plan, ValueSpec, is_simple
from velocix.core.request import (
    ClientDisconnect,
    InvalidContentLength,
    Request,
    RequestBodyTooLarge,
)
from velocix.core.solving import (
    header_values,
    is_json_media_type,
    parse_query,
    parse_query_multi,
    request_cookies,
)
from velocix.validation.body import InvalidBody, MalformedJSON
from velocix.validation.convert import ConversionError, Converter, identity, to_int
from velocix.validation.errors import ErrorItem, error_item, errors_from_msgspec, missing_item

__all__ = ["Invoker", "build_invoker", "read_json_body"]

Invoker = Callable[[Mapping[str, Any], tuple[str, ...], Any, Any], Awaitable[Any]]


async def read_json_body(
    scope: Mapping[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]], limit: int | None
) -> bytes:
    """Read a request body meant for a JSON parameter, enforcing the size limit.

    The same rules as :class:`~velocix.core.request.Request` (used on the general path):
    a non-JSON ``Content-Type`` is a 415 before anything is read; an invalid ``Content-Length``
    a 400; a declared length over ``limit`` a 413 before any ``receive()``; a body streaming past
    ``limit`` a 413 as soon as it does, without keeping the excess.
    """
    check_json_headers(scope, limit)
    return await read_rest(await receive(), receive, limit)


def check_json_headers(scope: Mapping[str, Any], limit: int | None) -> None:
    """The header half of :func:`read_json_body`: 415, 400 and an announced 413."""
    declared: bytes | None = None
    for name, value in scope["headers"]:
        if name == b"content-type":
            if value != b"application/json" and not is_json_media_type(value.decode("latin-1")):
                raise HTTPException(
                    415,
                    f"Unsupported media type {value.decode('latin-1')!r}:"
                    " send the body as application/json",
                )
        elif name == b"content-length":
            if not (value.isdigit() and (declared is None or value == declared)):
                raise InvalidContentLength(value.decode("latin-1"))
            declared = value
    # Length first: a 10,000-digit Content-Length is over any limit (and too long for int()).
    if limit is not None and declared is not None and (len(declared) > 20 or int(declared) > limit):
        raise RequestBodyTooLarge(limit)


async def read_rest(
    message: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]], limit: int | None
) -> bytes:
    """The body starting with ``message`` (the first ``receive()``), the rest read as needed."""
    if message["type"] != "http.request":
        raise ClientDisconnect()
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        if limit is not None and len(body) > limit:
            raise RequestBodyTooLarge(limit)
        return body
    chunks = [body]
    received = len(body)
    while True:
        if limit is not None and received > limit:
            raise RequestBodyTooLarge(limit)
        message = await receive()
        if message["type"] != "http.request":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        chunks.append(chunk)
        received += len(chunk)
        if not message.get("more_body", False):
            if limit is not None and received > limit:
                raise RequestBodyTooLarge(limit)
            return b"".join(chunks)


def _add_error(
    errors: list[ErrorItem] | None, loc: tuple[str | int, ...], exc: Exception
) -> list[ErrorItem]:
    item = error_item(loc, str(exc))
    if errors is None:
        return [item]
    errors.append(item)
    return errors


def _add_missing(errors: list[ErrorItem] | None, loc: tuple[str | int, ...]) -> list[ErrorItem]:
    item = missing_item(loc)
    if errors is None:
        return [item]
    errors.append(item)
    return errors


def _add_items(errors: list[ErrorItem] | None, items: list[ErrorItem]) -> list[ErrorItem]:
    if errors is None:
        return list(items)
    errors.extend(items)
    return errors


def _convert_many(
    converter: Converter, raws: list[str], loc: tuple[str, str], errors: list[ErrorItem] | None
) -> tuple[list[Any], list[ErrorItem] | None]:
    values = []
    for index, raw in enumerate(raws):
        try:
            values.append(converter(raw))
        except ConversionError as exc:
            errors = _add_error(errors, (*loc, index), exc)
    return values, errors


def _malformed(exc: Exception) -> HTTPException:
    return HTTPException(400, f"Malformed JSON body: {exc}")


_BASE_NAMESPACE: dict[str, Any] = {
    "ConversionError": ConversionError,
    "RequestValidationError": RequestValidationError,
    "MalformedJSON": MalformedJSON,
    "ValidationError": msgspec.ValidationError,
    "DecodeError": msgspec.DecodeError,
    "_errors_from_msgspec": errors_from_msgspec,
    "InvalidBody": InvalidBody,
    "_add_error": _add_error,
    "_add_missing": _add_missing,
    "_add_items": _add_items,
    "_convert_many": _convert_many,
    "_malformed": _malformed,
    "_parse_query": parse_query,
    "_parse_query_multi": parse_query_multi,
    "_header_values": header_values,
    "_request_cookies": request_cookies,
    "_read_body": read_json_body,
    "_check_json_headers": check_json_headers,
    "_read_rest": read_rest,
    "_TooLarge": RequestBodyTooLarge,
    "_copy": copy.copy,
    "_partial": functools.partial,
    "_run": run_in_threadpool,
    "_Request": Request,
    "_MISSING": MISSING,
}


class _Source:
    """Accumulates the generated source and the constants it refers to."""

    def __init__(self, plan: Plan) -> None:
        self.namespace = dict(_BASE_NAMESPACE, _endpoint=plan.call)
        self.lines: list[str] = []
        self.arguments: list[str] = []
        self._counter = 0

    def constant(self, value: Any) -> str:
        self._counter += 1
        key = f"_k{self._counter}"
        self.namespace[key] = value
        return key

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)


def build_invoker(
    plan: Plan,
    path_names: Sequence[str],
    path_converters: Mapping[str, Converter],
    max_body_size: int | None = None,
) -> Invoker:
    """Generate the invoker for a simple ``plan`` (see the module docstring).

    ``path_names`` are the route's parameters in template order (the order of the raw values
    the router passes), ``path_converters`` their converters, ``max_body_size`` the body limit.
    """
    if not is_simple(plan):
        raise ValueError(f"{plan.name} needs the general solver, not a generated invoker")
    src = _Source(plan)
    is_async = plan.body is not None or bool(plan.custom)
    src.add(
        f"{'async ' if is_async else ''}def invoke(scope, values, receive, send):",
        "    errors = None",
    )
    for kwname, alias in plan.path:
        var = f"a_{kwname}"
        raw = f"values[{list(path_names).index(alias)}]"
        converter = path_converters[alias]
        conversion = f"{src.constant(converter)}({raw})"
        if converter is to_int:
            # Inlined fast path of to_int (the most common path parameter): a few plain digits.
            src.add(f"    raw = {raw}")
            conversion = (
                f"int(raw) if len(raw) < 19 and raw.isdigit() and raw.isascii() else {conversion}"
            )
        elif converter is identity:
            conversion = raw
        src.add(
            "    try:",
            f"        {var} = {conversion}",
            "    except ConversionError as exc:",
            f"        errors = _add_error(errors, {src.constant(('path', alias))}, exc)",
        )
        src.arguments.append(f"{kwname}={var}")
    _add_values(src, plan)
    if plan.request or plan.custom:
        src.add("    request = _Request(scope, receive, send)")
    for kwname in plan.request:
        src.arguments.append(f"{kwname}=request")
    _add_customs(src, plan)
    if plan.body is not None:
        _add_body(src, plan.body, max_body_size)
    src.add("    if errors is not None:", "        raise RequestValidationError(errors)")
    arguments = ", ".join(src.arguments)
    call = (
        f"_endpoint({arguments})"
        if plan.kind == "async"
        else f"_run(_partial(_endpoint, {arguments}))"
    )
    src.add(f"    return {'await ' if is_async else ''}{call}")
    source_text = "\n".join(src.lines) + "\n"
    exec(compile(source_text, f"<velocix invoker for {plan.name}>", "exec"), src.namespace)
    invoker: Invoker = src.namespace["invoke"]
    invoker.__source__ = source_text  # type: ignore[attr-defined]
    invoker.__qualname__ = f"invoke[{plan.name}]"
    return invoker


# Defaults of these types are passed as they are; any other default is copied per request.
_IMMUTABLE = frozenset({type(None), bool, int, float, str, bytes, tuple, frozenset})


def _add_customs(src: _Source, plan: Plan) -> None:
    """Form/file (or other extension) parameters, read through the Request.

    A parameter whose marker compiles (:meth:`CustomParam.compile`) is extracted synchronously
    from a value loaded once per request for every parameter sharing its ``load`` (one form
    parse for all the ``Form()`` parameters); the others are resolved whole. Every parameter's
    validation errors are collected, so one 422 lists them all.
    """
    loads: dict[Any, str] = {}
    for kwname, marker, spec in plan.custom:
        var = f"a_{kwname}"
        compiled = marker.compile(spec)
        if compiled is None:
            value = f"await {src.constant(marker.resolve)}(request, {src.constant(spec)})"
        else:
            source = loads.get(compiled.load)
            if source is None:
                source = loads[compiled.load] = f"loaded{len(loads)}"
                src.add(f"    {source} = await {src.constant(compiled.load)}(request)")
            value = f"{src.constant(compiled.extract)}({source})"
        src.add(
            "    try:",
            f"        {var} = {value}",
            "    except RequestValidationError as exc:",
            "        errors = _add_items(errors, exc.errors)",
            "    else:",
            f"        if {var} is _MISSING:",
        )
        if spec.required:
            loc = src.constant((spec.location, spec.alias))
            src.add(f"            errors = _add_missing(errors, {loc})")
        elif type(spec.default) in _IMMUTABLE:
            src.add(f"            {var} = {src.constant(spec.default)}")
        else:
            src.add(f"            {var} = _copy({src.constant(spec.default)})")
        src.arguments.append(f"{kwname}={var}")


def _add_values(src: _Source, plan: Plan) -> None:
    for location in ("query", "header", "cookie"):
        specs: list[ValueSpec] = getattr(plan, location)
        if not specs:
            continue
        if location == "query":
            multi = any(spec.multi for spec in specs)
            parser = "_parse_query_multi" if multi else "_parse_query"
            src.add(f"    src_query = {parser}(scope.get('query_string', b''))")
            listy = multi
        elif location == "header":
            src.add("    src_header = _header_values(scope)")
            listy = True
        else:
            src.add("    src_cookie = _request_cookies(scope)")
            listy = False
        for spec in specs:
            _add_value(src, spec, f"src_{location}", listy)
            src.arguments.append(f"{spec.kwname}=a_{spec.kwname}")


def _add_value(src: _Source, spec: ValueSpec, source: str, listy: bool) -> None:
    var = f"a_{spec.kwname}"
    conv = src.constant(spec.converter)
    loc = src.constant(spec.loc)
    src.add(f"    raw = {source}.get({spec.alias!r})")
    src.add("    if not raw:" if spec.multi else "    if raw is None:")
    if spec.required:
        src.add(f"        errors = _add_missing(errors, {loc})")
    elif spec.copy_default:
        src.add(f"        {var} = _copy({src.constant(spec.default)})")
    else:
        src.add(f"        {var} = {src.constant(spec.default)}")
    src.add("    else:")
    if spec.multi:
        src.add(f"        {var}, errors = _convert_many({conv}, raw, {loc}, errors)")
        return
    # Headers: the first value (like Headers[name]); query: the last (like QueryParams).
    value = ("raw[0]" if spec.location == "header" else "raw[-1]") if listy else "raw"
    src.add(
        "        try:",
        f"            {var} = {conv}({value})",
        "        except ConversionError as exc:",
        f"            errors = _add_error(errors, {loc}, exc)",
    )


def _add_body(src: _Source, spec: BodySpec, max_body_size: int | None) -> None:
    # read_json_body, with its common case inlined: the whole body in the first message.
    limit = src.constant(max_body_size)
    src.add(
        f"    _check_json_headers(scope, {limit})",
        "    message = await receive()",
        "    if message['type'] == 'http.request' and not message.get('more_body', False):",
        "        body = message.get('body', b'')",
    )
    if max_body_size is not None:
        src.add(f"        if len(body) > {limit}:", f"            raise _TooLarge({limit})")
    src.add("    else:", f"        body = await _read_rest(message, receive, {limit})")
    src.add("    if not body:")
    if spec.required:
        src.add(f"        errors = _add_missing(errors, {src.constant(('body',))})")
    else:
        default = src.constant(spec.default)
        for kwname, _ in spec.params:
            src.add(f"        a_{kwname} = _copy({default})")
    msgspec_decoder = spec.decoder.msgspec_decoder
    if msgspec_decoder is not None:
        # Call msgspec directly; its errors are mapped here rather than by JSONBodyDecoder.
        prefix = src.constant(spec.decoder.loc_prefix)
        src.add(
            "    else:",
            "        try:",
            f"            decoded = {src.constant(msgspec_decoder.decode)}(body)",
            "        except ValidationError as exc:",  # a DecodeError subclass: caught first
            f"            errors = _add_items(errors, _errors_from_msgspec(exc, {prefix}))",
            # msgspec reports invalid UTF-8 inside a string as UnicodeDecodeError, and nesting
            # deeper than the interpreter's recursion limit as RecursionError.
            "        except (DecodeError, UnicodeDecodeError, RecursionError) as exc:",
            "            raise _malformed(exc) from None",
            "        else:",
        )
    else:
        src.add(
            "    else:",
            "        try:",
            f"            decoded = {src.constant(spec.decoder.decode)}(body)",
            "        except MalformedJSON as exc:",
            "            raise _malformed(exc) from None",
            "        except InvalidBody as exc:",
            "            errors = _add_items(errors, exc.errors)",
            "        else:",
        )
    if spec.embed:
        for kwname, attribute in spec.params:
            src.add(f"            a_{kwname} = decoded.{attribute}")
    else:
        src.add(f"            a_{spec.params[0][0]} = decoded")
    # A failed decode leaves the variables unset, but errors is then set and the call skipped.
    for kwname, _ in spec.params:
        src.arguments.append(f"{kwname}=a_{kwname}")

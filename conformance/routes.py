"""The routes of an app under ``python -m conformance check``: what traffic to generate.

Routes come from, in order of preference:

* a routes file (``--routes FILE``, TOML: ``[[http]]`` with ``path``, ``methods``, ``body``,
  ``content_type``; ``[[websocket]]`` with ``path`` and ``subprotocols``; ``ready = "/health"``);
* ``--path`` (``/health`` or ``"POST /items"``, repeatable) and ``--ws PATH``;
* the app's OpenAPI document (fetched in-process from ``/openapi.json``), with path parameters
  filled and JSON request bodies generated from their schemas;
* the app's route table (``app.routes``, as Starlette, FastAPI and Velocix keep it), which is
  also where WebSocket routes come from: OpenAPI does not describe them;
* otherwise ``GET /``.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_PARAM = re.compile(r"\{([^}:]+)(?::([^}]+))?\}")
OPENAPI_PATHS = ("/openapi.json",)


class RoutesError(ValueError):
    """A routes file or option that cannot be used (a usage error)."""


@dataclass(frozen=True)
class HTTPRoute:
    """One HTTP path with the methods it declares and, for body methods, a sample body."""

    path: str
    methods: tuple[str, ...] = ("GET",)
    body: bytes = b""
    content_type: str = "application/json"

    def requests(self) -> list[tuple[str, str, list[tuple[str, str]], bytes]]:
        """The plain requests of this route: each declared method once, HEAD for GET."""
        found = []
        for method in self.methods:
            if method in BODY_METHODS:
                body = self.body or b"{}"
                found.append((method, self.path, [("Content-Type", self.content_type)], body))
            else:
                found.append((method, self.path, [], b""))
        if "GET" in self.methods and "HEAD" not in self.methods:
            found.append(("HEAD", self.path, [], b""))
        return found


@dataclass(frozen=True)
class WebSocketRoute:
    """One WebSocket path and the subprotocols a client of it would offer."""

    path: str
    subprotocols: tuple[str, ...] = ()


@dataclass(frozen=True)
class Routes:
    """Everything the checker knows about the app's routes, and where it learned it."""

    http: tuple[HTTPRoute, ...]
    websocket: tuple[WebSocketRoute, ...] = ()
    source: str = "default"
    ready_path: str | None = None
    notes: tuple[str, ...] = field(default=())

    def traffic(self) -> tuple[tuple[str, str, list[tuple[str, str]], bytes], ...]:
        """Each route's plain requests (the standard traffic of a check)."""
        return tuple(request for route in self.http for request in route.requests())

    def describe(self) -> str:
        """One line: how many routes, from where."""
        ws = f", {len(self.websocket)} WebSocket" if self.websocket else ""
        return f"{len(self.http)} HTTP{ws} route(s) from {self.source}"


def parse_path_option(text: str) -> HTTPRoute:
    """``/health`` or ``POST /items`` (methods may be comma-separated: ``GET,DELETE /x``)."""
    method, _, path = text.strip().rpartition(" ")
    if not path.startswith("/"):
        raise RoutesError(f"--path {text!r}: the path must start with '/'")
    methods = tuple(m.strip().upper() for m in method.split(",") if m.strip()) or ("GET",)
    return HTTPRoute(path, methods)


def load_file(path: Path) -> Routes:
    """Read a routes file (TOML); RoutesError with the reason when it cannot be used."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RoutesError(f"cannot read routes file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RoutesError(f"routes file {path} is not valid TOML: {exc}") from None
    http = tuple(
        _http_entry(entry, index, path) for index, entry in enumerate(data.get("http", []))
    )
    ws = tuple(
        _ws_entry(entry, index, path) for index, entry in enumerate(data.get("websocket", []))
    )
    if not http and not ws:
        raise RoutesError(f"routes file {path} lists no [[http]] or [[websocket]] route")
    ready = data.get("ready")
    if ready is not None and (not isinstance(ready, str) or not ready.startswith("/")):
        raise RoutesError(f"routes file {path}: ready must be a path starting with '/'")
    return Routes(http, ws, f"routes file {path.name}", ready)


def _http_entry(entry: Any, index: int, source: Path) -> HTTPRoute:
    where = f"routes file {source}, [[http]] #{index + 1}"
    if not isinstance(entry, dict) or not str(entry.get("path", "")).startswith("/"):
        raise RoutesError(f"{where}: needs a path starting with '/'")
    methods = entry.get("methods", ["GET"])
    if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods):
        raise RoutesError(f"{where}: methods must be a list of strings")
    body = entry.get("body", "")
    if not isinstance(body, str):
        raise RoutesError(f"{where}: body must be a string")
    return HTTPRoute(
        entry["path"],
        tuple(m.upper() for m in methods) or ("GET",),
        body.encode("utf-8"),
        str(entry.get("content_type", "application/json")),
    )


def _ws_entry(entry: Any, index: int, source: Path) -> WebSocketRoute:
    where = f"routes file {source}, [[websocket]] #{index + 1}"
    if not isinstance(entry, dict) or not str(entry.get("path", "")).startswith("/"):
        raise RoutesError(f"{where}: needs a path starting with '/'")
    protocols = entry.get("subprotocols", [])
    if not isinstance(protocols, list) or not all(isinstance(p, str) for p in protocols):
        raise RoutesError(f"{where}: subprotocols must be a list of strings")
    return WebSocketRoute(entry["path"], tuple(protocols))


# --- OpenAPI ------------------------------------------------------------------------------------
def from_openapi(document: Mapping[str, Any]) -> tuple[HTTPRoute, ...]:
    """The HTTP routes an OpenAPI 3 document describes (parameters and bodies filled in)."""
    routes = []
    for template, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict) or not template.startswith("/"):
            continue
        shared = item.get("parameters") or []
        methods = [m.upper() for m in _METHODS if isinstance(item.get(m.lower()), dict)]
        if not methods:
            continue
        operations = [item[m.lower()] for m in methods]
        parameters = [*shared, *(p for op in operations for p in op.get("parameters") or [])]
        path = _fill(template, parameters, document)
        body = b""
        for operation in operations:
            schema = _json_body_schema(operation, document)
            if schema is not None:
                body = json.dumps(sample(schema, document)).encode()
                break
        routes.append(HTTPRoute(path, tuple(methods), body))
    return tuple(routes)


def _fill(template: str, parameters: Iterable[Any], document: Mapping[str, Any]) -> str:
    by_name: dict[str, dict[str, Any]] = {}
    query = []
    for raw in parameters:
        parameter = _resolve(raw, document)
        if not isinstance(parameter, dict):
            continue
        by_name.setdefault(str(parameter.get("name")), parameter)
        if parameter.get("in") == "query" and parameter.get("required"):
            value = sample(parameter.get("schema") or {}, document)
            query.append(f"{parameter['name']}={_text(value)}")

    def value(match: re.Match[str]) -> str:
        parameter = by_name.get(match[1], {})
        return _text(sample(parameter.get("schema") or {"type": "integer"}, document))

    path = _PARAM.sub(value, template)
    return f"{path}?{'&'.join(query)}" if query else path


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).replace(" ", "%20") if value is not None else "1"


def _json_body_schema(operation: Mapping[str, Any], document: Mapping[str, Any]) -> Any:
    body = _resolve(operation.get("requestBody") or {}, document)
    content = body.get("content") if isinstance(body, dict) else None
    if not isinstance(content, dict):
        return None
    for media, entry in content.items():
        if "json" in media and isinstance(entry, dict):
            return entry.get("schema") or {}
    return None


def _resolve(node: Any, document: Mapping[str, Any], depth: int = 0) -> Any:
    """Follow a local ``$ref`` (``#/components/...``)."""
    while isinstance(node, dict) and "$ref" in node and depth < 20:
        target: Any = document
        for part in str(node["$ref"]).removeprefix("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        node, depth = target, depth + 1
    return node


def sample(schema: Any, document: Mapping[str, Any], depth: int = 0) -> Any:
    """A small value valid against ``schema`` as far as its type, enum and required keys go."""
    schema = _resolve(schema, document)
    if not isinstance(schema, dict) or depth > 8:
        return None
    for key in ("example", "default", "const"):
        if key in schema:
            return schema[key]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        options = [o for o in schema.get(key) or [] if _resolve(o, document).get("type") != "null"]
        if options:
            return sample(options[0], document, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties") or {}
        required = schema.get("required") or list(properties)
        return {name: sample(properties.get(name, {}), document, depth + 1) for name in required}
    if kind == "array":
        return [sample(schema.get("items") or {}, document, depth + 1)]
    return _SCALARS.get(str(kind), 1) if schema.get("format") != "uuid" else _UUID


_UUID = "00000000-0000-4000-8000-000000000001"
_SCALARS: dict[str, Any] = {"integer": 1, "number": 1.5, "boolean": True, "string": "x"}


# --- the app's own route table ------------------------------------------------------------------
def from_route_table(app: Any) -> tuple[tuple[HTTPRoute, ...], tuple[WebSocketRoute, ...]]:
    """HTTP and WebSocket routes from ``app.routes`` (Starlette, FastAPI, Velocix), if any."""
    table = _route_table(app)
    http, ws = [], []
    for route in table:
        path = getattr(route, "path", None)
        if not isinstance(path, str) or not path.startswith("/"):
            continue
        concrete = _PARAM.sub("1", path)
        if "websocket" in type(route).__name__.lower():
            ws.append(WebSocketRoute(concrete))
            continue
        methods = getattr(route, "methods", None)
        if methods:
            wanted = tuple(m for m in _METHODS if m in {str(x).upper() for x in methods})
            if wanted:
                http.append(HTTPRoute(concrete, wanted))
    return tuple(http), tuple(ws)


def _route_table(app: Any) -> Sequence[Any]:
    """``app.routes`` of the app or of the first wrapped app that has one (middleware)."""
    seen = 0
    while app is not None and seen < 10:
        routes = getattr(app, "routes", None)
        if isinstance(routes, list | tuple):
            return routes
        app = getattr(app, "app", None)
        seen += 1
    return ()


def merge(
    explicit: Sequence[HTTPRoute],
    explicit_ws: Sequence[WebSocketRoute],
    openapi: Sequence[HTTPRoute],
    table: tuple[Sequence[HTTPRoute], Sequence[WebSocketRoute]],
) -> Routes:
    """Choose the routes by the order of preference of this module's docstring."""
    http_table, ws_table = table
    if explicit or explicit_ws:
        return Routes(
            tuple(explicit) or (HTTPRoute("/"),),
            tuple(explicit_ws),
            "--path/--ws options",
        )
    if openapi:
        return Routes(tuple(openapi), tuple(ws_table), "the OpenAPI document (/openapi.json)")
    if http_table or ws_table:
        return Routes(tuple(http_table) or (HTTPRoute("/"),), tuple(ws_table), "app.routes")
    return Routes((HTTPRoute("/"),), (), "the default (GET /; name routes with --path)")

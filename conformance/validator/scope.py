"""Checks of the scope a server hands to the application (the server-to-app direction)."""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import unquote_to_bytes

from conformance.validator.report import Reporter
from conformance.validator.values import header_pairs, pseudo_names, uppercase_names

KNOWN_TYPES = frozenset({"http", "websocket", "lifespan"})
_HTTP_VERSIONS = {"http": {"1.0", "1.1", "2"}, "websocket": {"1.1", "2"}}


def check_scope(scope: Any, report: Reporter) -> None:
    """Report every way ``scope`` departs from the spec of its type."""
    if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
        report("scope.type", f"scope is {type(scope).__name__} without a str 'type'")
        return
    _check_asgi(scope, report)
    kind = scope["type"]
    if kind in ("http", "websocket"):
        _check_connection_scope(scope, kind, report)
    if "state" in scope and not isinstance(scope["state"], dict):
        report("scope.state", f"state is a {type(scope['state']).__name__}")


def spec_version(scope: dict[str, Any]) -> tuple[int, ...]:
    """The scope's spec_version as a tuple; missing means '2.0' (www.rst)."""
    asgi = scope.get("asgi")
    raw = asgi.get("spec_version", "2.0") if isinstance(asgi, dict) else "2.0"
    try:
        return tuple(int(part) for part in str(raw).split("."))
    except ValueError:
        return (2, 0)


def _check_asgi(scope: dict[str, Any], report: Reporter) -> None:
    asgi = scope.get("asgi")
    if asgi is None:
        return  # "If missing, the version should default to 2.0" -- tolerated, not required.
    if not isinstance(asgi, dict) or not isinstance(asgi.get("version"), str):
        report("scope.asgi", f"scope['asgi'] is {asgi!r}, not a dict with a str version")
        return
    if asgi["version"] != "3.0":
        report("scope.asgi", f"asgi version {asgi['version']!r} for a single-callable app")
    if "spec_version" in asgi and not _is_version(asgi["spec_version"]):
        report("scope.spec-version", f"spec_version {asgi['spec_version']!r} is not 'N.N'")


def _is_version(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = value.split(".")
    return 1 < len(parts) <= 3 and all(part.isdigit() for part in parts)


def _check_connection_scope(scope: dict[str, Any], kind: str, report: Reporter) -> None:
    version = scope.get("http_version")
    if (kind == "http" or version is not None) and version not in _HTTP_VERSIONS[kind]:
        report("scope.http-version", f"http_version {version!r}")
    if kind == "http":
        method = scope.get("method")
        if not isinstance(method, str) or not method or method != method.upper():
            report("scope.method", f"method {method!r}")
    if "scheme" in scope and (not isinstance(scope["scheme"], str) or not scope["scheme"]):
        report("scope.scheme", f"scheme {scope['scheme']!r}")
    _check_paths(scope, report)
    query = scope.get("query_string", b"")
    if not isinstance(query, bytes) and not (kind == "websocket" and query is None):
        report("scope.query-string", f"query_string is a {type(query).__name__}")
    _check_headers(scope.get("headers"), report)
    _check_address(scope, "client", report, allow_none_port=False)
    # A None server port (a unix socket) is written into the spec by 2.2; it is accepted on any
    # advertised version, as httpx's ASGITransport (the common test client) sends it on 2.0.
    _check_address(scope, "server", report, allow_none_port=True)
    if kind == "websocket":
        protocols = scope.get("subprotocols", [])
        if not isinstance(protocols, list | tuple) or any(
            not isinstance(item, str) for item in protocols
        ):
            report("scope.subprotocols", f"subprotocols is {protocols!r}")
    extensions = scope.get("extensions")
    if extensions is not None and (
        not isinstance(extensions, dict)
        or any(not isinstance(value, dict) for value in extensions.values())
    ):
        report("scope.extensions", f"extensions is {extensions!r}")


def _check_paths(scope: dict[str, Any], report: Reporter) -> None:
    path = scope.get("path")
    if not isinstance(path, str):
        report("scope.path", f"path is a {type(path).__name__}, not str")
        return
    root_path = scope.get("root_path", "")
    if not isinstance(root_path, str):
        report("scope.root-path", f"root_path is a {type(root_path).__name__}, not str")
        root_path = ""
    elif root_path and not path.startswith(root_path):
        report("scope.root-path", f"path {path!r} does not start with root_path {root_path!r}")
    raw_path = scope.get("raw_path")
    if raw_path is None:
        return
    if not isinstance(raw_path, bytes) or b"?" in raw_path:
        report("scope.raw-path", f"raw_path {raw_path!r} is not bytes without the query")
        return
    try:
        decoded = unquote_to_bytes(raw_path).decode("utf-8")
    except UnicodeDecodeError:
        return  # Undecodable paths are decoded by each server its own way; nothing to compare.
    if path not in (decoded, root_path + decoded):
        report("scope.path", f"path {path!r} is not the decoded raw_path {raw_path!r}")


def _check_headers(headers: Any, report: Reporter) -> None:
    pairs, problems = header_pairs(headers)
    for problem in problems:
        report("scope.headers", problem)
    if pseudo := pseudo_names(pairs):
        report("scope.headers", f"pseudo-headers {pseudo!r} were not removed")
    if upper := uppercase_names(pairs):
        report("scope.headers.case", f"header names {upper!r} are not lowercase")


def _check_address(
    scope: dict[str, Any], key: str, report: Reporter, *, allow_none_port: bool
) -> None:
    value = scope.get(key)
    if value is None:
        return
    ok = isinstance(value, list | tuple) and len(value) == 2 and isinstance(value[0], str)
    if ok:
        port = value[1]
        ok = (isinstance(port, int) and not isinstance(port, bool)) or (
            allow_none_port and port is None
        )
    if not ok:
        report("scope.address", f"{key} is {value!r}")


def snapshot(scope: dict[str, Any]) -> dict[str, Any]:
    """A copy of the scope to detect in-place mutation later (``state`` is compared by identity)."""
    copied: dict[str, Any] = {}
    for key, value in scope.items():
        if key == "state":
            copied[key] = value
            continue
        try:
            copied[key] = copy.deepcopy(value)
        except Exception:
            copied[key] = value
    return copied


def mutations(before: dict[str, Any], scope: dict[str, Any]) -> list[str]:
    """Keys added, removed or changed in ``scope`` since ``before`` was taken."""
    changed = [f"+{key}" for key in scope.keys() - before.keys()]
    changed += [f"-{key}" for key in before.keys() - scope.keys()]
    for key in before.keys() & scope.keys():
        old, new = before[key], scope[key]
        same = old is new if key == "state" else _equal(old, new)
        if not same:
            changed.append(f"~{key}")
    return sorted(changed)


def _equal(old: Any, new: Any) -> bool:
    if old is new:
        return True
    try:
        return bool(old == new)
    except Exception:
        return False

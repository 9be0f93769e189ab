"""Helpers shared by the per-framework conformance apps, and the endpoints those apps serve.

Each framework's ``bench/frameworks/<name>/conformance.py`` builds the lab's contract app
(its ``app.py``) plus these conformance endpoints, in the framework's idiom, and exposes
``FEATURES``, ``app`` and ``app_failing_startup``:

============================================  =================================================
``GET /conformance/scope``                     the scope as the endpoint sees it (typed JSON),
                                               the request URL and a generated URL (route name
                                               ``conformance-scope``)
``POST /conformance/echo``                     the request body back
``GET /conformance/headers``                   a header set as ``X-Conformance-Case`` and two
                                               cookies, through the framework's API
``GET /conformance/no-content``                a 204 in the framework's idiom
``GET /conformance/file``                      a file response (ETag/Range where supported)
``GET /conformance/error``                     a handler that raises
``GET /conformance/disconnect?id=``            a slow stream recording when it was stopped
``GET /conformance/probe?id=``                 what a probe recorded
``WS /ws/echo`` (contract)                     echo
``WS /conformance/ws/close-before-accept``     close without accepting (HTTP 403)
``WS /conformance/ws/subprotocol``             accept ``chat.v2`` when offered
``WS /conformance/ws/close?code=&reason=``     accept, then close with that code and reason
``WS /conformance/ws/accept-headers``          accept with an extra header
``WS /conformance/ws/denial``                  a 401 denial response (feature
                                               ``denial_response``)
``WS /conformance/ws/disconnect?id=``          record the client's close code and reason
============================================  =================================================

``FEATURES`` lists the optional APIs the framework has (``url_for``, ``file``,
``denial_response``, ``accept_headers``, ``close_reason``, ``trailers``, ``static``,
``forms``); a case needing a missing one is "not applicable". ``websocket`` is added from the
framework's spec (:func:`bench.frameworks.conformance_features`): every case on a ``ws:``
endpoint needs it, and a framework without WebSocket (Django) leaves those endpoints out.
``app_failing_startup`` is left out by a framework with no startup hook of its own (the
lifespan case is then not applicable).

Each endpoint is written in its framework's own idiom; only the data plumbing lives here:

* :func:`encode` turns a scope into JSON without losing types: bytes, tuples and opaque
  objects are tagged, so a check can tell ``b"/x"`` from ``"/x"`` after the round trip.
* :data:`PROBES` is the in-process store where probe endpoints leave what they observed (a
  streaming generator that was stopped, a WebSocket close code) for a later request to read.
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import Any

#: Keys of a connection scope defined by the spec: the scope echo returns only these.
SCOPE_KEYS = (
    "type",
    "asgi",
    "http_version",
    "method",
    "scheme",
    "path",
    "raw_path",
    "query_string",
    "root_path",
    "headers",
    "client",
    "server",
    "subprotocols",
    "state",
    "extensions",
)
#: The route name every framework gives GET /conformance/scope (for URL generation checks).
SCOPE_ROUTE_NAME = "conformance-scope"
#: Body of the file the file endpoint serves.
FILE_CONTENT = b"conformance file body\n" * 64
#: Delay between chunks of the disconnect probe, and how many it sends at most (10 s).
PROBE_INTERVAL = 0.02
PROBE_CHUNKS = 500
PROBE_CHUNK = b"d" * 1024

PROBES: dict[str, dict[str, Any]] = {}


def encode(value: Any) -> Any:
    """A JSON-safe, type-preserving form of an ASGI value."""
    if isinstance(value, bytes):
        return {"$bytes": value.decode("latin-1")}
    if isinstance(value, tuple):
        return {"$tuple": [encode(item) for item in value]}
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        if all(isinstance(key, str) and not key.startswith("$") for key in value):
            return {key: encode(item) for key, item in value.items()}
        return {"$pairs": [[encode(k), encode(v)] for k, v in value.items()]}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return {"$object": type(value).__name__}


def decode(value: Any) -> Any:
    """Inverse of :func:`encode` (opaque objects come back as ``Opaque(name)``)."""
    if isinstance(value, list):
        return [decode(item) for item in value]
    if isinstance(value, dict):
        if "$bytes" in value:
            return str(value["$bytes"]).encode("latin-1")
        if "$tuple" in value:
            return tuple(decode(item) for item in value["$tuple"])
        if "$pairs" in value:
            return {decode(k): decode(v) for k, v in value["$pairs"]}
        if "$object" in value:
            return Opaque(str(value["$object"]))
        return {key: decode(item) for key, item in value.items()}
    return value


class Opaque:
    """Stands in for a non-serialisable scope value after a round trip."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


def scope_view(scope: Any, **extra: Any) -> dict[str, Any]:
    """The spec-defined part of a scope, encoded, plus framework-specific ``extra`` fields."""
    view = {key: encode(scope[key]) for key in SCOPE_KEYS if key in scope}
    state = scope.get("state")
    if isinstance(state, dict):
        view["state"] = {"$keys": sorted(str(key) for key in state)}
    return {"scope": view, **{key: encode(value) for key, value in extra.items()}}


def probe_started(probe_id: str, kind: str) -> dict[str, Any]:
    """Open a probe record; the endpoint fills it in as things happen."""
    record: dict[str, Any] = {
        "kind": kind,
        "state": "running",
        "sent": 0,
        "started": time.monotonic(),
        "events": [],
    }
    if probe_id:
        PROBES[probe_id] = record
    return record


def probe_result(probe_id: str) -> dict[str, Any] | None:
    """What a probe recorded (times made relative), or None if it never ran."""
    record = PROBES.get(probe_id)
    if record is None:
        return None
    result = {key: value for key, value in record.items() if key != "started"}
    result["age"] = round(time.monotonic() - record["started"], 3)
    return result


def conformance_file() -> str:
    """Absolute path of the file served by the file endpoint (created once per process)."""
    path = os.path.join(tempfile.gettempdir(), f"conformance-file-{os.getpid()}.txt")
    if not os.path.exists(path):
        with open(path, "wb") as handle:
            handle.write(FILE_CONTENT)
    return path


def static_dir() -> str:
    """A directory holding ``hello.txt`` for the static-files mount (created once)."""
    path = os.path.join(tempfile.gettempdir(), f"conformance-static-{os.getpid()}")
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "hello.txt"), "wb") as handle:
        handle.write(b"hello static\n")
    return path


class StartupFailure(RuntimeError):
    """Raised by the deliberately failing startup hooks."""


def fail_startup() -> None:
    """The startup hook of every ``app_failing_startup``."""
    raise StartupFailure("startup failed on purpose (conformance D55)")

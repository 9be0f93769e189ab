"""Framework registry of the conformance suite: one module per framework.

``conformance/apps/<framework>.py`` builds the lab's contract app (reused from
``bench/apps/<framework>.py``) plus these conformance endpoints, in the framework's idiom, and
exposes ``NAME``, ``FEATURES``, ``app`` and ``app_failing_startup``:

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

``FEATURES`` lists the optional APIs the framework has (``websocket`` at all, ``url_for``,
``file``, ``denial_response``, ``accept_headers``, ``close_reason``, ``trailers``, ``static``,
``forms``); a case needing a missing one is "not applicable" (every case on a ``ws:`` endpoint
needs ``websocket``). A framework without WebSocket leaves out the WebSocket endpoints.
Adding a framework is adding one module. ``app_failing_startup`` is left out by a framework
with no startup hook of its own (the lifespan case is then not applicable).
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

PREFERRED_ORDER = ("raw", "velocix", "starlette", "fastapi")


def names() -> list[str]:
    """Every framework module, preferred order first (found without importing them)."""
    found = {info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")}
    first = [name for name in PREFERRED_ORDER if name in found]
    return first + sorted(found - set(first))


def module_name(framework: str) -> str:
    """The import path of a framework's conformance module."""
    if framework not in names():
        raise KeyError(f"unknown framework {framework!r}; known: {', '.join(names())}")
    return f"{__name__}.{framework}"


def load(framework: str) -> ModuleType:
    """Import a framework's conformance module (ImportError if the framework is missing)."""
    return importlib.import_module(module_name(framework))

"""Which apps the micro benchmark compares: ``name -> "module:attribute"``, imported lazily.

Adding a framework is adding a line here and a ``bench/apps/<name>.py`` module. A framework
that fails to import is reported as skipped with the reason; the others still run.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["BASELINE", "FRAMEWORKS", "NEEDS_LIFESPAN", "load_app"]

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]

BASELINE = "raw"
FRAMEWORKS: dict[str, str] = {
    "raw": "bench.apps.raw:app",
    "velocix": "bench.apps.velocix:app",
    "starlette": "bench.apps.starlette:app",
    "fastapi": "bench.apps.fastapi:app",
    "quart": "bench.apps.quart:app",
    "sanic": "bench.apps.sanic:app",
    "django": "bench.apps.django:app",
}
NEEDS_LIFESPAN = frozenset({"sanic"})
"""Frameworks whose apps answer no request before ASGI lifespan startup (Sanic's ASGI mode):
the micro runs :class:`bench.micro.driver.Lifespans` for them first."""


def load_app(framework: str, target: str = "app", module: str | None = None) -> ASGIApp:
    """Import and return ``framework``'s app; ImportError/KeyError say what is missing.

    ``target`` is the attribute of the framework's contract module (``app`` or ``app_mw``);
    with ``module``, the app is that module's attribute named after the framework instead.
    """
    module_name, _, attribute = FRAMEWORKS[framework].partition(":")
    if module is not None:
        module_name, attribute = module, framework
    elif target != "app":
        attribute = target
    try:
        app: ASGIApp = getattr(importlib.import_module(module_name), attribute)
    except AttributeError as exc:
        raise ImportError(f"{module_name} has no {attribute!r}: {exc}") from None
    return app

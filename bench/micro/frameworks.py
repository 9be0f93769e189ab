"""Which apps the micro benchmark compares: ``name -> "module:attribute"``, imported lazily.

Adding a framework is adding a line here and a ``bench/apps/<name>.py`` module. A framework
that fails to import is reported as skipped with the reason; the others still run.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["BASELINE", "FRAMEWORKS", "MINIMAL", "load_app", "serves"]

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]

BASELINE = "raw"
# The second baseline: the least code that answers the core cases (bench/micro/minimal.py).
MINIMAL = "minimal"
FRAMEWORKS: dict[str, str] = {
    "raw": "bench.apps.raw:app",
    "minimal": "bench.micro.minimal:app",
    "velocix": "bench.apps.velocix:app",
    "starlette": "bench.apps.starlette:app",
    "fastapi": "bench.apps.fastapi:app",
}


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


def serves(framework: str, case: Any) -> bool:
    """Whether ``framework`` answers ``case`` (the minimal baseline only serves the core five)."""
    if framework != MINIMAL:
        return True
    from bench.micro.minimal import CASES_SERVED

    return case.name in CASES_SERVED and case.target == "app" and case.module is None

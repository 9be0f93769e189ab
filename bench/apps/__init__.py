"""App registry: every public module here implements the app contract for one framework.

``bench/apps/<name>.py`` exposes ``app`` and ``app_mw`` (see
``shared/design/app-contract.md``); adding a framework is adding one module. Modules are
found by name without importing them, so listing the apps does not import four frameworks.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any, Literal

BASELINE = "raw"
"""The hand-written ASGI app every framework's throughput is divided by."""

PREFERRED_ORDER = ("raw", "velocix", "starlette", "fastapi")


def names() -> list[str]:
    """Every app name: the preferred order first, then any other module alphabetically."""
    found = {info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")}
    first = [name for name in PREFERRED_ORDER if name in found]
    return first + sorted(found - set(first))


def import_string(name: str, variant: Literal["app", "app_mw"] = "app") -> str:
    """The ``module:attribute`` a server is given for app ``name``."""
    if name not in names():
        raise KeyError(f"unknown app {name!r}; known: {', '.join(names())}")
    return f"{__name__}.{name}:{variant}"


def load(name: str, variant: Literal["app", "app_mw"] = "app") -> Any:
    """Import app ``name`` and return its ``app`` or ``app_mw`` ASGI callable."""
    module_name, _, attribute = import_string(name, variant).partition(":")
    return getattr(importlib.import_module(module_name), attribute)

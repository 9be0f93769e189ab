"""Server registry: every module in this package that defines ``SERVER`` is a server.

Adding a server is adding one module with a :class:`~bench.infra.servers.base.ServerSpec`.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from bench.infra.servers.base import ServerSpec

PREFERRED_ORDER = ("uvicorn", "granian", "hypercorn")


@cache
def registry() -> dict[str, ServerSpec]:
    """Every server by name: the preferred order first, then others alphabetically."""
    found: dict[str, ServerSpec] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name == "base":
            continue
        spec: ServerSpec | None = getattr(
            importlib.import_module(f"{__name__}.{info.name}"), "SERVER", None
        )
        if spec is not None:
            found[spec.name] = spec
    order = [name for name in PREFERRED_ORDER if name in found]
    order += sorted(set(found) - set(order))
    return {name: found[name] for name in order}

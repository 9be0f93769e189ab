"""Scenario registry: every module in this package that defines ``SCENARIO`` is a scenario.

Adding a scenario is adding one module (see :mod:`bench.lab.scenarios.base` for what it holds).
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from bench.lab.scenarios.base import Scenario


@cache
def registry() -> dict[str, Scenario]:
    """Every scenario by name, discovered once."""
    found: dict[str, Scenario] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        scenario: Scenario | None = getattr(module, "SCENARIO", None)
        if scenario is None:
            continue
        if scenario.name in found:
            raise RuntimeError(f"scenario name {scenario.name!r} is defined twice")
        found[scenario.name] = scenario
    return dict(sorted(found.items()))


def get(name: str) -> Scenario:
    """The scenario called ``name``, with the known names in the error when there is none."""
    scenarios = registry()
    try:
        return scenarios[name]
    except KeyError:
        raise KeyError(f"unknown scenario {name!r}; known: {', '.join(scenarios)}") from None

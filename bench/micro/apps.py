"""Which apps the micro benchmark runs: every framework of the registry (:mod:`bench.frameworks`)
and, on the core cases, the minimal baseline (:mod:`bench.micro.minimal`).

Two baselines: ``raw`` (the lab's hand-written contract app, which does the whole contract's
work: a route table, HEAD, 405s, bounds checks) and ``minimal`` (the least code that answers the
five core cases). Every framework row is paired round by round with both.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bench import frameworks
from bench.micro.cases import MicroCase

__all__ = ["BASELINE", "MINIMAL", "load", "names", "needs_lifespan", "serves"]

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]

BASELINE = frameworks.BASELINE
MINIMAL = "minimal"


def names() -> list[str]:
    """The baselines first (raw, minimal), then the field in report order."""
    field = frameworks.names()
    return [BASELINE, MINIMAL, *(name for name in field if name != BASELINE)]


def serves(name: str, case: MicroCase) -> bool:
    """Whether ``name`` answers ``case``: the minimal baseline only the core five, a framework
    every case its spec does not call not applicable."""
    if name == MINIMAL:
        from bench.micro.minimal import CASES_SERVED

        return case.name in CASES_SERVED and case.target == "app"
    return frameworks.get(name).not_applicable(case.requires) is None


def load(name: str, case: MicroCase) -> ASGIApp:
    """The app that serves ``case`` for ``name`` (ImportError when it is not installed)."""
    if name == MINIMAL:
        from bench.micro.minimal import app

        return app
    frameworks.host_several(name)  # the micro benchmark starts each framework's apps side by side
    return frameworks.load(name, case.target)


def needs_lifespan(name: str) -> bool:
    """True for an app that answers nothing before its lifespan startup (Sanic)."""
    return name != MINIMAL and frameworks.get(name).needs_lifespan

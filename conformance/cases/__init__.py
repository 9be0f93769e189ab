"""The case registry: every ``group_*.py`` module here contributes a ``CASES`` tuple.

Cases are data (:class:`~conformance.cases.model.Case`); one runner executes them all.
Adding a case is adding an entry to its group's table; adding a group is adding a module.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from conformance.cases.model import KINDS, Case, Context, Outcome

__all__ = ["KINDS", "Case", "Context", "Outcome", "all_cases", "by_id"]


@cache
def all_cases() -> tuple[Case, ...]:
    """Every case, ordered by id (A01 ... E66x)."""
    found: list[Case] = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("group_"):
            module = importlib.import_module(f"{__name__}.{info.name}")
            found.extend(module.CASES)
    ids = [case.id for case in found]
    duplicates = {case_id for case_id in ids if ids.count(case_id) > 1}
    if duplicates:
        raise ValueError(f"duplicate case ids: {sorted(duplicates)}")
    return tuple(sorted(found, key=lambda case: case.id))


def by_id() -> dict[str, Case]:
    """Cases keyed by id."""
    return {case.id: case for case in all_cases()}

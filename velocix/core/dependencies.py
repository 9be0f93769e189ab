"""Dependencies: ``Depends`` and dependency overrides; the planner and solver behind them.

``Depends(callable)`` declares a dependency (see :mod:`velocix.core.solving` for how one runs:
caching, generators and their teardown). The work is split in two modules:
:mod:`velocix.core.planning` analyses handlers and dependencies once, at registration, and
:mod:`velocix.core.solving` produces their arguments per request. The names they export are
importable from here too.

Overrides
---------
``app.dependency_overrides[original] = replacement`` (and ``router.dependency_overrides``)
replaces a dependency wherever it is declared - in handlers, in other dependencies, in
``dependencies=[...]`` of a route, a router or an app - typically in tests::

    app.dependency_overrides[get_db] = lambda: FakeDB()
    ...
    app.dependency_overrides.clear()

A change is applied when it is made: every route that declares an overridden dependency is
planned again with the replacement, and routes that declare none keep the plan they had. The
per-request path never looks an override up, so an application without overrides pays nothing
for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from velocix.core.params import Depends
from velocix.core.planning import (
    BODYLESS_METHODS,
    BodySpec,
    DependencySpec,
    Plan,
    ValueSpec,
    build_plan,
    is_simple,
)
from velocix.core.solving import (
    SolveContext,
    call_plan,
    extract_values,
    header_values,
    is_json_media_type,
    parse_query,
    parse_query_multi,
    request_cookies,
    run_teardowns,
    solve,
)

__all__ = [
    "BODYLESS_METHODS",
    "BodySpec",
    "DependencyOverrides",
    "DependencySpec",
    "Depends",
    "Plan",
    "SolveContext",
    "ValueSpec",
    "build_plan",
    "call_plan",
    "extract_values",
    "header_values",
    "is_json_media_type",
    "is_simple",
    "parse_query",
    "parse_query_multi",
    "request_cookies",
    "run_teardowns",
    "solve",
]

Dependency = Callable[..., Any]


class DependencyOverrides(dict[Dependency, Dependency]):
    """``{original: replacement}``, telling its owners when it changes.

    A ``dict`` in every respect; each change (``[k] = v``, ``del``, ``update``, ``pop``,
    ``clear``...) calls the listeners once, which plan the affected routes again.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for original, replacement in self.items():
            _check(original, replacement)
        self._listeners: list[Callable[[], None]] = []

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every change."""
        if listener not in self._listeners:
            self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()

    def __setitem__(self, original: Dependency, replacement: Dependency) -> None:
        _check(original, replacement)
        super().__setitem__(original, replacement)
        self._changed()

    def __delitem__(self, original: Dependency) -> None:
        super().__delitem__(original)
        self._changed()

    def clear(self) -> None:
        super().clear()
        self._changed()

    def pop(self, original: Dependency, *default: Any) -> Any:
        value = super().pop(original, *default)
        self._changed()
        return value

    def popitem(self) -> tuple[Dependency, Dependency]:
        item = super().popitem()
        self._changed()
        return item

    def setdefault(self, original: Dependency, replacement: Dependency | None = None) -> Any:
        if replacement is None:
            raise TypeError("dependency_overrides.setdefault() needs a replacement callable")
        _check(original, replacement)
        value = super().setdefault(original, replacement)
        self._changed()
        return value

    def update(self, *args: Any, **kwargs: Any) -> None:
        items = dict(*args, **kwargs)
        for original, replacement in items.items():
            _check(original, replacement)
        super().update(items)
        self._changed()

    def __ior__(self, other: Any) -> DependencyOverrides:  # type: ignore[override,misc]
        self.update(other)
        return self

    def replace(self, items: Mapping[Dependency, Dependency]) -> None:
        """Make the contents ``items`` (one change)."""
        for original, replacement in items.items():
            _check(original, replacement)
        super().clear()
        super().update(items)
        self._changed()


def _check(original: Any, replacement: Any) -> None:
    if not callable(original) or not callable(replacement):
        raise TypeError(
            "dependency_overrides maps a dependency to its replacement, both callables;"
            f" got {original!r}: {replacement!r}"
        )


def merge_overrides(scopes: Iterable[Mapping[Dependency, Dependency]]) -> dict[Any, Any]:
    """The overrides in force for a route: ``scopes`` outermost first, later ones winning."""
    merged: dict[Any, Any] = {}
    for scope in scopes:
        merged.update(scope)
    return merged

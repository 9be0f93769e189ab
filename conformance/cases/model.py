"""What a conformance case is, what it can yield, and what it runs against."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from conformance.routes import Routes
from conformance.targets import InProcessTarget, Target, WireTarget, wire_target
from conformance.validator.rules import Violation

Kind = Literal["pass", "fail", "skip", "not_applicable", "spec_ambiguous"]
KINDS: tuple[Kind, ...] = ("pass", "fail", "skip", "not_applicable", "spec_ambiguous")
Where = Literal["any", "wire", "inprocess"]


@dataclass(frozen=True)
class Outcome:
    """The verdict of one case on one cell; ``observed``/``expected`` explain a failure."""

    kind: Kind
    detail: str = ""
    observed: Any = None
    expected: Any = None


def passed(detail: str = "", observed: Any = None) -> Outcome:
    """The behaviour matches the spec."""
    return Outcome("pass", detail, observed)


def failed(detail: str, observed: Any = None, expected: Any = None) -> Outcome:
    """The behaviour departs from the spec (``observed`` vs ``expected``)."""
    return Outcome("fail", detail, observed, expected)


def skipped(reason: str) -> Outcome:
    """Applicable but not run here (the reason says why)."""
    return Outcome("skip", reason)


def not_applicable(reason: str) -> Outcome:
    """The check does not apply to this framework/server pairing."""
    return Outcome("not_applicable", reason)


def ambiguous(detail: str, observed: Any = None) -> Outcome:
    """The spec does not define the behaviour; what was observed is recorded."""
    return Outcome("spec_ambiguous", detail, observed)


def verdict(
    failures: list[str], ok_detail: str = "", observed: Any = None, expected: Any = None
) -> Outcome:
    """Pass when ``failures`` is empty, otherwise fail listing them."""
    if failures:
        return failed("; ".join(failures), observed, expected)
    return passed(ok_detail, observed)


def violations_outcome(violations: Iterable[Violation], rules: set[str], traffic: str) -> Outcome:
    """Fail with the violations of ``rules`` (errors only), else pass."""
    found = [
        (v, f"{v.method} {v.path}".strip() or v.scope_type)
        for v in violations
        if v.rule in rules and v.severity == "error"
    ]
    if not found:
        return passed(f"no violation of {', '.join(sorted(rules))} over {traffic}")
    return grouped_failure(found)


def grouped_failure(found: Sequence[tuple[Violation, str]]) -> Outcome:
    """Fail listing each distinct violation once, whole, with where it happened."""
    places: dict[tuple[str, str], list[str]] = {}
    for violation, where in found:
        seen = places.setdefault((violation.rule, violation.message), [])
        if where not in seen:
            seen.append(where)
    lines = []
    for (rule, message), where in places.items():
        shown = ", ".join(where[:3]) + (f" and {len(where) - 3} more" if len(where) > 3 else "")
        lines.append(f"[{rule}] {message} ({shown})")
    return failed(
        f"{len(found)} violation(s): " + "; ".join(lines), observed=lines, expected="no violation"
    )


@dataclass
class Context:
    """One matrix cell: a framework module served by one server (or in-process)."""

    framework: str
    server: str
    features: frozenset[str]
    target: Target
    workdir: Path
    app_ref: str
    failing_ref: str | None = None
    traffic: tuple[tuple[str, str, list[tuple[str, str]], bytes], ...] | None = None
    routes: Routes | None = None
    check_mode: bool = False
    cache: dict[str, Any] = field(default_factory=dict)
    cleanups: list[contextlib.ExitStack] = field(default_factory=list)

    @property
    def inprocess(self) -> bool:
        """The cell runs without a server."""
        return isinstance(self.target, InProcessTarget)

    @property
    def wire(self) -> WireTarget:
        """The wire target (only for cases marked ``where="wire"``)."""
        assert isinstance(self.target, WireTarget), "wire case on an in-process cell"
        return self.target

    @property
    def local(self) -> InProcessTarget:
        """The in-process target (only for cases marked ``where="inprocess"``)."""
        assert isinstance(self.target, InProcessTarget), "in-process case on a wire cell"
        return self.target

    @property
    def port(self) -> int:
        """Port of the cell's server."""
        return self.wire.port

    def once(self, key: str, compute: Callable[[], Any]) -> Any:
        """Compute a value once per cell (shared traffic several cases inspect)."""
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]

    @contextlib.contextmanager
    def variant(self, **options: Any) -> Iterator[WireTarget]:
        """A second server of the same kind, with other options (root path, lifespan mode)."""
        if isinstance(self.target, WireTarget) and self.target.ready_path:
            options.setdefault("ready_path", self.target.ready_path)
        with wire_target(self.server, self.app_ref, self.workdir, **options) as target:
            yield target

    def shared_variant(self, key: str, **options: Any) -> WireTarget:
        """A variant server started once per cell and stopped when the cell ends."""
        if key not in self.cache:
            stack = contextlib.ExitStack()
            self.cleanups.append(stack)
            self.cache[key] = stack.enter_context(self.variant(**options))
        target: WireTarget = self.cache[key]
        return target

    def close(self) -> None:
        """Stop every variant server this cell started."""
        while self.cleanups:
            self.cleanups.pop().close()


Runner = Callable[[Context], Outcome]
WEBSOCKET = "websocket"
"""The feature of a framework that serves WebSocket endpoints at all."""
WEBSOCKET_ENDPOINT = "ws:"


@dataclass(frozen=True)
class Case:
    """One conformance check, as data."""

    id: str
    group: str
    item: int
    title: str
    spec: str
    endpoints: tuple[str, ...]
    run: Runner
    where: Where = "any"
    needs: frozenset[str] = frozenset()
    frameworks: frozenset[str] | None = None
    reason_other_frameworks: str = ""
    tools: tuple[str, ...] = ()
    generic: bool = False

    @property
    def requirements(self) -> frozenset[str]:
        """The features a framework needs for this case: ``needs``, plus ``websocket`` when an
        endpoint is a WebSocket (``ws:``), since some frameworks have none (Django)."""
        if any(endpoint.startswith(WEBSOCKET_ENDPOINT) for endpoint in self.endpoints):
            return self.needs | {WEBSOCKET}
        return self.needs

    def applicability(self, ctx: Context) -> Outcome | None:
        """``None`` when the case applies to the cell, else its not-applicable outcome."""
        return self.applicable_to(
            ctx.framework, ctx.server, ctx.features, check_mode=ctx.check_mode
        )

    def applicable_to(
        self, framework: str, server: str, features: frozenset[str], *, check_mode: bool = False
    ) -> Outcome | None:
        """Applicability from the cell's coordinates alone (no server needed)."""
        inprocess = server == "inprocess"
        if self.where == "wire" and inprocess:
            how = " (check --server NAME)" if check_mode else ""
            return not_applicable(f"needs a real server{how}: an over-the-wire check")
        if self.where == "inprocess" and not inprocess:
            return not_applicable("checked in the in-process column (framework behaviour)")
        if not self.generic and check_mode:
            return not_applicable(f"needs the lab's endpoint(s) {', '.join(self.endpoints)}")
        if self.frameworks is not None and framework not in self.frameworks and not check_mode:
            return not_applicable(self.reason_other_frameworks or "not for this framework")
        missing = self.requirements - features
        if missing:
            return not_applicable(f"{framework} has no {', '.join(sorted(missing))} API")
        return None

    def describe(self) -> dict[str, Any]:
        """JSON-ready metadata (stored beside each result)."""
        return {
            "id": self.id,
            "group": self.group,
            "item": self.item,
            "title": self.title,
            "spec": self.spec,
            "endpoints": list(self.endpoints),
            "where": self.where,
            "needs": sorted(self.requirements),
            "tools": list(self.tools),
            "generic": self.generic,
        }

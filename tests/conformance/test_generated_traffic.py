"""The G cases on apps with routes: each broken app is flagged by its case and rule, only there;
a correct app with the same kinds of routes passes every G case."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.broken_apps import BROKEN_ROUTED_APPS, CORRECT_ROUTED_APP, BrokenRoutedApp
from conformance.cases import all_cases
from conformance.cases.model import Context
from conformance.targets import InProcessTarget

G_CASES = [case for case in all_cases() if case.group == "G"]


def _context(broken: BrokenRoutedApp, workdir: Path) -> Iterator[Context]:
    target = InProcessTarget(broken.app)
    target.start()
    ctx = Context(
        "custom", "inprocess", frozenset(), target, workdir, "x:app",
        routes=broken.routes, check_mode=True,
    )  # fmt: skip
    try:
        yield ctx
    finally:
        ctx.close()
        target.close()


@pytest.mark.parametrize("broken", BROKEN_ROUTED_APPS, ids=[b.id for b in BROKEN_ROUTED_APPS])
def test_broken_routed_app_is_flagged_by_its_case_and_rule(
    broken: BrokenRoutedApp, tmp_path: Path
) -> None:
    for ctx in _context(broken, tmp_path):
        outcomes = {case.id: case.applicability(ctx) or case.run(ctx) for case in G_CASES}
        flagged = outcomes[broken.case]
        assert flagged.kind == "fail", flagged.detail
        assert broken.rule in flagged.detail
        others = {i: o.detail for i, o in outcomes.items() if o.kind == "fail" and i != broken.case}
        assert others == {}, others


def test_every_g_case_has_a_broken_app() -> None:
    assert {b.case for b in BROKEN_ROUTED_APPS} == {case.id for case in G_CASES}


def test_correct_routed_app_passes_every_g_case(tmp_path: Path) -> None:
    for ctx in _context(CORRECT_ROUTED_APP, tmp_path):
        outcomes = {case.id: case.applicability(ctx) or case.run(ctx) for case in G_CASES}
        assert {i: o.kind for i, o in outcomes.items()} == dict.fromkeys(outcomes, "pass"), {
            i: o.detail for i, o in outcomes.items() if o.kind != "pass"
        }

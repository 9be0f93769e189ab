"""Runs inside the asgion virtualenv (Python >= 3.12): drives the same in-process traffic
through both validators and prints what each one flagged, as JSON on stdout.

The app is wrapped as ``ours(asgion(app))``: both validators see the same scope and the same
events (each forwards them unchanged), so every difference is a difference of judgement.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import sys
from collections import defaultdict
from importlib import metadata
from typing import Any

from bench import frameworks as field
from conformance.broken_apps import BROKEN_APPS, exercise
from conformance.cases import group_a
from conformance.cases.model import Context
from conformance.runner import run_cases
from conformance.targets import InProcessTarget
from conformance.validator import validate


def _asgion() -> Any:
    # Imported by name: asgion lives only in the cross-check's Python 3.12 virtualenv.
    return importlib.import_module("asgion")


def _key(scope_type: str, method: str, path: str) -> str:
    return f"{scope_type} {method} {path}".replace("  ", " ").strip()


def broken_corpus() -> list[dict[str, Any]]:
    """Each broken app under both validators."""
    asgion = _asgion()
    rows = []
    for broken in BROKEN_APPS:
        # asgion outermost: ours forwards every event unchanged, so both see the same ones.
        ours = validate(broken.app, strict=False)
        inspector = asgion.Inspector(ours)
        asyncio.run(
            exercise(inspector.asgi_app, broken.drive, broken.extensions, broken.subprotocols)
        )
        rows.append(
            {
                "where": f"broken app {broken.id}",
                "meant": broken.rule,
                "ours": sorted({v.rule for v in ours.violations}),
                "theirs": sorted({f"{v.rule_id}:{v.severity.value}" for v in inspector.violations}),
            }
        )
    return rows


def framework_traffic(framework: str) -> list[dict[str, Any]]:
    """The in-process group A traffic of one framework under both validators."""
    asgion = _asgion()
    module = field.load_conformance(framework)
    inspectors: list[Any] = []

    def outer(validated: Any) -> Any:
        inspectors.append(asgion.Inspector(validated))
        return inspectors[0].asgi_app

    target = InProcessTarget(module.app, wrap=outer)
    inspector = inspectors[0]
    target.start()
    ctx = Context(
        framework,
        "inprocess",
        field.conformance_features(framework),
        target,
        None,  # type: ignore[arg-type]
        f"{field.module_name(framework, 'conformance')}:app",
    )
    try:
        run_cases(ctx, group_a.CASES)
    finally:
        target.close()
    ours: dict[str, set[str]] = defaultdict(set)
    theirs: dict[str, set[str]] = defaultdict(set)
    for violation in target.log.all:
        ours[_key(violation.scope_type, violation.method, violation.path)].add(violation.rule)
    for violation in inspector.violations:
        where = _key(violation.scope_type, violation.method, violation.path)
        theirs[where].add(f"{violation.rule_id}:{violation.severity.value}")
    return [
        {
            "where": f"{framework}: {where}",
            "ours": sorted(ours[where]),
            "theirs": sorted(theirs[where]),
        }
        for where in sorted(ours.keys() | theirs.keys())
    ]


def main(frameworks: list[str]) -> int:
    """Print the combined observations as one JSON document.

    The JSON is the only thing on stdout: while the apps run, stdout is stderr (Sanic logs
    its banner and errors to stdout, which would corrupt the document).
    """
    out = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):
        report = {
            "asgion_version": metadata.version("asgion"),
            "broken": broken_corpus(),
            "frameworks": {fw: framework_traffic(fw) for fw in frameworks},
        }
    json.dump(report, out)
    return 0


if __name__ == "__main__":
    sys.exit(main([name for name in sys.argv[1:] if name]))

"""The conformance section of the lab report, from the newest stored conformance run.

The conformance suite stores ``reports/conformance/<run>/run.json`` + ``cells/*.json`` (one
record per framework x server pairing) and its own checks-by-pairing matrix as an HTML fragment
(``matrix.html``), which is embedded as it is. Only those stored files are read: the report
imports nothing of the conformance suite. Above it this module puts what the lab report adds:
a framework x server grid with the five outcome kinds counted apart (pass, fail, skip, not
applicable, spec-ambiguous), each pairing linking to its details on the same page (every
non-passing check with its reason), and a note when the conformance run measured other code or
another machine than the lab run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
from markupsafe import Markup

from bench import frameworks as field
from bench.infra.results import Environment
from bench.infra.servers import PREFERRED_ORDER as SERVER_ORDER

KINDS = ("pass", "fail", "skip", "not_applicable", "spec_ambiguous")
LABELS = {
    "pass": "pass",
    "fail": "fail",
    "skip": "skip",
    "not_applicable": "not applicable",
    "spec_ambiguous": "spec-ambiguous",
}
BADGES = {"pass": "pass", "fail": "fail", "skip": "skip", "not_applicable": "na",
          "spec_ambiguous": "ambiguous"}  # fmt: skip
SYMBOLS = (("pass", "✓"), ("fail", "✗"), ("skip", "skip"), ("not_applicable", "n/a"),
           ("spec_ambiguous", "?"))  # fmt: skip
INPROCESS = "inprocess"


@dataclass(frozen=True, slots=True)
class Pairing:
    """One framework x server cell of the conformance matrix."""

    framework: str
    server: str
    counts: dict[str, int]
    known_deviations: int
    unexpected: int
    error: str | None
    notable: list[dict[str, Any]]
    """Every result that is not a pass, in check order (what the details list)."""

    @property
    def anchor(self) -> str:
        """Id of the pairing's details on the page."""
        return f"conformance-{self.framework}-{self.server}"


@dataclass(frozen=True, slots=True)
class Section:
    """What the template needs: the grid, the details, the embedded matrix, the caveats."""

    run_id: str
    profile: str
    commit: str
    dirty: bool
    gate_passed: bool
    unexpected: int
    frameworks: list[str]
    servers: list[str]
    pairings: dict[tuple[str, str], Pairing]
    matrix: Markup | None
    notes: list[str]
    error: str | None = None


def _pairing(cell: dict[str, Any]) -> Pairing:
    counts = dict.fromkeys(KINDS, 0)
    for result in cell["results"]:
        counts[result["kind"]] = counts.get(result["kind"], 0) + 1
    verdicts = [result.get("verdict") for result in cell["results"]]
    return Pairing(
        framework=cell["framework"],
        server=cell["server"],
        counts=counts,
        known_deviations=verdicts.count("expected-fail"),
        unexpected=verdicts.count("unexpected-fail") + verdicts.count("unexpected-pass"),
        error=cell.get("error"),
        notable=sorted(
            (r for r in cell["results"] if r["kind"] != "pass"), key=lambda r: str(r["id"])
        ),
    )


def _order(names: set[str], preferred: tuple[str, ...]) -> list[str]:
    first = [name for name in preferred if name in names]
    return first + sorted(names - set(first))


def _notes(info: dict[str, Any], lab_env: Environment | None) -> list[str]:
    if lab_env is None or "environment" not in info:
        return []
    env = msgspec.convert(info["environment"], Environment)
    notes = []
    if env.git.commit != lab_env.git.commit or env.git.dirty or lab_env.git.dirty:
        notes.append(
            f"These conformance results are from commit {env.git.short}"
            f"{' (dirty)' if env.git.dirty else ''}; the load measurements above are from "
            f"{lab_env.git.short}{' (dirty)' if lab_env.git.dirty else ''}."
        )
    if env.machine.cpu_model != lab_env.machine.cpu_model:
        notes.append(f"Conformance ran on {env.machine.cpu_model}, the load lab on "
                     f"{lab_env.machine.cpu_model}.")  # fmt: skip
    return notes


RUN_FILE = "run.json"
CELLS_DIR = "cells"
MATRIX_FILE = "matrix.html"


def _matrix(run_dir: Path) -> Markup | None:
    """The matrix the conformance suite rendered (autoescaped jinja2) when it stored the run;
    None for a run stored without it (its own ``index.html`` is linked instead)."""
    path = run_dir / MATRIX_FILE
    return Markup(path.read_text(encoding="utf-8")) if path.is_file() else None


def _read(run_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``run.json`` and every cell record of a stored conformance run."""
    info = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))
    cells = [
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((run_dir / CELLS_DIR).glob("*.json"))
    ]
    return info, cells


def section(reports: Path, lab_env: Environment | None = None) -> Section | None:
    """The section for the newest conformance run under ``reports/conformance``, or ``None``
    when none is stored. Unreadable records give a section that says so, not a crash."""
    latest = reports / "conformance" / "latest"
    if not (latest / RUN_FILE).is_file():
        return None
    try:
        info, cells = _read(latest.resolve())
        pairings = {(p.framework, p.server): p for p in map(_pairing, cells)}
        return Section(
            run_id=str(info.get("run_id", latest.resolve().name)),
            profile=str(info.get("profile", "?")),
            commit=str(info.get("environment", {}).get("git", {}).get("short", "unknown")),
            dirty=bool(info.get("environment", {}).get("git", {}).get("dirty", False)),
            gate_passed=bool(info.get("gate", {}).get("passed", False)),
            unexpected=len(info.get("gate", {}).get("unexpected", [])),
            frameworks=_order({f for f, _ in pairings}, tuple(field.names())),
            servers=_order({s for _, s in pairings}, (INPROCESS, *SERVER_ORDER)),
            pairings=pairings,
            matrix=_matrix(latest.resolve()),
            notes=_notes(info, lab_env),
        )
    except (OSError, ValueError, KeyError, TypeError, msgspec.ValidationError) as exc:
        return Section(
            run_id=latest.resolve().name, profile="?", commit="unknown", dirty=False,
            gate_passed=False, unexpected=0, frameworks=[], servers=[], pairings={},
            matrix=None, notes=[], error=f"unreadable conformance records: {exc!r}",
        )  # fmt: skip

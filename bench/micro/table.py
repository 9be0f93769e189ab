"""Render stored micro benchmark results (pytest-benchmark JSON, one file per pass).

Per cell, each pass gives a median round time; the table shows the median over passes (µs per
request) and the median over passes of the ratio to raw ASGI, with its spread (min-max over
passes). The ratio of a pass is the median of the *paired* round ratios when the cell has them
(each framework round against a raw round timed just before it, see ``bench_micro``), else the
ratio to the raw cell of the same pass - so a slow moment of the machine, which slows both sides
of a pair alike, moves the ratio far less than the absolute figures.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import frameworks
from bench.micro import apps
from bench.micro.apps import BASELINE, MINIMAL
from bench.micro.cases import CASES, MicroCase

__all__ = ["Cell", "Summary", "cells_from_json", "load_passes", "render", "summarise"]


@dataclass(frozen=True, slots=True)
class Cell:
    """One (case, framework) measurement of one pass, in µs per request."""

    case: str
    framework: str
    median_us: float
    iqr_us: float
    rounds: int
    run: int = 0  # which pass
    paired_ratio: float | None = None  # median of per-round ratios to a raw round just before
    paired_ratio_minimal: float | None = None  # the same against the minimal baseline


@dataclass(frozen=True, slots=True)
class Summary:
    """One (case, framework) over all passes."""

    median_us: float
    ratio: float | None  # median of the per-pass ratios to the baseline
    ratio_low: float | None
    ratio_high: float | None
    passes: int
    ratio_minimal: float | None = None  # median over passes of the ratio to the minimal baseline


def cells_from_json(data: dict[str, Any], run: int = 0) -> list[Cell]:
    """The cells of one pytest-benchmark JSON document written by ``bench_micro``."""
    cells = []
    for bench in data.get("benchmarks", []):
        info = bench.get("extra_info", {})
        calls = info.get("calls_per_round")
        if not calls or "case" not in info or "framework" not in info:
            continue
        stats = bench["stats"]
        cells.append(
            Cell(
                case=info["case"],
                framework=info["framework"],
                median_us=stats["median"] / calls * 1e6,
                iqr_us=stats["iqr"] / calls * 1e6,
                rounds=stats["rounds"],
                run=run,
                paired_ratio=info.get("paired_ratio"),
                paired_ratio_minimal=info.get("paired_ratio_minimal"),
            )
        )
    return cells


def load_passes(directory: Path) -> tuple[list[Cell], dict[str, Any]]:
    """All cells of the ``pass-*.json`` files in ``directory``, and what they ran on."""
    cells: list[Cell] = []
    about: dict[str, Any] = {"machine": {}, "commit": {}, "timer": "unknown", "passes": 0}
    for number, path in enumerate(sorted(directory.glob("pass-*.json")), start=1):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # a pass that died before writing its results: its cells show as failed
        cells.extend(cells_from_json(data, number))
        about["machine"] = data.get("machine_info", {})
        about["commit"] = data.get("commit_info", {})
        about["timer"] = next(
            (b.get("options", {}).get("timer") for b in data.get("benchmarks", [])), "unknown"
        )
        about["passes"] = number
    return cells, about


def summarise(cells: list[Cell]) -> dict[tuple[str, str], Summary]:
    """Per (case, framework): median µs over passes and per-pass ratios to the baseline."""
    by_cell: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    paired: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    paired_minimal: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    for cell in cells:
        by_cell[cell.case, cell.framework][cell.run] = cell.median_us
        if cell.paired_ratio is not None:
            paired[cell.case, cell.framework][cell.run] = cell.paired_ratio
        if cell.paired_ratio_minimal is not None:
            paired_minimal[cell.case, cell.framework][cell.run] = cell.paired_ratio_minimal
    summaries = {}
    for (case, framework), runs in by_cell.items():
        baseline = by_cell.get((case, BASELINE), {})
        pass_ratios = paired.get((case, framework), {})
        ratios = [
            pass_ratios[r] if r in pass_ratios else runs[r] / baseline[r]
            for r in runs
            if r in pass_ratios or (r in baseline and baseline[r] > 0)
        ]
        summaries[case, framework] = Summary(
            median_us=statistics.median(runs.values()),
            ratio=statistics.median(ratios) if ratios else None,
            ratio_low=min(ratios) if ratios else None,
            ratio_high=max(ratios) if ratios else None,
            passes=len(runs),
            ratio_minimal=_ratio_to(
                runs, by_cell.get((case, MINIMAL), {}), paired_minimal.get((case, framework), {})
            ),
        )
    return summaries


def _ratio_to(
    runs: dict[int, float], baseline: dict[int, float], paired: dict[int, float]
) -> float | None:
    """Median over passes of the (paired, else same-pass) ratio to a baseline."""
    ratios = [
        paired[r] if r in paired else runs[r] / baseline[r]
        for r in runs
        if r in paired or (r in baseline and baseline[r] > 0)
    ]
    return statistics.median(ratios) if ratios else None


def _text(summary: Summary | None, framework: str, reason: str | None) -> str:
    if reason is not None:
        return "n/a"
    if summary is None:
        return "failed/skipped"
    if framework in (BASELINE, MINIMAL) or summary.ratio is None:
        return f"{summary.median_us:.2f}"
    text = f"{summary.median_us:.2f} {summary.ratio:.2f}x"
    if summary.ratio_minimal is not None:
        text += f" {summary.ratio_minimal:.2f}m"
    return text


def _reason(framework: str, case: MicroCase) -> str | None:
    """Why ``framework`` has no figure for ``case`` by design (None: it should have one)."""
    if framework == MINIMAL:
        return None if apps.serves(MINIMAL, case) else "the minimal baseline serves the core five"
    spec = frameworks.specs().get(framework)
    return spec.not_applicable(case.requires) if spec is not None else None


def grid(cells: list[Cell]) -> dict[str, dict[str, str]]:
    """framework -> case -> what its table cell says (µs/request, the ratio to raw and to the
    minimal baseline, ``n/a`` or ``failed/skipped``), for the baselines and every registered
    framework in report order."""
    summaries = summarise(cells)
    names = apps.names()
    names += sorted({cell.framework for cell in cells} - set(names))  # no longer registered
    return {
        framework: {
            case.name: _text(
                summaries.get((case.name, framework)), framework, _reason(framework, case)
            )
            for case in CASES
        }
        for framework in names
    }


def render(cells: list[Cell]) -> str:
    """A fixed-width table: one row per framework, one column per case (µs/request and the
    ratio to raw), then each ratio's spread over passes and why a cell is ``n/a``.

    A framework missing from the results shows ``failed/skipped`` - never a blank or a zero; a
    case the framework cannot serve (its spec says why) shows ``n/a`` and the reason below.
    """
    summaries = summarise(cells)
    width = max(23, *(len(case.name) for case in CASES))
    header = "framework".ljust(12) + "".join(case.name.rjust(width + 1) for case in CASES)
    lines = [header, "-" * len(header)]
    lines += [
        framework.ljust(12) + "".join(row[case.name].rjust(width + 1) for case in CASES)
        for framework, row in grid(cells).items()
    ]
    lines += ["", "cases: " + "; ".join(f"{case.name} = {case.description}" for case in CASES)]
    for spec in frameworks.specs().values():
        lines += [
            f"n/a {spec.name}/{case.name}: {reason}"
            for case in CASES
            if (reason := spec.not_applicable(case.requires)) is not None
        ]
    lines.append(
        f"n/a {MINIMAL}: the minimal baseline (bench/micro/minimal.py) serves the core five"
    )
    lines.append(
        "µs/request: median over passes of each pass's median round time / calls per round;"
        " x: median over passes of the ratio to raw ASGI, paired round by round with a raw round"
        " timed just before; m: the same ratio to the minimal baseline (the least code that"
        " answers the core five cases); on a busy machine they can differ from the ratio of the"
        " µs figures, which were measured at different moments."
    )
    spreads = [
        f"{framework}/{case} {summary.ratio_low:.2f}-{summary.ratio_high:.2f}"
        for (case, framework), summary in sorted(summaries.items())
        if framework not in (BASELINE, MINIMAL) and summary.ratio_low is not None
    ]
    if spreads:
        lines.append("x raw, min-max over passes: " + ", ".join(spreads))
    return "\n".join(lines)

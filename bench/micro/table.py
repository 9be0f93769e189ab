"""Render stored micro benchmark results (pytest-benchmark JSON) as µs/request and ratios."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.micro.cases import CASES
from bench.micro.frameworks import BASELINE, FRAMEWORKS

__all__ = ["Cell", "cells_from_json", "load", "render"]


@dataclass(frozen=True, slots=True)
class Cell:
    """One (case, framework) measurement in µs per request."""

    case: str
    framework: str
    median_us: float
    iqr_us: float
    rounds: int


def cells_from_json(data: dict[str, Any]) -> list[Cell]:
    """The cells of a pytest-benchmark JSON document written by ``bench_micro``."""
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
            )
        )
    return cells


def load(path: Path) -> tuple[list[Cell], dict[str, Any]]:
    """Cells and the machine/commit description from a stored result file."""
    data = json.loads(path.read_text())
    about = {
        "machine": data.get("machine_info", {}),
        "commit": data.get("commit_info", {}),
        "datetime": data.get("datetime"),
    }
    return cells_from_json(data), about


def render(cells: list[Cell]) -> str:
    """A fixed-width table: one row per case, µs/request and xraw per framework.

    A framework missing from the results shows ``failed/skipped`` - never a blank or a zero.
    """
    by_key = {(cell.case, cell.framework): cell for cell in cells}
    frameworks = list(FRAMEWORKS)
    descriptions = {case.name: case.description or case.name for case in CASES}
    header = ["case".ljust(30)] + [name.rjust(20) for name in frameworks]
    lines = [" ".join(header), "-" * len(" ".join(header))]
    for case in CASES:
        baseline = by_key.get((case.name, BASELINE))
        row = [descriptions[case.name].ljust(30)]
        for framework in frameworks:
            cell = by_key.get((case.name, framework))
            if cell is None:
                text = "failed/skipped"
            elif baseline is None or framework == BASELINE:
                text = f"{cell.median_us:7.2f} µs"
            else:
                text = f"{cell.median_us:7.2f} µs {cell.median_us / baseline.median_us:5.2f}x"
            row.append(text.rjust(20))
        lines.append(" ".join(row))
    lines.append("µs/request = median round time / calls per round; x = ratio to raw ASGI.")
    return "\n".join(lines)

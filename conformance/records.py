"""Stored results: one JSON record per matrix cell plus ``run.json``, under
``reports/conformance/<timestamp>-<commit>/`` with a ``latest`` symlink beside the runs.

Every record is self-describing (machine, versions, commit in ``run.json``; case metadata and
outcome in each cell record); the renderers read only these files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "reports" / "conformance"
RUN_FILE = "run.json"
CELLS_DIR = "cells"
CELL_SCHEMA = "conformance-cell/1"
RUN_SCHEMA = "conformance-run/1"


def cell_name(framework: str, server: str) -> str:
    """File stem of a cell record."""
    return f"{framework}--{server}"


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (readers never see half a file)."""
    from bench.infra.results import write_atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, (json.dumps(data, indent=1, default=repr) + "\n").encode("utf-8"))


def environment() -> dict[str, Any]:
    """Machine, software versions and git state (shared with the load lab)."""
    import msgspec

    from bench.infra.environment import collect

    data: dict[str, Any] = msgspec.to_builtins(collect())
    return data


def new_run_dir(reports: Path = REPORTS) -> Path:
    """A fresh ``<timestamp>-<commit>`` directory."""
    from bench.infra.results import new_run_id

    short = environment()["git"]["short"]
    run_dir = reports / new_run_id(short)
    (run_dir / CELLS_DIR).mkdir(parents=True, exist_ok=True)
    return run_dir


def point_latest(run_dir: Path) -> None:
    """Make ``reports/conformance/latest`` point at ``run_dir``."""
    from bench.infra.results import update_latest

    update_latest(run_dir.parent, run_dir)


def resolve(reference: str = "latest", reports: Path = REPORTS) -> Path:
    """A run directory from ``latest``, a run id or a path."""
    candidate = Path(reference)
    if (candidate / RUN_FILE).exists():
        return candidate
    named = reports / reference
    if (named / RUN_FILE).exists():
        return named.resolve()
    raise FileNotFoundError(f"no conformance run {reference!r} under {reports}")


@dataclass
class Run:
    """A stored run: its info and its cell records."""

    path: Path
    info: dict[str, Any]
    cells: list[dict[str, Any]] = field(default_factory=list)

    def cell(self, framework: str, server: str) -> dict[str, Any] | None:
        """One cell record."""
        return next(
            (c for c in self.cells if c["framework"] == framework and c["server"] == server), None
        )


def read_run(run_dir: Path) -> Run:
    """Load ``run.json`` and every cell record of a run."""
    info = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))
    cells = [
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((run_dir / CELLS_DIR).glob("*.json"))
    ]
    return Run(run_dir, info, cells)

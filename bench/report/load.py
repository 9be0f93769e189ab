"""Reading stored runs for the report: ``run.json`` + ``results.jsonl``, nothing else.

Renderers never measure and never re-derive a figure from anything but these records
(:mod:`bench.infra.results` is the schema); a torn last line of an interrupted run is skipped by
:func:`bench.infra.results.iter_records`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import msgspec

from bench.infra import results
from bench.infra.results import Record, RunInfo


class ReportError(Exception):
    """A run cannot be reported on (missing or unreadable files); the message says why."""


@dataclass(frozen=True, slots=True)
class LoadedRun:
    """One stored run as the report sees it."""

    directory: Path
    info: RunInfo
    records: tuple[Record, ...]

    @property
    def run_id(self) -> str:
        """The run's id (``<timestamp>-<short commit>``)."""
        return self.info.run_id


def load_run(run_dir: Path) -> LoadedRun:
    """Load one run directory; a clear :class:`ReportError` when it is not a readable run."""
    info_path = run_dir / results.INFO_FILE
    if not info_path.is_file():
        raise ReportError(f"{run_dir} is not a run directory: {info_path.name} is missing")
    try:
        info = results.read_info(run_dir)
    except (msgspec.DecodeError, OSError) as exc:
        raise ReportError(f"unreadable {info_path}: {exc}") from None
    try:
        records = tuple(results.iter_records(run_dir / results.RESULTS_FILE))
    except OSError as exc:
        raise ReportError(f"unreadable {run_dir / results.RESULTS_FILE}: {exc}") from None
    # Records of another run copied into this file would mix two runs' figures.
    return LoadedRun(run_dir, info, tuple(r for r in records if r.run_id == info.run_id))


def resolve(reference: str, reports: Path) -> Path:
    """A run directory from ``latest``, a run id (or unique prefix) or a path."""
    try:
        return results.resolve_run(reference, reports)
    except FileNotFoundError as exc:
        raise ReportError(str(exc)) from None


def run_directories(reports: Path) -> list[Path]:
    """Every run directory under ``reports/runs``, oldest first (run ids sort by time)."""
    runs = reports / "runs"
    if not runs.is_dir():
        return []
    return sorted(p for p in runs.iterdir() if (p / results.INFO_FILE).is_file())

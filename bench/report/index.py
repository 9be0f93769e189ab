"""``reports/index.html``: every stored run with its date, commit, profile, machine and counts.

The same list is also written as ``reports/runs/index.html``. A run page links to
``../index.html``, which is the right list both from ``reports/runs/<run>/`` and through the
``reports/latest`` symlink (browsers resolve relative links on the path, not the target).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.infra import results
from bench.report.load import ReportError, load_run, run_directories
from bench.report.summary import summarise
from bench.report.templating import PAGE, templates


@dataclass(frozen=True, slots=True)
class RunRow:
    """One line of the index."""

    run_id: str
    created_at: str
    commit: str
    dirty: bool
    profile: str
    status: str
    machine: str
    counts: dict[str, int]
    records: int
    rendered: bool


def rows(reports: Path) -> tuple[list[RunRow], list[tuple[str, str]]]:
    """Rows for every readable run, newest first, and (name, error) of unreadable ones."""
    found, unreadable = [], []
    for directory in reversed(run_directories(reports)):
        try:
            run = load_run(directory)
        except ReportError as exc:
            unreadable.append((directory.name, str(exc)))
            continue
        machine = run.info.env.machine
        found.append(
            RunRow(
                run_id=run.run_id,
                created_at=run.info.created_at,
                commit=run.info.env.git.short,
                dirty=run.info.env.git.dirty,
                profile=run.info.config.profile,
                status=run.info.status,
                machine=f"{machine.cpu_model} · {machine.logical_cpus} CPUs · {machine.kernel}",
                counts=summarise(run).counts(),
                records=len(run.records),
                rendered=(directory / PAGE).is_file(),
            )
        )
    # Newest first by run id (a timestamp), not by directory name: kept samples sort too.
    found.sort(key=lambda row: row.run_id, reverse=True)
    return found, unreadable


def render_index(reports: Path) -> list[Path]:
    """Write ``reports/index.html`` and ``reports/runs/index.html``; return their paths."""
    found, unreadable = rows(reports)
    template = templates().get_template("index.html.j2")
    written = []
    for directory, prefix in ((reports, "runs/"), (reports / "runs", "")):
        directory.mkdir(parents=True, exist_ok=True)
        html = template.render(
            rows=found,
            unreadable=unreadable,
            prefix=prefix,
            latest=found[0].run_id if found else None,
        )
        results.write_atomic(directory / PAGE, html.encode())
        written.append(directory / PAGE)
    return written

"""Cell summaries: what one (server, app, scenario, concurrency) cell of a run shows.

Each figure is derived here, once, from the stored ``phase == "run"`` measurements with
:mod:`bench.stats` (medians, bootstrap CIs, ratios to raw); charts, tables and comparisons all
read these summaries, so no figure is computed in two places. A cell that never produced a
valid measurement is ``failed`` (or ``missing`` when an interrupted run never reached it) and
carries its reason — it is never shown as zero or left blank.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from bench import results, stats
from bench.apps import BASELINE, PREFERRED_ORDER
from bench.report.load import LoadedRun
from bench.results import Record
from bench.stats import Estimate

State = Literal["ok", "failed", "missing"]
PERCENTILES: tuple[tuple[str, str], ...] = (
    ("p50", "p50"),
    ("p90", "p90"),
    ("p99", "p99"),
    ("p999", "p99.9"),
)
"""Latency percentiles the report shows: (``Latency`` field, label)."""


@dataclass(frozen=True, slots=True)
class Mark:
    """A caveat on a cell's figures: a short label for badges plus the full reason."""

    flag: str
    label: str
    reason: str
    severe: bool
    """Severe marks (generator-bound, driver ceiling) mean the figure may not measure the app."""


_FLAG_TEXT: dict[str, tuple[str, str, bool]] = {
    results.FLAG_GENERATOR_BOUND: (
        "generator-bound",
        "the load generator used more than ~90% of its CPU: the figure may measure the "
        "generator, not the server",
        True,
    ),
    results.FLAG_FALLBACK_DRIVER: (
        "fallback driver",
        "wrk was missing and Locust drove the load: generator-bound by construction",
        True,
    ),
    results.FLAG_DRIVER_CEILING: (
        "driver ceiling",
        "throughput reached the WebSocket driver's measured ceiling: a lower bound only",
        True,
    ),
    results.FLAG_UNPINNED: (
        "unpinned",
        "CPU pinning was unavailable: server and generator may have shared a CPU",
        False,
    ),
    results.FLAG_ERRORS: (
        "errors",
        "the driver saw socket errors or unexpected statuses during the measurement",
        False,
    ),
    results.FLAG_NOISY: (
        "noisy",
        "other processes used the server's CPU noticeably during the measurement",
        False,
    ),
}


def flag_mark(flag: str, runs: int, total: int) -> Mark:
    """The mark for a record flag seen on ``runs`` of ``total`` measured runs."""
    label, reason, severe = _FLAG_TEXT.get(flag, (flag, f"flagged {flag!r} by the runner", False))
    return Mark(flag, label, f"{reason} ({runs} of {total} runs)", severe)


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell's figures (``None`` when the cell has no valid run) and caveats."""

    cell_id: str
    server: str
    app: str
    scenario: str
    concurrency: int
    protocol: str
    driver: str
    state: State
    reason: str | None
    """Why the cell failed or is missing; ``None`` when ``state == "ok"``."""
    marks: tuple[Mark, ...]
    planned_runs: int
    samples: tuple[float, ...]
    """Throughput (correct responses per second) of each measured run, in run order."""
    rps: Estimate | None
    p99_samples: tuple[float, ...]
    """p99 latency (ms) of each measured run, in run order (for comparisons)."""
    latency: dict[str, float]
    """Median over runs of each latency percentile (ms), keyed by ``Latency`` field."""
    errors: int | None
    error_detail: dict[str, int]
    requests: int | None
    server_cpu: float | None
    """Median over runs of the server's mean CPU use (percent of one CPU)."""
    generator_cpu: float | None
    """Highest mean generator CPU use of any run (percent of one CPU)."""
    rss_mib: float | None
    """Largest server RSS seen in any run (MiB)."""
    ratio: Estimate | None = None
    ratio_note: str | None = None
    """Why there is no ratio to raw (baseline failed or absent)."""

    @property
    def runs(self) -> int:
        """Measured runs behind the figures."""
        return len(self.samples)

    @property
    def severe(self) -> tuple[Mark, ...]:
        """The marks that qualify the figure itself (generator-bound and the like)."""
        return tuple(mark for mark in self.marks if mark.severe)

    @property
    def group_key(self) -> tuple[str, str, int]:
        """(server, scenario, concurrency): the cells whose ratio shares one raw baseline."""
        return (self.server, self.scenario, self.concurrency)


@dataclass(frozen=True, slots=True)
class Summary:
    """Every cell of a run, with the orders the report lists them in."""

    run: LoadedRun
    cells: dict[str, Cell]
    apps: tuple[str, ...]
    servers: tuple[str, ...]
    scenarios: tuple[str, ...]
    concurrency: tuple[int, ...]

    def cell(self, server: str, app: str, scenario: str, concurrency: int) -> Cell | None:
        """The cell for these coordinates, or ``None`` when the run did not plan it."""
        return self.cells.get(results.cell_id(server, app, scenario, concurrency))

    def select(self, scenario: str, concurrency: int | None = None) -> list[Cell]:
        """Cells of one scenario (one concurrency level when given), in report order."""
        return [
            cell
            for cell in self.ordered()
            if cell.scenario == scenario and concurrency in (None, cell.concurrency)
        ]

    def ordered(self) -> list[Cell]:
        """Every cell: by scenario, concurrency, server, then app (raw first)."""
        rank = {
            "scenario": _ranks(self.scenarios),
            "server": _ranks(self.servers),
            "app": _ranks(self.apps),
        }
        return sorted(
            self.cells.values(),
            key=lambda c: (
                rank["scenario"][c.scenario],
                c.concurrency,
                rank["server"][c.server],
                rank["app"][c.app],
            ),
        )

    @property
    def sweep(self) -> bool:
        """True when the run measured more than one concurrency level."""
        return len(self.concurrency) > 1

    def counts(self) -> dict[str, int]:
        """How many cells are ok, failed, missing, and qualified by a severe mark."""
        cells = self.cells.values()
        return {
            "cells": len(self.cells),
            "ok": sum(c.state == "ok" for c in cells),
            "failed": sum(c.state == "failed" for c in cells),
            "missing": sum(c.state == "missing" for c in cells),
            "qualified": sum(c.state == "ok" and bool(c.severe) for c in cells),
        }


def _ranks(order: Sequence[str]) -> dict[str, int]:
    return {name: index for index, name in enumerate(order)}


def _ordered(
    configured: Iterable[str], seen: Iterable[str], preferred: Sequence[str] = ()
) -> tuple[str, ...]:
    names = list(dict.fromkeys([*configured, *sorted(seen)]))
    first = [name for name in preferred if name in names]
    return tuple(first + [name for name in names if name not in first])


def summarise(run: LoadedRun) -> Summary:
    """Summarise every cell the run planned or recorded, with ratios to raw filled in."""
    by_cell: dict[str, list[Record]] = defaultdict(list)
    for record in run.records:
        by_cell[record.cell_id].append(record)
    planned = _planned_cells(run.info.plan)
    config = run.info.config
    cells = {cid: _cell(cid, by_cell.get(cid, []), run) for cid in [*planned, *by_cell]}
    cells = _with_ratios(cells)
    return Summary(
        run=run,
        cells=cells,
        apps=_ordered(config.apps, {c.app for c in cells.values()}, PREFERRED_ORDER),
        servers=_ordered(config.servers, {c.server for c in cells.values()}),
        scenarios=_ordered(config.scenarios, {c.scenario for c in cells.values()}),
        concurrency=tuple(sorted({*config.concurrency, *(c.concurrency for c in cells.values())})),
    )


def _planned_cells(plan: Sequence[str]) -> list[str]:
    # Planned record ids are ``<cell id>/<phase or run<k>>``; the cell id has 4 parts.
    return list(
        dict.fromkeys(record.rsplit("/", 1)[0] for record in plan if record.count("/") == 4)
    )


def _coordinates(cell_id: str) -> tuple[str, str, str, int]:
    server, app, scenario, level = cell_id.split("/")
    return server, app, scenario, int(level.removeprefix("c"))


def _cell(cell_id: str, records: list[Record], run: LoadedRun) -> Cell:
    server, app, scenario, concurrency = _coordinates(cell_id)
    runs = [
        r for r in records if r.kind == "measurement" and r.phase == "run" and r.rps is not None
    ]
    runs.sort(key=lambda r: r.run_index or 0)
    failures = [r for r in records if r.kind == "failure"]
    state, reason = _state(runs, failures, run)
    planned_runs = run.info.config.runs
    marks = _marks(runs, failures, planned_runs) if state == "ok" else ()
    valid = runs if state == "ok" else []
    first = records[0] if records else None
    return Cell(
        cell_id=cell_id,
        server=server,
        app=app,
        scenario=scenario,
        concurrency=concurrency,
        protocol=first.protocol if first else "http",
        driver=first.driver if first else run.info.config.driver,
        state=state,
        reason=reason,
        marks=marks,
        planned_runs=planned_runs,
        samples=tuple(r.rps for r in valid if r.rps is not None),
        rps=stats.median_ci([r.rps for r in valid if r.rps is not None]) if valid else None,
        p99_samples=tuple(r.latency.p99 for r in valid if r.latency is not None),
        latency=_latency(valid),
        errors=sum(r.errors.total for r in valid if r.errors) if valid else None,
        error_detail=_error_detail(valid),
        requests=sum(r.requests or 0 for r in valid) if valid else None,
        server_cpu=_median(valid, lambda r: r.resources.server_cpu_mean if r.resources else None),
        generator_cpu=_max(
            valid, lambda r: r.resources.generator_cpu_mean if r.resources else None
        ),
        rss_mib=_max(valid, lambda r: r.resources.server_rss_max_mib if r.resources else None),
    )


def _state(runs: list[Record], failures: list[Record], run: LoadedRun) -> tuple[State, str | None]:
    gate = [f for f in failures if f.phase in ("check", "postcheck")]
    if gate:
        # A failed correctness gate voids the figures: they may count wrong answers.
        return "failed", _reasons(gate)
    if not runs:
        if failures:
            return "failed", _reasons(failures)
        return "missing", f"not measured: the run is {run.info.status}"
    return "ok", None


def _reasons(failures: list[Record]) -> str:
    texts = [f"{f.phase}: {f.reason or 'no reason recorded'}" for f in failures]
    return "; ".join(dict.fromkeys(texts))


def _marks(runs: list[Record], failures: list[Record], planned: int) -> tuple[Mark, ...]:
    counts: dict[str, int] = defaultdict(int)
    for record in runs:
        for flag in dict.fromkeys(record.flags):
            counts[flag] += 1
    marks = [flag_mark(flag, count, len(runs)) for flag, count in counts.items()]
    marks.sort(key=lambda m: (not m.severe, m.label))
    if len(runs) < planned:
        lost = f"; {_reasons(failures)}" if failures else ""
        marks.append(
            Mark(
                "partial",
                f"{len(runs)} of {planned} runs",
                f"only {len(runs)} of {planned} planned runs measured{lost}",
                False,
            )
        )
    return tuple(marks)


def _latency(runs: list[Record]) -> dict[str, float]:
    measured = [r.latency for r in runs if r.latency is not None]
    if not measured:
        return {}
    fields = ("p50", "p75", "p90", "p99", "p999", "mean", "max")
    return {name: statistics.median(getattr(lat, name) for lat in measured) for name in fields}


def _error_detail(runs: list[Record]) -> dict[str, int]:
    detail: dict[str, int] = defaultdict(int)
    for record in runs:
        if record.errors is None:
            continue
        for name in ("status", "connect", "read", "write", "timeout", "mismatch"):
            detail[name] += getattr(record.errors, name)
    return {name: count for name, count in detail.items() if count}


def _values(runs: list[Record], pick: Callable[[Record], float | None]) -> list[float]:
    return [value for value in map(pick, runs) if value is not None]


def _median(runs: list[Record], pick: Callable[[Record], float | None]) -> float | None:
    values = _values(runs, pick)
    return statistics.median(values) if values else None


def _max(runs: list[Record], pick: Callable[[Record], float | None]) -> float | None:
    values = _values(runs, pick)
    return max(values) if values else None


def _with_ratios(cells: dict[str, Cell]) -> dict[str, Cell]:
    baselines = {c.group_key: c for c in cells.values() if c.app == BASELINE}
    return {cid: _with_ratio(cell, baselines.get(cell.group_key)) for cid, cell in cells.items()}


BASELINE_NOTE = "baseline (1 by definition)"


def _with_ratio(cell: Cell, baseline: Cell | None) -> Cell:
    if cell.state != "ok":
        return cell
    if cell.app == BASELINE:
        return replace(cell, ratio_note=BASELINE_NOTE)
    if baseline is None:
        return replace(cell, ratio_note=f"no {BASELINE} baseline on {cell.server} in this run")
    if baseline.state != "ok" or not baseline.samples:
        return replace(cell, ratio_note=f"{BASELINE} baseline on {cell.server} {baseline.state}")
    if min(baseline.samples) <= 0:
        return replace(cell, ratio_note=f"{BASELINE} baseline measured 0 requests/s")
    return replace(cell, ratio=stats.ratio_ci(cell.samples, baseline.samples))

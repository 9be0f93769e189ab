"""Cell summaries: what one (server, app, scenario, concurrency) cell of a run shows.

The figures the terminal table also shows — state and reason, median throughput with its CI,
ratio to raw, CPU, RSS, errors — come from :func:`bench.lab.summary.summarize` (which uses
:mod:`bench.lab.stats`), so the terminal and the HTML report can never disagree. This module adds
what only the report shows, from the same stored ``phase == "run"`` records: every latency
percentile, the error breakdown, per-run samples for comparisons, the caveat marks, and the
cells a run planned but never reached (``missing``). A cell with no valid figure carries its
reason; it is never shown as zero or left blank.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from bench.infra import results
from bench.infra.results import Record
from bench.lab import summary as base_summary
from bench.lab.stats import Estimate
from bench.lab.summary import CellSummary, MachineSpeed, machine_speed
from bench.report.load import LoadedRun

State = Literal["ok", "failed", "missing", "not_applicable"]
LAB_SOURCE = "lab"
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
    results.FLAG_CONTENDED: (
        "contended",
        "foreign load (other processes, the hypervisor) took 10% or more of the server's or the "
        "generator's CPUs: the figure is not the server's capacity, and no verdict is called",
        True,
    ),
    results.FLAG_UNSATURATED: (
        "unsaturated",
        "the server did not use its CPU while the generator had headroom: a rate at this load, "
        "not the server's capacity, and no verdict is called",
        True,
    ),
    results.FLAG_NOISY: (
        "noisy (old rule)",
        "recorded by the lab's first foreign-load rule, which left interrupt time out and missed "
        "foreign load: re-measure for the current accounting",
        False,
    ),
    results.FLAG_MACHINE_SLOW: (
        "machine slow",
        "the machine itself was more than 10% slower than this run's median right before the "
        "run (machine-speed gauge): part of a low figure is the machine, not the code",
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
    """Median over runs of the generator's mean CPU use (percent of one CPU)."""
    rss_mib: float | None
    """Largest server RSS seen in any run (MiB)."""
    ratio: Estimate | None = None
    ratio_samples: tuple[float, ...] = ()
    """Per-round ratios to the baseline (paired in the interleaving), for comparisons."""
    refusals: tuple[str, ...] = ()
    """Why some runs are no evidence of capacity: no verdict is called on the cell."""
    ratio_note: str | None = None
    """Why there is no ratio to raw (baseline failed or absent)."""
    machine: MachineSpeed | None = None
    """The machine-speed gauge before the cell's runs (``None``: not gauged)."""
    workers: int = 1
    """The server's worker processes in this cell."""

    @property
    def runs(self) -> int:
        """Measured runs behind the figures."""
        return len(self.samples)

    @property
    def severe(self) -> tuple[Mark, ...]:
        """The marks that qualify the figure itself (generator-bound and the like)."""
        return tuple(mark for mark in self.marks if mark.severe)

    @property
    def group_key(self) -> tuple[str, str, int, int]:
        """(server, scenario, concurrency, workers): the cells whose ratio shares one baseline."""
        return (self.server, self.scenario, self.concurrency, self.workers)


@dataclass(frozen=True, slots=True)
class Summary:
    """Every cell of a run, with the orders the report lists them in."""

    run: LoadedRun
    cells: dict[str, Cell]
    apps: tuple[str, ...]
    servers: tuple[str, ...]
    scenarios: tuple[str, ...]
    concurrency: tuple[int, ...]
    machine: MachineSpeed | None = None
    """The machine-speed gauge over every measured run of the run (``None``: not gauged)."""
    baseline: str = results.LEGACY_BASELINE
    """The app every ratio of the run divides by (``run.json``)."""
    workers: tuple[int, ...] = (1,)
    """The worker counts the run measured (several: the ``scaling`` profile)."""

    @property
    def primary_workers(self) -> int:
        """The worker count the per-scenario charts show (the first measured)."""
        return self.workers[0]

    @property
    def scaling(self) -> bool:
        """True when the run measured more than one worker count."""
        return len(self.workers) > 1

    def cell(
        self, server: str, app: str, scenario: str, concurrency: int, workers: int | None = None
    ) -> Cell | None:
        """The cell for these coordinates, or ``None`` when the run did not plan it."""
        count = self.primary_workers if workers is None else workers
        return self.cells.get(results.cell_id(server, app, scenario, concurrency, count))

    def select(
        self, scenario: str, concurrency: int | None = None, workers: int | None = None
    ) -> list[Cell]:
        """Cells of one scenario (one concurrency level when given) with one worker count
        (the primary one unless given), in report order."""
        count = self.primary_workers if workers is None else workers
        return [
            cell
            for cell in self.ordered()
            if cell.scenario == scenario
            and concurrency in (None, cell.concurrency)
            and cell.workers == count
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
        """How many cells are ok, failed, missing, refused (no verdict), qualified by a severe
        mark without being refused (a figure capped at the driver's ceiling), and noisy."""
        cells = self.cells.values()
        return {
            "cells": len(self.cells),
            "ok": sum(c.state == "ok" for c in cells),
            "failed": sum(c.state == "failed" for c in cells),
            "missing": sum(c.state == "missing" for c in cells),
            "not_applicable": sum(c.state == "not_applicable" for c in cells),
            "qualified": sum(c.state == "ok" and bool(c.severe) and not c.refusals for c in cells),
            "noisy": sum(any(m.flag == results.FLAG_NOISY for m in c.marks) for c in cells),
            "refused": sum(c.state == "ok" and bool(c.refusals) for c in cells),
            "machine_slow": sum(
                any(m.flag == results.FLAG_MACHINE_SLOW for m in c.marks) for c in cells
            ),
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
    """Summarise every cell the run planned or recorded (see the module docstring)."""
    # Other writers (Locust user flows) have their own section; cells are the lab's records.
    lab = [record for record in run.records if record.source == LAB_SOURCE]
    by_cell: dict[str, list[Record]] = defaultdict(list)
    for record in lab:
        by_cell[record.cell_id].append(record)
    baseline = run.info.baseline
    bases = {cell.cell_id: cell for cell in base_summary.summarize(lab, baseline)}
    cells = {cid: _cell(base, by_cell[cid], run) for cid, base in bases.items()}
    foreign = {record.cell_id for record in run.records if record.source != LAB_SOURCE}
    for cid in _planned_cells(run.info.plan):
        if cid not in foreign:
            cells.setdefault(cid, _missing(cid, run))
    cells = _with_notes(cells, baseline)
    config = run.info.config
    return Summary(
        run=run,
        cells=cells,
        apps=_ordered(config.apps, {c.app for c in cells.values()}, run.info.framework_order()),
        baseline=baseline,
        servers=_ordered(config.servers, {c.server for c in cells.values()}),
        scenarios=_ordered(config.scenarios, {c.scenario for c in cells.values()}),
        concurrency=tuple(sorted({*config.concurrency, *(c.concurrency for c in cells.values())})),
        machine=machine_speed(lab),
        workers=tuple(sorted({*config.worker_counts(), *(c.workers for c in cells.values())})),
    )


def _planned_cells(plan: Sequence[str]) -> list[str]:
    # Planned record ids are ``<cell id>/<phase or run<k>>``; the cell id has 4 parts.
    return list(
        dict.fromkeys(record.rsplit("/", 1)[0] for record in plan if record.count("/") == 4)
    )


def _missing(cell_id: str, run: LoadedRun) -> Cell:
    server, app, scenario, level = cell_id.split("/")
    concurrency, workers = results.parse_level(level)
    return Cell(
        cell_id=cell_id,
        server=server,
        app=app,
        scenario=scenario,
        concurrency=concurrency,
        workers=workers,
        protocol="",
        driver=run.info.config.driver,
        state="missing",
        reason=f"not measured: the run is {run.info.status}",
        marks=(),
        planned_runs=run.info.config.runs,
        samples=(),
        rps=None,
        p99_samples=(),
        latency={},
        errors=None,
        error_detail={},
        requests=None,
        server_cpu=None,
        generator_cpu=None,
        rss_mib=None,
    )


def _cell(base: CellSummary, records: list[Record], run: LoadedRun) -> Cell:
    ok = not base.failed and not base.not_applicable
    runs = [
        r for r in records if r.kind == "measurement" and r.phase == "run" and r.rps is not None
    ]
    valid = sorted(runs, key=lambda r: r.run_index or 0) if ok else []
    planned_runs = run.info.config.runs
    return Cell(
        cell_id=base.cell_id,
        server=base.server,
        app=base.app,
        scenario=base.scenario,
        concurrency=base.concurrency,
        protocol=records[0].protocol,
        driver=records[0].driver,
        state="ok" if ok else ("not_applicable" if base.not_applicable else "failed"),
        reason=None if ok else base.reason,
        marks=_marks(valid, planned_runs) if ok else (),
        planned_runs=planned_runs,
        samples=base.rps_runs if ok else (),
        rps=base.rps if ok else None,
        p99_samples=tuple(r.latency.p99 for r in valid if r.latency is not None),
        latency=_latency(valid),
        errors=base.errors if ok else None,
        error_detail=_error_detail(valid),
        requests=base.requests if ok else None,
        server_cpu=base.server_cpu if ok else None,
        generator_cpu=base.generator_cpu if ok else None,
        rss_mib=base.server_rss_mib if ok else None,
        # raw / raw is 1 by definition; its bootstrap interval would only show resampling.
        ratio=base.ratio if ok and not base.is_baseline else None,
        ratio_samples=base.ratio_runs if ok and not base.is_baseline else (),
        refusals=base.refusals if ok else (),
        machine=base.machine if ok else None,
        workers=base.workers,
    )


def _marks(runs: list[Record], planned: int) -> tuple[Mark, ...]:
    counts: dict[str, int] = defaultdict(int)
    for record in runs:
        for flag in dict.fromkeys(record.flags):
            counts[flag] += 1
    marks = [flag_mark(flag, count, len(runs)) for flag, count in counts.items()]
    marks.sort(key=lambda m: (not m.severe, m.label))
    if len(runs) < planned:
        marks.append(
            Mark(
                "partial",
                f"{len(runs)} of {planned} runs",
                f"only {len(runs)} of {planned} planned runs were measured",
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


BASELINE_NOTE = "baseline (1 by definition)"


def _with_notes(cells: dict[str, Cell], name: str) -> dict[str, Cell]:
    baselines = {c.group_key: c for c in cells.values() if c.app == name}
    return {
        cid: _with_note(cell, baselines.get(cell.group_key), name) for cid, cell in cells.items()
    }


def _with_note(cell: Cell, baseline: Cell | None, name: str) -> Cell:
    """Say why an ok cell has no ratio to the baseline (the ratio is bench.lab.summary's)."""
    if cell.state != "ok" or cell.ratio is not None:
        return cell
    if cell.app == name:
        return replace(cell, ratio_note=BASELINE_NOTE)
    if baseline is None:
        return replace(cell, ratio_note=f"no {name} baseline on {cell.server} in this run")
    return replace(cell, ratio_note=f"{name} baseline on {cell.server} {baseline.state}")

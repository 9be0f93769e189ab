"""Per-cell summaries computed from stored records (what tables and reports show).

A cell is (server, app, scenario, concurrency). Its figure is the median of its ``run``
measurements with a bootstrap 95% CI, its overhead the ratio to the raw baseline on the same
server, scenario and concurrency. A cell with any failure record is *failed* and shows its
reason instead of a number — never a 0.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from statistics import median

from bench.apps import BASELINE
from bench.results import Record
from bench.stats import Estimate, median_ci, ratio_ci


@dataclass(frozen=True, slots=True)
class CellSummary:
    """Everything a table row needs about one cell."""

    cell_id: str
    server: str
    app: str
    scenario: str
    concurrency: int
    status: str
    reason: str | None
    runs: int
    rps: Estimate | None
    rps_runs: tuple[float, ...]
    p50_ms: float | None
    p99_ms: float | None
    errors: int
    requests: int
    ratio: Estimate | None
    flags: tuple[str, ...]
    server_cpu: float | None
    generator_cpu: float | None
    server_rss_mib: float | None

    @property
    def failed(self) -> bool:
        """True when the cell must show its reason rather than a figure."""
        return self.status == "failed"


def _key(record: Record) -> tuple[str, str, str, int]:
    return (record.server, record.app, record.scenario, record.concurrency)


def _cell(key: tuple[str, str, str, int], records: Sequence[Record]) -> CellSummary:
    server, app, scenario, concurrency = key
    runs = [
        r for r in records if r.phase == "run" and r.kind == "measurement" and r.rps is not None
    ]
    failures = [r for r in records if r.kind == "failure"]
    reason = "; ".join(dict.fromkeys(f"{r.phase}: {r.reason}" for r in failures)) or None
    if not runs and reason is None:
        reason = "no measured run"
    failed = bool(failures) or not runs
    values = tuple(float(r.rps) for r in runs if r.rps is not None)
    flags = sorted({flag for r in runs for flag in r.flags})
    resources = [r.resources for r in runs if r.resources is not None]
    return CellSummary(
        cell_id=records[0].cell_id,
        server=server,
        app=app,
        scenario=scenario,
        concurrency=concurrency,
        status="failed" if failed else "ok",
        reason=reason,
        runs=len(runs),
        rps=median_ci(values) if values and not failed else None,
        rps_runs=values,
        p50_ms=median(r.latency.p50 for r in runs if r.latency) if runs else None,
        p99_ms=median(r.latency.p99 for r in runs if r.latency) if runs else None,
        errors=sum(r.errors.total for r in runs if r.errors),
        requests=sum(r.requests or 0 for r in runs),
        ratio=None,
        flags=tuple(flags),
        server_cpu=median(x.server_cpu_mean for x in resources) if resources else None,
        generator_cpu=median(x.generator_cpu_mean for x in resources) if resources else None,
        server_rss_mib=max(x.server_rss_max_mib for x in resources) if resources else None,
    )


def _with_ratio(cell: CellSummary, baseline: CellSummary | None) -> CellSummary:
    if cell.rps is None or baseline is None or baseline.rps is None:
        return cell
    return replace(cell, ratio=ratio_ci(cell.rps_runs, baseline.rps_runs))


def summarize(records: Iterable[Record]) -> list[CellSummary]:
    """One summary per cell, in the order the run measured them (server, scenario,
    concurrency), apps in the order of their first record (the plan's app order)."""
    grouped: dict[tuple[str, str, str, int], list[Record]] = defaultdict(list)
    for record in records:
        # Locust user-flow records (source "locust", bench.flows) are not throughput cells.
        if record.phase != "calibration" and record.source == "lab":
            grouped[_key(record)].append(record)
    cells = {key: _cell(key, group) for key, group in grouped.items()}
    block_rank: dict[tuple[str, str, int], int] = {}
    app_rank: dict[str, int] = {}
    for server, app, scenario, concurrency in grouped:
        block_rank.setdefault((server, scenario, concurrency), len(block_rank))
        app_rank.setdefault(app, len(app_rank))
    out = [
        _with_ratio(cell, cells.get((key[0], BASELINE, key[2], key[3])))
        for key, cell in cells.items()
    ]
    return sorted(
        out, key=lambda c: (block_rank[(c.server, c.scenario, c.concurrency)], app_rank[c.app])
    )

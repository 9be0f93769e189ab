"""Per-cell summaries computed from stored records (what tables and reports show).

A cell is (server, app, scenario, concurrency). Its figure is the median of its ``run``
measurements with a bootstrap 95% CI, its overhead the ratio to the raw baseline on the same
server, scenario and concurrency. A cell with any failure record is *failed* and shows its
reason instead of a number — never a 0.

Each cell also carries the machine-speed gauge of its runs (:class:`MachineSpeed`: median and
spread of the records' ``machine_speed``): a cell whose runs met a machine of very different
speeds has a wide figure for a reason that is not the code. Throughput is never corrected by it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from statistics import median

from bench.infra import gauge
from bench.infra.results import LEGACY_BASELINE, Record
from bench.lab import evidence
from bench.lab.stats import (
    Estimate,
    median_ci,
    paired_ratio_ci,
    paired_ratios,
    relative_difference,
    spread,
)

REPEATABILITY = 0.05
"""The lab's repeatability target: two runs of the same matrix agree within 5% per cell."""


@dataclass(frozen=True, slots=True)
class MachineSpeed:
    """The machine-speed gauge over some ``run`` records (units of gauge work per second)."""

    version: int
    median: float
    spread: float
    """``max / min - 1`` of the readings: 0.25 means the fastest was 25% above the slowest."""
    readings: int


def machine_speed(records: Iterable[Record]) -> MachineSpeed | None:
    """Median and spread of the ``machine_speed`` of the ``run`` records; ``None`` when none
    was gauged. Only readings of the most common gauge version count (a run resumed by code
    with another gauge version mixes two kinds of unit)."""
    readings = [
        (r.machine_speed_version, r.machine_speed)
        for r in records
        if r.phase == "run" and r.machine_speed is not None and r.machine_speed_version is not None
    ]
    if not readings:
        return None
    version = Counter(v for v, _ in readings).most_common(1)[0][0]
    speeds = [speed for v, speed in readings if v == version]
    return MachineSpeed(version, median(speeds), spread(speeds), len(speeds))


@dataclass(frozen=True, slots=True)
class MachineChange:
    """The machine's own speed in two runs (``this`` against ``other``)."""

    this: MachineSpeed | None
    other: MachineSpeed | None
    ratio: float | None
    """``this.median / other.median``; ``None`` when :attr:`problem` says why not."""
    difference: float | None
    """``|this - other| / mean``: the symmetric difference the repeatability test also uses."""
    problem: str | None

    def moved(self, threshold: float = REPEATABILITY) -> bool:
        """True when the machine's speed changed by more than ``threshold`` between the runs."""
        return self.difference is not None and self.difference > threshold

    def line(self, this_name: str, other_name: str) -> str:
        """One line with both medians and the ratio (or why there is none)."""
        if self.this is None or self.other is None or self.ratio is None:
            return f"machine speed: {self.problem}"
        return (
            f"machine speed (gauge v{self.this.version}, median units/s before each run): "
            f"{this_name} {self.this.median:,.0f} ({self.this.readings} readings), "
            f"{other_name} {self.other.median:,.0f} ({self.other.readings}): "
            f"ratio {this_name}/{other_name} {self.ratio:.3f}"
        )

    def verdict(self, threshold: float = REPEATABILITY) -> str | None:
        """The plain sentence when the machine moved more than ``threshold`` (else None)."""
        if not self.moved(threshold) or self.difference is None:
            return None
        return (
            f"machine speed differed by {self.difference:.1%} between these runs: differences "
            "below that are not attributable to the code"
        )


def machine_change(this: MachineSpeed | None, other: MachineSpeed | None) -> MachineChange:
    """Compare the machine's speed in two runs (never across gauge versions)."""
    if this is None or other is None:
        missing = "either run" if this is None and other is None else "one of the runs"
        problem = f"not gauged in {missing} (recorded before the gauge existed, or --gauge-s 0)"
        return MachineChange(this, other, None, None, problem)
    try:
        ratio = machine_ratio(this, other)
    except gauge.GaugeVersionError as exc:
        return MachineChange(this, other, None, None, f"not comparable: {exc}")
    return MachineChange(this, other, ratio, relative_difference(this.median, other.median), None)


def machine_ratio(this: MachineSpeed | None, other: MachineSpeed | None) -> float | None:
    """How fast the machine was in ``this`` relative to ``other`` (``0.8``: 20% slower);
    ``None`` when either has no reading. Raises :class:`bench.infra.gauge.GaugeVersionError`
    when the gauge versions differ: their units are different work."""
    if this is None or other is None:
        return None
    gauge.check_comparable(this.version, other.version)
    return this.median / other.median


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
    machine: MachineSpeed | None = None
    """The machine-speed gauge before this cell's runs (``None``: not gauged)."""
    is_baseline: bool = False
    """True for the run's baseline app (its ratio is 1 by definition)."""
    rounds: tuple[int, ...] = ()
    """The run index (interleaving round) of each value of ``rps_runs``."""
    workers: int = 1
    """The server's worker processes in this cell."""
    ratio_runs: tuple[float, ...] = ()
    """Per-round ratios to the baseline (:func:`bench.lab.stats.paired_ratios`)."""
    refusals: tuple[str, ...] = ()
    """Why some of the cell's runs are no evidence of capacity (:mod:`bench.lab.evidence`),
    each reason once with how many runs it concerns; no verdict is called on such a cell."""

    @property
    def by_round(self) -> dict[int, float]:
        """Throughput by interleaving round."""
        return dict(zip(self.rounds, self.rps_runs, strict=True))

    @property
    def failed(self) -> bool:
        """True when the cell must show its reason rather than a figure."""
        return self.status == "failed"

    @property
    def not_applicable(self) -> bool:
        """True when the framework cannot do what the scenario needs (``reason`` says why)."""
        return self.status == "not_applicable"


Key = tuple[str, str, str, int, int]
"""(server, app, scenario, concurrency, workers): one cell."""


def _key(record: Record) -> Key:
    return (record.server, record.app, record.scenario, record.concurrency, record.workers)


def _refusals(runs: Sequence[Record], workers: int) -> tuple[str, ...]:
    """Each reason some runs are no evidence of capacity, once (:mod:`bench.lab.evidence`)."""
    return evidence.summarise_problems(runs, workers)


def _cell(key: Key, records: Sequence[Record]) -> CellSummary:
    server, app, scenario, concurrency, workers = key
    runs = sorted(
        (r for r in records if r.phase == "run" and r.kind == "measurement" and r.rps is not None),
        key=lambda r: r.run_index or 0,
    )
    failures = [r for r in records if r.kind == "failure"]
    reason = "; ".join(dict.fromkeys(f"{r.phase}: {r.reason}" for r in failures)) or None
    inapplicable = next((r for r in records if r.kind == "not_applicable"), None)
    if inapplicable is not None and not failures:
        return _not_applicable(key, records[0].cell_id, inapplicable.reason)
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
        machine=machine_speed(runs),
        rounds=tuple(r.run_index or 0 for r in runs),
        refusals=_refusals(runs, workers),
        workers=workers,
    )


def _not_applicable(key: Key, cell: str, reason: str | None) -> CellSummary:
    server, app, scenario, concurrency, workers = key
    return CellSummary(
        cell_id=cell, server=server, app=app, scenario=scenario, concurrency=concurrency,
        status="not_applicable", reason=reason or "not applicable", runs=0, rps=None,
        rps_runs=(), p50_ms=None, p99_ms=None, errors=0, requests=0, ratio=None, flags=(),
        server_cpu=None, generator_cpu=None, server_rss_mib=None, workers=workers,
    )  # fmt: skip


def _with_ratio(cell: CellSummary, baseline: CellSummary | None, name: str) -> CellSummary:
    """The cell with its ratio to the baseline on the same server, paired round by round."""
    cell = replace(cell, is_baseline=cell.app == name)
    if cell.rps is None or baseline is None or baseline.rps is None:
        return cell
    ratios = paired_ratios(cell.by_round, baseline.by_round)
    estimate = paired_ratio_ci(cell.by_round, baseline.by_round)
    return replace(cell, ratio=estimate, ratio_runs=ratios)


def summarize(records: Iterable[Record], baseline: str = LEGACY_BASELINE) -> list[CellSummary]:
    """One summary per cell (ratios to the ``baseline`` app on the same server with the same
    workers, paired round by round), in the order the run measured them (server, workers,
    scenario, concurrency), apps in the order of their first record (the plan's app order)."""
    grouped: dict[Key, list[Record]] = defaultdict(list)
    for record in records:
        # Locust user-flow records (source "locust", bench.flows) are not throughput cells.
        if record.phase != "calibration" and record.source == "lab":
            grouped[_key(record)].append(record)
    cells = {key: _cell(key, group) for key, group in grouped.items()}
    block_rank: dict[tuple[str, str, int, int], int] = {}
    app_rank: dict[str, int] = {}
    for server, app, scenario, concurrency, workers in grouped:
        block_rank.setdefault((server, scenario, concurrency, workers), len(block_rank))
        app_rank.setdefault(app, len(app_rank))
    out = [
        _with_ratio(cell, cells.get((key[0], baseline, key[2], key[3], key[4])), baseline)
        for key, cell in cells.items()
    ]
    return sorted(
        out,
        key=lambda c: (
            block_rank[(c.server, c.scenario, c.concurrency, c.workers)],
            app_rank[c.app],
        ),
    )

"""Compare two stored runs cell by cell: what changed, and whether the change is real.

For every cell in both runs, throughput and p99 latency are compared on the per-run samples
(``phase == "run"`` records, via :mod:`bench.report.summary`). A change is called a
**regression** or a **gain** only when it is statistically significant *and* at least
``threshold`` in size; everything else is "not significant" or "unchanged".

The test, and what it can and cannot tell with few runs:

- Welch's t-test on the logarithm of the per-run figures (so the effect is a ratio and
  noise proportional to the figure is treated evenly), two-sided, ``alpha`` = 0.05. It can
  reach significance with 3 runs per side, but it assumes roughly normal run-to-run noise,
  which 3 runs cannot check.
- The exact Mann-Whitney U test is reported beside it because it assumes nothing about the
  noise — but with 3 vs 3 runs its smallest possible two-sided p-value is 2/20 = 0.10, so it
  can never confirm a change at 5% on its own; 4 vs 4 runs (p ≥ 0.029) is the least that can.
- "smallest resolvable change" says how large a change the t-test could have called
  significant given the observed spread: "not significant" means "smaller than that, or
  noise", never "identical".

With the default 3 runs, treat a single verdict as a lead to re-measure rather than proof.
Runs from different machines are compared only with a loud warning: their differences
measure the machines as much as the code.

The same machine is not the same speed either (a VM's vCPU speed wanders): the machine-speed
gauge (:mod:`bench.infra.gauge`) recorded before every run gives the machine's own speed ratio B/A,
for the whole runs and per cell, shown beside the throughput change and never divided out.
When the machine moved by more than the 5% repeatability target, a plain sentence says that
changes below it are not attributable to the code. Gauge readings of different versions are
never compared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from bench.infra import gauge
from bench.infra.results import Environment, Machine
from bench.lab.calibration import Calibration, describe
from bench.lab.stats import (
    ALPHA,
    THRESHOLD,
    Significance,
    judge,
    rank_floor,
    significance,
)
from bench.lab.summary import MachineChange, machine_change, machine_ratio
from bench.report.summary import Cell, Summary

Verdict = Literal[
    "regression",
    "gain",
    "not significant",
    "unchanged",
    "broken",
    "fixed",
    "only in A",
    "only in B",
    "not measured",
    "not applicable",
    "no verdict",
]
ACTIONABLE: frozenset[str] = frozenset({"regression", "broken"})

MACHINE_FIELDS = (
    ("cpu_model", "CPU"),
    ("logical_cpus", "logical CPUs"),
    ("physical_cores", "physical cores"),
    ("memory_total_mib", "memory (MiB)"),
    ("architecture", "architecture"),
    ("kernel", "kernel"),
)
PROTOCOL_FIELDS = (
    ("duration_s", "duration"),
    ("warmup_s", "warm-up"),
    ("runs", "runs"),
    ("server_cpus", "server CPUs"),
    ("generator_cpus", "generator CPUs"),
    ("driver", "driver"),
    ("database", "database"),
    ("gauge_s", "gauge per run (s)"),
)


@dataclass(frozen=True, slots=True)
class MetricChange:
    """One metric of one cell in both runs."""

    metric: str
    higher_is_better: bool
    a: float
    b: float
    significance: Significance
    verdict: Verdict

    @property
    def change(self) -> float:
        """Relative change from A to B (``+0.05`` = B is 5% higher)."""
        return self.b / self.a - 1 if self.a else math.inf


@dataclass(frozen=True, slots=True)
class CellChange:
    """One cell of the comparison."""

    cell_id: str
    a: Cell | None
    b: Cell | None
    verdict: Verdict
    throughput: MetricChange | None = None
    p99: MetricChange | None = None
    ratio: MetricChange | None = None
    """The paired ratio to the baseline (per-round ratios of each run, tested like req/s):
    what decides a framework cell's verdict, as the machine's slow drifts cancel in it."""
    note: str | None = None
    machine_ratio: float | None = None
    """The machine's own speed before B's runs of this cell over A's (gauge; None: not
    gauged in both, or gauge versions differ)."""


@dataclass(frozen=True, slots=True)
class Comparison:
    """Two runs compared: per-cell changes and what makes the comparison less trustworthy."""

    a: Summary
    b: Summary
    cells: tuple[CellChange, ...]
    machine_differences: tuple[str, ...]
    protocol_differences: tuple[str, ...]
    package_differences: tuple[str, ...]
    alpha: float
    threshold: float
    machine: MachineChange | None = None
    """The machine's own speed in B (``this``) against A (``other``), over all measured runs."""
    calibration: Calibration | None = None
    """The newest calibration of this machine with B's protocol (``bench calibrate``)."""

    def resolving(self, cell: CellChange) -> str | None:
        """What the calibration says this cell's comparison can resolve (None: no calibration
        of its server and scenario)."""
        if self.calibration is None or cell.b is None:
            return None
        found = self.calibration.cell(cell.b.server, cell.b.scenario)
        return describe(found) if found is not None else None

    def calibration_line(self) -> str:
        """Where the resolving power quoted beside the verdicts comes from (or that none does)."""
        if self.calibration is None:
            return (
                "resolving power: not calibrated on this machine with this protocol (run "
                "`python -m bench calibrate --profile <profile>` on a quiet machine)"
            )
        c = self.calibration
        return (
            f"resolving power (this machine, {c.profile} protocol, calibrated {c.created_at}, "
            f"run {c.run_id}): each cell's line says which slowdown it detects reliably"
        )

    @property
    def same_machine(self) -> bool:
        """False when the runs were measured on different hardware or kernels."""
        return not self.machine_differences

    @property
    def warnings(self) -> tuple[str, ...]:
        """Loud warnings for the CLI and the report (machine first)."""
        found: list[str] = []
        if self.machine_differences:
            found.append(
                "DIFFERENT MACHINES: these runs were measured on different hosts ("
                + "; ".join(self.machine_differences)
                + "). Their differences measure the machines as much as the code."
            )
        if self.protocol_differences:
            found.append("Different run protocol: " + "; ".join(self.protocol_differences) + ".")
        return tuple(found)

    def counts(self) -> dict[str, int]:
        """How many cells got each verdict."""
        found: dict[str, int] = {}
        for cell in self.cells:
            found[cell.verdict] = found.get(cell.verdict, 0) + 1
        return found

    @property
    def actionable(self) -> tuple[CellChange, ...]:
        """Cells that got worse significantly, or broke."""
        return tuple(cell for cell in self.cells if cell.verdict in ACTIONABLE)

    def power_note(self) -> str:
        """What the test can tell with this many runs, in words."""
        measured = [c for c in self.cells if c.throughput is not None]
        runs = [n for c in measured for n in (c.a.runs if c.a else 0, c.b.runs if c.b else 0)]
        fewest = min(runs, default=0)
        floor = rank_floor(fewest, fewest) if fewest else 1.0
        return (
            "Significance: Welch's t-test on log per-run figures, two-sided, "
            f"alpha = {self.alpha}; a change is called a regression or gain only when "
            "significant and at least "
            f"{self.threshold:.0%}. With {fewest} runs per side the distribution-free rank "
            f"test (Mann-Whitney U) cannot go below p = {floor:.2f}"
            + (
                ", so it cannot confirm any change on its own; the t-test assumes roughly "
                "normal run-to-run noise, which so few runs cannot check. Treat single "
                "verdicts as leads to re-measure with more runs."
                if floor > self.alpha
                else "."
            )
        )


def _metric(
    name: str,
    a: list[float],
    b: list[float],
    higher_is_better: bool,
    alpha: float,
    threshold: float,
) -> MetricChange | None:
    if not a or not b:
        return None
    median_a, median_b = float(np.median(a)), float(np.median(b))
    result = significance(a, b, alpha)
    verdict = judge(median_a, median_b, result, higher_is_better, alpha, threshold)
    return MetricChange(name, higher_is_better, median_a, median_b, result, verdict)


def _unjudged(metric: MetricChange | None) -> MetricChange | None:
    return None if metric is None else replace(metric, verdict="no verdict")


def refusal_note(a: Cell, b: Cell) -> str | None:
    """Why neither side's figures may carry a verdict (None: both are evidence)."""
    sides = [f"{name}: {'; '.join(cell.refusals)}" for name, cell in (("A", a), ("B", b))
             if cell.refusals]  # fmt: skip
    return " | ".join(sides) or None


def compare_cell(
    cell_id: str, a: Cell | None, b: Cell | None, alpha: float, threshold: float
) -> CellChange:
    """The verdict for one cell: none when either side's runs are no evidence of capacity
    (contended, unsaturated, generator-bound: :mod:`bench.lab.evidence`); otherwise the paired
    ratio to the baseline decides for a framework, throughput for the baseline itself; p99
    latency is reported beside them."""
    if a is None or b is None:
        return CellChange(cell_id, a, b, "only in A" if b is None else "only in B")
    if "not_applicable" in (a.state, b.state):
        reason = a.reason if a.state == "not_applicable" else b.reason
        return CellChange(cell_id, a, b, "not applicable", note=reason)
    if a.state == "ok" and b.state != "ok":
        return CellChange(cell_id, a, b, "broken", note=f"B {b.state}: {b.reason}")
    if a.state != "ok" and b.state == "ok":
        return CellChange(cell_id, a, b, "fixed", note=f"A {a.state}: {a.reason}")
    if a.state != "ok":
        return CellChange(cell_id, a, b, "not measured", note=f"{b.state} in both runs")
    throughput = _metric("throughput", list(a.samples), list(b.samples), True, alpha, threshold)
    p99 = _metric("p99 latency", list(a.p99_samples), list(b.p99_samples), False, alpha, threshold)
    ratio = _metric(
        "ratio to baseline", list(a.ratio_samples), list(b.ratio_samples), True, alpha, threshold
    )
    assert throughput is not None  # ok cells always have samples
    try:
        machine = machine_ratio(b.machine, a.machine)
    except gauge.GaugeVersionError:
        machine = None  # the run-level line says why
    refusal = refusal_note(a, b)
    if refusal is not None:  # the figures are shown; none of them is judged
        throughput, p99, ratio = (_unjudged(m) for m in (throughput, p99, ratio))
        assert throughput is not None
        return CellChange(
            cell_id, a, b, "no verdict", throughput, p99, ratio, f"no verdict: {refusal}", machine
        )
    qualified = sorted({m.label for m in (*a.severe, *b.severe)})
    note = f"qualified: {', '.join(qualified)}" if qualified else None
    verdict = ratio.verdict if ratio is not None else throughput.verdict
    return CellChange(cell_id, a, b, verdict, throughput, p99, ratio, note, machine)


def machine_differences(a: Machine, b: Machine) -> tuple[str, ...]:
    """Human-readable differences between two machines (empty when the same host type)."""
    return tuple(
        f"{label}: {getattr(a, name)} vs {getattr(b, name)}"
        for name, label in MACHINE_FIELDS
        if getattr(a, name) != getattr(b, name)
    )


def package_differences(a: Environment, b: Environment) -> tuple[str, ...]:
    """Python and package versions that differ between the runs."""
    found = []
    if a.software.python != b.software.python:
        found.append(f"Python {a.software.python} → {b.software.python}")
    packages = sorted({*a.software.packages, *b.software.packages})
    for name in packages:
        old = a.software.packages.get(name, "missing")
        new = b.software.packages.get(name, "missing")
        if old != new:
            found.append(f"{name} {old} → {new}")
    return tuple(found)


def compare(
    a: Summary,
    b: Summary,
    alpha: float = ALPHA,
    threshold: float = THRESHOLD,
    calibration: Calibration | None = None,
) -> Comparison:
    """Compare run A (the reference, usually older) with run B; ``calibration`` (the lab's
    measured resolving power on this machine with this protocol) is quoted beside each cell."""
    ids = list(
        dict.fromkeys([*(c.cell_id for c in b.ordered()), *(c.cell_id for c in a.ordered())])
    )
    cells = tuple(
        compare_cell(cid, a.cells.get(cid), b.cells.get(cid), alpha, threshold) for cid in ids
    )
    config_a, config_b = a.run.info.config, b.run.info.config
    protocol = tuple(
        f"{label} {getattr(config_a, name)} vs {getattr(config_b, name)}"
        for name, label in PROTOCOL_FIELDS
        if getattr(config_a, name) != getattr(config_b, name)
    )
    return Comparison(
        a=a,
        b=b,
        cells=cells,
        machine_differences=machine_differences(a.run.info.env.machine, b.run.info.env.machine),
        protocol_differences=protocol,
        package_differences=package_differences(a.run.info.env, b.run.info.env),
        alpha=alpha,
        threshold=threshold,
        machine=machine_change(b.machine, a.machine),
        calibration=calibration,
    )

"""The lab's resolving power, measured: what an A/A/B experiment says a profile can detect.

``python -m bench calibrate`` (:mod:`bench.lab.calibrate`) runs, through the lab's own protocol
and interleaved, the raw baseline twice (``raw`` = A, ``raw-again`` = A', two server processes)
and the raw baseline with a known extra cost per request (``raw-slow5`` = +5% of raw's
instructions, ``raw-slow10`` = +10%...), for ``repeats`` x the profile's runs per cell. The runs
of each app are split into ``repeats`` consecutive groups of the profile's size, each group
standing for one run of the profile; comparing groups the way ``bench compare`` compares runs:

- **req/s**, false positives: A in group i against A' in group j (i != j) — unchanged code in
  two "runs" — called a gain or a regression; detection: A in group i against B in group j
  called a regression.
- **paired ratio**, false positives: A'/A per round in group i against the same in group j
  (i < j); detection: A'/A in group i against B/A in group j called a regression.

Both use :func:`bench.lab.stats.significance` and :func:`~bench.lab.stats.judge` (Welch
on log figures, alpha, the 3% threshold). A slowdown is *detected reliably* at a detection rate
of :data:`RELIABLE` or more; a cell *resolves* the smallest slowdown from which every larger
one tested is detected reliably. The result is one :class:`Calibration` record in
``reports/calibration/<run id>.json``; ``compare`` and the report quote the newest one taken on
the same machine with the same protocol.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path

import msgspec

from bench.infra.results import Config, Environment, Machine, Record, write_atomic
from bench.lab.stats import ALPHA, THRESHOLD, judge, significance

SCHEMA = "calibration/1"
RELIABLE = 0.8
"""Detection rate at which a slowdown counts as detected reliably."""
BASELINE = "raw"
AGAIN = "raw-again"
SLOW_PREFIX = "raw-slow"
DIRECTORY = "calibration"
PROFILE_PREFIX = "calibration-"
"""A calibration run's profile: ``calibration-<profile>`` (never a comparison candidate)."""


def slow_app(percent: int) -> str:
    """The app name of the baseline slowed by ``percent``% of its instructions."""
    return f"{SLOW_PREFIX}{percent}"


class Rate(msgspec.Struct, kw_only=True, frozen=True):
    """How often a comparison came out a verdict, over its trials."""

    hits: int
    trials: int

    @property
    def rate(self) -> float:
        """``hits / trials`` (0 without trials)."""
        return self.hits / self.trials if self.trials else 0.0


class Load(msgspec.Struct, kw_only=True, frozen=True):
    """The extra cost of one slowed variant on one cell, as measured under callgrind."""

    percent: int
    iterations: int
    extra_ir: float
    """Instructions per request the loop and its wrapper add."""
    raw_ir: float
    """The raw app's own instructions per request on this cell."""

    @property
    def share(self) -> float:
        """The extra cost as a share of raw's (``0.05``: 5%)."""
        return self.extra_ir / self.raw_ir if self.raw_ir else 0.0


class CellCalibration(msgspec.Struct, kw_only=True, frozen=True):
    """One cell's resolving power."""

    server: str
    scenario: str
    concurrency: int
    groups: int
    rps_false_positives: Rate
    ratio_false_positives: Rate
    rps_detected: dict[str, Rate]
    """By slowdown percent (``"5"``, ``"10"``)."""
    ratio_detected: dict[str, Rate]
    loads: list[Load] = []
    rps_resolves: int | None = None
    """The smallest slowdown (percent) req/s detects reliably; None: none of those tested."""
    ratio_resolves: int | None = None

    @property
    def cell(self) -> str:
        """``<server>/<scenario>``."""
        return f"{self.server}/{self.scenario}"


class Calibration(msgspec.Struct, kw_only=True, frozen=True):
    """``reports/calibration/<run id>.json``: one calibration of one profile on one machine."""

    schema: str = SCHEMA
    run_id: str
    created_at: str
    profile: str
    """The profile calibrated (``quick``): its protocol is what the figures hold for."""
    duration_s: float
    warmup_s: float
    runs: int
    """Runs per group = the profile's runs per cell."""
    repeats: int
    concurrency: int
    server_cpus: list[int]
    generator_cpus: list[int]
    alpha: float
    threshold: float
    reliable: float
    slowdowns: list[int]
    per_iteration_ir: float
    wrapper_ir: float
    cells: list[CellCalibration]
    env: Environment

    def cell(self, server: str, scenario: str) -> CellCalibration | None:
        """The calibration of one (server, scenario), if measured."""
        return next((c for c in self.cells if c.server == server and c.scenario == scenario), None)


def groups_of(records: Iterable[Record], app: str, runs: int) -> list[dict[int, float]]:
    """The app's measured rps by round, split into consecutive groups of ``runs`` rounds."""
    found: dict[int, dict[int, float]] = {}
    for record in records:
        if record.app == app and record.phase == "run" and record.rps and record.run_index:
            group = (record.run_index - 1) // runs
            found.setdefault(group, {})[record.run_index] = record.rps
    return [found[key] for key in sorted(found)]


def _verdict(a: Sequence[float], b: Sequence[float], alpha: float, threshold: float) -> str:
    if len(a) < 2 or len(b) < 2:
        return "not significant"
    return judge(
        statistics.median(a), statistics.median(b), significance(a, b, alpha), True, alpha,
        threshold,
    )  # fmt: skip


def _ratios(top: dict[int, float], bottom: dict[int, float]) -> list[float]:
    return [top[k] / bottom[k] for k in sorted(top.keys() & bottom.keys()) if bottom[k] > 0]


def _false_positives(
    pairs: Iterable[tuple[Sequence[float], Sequence[float]]], alpha: float, threshold: float
) -> Rate:
    verdicts = [_verdict(a, b, alpha, threshold) for a, b in pairs]
    return Rate(hits=sum(v in ("gain", "regression") for v in verdicts), trials=len(verdicts))


def _detections(
    pairs: Iterable[tuple[Sequence[float], Sequence[float]]], alpha: float, threshold: float
) -> Rate:
    verdicts = [_verdict(a, b, alpha, threshold) for a, b in pairs]
    return Rate(hits=sum(v == "regression" for v in verdicts), trials=len(verdicts))


def resolves(detected: dict[str, Rate], reliable: float = RELIABLE) -> int | None:
    """The smallest slowdown from which every larger one tested is detected reliably."""
    found = None
    for percent in sorted(map(int, detected), reverse=True):
        if detected[str(percent)].rate < reliable:
            break
        found = percent
    return found


def analyse_cell(
    records: Sequence[Record],
    server: str,
    scenario: str,
    concurrency: int,
    runs: int,
    slowdowns: Sequence[int],
    loads: Sequence[Load] = (),
    alpha: float = ALPHA,
    threshold: float = THRESHOLD,
) -> CellCalibration:
    """The resolving power of one cell from the calibration run's records."""
    mine = [
        r
        for r in records
        if r.server == server and r.scenario == scenario and r.concurrency == concurrency
    ]
    a, again = groups_of(mine, BASELINE, runs), groups_of(mine, AGAIN, runs)
    count = min(len(a), len(again))
    ordered = [(i, j) for i, j in itertools.permutations(range(count), 2)]
    unordered = [(i, j) for i, j in itertools.combinations(range(count), 2)]
    values = [list(group.values()) for group in a]
    again_values = [list(group.values()) for group in again]
    again_ratios = [_ratios(again[g], a[g]) for g in range(count)]
    rps_detected, ratio_detected = {}, {}
    for percent in slowdowns:
        slow = groups_of(mine, slow_app(percent), runs)[:count]
        slow_values = [list(group.values()) for group in slow]
        slow_ratios = [_ratios(slow[g], a[g]) for g in range(len(slow))]
        pairs = [(i, j) for i, j in ordered if j < len(slow)]
        rps_detected[str(percent)] = _detections(
            ((values[i], slow_values[j]) for i, j in pairs), alpha, threshold
        )
        ratio_detected[str(percent)] = _detections(
            ((again_ratios[i], slow_ratios[j]) for i, j in pairs), alpha, threshold
        )
    return CellCalibration(
        server=server,
        scenario=scenario,
        concurrency=concurrency,
        groups=count,
        rps_false_positives=_false_positives(
            ((values[i], again_values[j]) for i, j in ordered), alpha, threshold
        ),
        ratio_false_positives=_false_positives(
            ((again_ratios[i], again_ratios[j]) for i, j in unordered), alpha, threshold
        ),
        rps_detected=rps_detected,
        ratio_detected=ratio_detected,
        loads=list(loads),
        rps_resolves=resolves(rps_detected),
        ratio_resolves=resolves(ratio_detected),
    )


def store(reports: Path, calibration: Calibration) -> Path:
    """Write ``reports/calibration/<run id>.json`` (atomically)."""
    directory = reports / DIRECTORY
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{calibration.run_id}.json"
    write_atomic(path, msgspec.json.format(msgspec.json.encode(calibration)) + b"\n")
    return path


def load_all(reports: Path) -> list[Calibration]:
    """Every readable calibration under ``reports/calibration``, oldest first."""
    found = []
    for path in sorted((reports / DIRECTORY).glob("*.json")):
        try:
            found.append(msgspec.json.decode(path.read_bytes(), type=Calibration))
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            continue
    return found


def same_machine(a: Machine, b: Machine) -> bool:
    """The same host type (CPU model, CPUs, kernel)."""
    return (a.cpu_model, a.logical_cpus, a.kernel) == (b.cpu_model, b.logical_cpus, b.kernel)


def matching(reports: Path, config: Config, machine: Machine) -> Calibration | None:
    """The newest calibration taken on this machine with this run's protocol (durations, runs,
    warm-up, first concurrency level, CPU sets): what a verdict on the run may quote."""
    for calibration in reversed(load_all(reports)):
        if (
            same_machine(calibration.env.machine, machine)
            and calibration.duration_s == config.duration_s
            and calibration.warmup_s == config.warmup_s
            and calibration.runs == config.runs
            and calibration.concurrency in config.concurrency
            and calibration.server_cpus == config.server_cpus
            and calibration.generator_cpus == config.generator_cpus
        ):
            return calibration
    return None


def describe(cell: CellCalibration) -> str:
    """One line: what the cell resolves, and its A/A false positives."""

    def power(value: int | None, tested: dict[str, Rate]) -> str:
        if value is not None:
            return f">= {value}%"
        return f"> {max(map(int, tested), default=0)}%"

    return (
        f"resolves req/s {power(cell.rps_resolves, cell.rps_detected)}, paired ratio "
        f"{power(cell.ratio_resolves, cell.ratio_detected)}; A/A false positives "
        f"{cell.rps_false_positives.hits}/{cell.rps_false_positives.trials} (req/s), "
        f"{cell.ratio_false_positives.hits}/{cell.ratio_false_positives.trials} (ratio)"
    )

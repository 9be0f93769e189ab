"""A CI gate that noise cannot fool: Velocix's instructions per request against a committed
baseline, as a ratio to the raw baseline app measured in the same run.

``bench/cost/baseline.json`` holds, for each cell the CI cost run measures (``smoke`` profile:
raw and Velocix on uvicorn, four scenarios), raw's and Velocix's Ir/request, their ratio, and
Velocix's heaviest functions (self Ir per request, read from the callgrind dumps), with the
Python, package and valgrind versions it was taken with. ``python -m bench cost --gate``
measures, then fails (exit 1) when Velocix's ratio to raw grew by more than
:data:`THRESHOLD` in any cell — a ratio, so a server or interpreter upgrade that moves both
apps alike does not trip it — and prints the cells and the functions whose Ir per request grew
most. With other versions than the baseline's it says which and skips (exit 0): instruction
counts of other builds are other numbers. ``python -m bench cost --profile smoke
--update-baseline`` refreshes the file from a complete run (commit it with the change that
moved it, saying why).

Instruction counts of the same code, inputs and environment repeat to well under 1% (two quick
cost runs: 31 of 32 cells within 1%), so a 3% threshold is a change in the work done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec

from bench.cost.records import CostRecord
from bench.infra.results import RunInfo, utc_now, write_atomic

BASELINE_FILE = Path(__file__).with_name("baseline.json")
GATED_APP = "velocix"
THRESHOLD = 0.03
"""Largest growth of the gated app's Ir/request ratio to the baseline app that passes."""
TOP_FUNCTIONS = 40
"""Functions kept per cell in the baseline (the heaviest by self Ir per request)."""
SHOWN_FUNCTIONS = 8
"""Functions printed per failing cell (those that grew most)."""
VERSIONED = ("uvicorn", "httptools", "uvloop", "granian", "h11", "msgspec", "orjson")
"""Distributions whose version must match the baseline's (with Python and valgrind)."""
BASELINE_VERSION = 1


class CellBaseline(msgspec.Struct, kw_only=True, frozen=True):
    """One gated cell as the baseline measured it."""

    ir_per_request: float
    baseline_ir_per_request: float
    ratio: float
    functions: dict[str, float] = {}
    """The gated app's heaviest functions: self Ir per request, by function name."""


class Baseline(msgspec.Struct, kw_only=True, frozen=True):
    """``bench/cost/baseline.json``."""

    version: int = BASELINE_VERSION
    created_at: str
    run_id: str
    commit: str
    python: str
    valgrind: str
    packages: dict[str, str]
    gated_app: str
    baseline_app: str
    requests: int
    warmup: int
    seed: int
    cells: dict[str, CellBaseline]
    """By ``<server>/<scenario>``."""


@dataclass(frozen=True, slots=True)
class CellVerdict:
    """One gated cell: the baseline's ratio, this run's, and what grew."""

    cell: str
    baseline_ratio: float
    ratio: float | None
    grown: tuple[tuple[str, float, float], ...] = ()
    """(function, baseline Ir/request, Ir/request now) of the functions that grew most."""

    @property
    def change(self) -> float | None:
        """Relative growth of the ratio (``+0.05``: 5% more instructions than before)."""
        return None if self.ratio is None else self.ratio / self.baseline_ratio - 1

    @property
    def failed(self) -> bool:
        """True when the ratio grew past :data:`THRESHOLD`."""
        change = self.change
        return change is not None and change > THRESHOLD


@dataclass(frozen=True, slots=True)
class GateResult:
    """The gate's outcome: ``pass``, ``fail`` or ``skipped`` (with the lines to print)."""

    status: str
    cells: tuple[CellVerdict, ...]
    lines: tuple[str, ...]

    @property
    def exit_code(self) -> int:
        """1 on failure, else 0."""
        return 1 if self.status == "fail" else 0


def versions(info: RunInfo, valgrind: str) -> dict[str, str]:
    """What must match between a run and the baseline."""
    packages = info.env.software.packages
    return {
        "python": info.env.software.python,
        "valgrind": valgrind,
        **{name: packages.get(name, "missing") for name in VERSIONED},
    }


def baseline_versions(baseline: Baseline) -> dict[str, str]:
    """The baseline's versions, in the shape of :func:`versions`."""
    return {"python": baseline.python, "valgrind": baseline.valgrind, **baseline.packages}


def functions(run_dir: Path, record: CostRecord) -> dict[str, float]:
    """Self Ir per request of every function in the record's dumps (summed over processes),
    by name — parsed with gprof2dot's callgrind reader. Not by object file: gprof2dot files a
    function under the object of the call site it first meets it from, which differs between
    runs (``tupledealloc`` under libpython in one dump, under uvloop's loop.so in the next)."""
    import gprof2dot  # type: ignore[import-untyped]

    found: dict[str, float] = {}
    for process in record.processes:
        with open(run_dir / process.dump, encoding="utf-8", errors="replace") as handle:
            profile = gprof2dot.CallgrindParser(handle).parse()
        for function in profile.functions.values():
            if gprof2dot.SAMPLES not in function.events:
                continue
            name = function.name
            found[name] = found.get(name, 0.0) + function[gprof2dot.SAMPLES] / record.requests
    return found


def _pairs(
    records: Sequence[CostRecord], gated: str, baseline: str
) -> dict[str, tuple[CostRecord, CostRecord]]:
    """``<server>/<scenario>`` -> (gated record, baseline record) measured in both."""
    by_cell = {(r.server, r.scenario, r.app): r for r in records if r.ir_per_request}
    return {
        f"{server}/{scenario}": (record, by_cell[(server, scenario, baseline)])
        for (server, scenario, app), record in by_cell.items()
        if app == gated and (server, scenario, baseline) in by_cell
    }


def make_baseline(
    run_dir: Path, records: Sequence[CostRecord], info: RunInfo, baseline_app: str
) -> Baseline:
    """A baseline from a complete cost run (every gated cell measured)."""
    pairs = _pairs(records, GATED_APP, baseline_app)
    if not pairs:
        raise ValueError(f"the run measured no cell of both {GATED_APP} and {baseline_app}")
    cells = {}
    for cell, (gated, base) in pairs.items():
        assert gated.ir_per_request and base.ir_per_request
        heaviest = sorted(functions(run_dir, gated).items(), key=lambda item: -item[1])
        cells[cell] = CellBaseline(
            ir_per_request=round(gated.ir_per_request, 1),
            baseline_ir_per_request=round(base.ir_per_request, 1),
            ratio=round(gated.ir_per_request / base.ir_per_request, 5),
            functions={name: round(value, 1) for name, value in heaviest[:TOP_FUNCTIONS]},
        )
    first = records[0]
    valgrind = first.valgrind
    found = versions(info, valgrind)
    return Baseline(
        created_at=utc_now(),
        run_id=info.run_id,
        commit=info.env.git.commit,
        python=found.pop("python"),
        valgrind=found.pop("valgrind"),
        packages=found,
        gated_app=GATED_APP,
        baseline_app=baseline_app,
        requests=first.requests,
        warmup=first.warmup,
        seed=first.seed,
        cells=cells,
    )


def write_baseline(baseline: Baseline, path: Path = BASELINE_FILE) -> None:
    """Write the baseline file (pretty JSON, atomically)."""
    write_atomic(path, msgspec.json.format(msgspec.json.encode(baseline)) + b"\n")


def read_baseline(path: Path = BASELINE_FILE) -> Baseline:
    """The committed baseline (FileNotFoundError / msgspec errors when unreadable)."""
    return msgspec.json.decode(path.read_bytes(), type=Baseline)


def grown(
    before: dict[str, float], now: dict[str, float], count: int = SHOWN_FUNCTIONS
) -> tuple[tuple[str, float, float], ...]:
    """The functions whose Ir per request grew most (new ones count from 0)."""
    names = set(before) | {name for name, _ in sorted(now.items(), key=lambda i: -i[1])[:200]}
    growth = [(name, before.get(name, 0.0), now.get(name, 0.0)) for name in names]
    growth = [row for row in growth if row[2] > row[1]]
    growth.sort(key=lambda row: row[1] - row[2])
    return tuple(growth[:count])


def check(
    run_dir: Path, records: Sequence[CostRecord], info: RunInfo, baseline: Baseline
) -> GateResult:
    """Gate a cost run against ``baseline``."""
    valgrind = next((r.valgrind for r in records if r.valgrind), "missing")
    mine, theirs = versions(info, valgrind), baseline_versions(baseline)
    different = [f"{k} {theirs.get(k, 'missing')} → {v}" for k, v in mine.items()
                 if theirs.get(k, "missing") != v]  # fmt: skip
    if different:
        return GateResult(
            "skipped",
            (),
            (
                "cost gate SKIPPED: this run's versions differ from the baseline's ("
                + "; ".join(different)
                + "): instruction counts of other builds are not comparable. Refresh it with "
                "`python -m bench cost --profile smoke --update-baseline` on the new versions.",
            ),
        )
    pairs = _pairs(records, baseline.gated_app, baseline.baseline_app)
    verdicts = []
    for cell, expected in baseline.cells.items():
        pair = pairs.get(cell)
        if pair is None:
            verdicts.append(CellVerdict(cell, expected.ratio, None))
            continue
        gated, base = pair
        assert gated.ir_per_request and base.ir_per_request
        verdict = CellVerdict(cell, expected.ratio, gated.ir_per_request / base.ir_per_request)
        if verdict.failed:
            found = grown(expected.functions, functions(run_dir, gated))
            verdict = CellVerdict(cell, expected.ratio, verdict.ratio, found)
        verdicts.append(verdict)
    return _result(tuple(verdicts), baseline)


def _result(verdicts: tuple[CellVerdict, ...], baseline: Baseline) -> GateResult:
    measured = [v for v in verdicts if v.ratio is not None]
    lines = [
        f"cost gate: {baseline.gated_app}/{baseline.baseline_app} Ir per request against "
        f"bench/cost/baseline.json (commit {baseline.commit[:8]}, {baseline.created_at}); "
        f"fails above +{THRESHOLD:.0%}"
    ]
    for verdict in verdicts:
        if verdict.ratio is None or verdict.change is None:
            lines.append(f"  {verdict.cell}: not measured in this run")
            continue
        state = "FAIL" if verdict.failed else "ok"
        lines.append(
            f"  {verdict.cell}: ratio {verdict.baseline_ratio:.4f} → {verdict.ratio:.4f} "
            f"({verdict.change:+.2%}) {state}"
        )
        for name, before, now in verdict.grown:
            lines.append(
                f"      {now - before:+12,.0f} Ir/request  {name} ({before:,.0f} → {now:,.0f})"
            )
    if not measured:
        lines.append("cost gate FAILED: no gated cell was measured")
        return GateResult("fail", verdicts, tuple(lines))
    failed = [v for v in verdicts if v.failed]
    if failed:
        lines.append(
            f"cost gate FAILED: {len(failed)} cell(s) grew past +{THRESHOLD:.0%}: "
            + ", ".join(v.cell for v in failed)
            + ". If the growth is intended, refresh the baseline "
            "(`python -m bench cost --profile smoke --update-baseline`) and say why in the commit."
        )
        return GateResult("fail", verdicts, tuple(lines))
    lines.append(f"cost gate passed: {len(measured)} cell(s) within +{THRESHOLD:.0%}")
    return GateResult("pass", verdicts, tuple(lines))

"""The cost gate: Velocix's Ir/request ratio to raw against the committed baseline — synthetic
records and dumps for the rules, a really slowed Velocix under valgrind for the whole path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from bench.cost import callgrind, gate
from bench.cost.records import CostRecord, ProcessCost
from bench.infra.results import RunInfo, Software
from tests.bench.cost.conftest import make_cost
from tests.bench.factories import CONFIG, ENV

ROOT = Path(__file__).resolve().parents[3]
SOFTWARE = Software(
    python="3.11.7",
    python_implementation="CPython",
    packages={"uvicorn": "0.54.0", "msgspec": "0.22.0", "orjson": "3.13.0"},
    tools={},
)
INFO = RunInfo(
    run_id="20250101T000000Z-aaaaaaaa-cost", created_at="x", argv=[], config=CONFIG,
    env=msgspec.structs.replace(ENV, software=SOFTWARE),
)  # fmt: skip


def dump(path: Path, functions: dict[str, int]) -> None:
    """A callgrind dump holding ``functions``' self costs (what gprof2dot reads back)."""
    lines = ["# callgrind format", "version: 1", "creator: test", "events: Ir", "",
             "ob=(1) libpython3.11.so.1.0", "fl=(1) ceval.c"]  # fmt: skip
    for number, (name, cost) in enumerate(functions.items(), start=1):
        lines += [f"fn=({number}) {name}", f"0 {cost}"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def measured(run_dir: Path, app: str, functions: dict[str, int], scenario: str) -> CostRecord:
    relative = f"callgrind/uvicorn/{app}/{scenario}/cg.1.out"
    dump(run_dir / relative, functions)
    total = sum(functions.values())
    record = make_cost(app, total, scenario=scenario)
    process = ProcessCost(pid=1, command=["python"], instructions=total, dump=relative)
    return msgspec.structs.replace(record, processes=[process])


def pair(run: Path, raw: dict[str, int], velocix: dict[str, int]) -> list[CostRecord]:
    """raw's and Velocix's records of uvicorn/plaintext, with their dumps."""
    return [measured(run, "raw", raw, "plaintext"), measured(run, "velocix", velocix, "plaintext")]


RAW = {"_PyEval_EvalFrameDefault": 100_000_000, "insertdict": 20_000_000}
VELOCIX = {"_PyEval_EvalFrameDefault": 102_000_000, "insertdict": 21_000_000}


def baseline_of(tmp_path: Path) -> gate.Baseline:
    records = [
        measured(tmp_path, app, functions, "plaintext")
        for app, functions in (("raw", RAW), ("velocix", VELOCIX))
    ]
    return gate.make_baseline(tmp_path, records, INFO, "raw")


def test_the_baseline_keeps_ratios_functions_and_versions(tmp_path: Path) -> None:
    baseline = baseline_of(tmp_path)
    cell = baseline.cells["uvicorn/plaintext"]
    assert (cell.ir_per_request, cell.baseline_ir_per_request) == (123_000.0, 120_000.0)
    assert cell.ratio == pytest.approx(1.025)
    assert cell.functions == {"_PyEval_EvalFrameDefault": 102_000.0, "insertdict": 21_000.0}
    assert (baseline.python, baseline.valgrind) == ("3.11.7", "valgrind-3.19.0")
    assert baseline.packages["uvicorn"] == "0.54.0" and baseline.packages["h11"] == "missing"
    path = tmp_path / "baseline.json"
    gate.write_baseline(baseline, path)
    assert gate.read_baseline(path) == baseline


def test_the_same_ratio_passes(tmp_path: Path) -> None:
    baseline = baseline_of(tmp_path)
    run = tmp_path / "run"
    records = [
        measured(run, "raw", RAW, "plaintext"),
        measured(run, "velocix", VELOCIX, "plaintext"),
    ]
    result = gate.check(run, records, INFO, baseline)
    assert (result.status, result.exit_code) == ("pass", 0)
    assert result.lines[-1] == "cost gate passed: 1 cell(s) within +3%"


def test_a_velocix_that_does_more_work_fails_and_names_what_grew(tmp_path: Path) -> None:
    baseline = baseline_of(tmp_path)
    run = tmp_path / "run"
    slower = {**VELOCIX, "rangeiter_next": 6_000_000}  # +4.9% of Velocix's instructions
    records = [
        measured(run, "raw", RAW, "plaintext"),
        measured(run, "velocix", slower, "plaintext"),
    ]
    result = gate.check(run, records, INFO, baseline)
    assert (result.status, result.exit_code) == ("fail", 1)
    (cell,) = result.cells
    assert cell.failed and cell.change == pytest.approx(0.0488, abs=1e-3)
    assert cell.grown[0] == ("rangeiter_next", 0.0, 6000.0)
    assert any("+6,000 Ir/request  rangeiter_next" in line for line in result.lines)
    assert "1 cell(s) grew past +3%: uvicorn/plaintext" in result.lines[-1]


def test_a_server_upgrade_that_moves_both_apps_alike_passes(tmp_path: Path) -> None:
    baseline = baseline_of(tmp_path)
    run = tmp_path / "run"
    heavier = {name: cost * 12 // 10 for name, cost in RAW.items()}
    both = {name: cost * 12 // 10 for name, cost in VELOCIX.items()}
    records = [
        measured(run, "raw", heavier, "plaintext"),
        measured(run, "velocix", both, "plaintext"),
    ]
    assert gate.check(run, records, INFO, baseline).status == "pass"


def test_other_versions_are_said_and_skipped(tmp_path: Path) -> None:
    baseline = baseline_of(tmp_path)
    newer = msgspec.structs.replace(
        SOFTWARE, python="3.12.1", packages={**SOFTWARE.packages, "uvicorn": "0.60.0"}
    )
    info = msgspec.structs.replace(INFO, env=msgspec.structs.replace(ENV, software=newer))
    result = gate.check(tmp_path, [], info, baseline)
    assert (result.status, result.exit_code) == ("skipped", 0)
    assert (
        "python 3.11.7 → 3.12.1" in result.lines[0] and "uvicorn 0.54.0 → 0.60.0" in result.lines[0]
    )


def test_no_gated_cell_measured_fails(tmp_path: Path) -> None:
    baseline = baseline_of(tmp_path)
    result = gate.check(tmp_path / "run", [make_cost("raw", 1000)], INFO, baseline)
    assert result.status == "fail" and "no gated cell was measured" in result.lines[-1]


def test_the_committed_baseline_covers_the_ci_cells() -> None:
    baseline = gate.read_baseline()
    assert set(baseline.cells) == {
        f"uvicorn/{scenario}" for scenario in ("plaintext", "json", "path_param", "post_validated")
    }
    assert (baseline.gated_app, baseline.baseline_app) == ("velocix", "raw")
    assert all(0.8 < cell.ratio < 1.3 for cell in baseline.cells.values())


SLOW_DOWN = '''

def _slow_down_on_purpose() -> None:
    """The cost gate's test: Velocix does extra work on every request."""
    from velocix.core.app import Velocix

    handle = Velocix.__call__

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        for _ in range(400):
            pass
        await handle(self, scope, receive, send)

    Velocix.__call__ = __call__  # type: ignore[method-assign]


_slow_down_on_purpose()
'''


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.skipif(bool(callgrind.missing_tools()), reason="valgrind is not installed")
def test_the_gate_fails_on_a_really_slowed_velocix(tmp_path: Path) -> None:
    tree = tmp_path / "checkout"
    for part in ("bench", "velocix", "pyproject.toml"):
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, tree / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, tree / part)
    with open(tree / "velocix" / "__init__.py", "a") as handle:
        handle.write(SLOW_DOWN)
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "cost", "--profile", "smoke", "--scenarios", "plaintext",
         "--gate", "--output", str(tmp_path / "reports")],
        capture_output=True, text=True, cwd=tree, env=env, timeout=540,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 1, output[-3000:]
    assert "cost gate FAILED: 1 cell(s) grew past +3%: uvicorn/plaintext" in output
    assert "rangeiter_next" in output  # the function the added loop spends in
    assert "uvicorn/json: not measured in this run" in output

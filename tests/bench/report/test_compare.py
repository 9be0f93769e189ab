"""Comparing two runs: the significance logic, the verdicts, and the cross-machine warning."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from bench.infra.results import Environment, Record
from bench.lab import stats
from bench.report import compare as comparing
from bench.report.cli import compare_main
from bench.report.load import load_run
from bench.report.summary import summarise

CellRecords = Callable[..., list[Record]]
WriteRun = Callable[..., Path]
RUN_A = "20250301T000000Z-aaaaaaaa"
RUN_B = "20250302T000000Z-bbbbbbbb"


def test_the_rank_test_cannot_reach_5_percent_with_3_runs_a_side() -> None:
    assert stats.rank_floor(3, 3) == pytest.approx(0.1)
    assert stats.rank_floor(4, 4) == pytest.approx(2 / 70)
    assert stats.rank_test([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]) == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("a", "b", "significant"),
    [
        pytest.param([100.0, 101.0, 99.0], [90.0, 91.0, 89.5], True, id="10%-drop-low-noise"),
        pytest.param([100.0, 110.0, 92.0], [97.0, 108.0, 90.0], False, id="2%-drop-in-noise"),
        pytest.param([100.0, 100.0, 100.0], [100.0, 100.0, 100.0], False, id="identical"),
        pytest.param([100.0, 100.0, 100.0], [90.0, 90.0, 90.0], True, id="constant-shift"),
    ],
)
def test_welch_on_log_values(a: list[float], b: list[float], significant: bool) -> None:
    result = stats.welch_log(a, b)
    assert result is not None
    p, resolvable = result
    assert (p < stats.ALPHA) is significant
    assert resolvable >= 0


def test_welch_needs_two_runs_a_side() -> None:
    assert stats.welch_log([100.0], [90.0, 91.0]) is None
    result = stats.significance([100.0], [90.0, 91.0])
    assert result.p_value is None and result.resolvable is None


def test_resolvable_change_grows_with_the_spread() -> None:
    tight = stats.welch_log([100.0, 100.5, 99.5], [100.0, 100.5, 99.5])
    loose = stats.welch_log([100.0, 110.0, 90.0], [100.0, 110.0, 90.0])
    assert tight is not None and loose is not None
    assert tight[1] < 0.03 < loose[1]


@pytest.mark.parametrize(
    ("b", "p", "higher_is_better", "verdict"),
    [
        pytest.param(90.0, 0.01, True, "regression", id="throughput-down"),
        pytest.param(110.0, 0.01, True, "gain", id="throughput-up"),
        pytest.param(110.0, 0.01, False, "regression", id="latency-up"),
        pytest.param(98.0, 0.01, True, "unchanged", id="significant-but-below-threshold"),
        pytest.param(80.0, 0.2, True, "not significant", id="large-but-not-significant"),
    ],
)
def test_only_significant_changes_past_the_threshold_are_called(
    b: float, p: float, higher_is_better: bool, verdict: str
) -> None:
    result = stats.Significance(p, None, 0.1, 0.02)
    assert stats.judge(100.0, b, result, higher_is_better) == verdict


def _runs(
    tmp_path: Path,
    make_cell: CellRecords,
    store_run: WriteRun,
    env_b: Environment | None = None,
) -> tuple[Path, Path]:
    a = (
        make_cell("uvicorn", "raw", "plaintext", (1000.0, 1005.0, 995.0), run_id=RUN_A)
        + make_cell("uvicorn", "velocix", "plaintext", (900.0, 930.0, 870.0), run_id=RUN_A)
        + make_cell("uvicorn", "fastapi", "plaintext", (300.0, 301.0, 299.0), run_id=RUN_A)
    )
    b = (
        make_cell("uvicorn", "raw", "plaintext", (900.0, 903.0, 897.0), run_id=RUN_B)
        + make_cell("uvicorn", "velocix", "plaintext", (905.0, 935.0, 880.0), run_id=RUN_B)
        + make_cell("uvicorn", "fastapi", "plaintext", failure="status 500", run_id=RUN_B)
        + make_cell("uvicorn", "starlette", "plaintext", run_id=RUN_B)
    )
    if env_b is not None:
        b = [msgspec.structs.replace(r, env=env_b) for r in b]
    run_a = store_run(tmp_path, a, run_id=RUN_A)
    run_b = store_run(tmp_path, b, run_id=RUN_B, **({"env": env_b} if env_b else {}))
    return run_a, run_b


def _compare(run_a: Path, run_b: Path) -> comparing.Comparison:
    return comparing.compare(summarise(load_run(run_a)), summarise(load_run(run_b)))


def test_cells_get_verdicts_from_their_per_run_samples(
    tmp_path: Path, make_cell: CellRecords, store_run: WriteRun
) -> None:
    comparison = _compare(*_runs(tmp_path, make_cell, store_run))
    verdicts = {cell.cell_id: cell.verdict for cell in comparison.cells}
    assert verdicts == {
        "uvicorn/raw/plaintext/c64": "regression",
        # velocix held its req/s while raw lost 10%: its paired ratio to raw rose ~10%
        "uvicorn/velocix/plaintext/c64": "gain",
        "uvicorn/fastapi/plaintext/c64": "broken",
        "uvicorn/starlette/plaintext/c64": "only in B",
    }
    velocix = comparison.cells[1]
    assert velocix.throughput is not None and velocix.throughput.verdict == "not significant"
    assert velocix.ratio is not None and velocix.ratio.verdict == "gain"
    assert velocix.ratio.a == pytest.approx(0.9) and velocix.ratio.b == pytest.approx(1.0, 0.01)
    assert comparison.cells[0].ratio is None  # the baseline has no ratio: throughput decides
    raw = comparison.cells[0].throughput
    assert raw is not None
    assert raw.a == 1000.0 and raw.b == 900.0
    assert raw.change == pytest.approx(-0.1)
    assert raw.significance.p_value is not None and raw.significance.p_value < 0.05
    assert raw.significance.rank_p_value == pytest.approx(0.1)  # 3 v 3: its floor
    broken = next(c for c in comparison.cells if c.verdict == "broken")
    assert broken.note == "B failed: check: status 500"
    assert [c.cell_id for c in comparison.actionable] == [
        "uvicorn/raw/plaintext/c64",
        "uvicorn/fastapi/plaintext/c64",
    ]
    assert comparison.same_machine and comparison.warnings == ()


def test_the_power_note_is_honest_about_three_runs(
    tmp_path: Path, make_cell: CellRecords, store_run: WriteRun
) -> None:
    note = _compare(*_runs(tmp_path, make_cell, store_run)).power_note()
    assert "cannot go below p = 0.10" in note
    assert "cannot confirm any change on its own" in note


def _other_machine(env: Environment) -> Environment:
    machine = msgspec.structs.replace(env.machine, cpu_model="Other CPU", logical_cpus=16)
    return msgspec.structs.replace(env, machine=machine)


def test_different_machines_warn_loudly(
    tmp_path: Path, make_cell: CellRecords, store_run: WriteRun
) -> None:
    records = make_cell("uvicorn", "raw", "plaintext")
    env = _other_machine(records[0].env)
    comparison = _compare(*_runs(tmp_path, make_cell, store_run, env_b=env))
    assert not comparison.same_machine
    (warning,) = comparison.warnings
    assert warning.startswith("DIFFERENT MACHINES")
    assert "CPU: Synthetic CPU @ 3.0GHz vs Other CPU" in warning
    assert "logical CPUs: 2 vs 16" in warning


def test_compare_cli_prints_the_warning_and_gates_on_regressions(
    tmp_path: Path,
    make_cell: CellRecords,
    store_run: WriteRun,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = _other_machine(make_cell("uvicorn", "raw", "plaintext")[0].env)
    _runs(tmp_path, make_cell, store_run, env_b=env)
    assert compare_main([RUN_A, RUN_B, "--output", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "DIFFERENT MACHINES" in err
    assert "uvicorn/raw/plaintext/c64" in out and "regression" in out
    code = compare_main([RUN_A, RUN_B, "--output", str(tmp_path), "--fail-on-regression"])
    assert code == 1


def test_compare_cli_rejects_an_unknown_run_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert compare_main(["nope", "latest", "--output", str(tmp_path)]) == 2
    assert "error: no run 'nope'" in capsys.readouterr().err


def _gauged_runs(
    tmp_path: Path, make_cell: CellRecords, store_run: WriteRun, b_speeds: tuple[float, ...]
) -> None:
    a = make_cell("uvicorn", "raw", "plaintext", run_id=RUN_A, machine=(1000.0, 1000.0, 1000.0))
    a += make_cell("uvicorn", "velocix", "plaintext", run_id=RUN_A)  # not gauged
    b = make_cell("uvicorn", "raw", "plaintext", run_id=RUN_B, machine=b_speeds)
    b += make_cell("uvicorn", "velocix", "plaintext", run_id=RUN_B)
    store_run(tmp_path, a, run_id=RUN_A)
    store_run(tmp_path, b, run_id=RUN_B)


def test_the_machine_speed_ratio_is_compared_overall_and_per_cell(
    tmp_path: Path, make_cell: CellRecords, store_run: WriteRun
) -> None:
    _gauged_runs(tmp_path, make_cell, store_run, (850.0, 880.0, 900.0))
    comparison = _compare(tmp_path / "runs" / RUN_A, tmp_path / "runs" / RUN_B)
    assert comparison.machine is not None and comparison.machine.ratio == 0.88
    assert comparison.machine.verdict() == (
        "machine speed differed by 12.8% between these runs: differences below that are not "
        "attributable to the code"
    )  # |880 - 1000| / 940
    ratios = {cell.cell_id: cell.machine_ratio for cell in comparison.cells}
    assert ratios == {"uvicorn/raw/plaintext/c64": 0.88, "uvicorn/velocix/plaintext/c64": None}


def test_compare_cli_prints_the_machine_speed_line_and_column(
    tmp_path: Path,
    make_cell: CellRecords,
    store_run: WriteRun,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _gauged_runs(tmp_path, make_cell, store_run, (850.0, 880.0, 900.0))
    assert compare_main([RUN_A, RUN_B, "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "machine B/A" in out and "0.880" in out
    assert "B 880 (3 readings), A 1,000 (3): ratio B/A 0.880" in out
    assert "machine speed differed by 12.8% between these runs" in out


def test_a_steady_machine_gets_no_warning_sentence(
    tmp_path: Path,
    make_cell: CellRecords,
    store_run: WriteRun,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _gauged_runs(tmp_path, make_cell, store_run, (1010.0, 1030.0, 1040.0))
    assert compare_main([RUN_A, RUN_B, "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "ratio B/A 1.030" in out
    assert "differed by" not in out


def test_compare_quotes_the_calibration_of_this_machine_and_protocol(
    tmp_path: Path,
    make_cell: CellRecords,
    store_run: WriteRun,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bench.lab import calibration
    from tests.bench.lab.test_calibration import experiment, result
    from tests.bench.report.conftest import CONFIG, ENV

    _runs(tmp_path, make_cell, store_run)
    assert compare_main([RUN_A, RUN_B, "--output", str(tmp_path)]) == 0
    assert "resolving power: not calibrated on this machine" in capsys.readouterr().out
    cell = calibration.analyse_cell(experiment(0.003), "uvicorn", "json", 64, 3, (5, 10))
    cell = msgspec.structs.replace(cell, scenario="plaintext")
    calibration.store(
        tmp_path,
        result([cell], duration_s=CONFIG.duration_s, warmup_s=CONFIG.warmup_s, env=ENV),
    )
    assert compare_main([RUN_A, RUN_B, "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "resolving power (this machine, quick protocol" in out
    assert "uvicorn/velocix/plaintext/c64: gain; resolves req/s" in out
    assert "paired ratio >= 5%" in out


def test_a_contended_side_gets_no_verdict_on_any_metric(
    tmp_path: Path, make_cell: CellRecords, store_run: WriteRun
) -> None:
    a = make_cell("uvicorn", "raw", "plaintext", (1000.0, 1005.0, 995.0), run_id=RUN_A)
    b = make_cell("uvicorn", "raw", "plaintext", (500.0, 502.0, 498.0), run_id=RUN_B,
                  p99=(9.0, 9.1, 8.9), foreign=45.0, flags=("contended",))  # fmt: skip
    (cell,) = _compare(
        store_run(tmp_path, a, run_id=RUN_A), store_run(tmp_path, b, run_id=RUN_B)
    ).cells
    assert cell.verdict == "no verdict"
    assert cell.throughput is not None and cell.throughput.change == pytest.approx(-0.5)
    assert cell.throughput.verdict == "no verdict"  # a halved figure, and still no regression
    assert cell.p99 is not None and cell.p99.verdict == "no verdict"
    assert cell.note is not None and "B: foreign load on CPU 0 (server): up to 45%" in cell.note

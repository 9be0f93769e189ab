"""Cell summaries: medians of runs only, failures shown as failed, ratios to raw."""

from __future__ import annotations

import msgspec
import pytest

from bench.infra.results import Errors, Record, cell_id, record_id
from bench.lab.summary import MachineSpeed, machine_change, machine_speed, summarize
from tests.bench.factories import make_record


def rec(
    app: str, rps: float | None, phase: str = "run", index: int | None = 1, **kw: object
) -> Record:
    cell = cell_id("uvicorn", app, "plaintext", 64)
    record: Record = msgspec.structs.replace(
        make_record(),
        app=app,
        cell_id=cell,
        record_id=record_id(cell, phase, index),  # type: ignore[arg-type]
        phase=phase,
        run_index=index,
        rps=rps,
        **kw,
    )
    return record


def test_median_of_runs_ignores_warmups_and_primers() -> None:
    records = [
        rec("raw", 5.0, "warmup", None),
        rec("raw", 100.0, index=1),
        rec("raw", 300.0, index=2),
        rec("raw", 200.0, index=3),
        rec("raw", 9_999.0, "primer", None),
    ]
    (cell,) = summarize(records)
    assert cell.rps is not None and cell.rps.value == 200.0
    assert cell.runs == 3 and cell.rps_runs == (100.0, 300.0, 200.0)
    assert cell.status == "ok"


def test_ratio_to_raw_on_the_same_server_and_scenario() -> None:
    records = [rec("raw", v, index=i) for i, v in enumerate((100.0, 110.0, 105.0), 1)]
    records += [rec("velocix", v, index=i) for i, v in enumerate((50.0, 60.0, 55.0), 1)]
    raw, velocix = summarize(records)
    assert (raw.app, velocix.app) == ("raw", "velocix")
    assert velocix.ratio is not None and velocix.ratio.value == pytest.approx(55 / 105)
    assert raw.ratio is not None and raw.ratio.value == 1.0


def test_a_failure_record_fails_the_cell_with_its_reason() -> None:
    records = [
        rec("raw", 100.0),
        rec(
            "starlette", None, "check", None, kind="failure", reason="body differs",
            latency=None, errors=None, requests=None, ok_requests=None, elapsed_s=None,
        ),
    ]  # fmt: skip
    raw, starlette = summarize(records)
    assert starlette.failed and starlette.rps is None and starlette.ratio is None
    assert starlette.reason == "check: body differs"
    assert not raw.failed


def test_errors_and_flags_are_collected_over_runs() -> None:
    records = [
        rec("raw", 100.0, index=1, errors=Errors(read=2), flags=["generator_bound"]),
        rec("raw", 100.0, index=2, errors=Errors(status=3), flags=["noisy"]),
    ]
    (cell,) = summarize(records)
    assert cell.errors == 5
    assert cell.flags == ("generator_bound", "noisy")


def test_calibration_records_are_not_cells() -> None:
    assert summarize([rec("raw", 100.0, "calibration", None)]) == []


def test_each_cell_carries_the_median_and_spread_of_its_machine_speeds() -> None:
    def gauged(app: str, index: int, speed: float | None) -> Record:
        version = None if speed is None else 1
        return rec(app, 100.0, index=index, machine_speed=speed, machine_speed_version=version)

    records = [gauged("raw", 1, 800.0), gauged("raw", 2, 1000.0), gauged("raw", 3, 1200.0)]
    records += [gauged("velocix", 1, None), gauged("velocix", 2, None)]
    raw, velocix = summarize(records)
    assert raw.machine == MachineSpeed(version=1, median=1000.0, spread=0.5, readings=3)
    assert velocix.machine is None  # recorded without the gauge
    whole = machine_speed(records)
    assert whole is not None and (whole.median, whole.readings) == (1000.0, 3)


def test_machine_change_says_when_the_machine_moved_past_5_percent() -> None:
    fast, slow = MachineSpeed(1, 1000.0, 0.1, 12), MachineSpeed(1, 800.0, 0.1, 12)
    moved = machine_change(slow, fast)
    assert moved.ratio == 0.8 and moved.moved()
    assert moved.line("this", "other").endswith("ratio this/other 0.800")
    assert moved.verdict() == (
        "machine speed differed by 22.2% between these runs: differences below that are not "
        "attributable to the code"
    )
    steady = machine_change(MachineSpeed(1, 1030.0, 0.1, 12), fast)
    assert not steady.moved() and steady.verdict() is None
    missing = machine_change(None, fast)
    assert missing.ratio is None and "not gauged" in missing.line("this", "other")

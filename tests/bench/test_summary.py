"""Cell summaries: medians of runs only, failures shown as failed, ratios to raw."""

from __future__ import annotations

import msgspec
import pytest

from bench.results import Errors, Record, cell_id, record_id
from bench.summary import summarize

from .test_results import make_record


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

"""Cell summaries: every figure traces back to the stored records, failures keep their reason."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.infra import results
from bench.infra.results import Errors, Record
from bench.report.load import load_run
from bench.report.summary import BASELINE_NOTE, summarise

CellRecords = Callable[..., list[Record]]
WriteRun = Callable[..., Path]


def test_figures_equal_the_stored_records(
    tmp_path: Path, make_cell: CellRecords, store_run: WriteRun
) -> None:
    raw = make_cell("uvicorn", "raw", "plaintext", (50_000.0, 52_000.0, 49_000.0))
    app = make_cell(
        "uvicorn",
        "velocix",
        "plaintext",
        (45_000.0, 44_000.0, 46_500.0),
        p99=(2.0, 3.5, 2.5),
        errors=Errors(status=3, timeout=1),
        server_cpu=88.0,
        rss=51.5,
    )
    summary = summarise(load_run(store_run(tmp_path, raw + app)))
    cell = summary.cell("uvicorn", "velocix", "plaintext", 64)
    assert cell is not None and cell.state == "ok" and cell.rps is not None
    stored = [r for r in app if r.phase == "run"]
    assert cell.samples == tuple(r.rps for r in stored)
    assert cell.rps.value == statistics.median(r.rps for r in stored if r.rps) == 45_000.0
    assert cell.latency["p99"] == 2.5
    assert cell.p99_samples == (2.0, 3.5, 2.5)
    assert cell.errors == 12 and cell.error_detail == {"status": 9, "timeout": 3}
    assert cell.server_cpu == 88.0 and cell.rss_mib == 51.5
    assert cell.ratio is not None
    assert cell.ratio.value == pytest.approx(45_000.0 / 50_000.0)
    baseline = summary.cell("uvicorn", "raw", "plaintext", 64)
    assert baseline is not None and baseline.ratio is None and baseline.ratio_note == BASELINE_NOTE


def test_a_failed_check_keeps_its_reason_and_has_no_figures(
    tmp_path: Path, make_cell: CellRecords, store_run: WriteRun
) -> None:
    records = make_cell("granian", "fastapi", "json", failure="status 500 for GET /json")
    cell = summarise(load_run(store_run(tmp_path, records))).cell("granian", "fastapi", "json", 64)
    assert cell is not None
    assert cell.state == "failed"
    assert cell.reason == "check: status 500 for GET /json"
    assert cell.rps is None and cell.errors is None and cell.samples == ()


def test_a_failed_post_load_check_voids_the_measured_runs(
    tmp_path: Path, make_cell: CellRecords, store_run: WriteRun
) -> None:
    records = make_cell(
        "uvicorn", "starlette", "json", failure="wrong body after load", failure_phase="postcheck"
    )
    cell = summarise(load_run(store_run(tmp_path, records))).cell(
        "uvicorn", "starlette", "json", 64
    )
    assert cell is not None and cell.state == "failed"
    assert cell.reason is not None and "postcheck: wrong body after load" in cell.reason
    assert cell.rps is None


def test_generator_bound_runs_are_marked_with_their_share(
    tmp_path: Path, make_cell: CellRecords, store_run: WriteRun
) -> None:
    records = make_cell("uvicorn", "raw", "plaintext")
    records = [
        r if r.run_index != 2 else _with_flags(r, [results.FLAG_GENERATOR_BOUND]) for r in records
    ]
    cell = summarise(load_run(store_run(tmp_path, records))).cell("uvicorn", "raw", "plaintext", 64)
    assert cell is not None and cell.state == "ok"
    (mark,) = cell.severe
    assert mark.label == "generator-bound"
    assert "(1 of 3 runs)" in mark.reason
    assert "measure the generator" in mark.reason


def _with_flags(record: Record, flags: list[str]) -> Record:
    import msgspec

    return msgspec.structs.replace(record, flags=flags)


def test_planned_cells_never_reached_are_missing_with_a_reason(
    tmp_path: Path, make_cell: CellRecords, store_run: WriteRun
) -> None:
    records = make_cell("uvicorn", "raw", "plaintext")
    planned = [r.record_id for r in records] + ["uvicorn/velocix/plaintext/c64/run1"]
    summary = summarise(load_run(store_run(tmp_path, records, plan=planned, status="interrupted")))
    cell = summary.cell("uvicorn", "velocix", "plaintext", 64)
    assert cell is not None and cell.state == "missing"
    assert cell.reason == "not measured: the run is interrupted"
    assert summary.counts() == {
        "cells": 2,
        "ok": 1,
        "failed": 0,
        "missing": 1,
        "not_applicable": 0,
        "qualified": 0,
        "noisy": 0,
        "refused": 0,
        "machine_slow": 0,
    }


def test_fewer_runs_than_planned_are_marked(
    tmp_path: Path, make_cell: CellRecords, store_run: WriteRun
) -> None:
    records = make_cell("uvicorn", "raw", "plaintext", (1000.0, 1100.0))  # config says 3 runs
    cell = summarise(load_run(store_run(tmp_path, records))).cell("uvicorn", "raw", "plaintext", 64)
    assert cell is not None
    assert [m.label for m in cell.marks] == ["2 of 3 runs"]


def test_no_ratio_says_why_when_the_baseline_failed(
    tmp_path: Path, make_cell: CellRecords, store_run: WriteRun
) -> None:
    records = make_cell("uvicorn", "raw", "json", failure="timeout") + make_cell(
        "uvicorn", "velocix", "json"
    )
    cell = summarise(load_run(store_run(tmp_path, records))).cell("uvicorn", "velocix", "json", 64)
    assert cell is not None and cell.ratio is None
    assert cell.ratio_note == "raw baseline on uvicorn failed"


def test_orders_follow_the_configuration_with_raw_first(example_run: Path) -> None:
    summary = summarise(load_run(example_run))
    assert summary.apps == ("raw", "velocix", "starlette", "fastapi")
    assert summary.servers == ("uvicorn", "granian")
    assert summary.scenarios == ("plaintext", "json")
    first = summary.select("json", 64)[:4]
    assert [(c.server, c.app) for c in first] == [
        ("uvicorn", "raw"),
        ("uvicorn", "velocix"),
        ("uvicorn", "starlette"),
        ("uvicorn", "fastapi"),
    ]


def test_the_order_and_baseline_come_from_the_stored_run(
    tmp_path: Path, make_cell: CellRecords, store_run: WriteRun
) -> None:
    records = [
        *make_cell("uvicorn", "velocix", "plaintext", (900.0, 910.0, 905.0)),
        *make_cell("uvicorn", "raw", "plaintext", (1000.0, 1010.0, 990.0)),
        *make_cell("uvicorn", "fastapi", "plaintext", (300.0, 310.0, 305.0)),
    ]
    stored = [results.FrameworkInfo(name=name, display=name.title())
              for name in ("fastapi", "velocix", "raw")]  # fmt: skip
    run = store_run(tmp_path, records, frameworks=stored, baseline="fastapi")
    summary = summarise(load_run(run))
    assert summary.apps[:3] == ("fastapi", "velocix", "raw") and summary.baseline == "fastapi"
    velocix = summary.cell("uvicorn", "velocix", "plaintext", 64)
    assert velocix is not None and velocix.ratio is not None
    assert velocix.ratio.value == pytest.approx(905.0 / 305.0)  # divided by the stored baseline
    fastapi = summary.cell("uvicorn", "fastapi", "plaintext", 64)
    assert fastapi is not None and fastapi.ratio_note == "baseline (1 by definition)"


def test_a_run_stored_before_the_registry_uses_the_order_of_that_time(
    tmp_path: Path, make_cell: CellRecords, store_run: WriteRun
) -> None:
    records = [
        *make_cell("uvicorn", "fastapi", "plaintext"),
        *make_cell("uvicorn", "raw", "plaintext"),
        *make_cell("uvicorn", "velocix", "plaintext"),
    ]
    summary = summarise(load_run(store_run(tmp_path, records)))
    assert summary.baseline == "raw"
    assert summary.apps == ("raw", "velocix", "starlette", "fastapi")  # as runs then listed

"""Loading stored runs: only run.json + results.jsonl, torn last lines skipped, clear errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bench.infra import results
from bench.infra.results import Record
from bench.report.load import ReportError, load_run, resolve, run_directories

CellRecords = Callable[..., list[Record]]
WriteRun = Callable[..., Path]


def test_a_torn_last_line_is_skipped(
    tmp_path: Path, make_cell: CellRecords, store_run: WriteRun
) -> None:
    records = make_cell("uvicorn", "raw", "plaintext")
    run_dir = store_run(tmp_path, records)
    with open(run_dir / results.RESULTS_FILE, "ab") as handle:
        handle.write(b'{"schema_version": 1, "run_id": "2025')  # the crash mid-append
    run = load_run(run_dir)
    assert [r.record_id for r in run.records] == [r.record_id for r in records]


def test_records_of_another_run_are_not_mixed_in(
    tmp_path: Path, make_cell: CellRecords, store_run: WriteRun
) -> None:
    run_dir = store_run(tmp_path, make_cell("uvicorn", "raw", "plaintext"))
    stray = make_cell("uvicorn", "raw", "json", run_id="19990101T000000Z-deadbeef")
    for record in stray:
        results.append_record(run_dir / results.RESULTS_FILE, record)
    assert {r.scenario for r in load_run(run_dir).records} == {"plaintext"}


def test_a_directory_without_run_json_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match=r"not a run directory: run\.json is missing"):
        load_run(tmp_path)


def test_an_unreadable_run_json_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / results.INFO_FILE).write_text("{not json")
    with pytest.raises(ReportError, match="unreadable"):
        load_run(tmp_path)


def test_runs_resolve_by_prefix_and_list_oldest_first(
    tmp_path: Path, make_cell: CellRecords, store_run: WriteRun
) -> None:
    for run_id in ("20250102T000000Z-bbbbbbbb", "20250101T000000Z-aaaaaaaa"):
        store_run(tmp_path, make_cell("uvicorn", "raw", "plaintext", run_id=run_id), run_id=run_id)
    assert [p.name for p in run_directories(tmp_path)] == [
        "20250101T000000Z-aaaaaaaa",
        "20250102T000000Z-bbbbbbbb",
    ]
    assert resolve("20250101", tmp_path).name == "20250101T000000Z-aaaaaaaa"
    with pytest.raises(ReportError, match="several runs"):
        resolve("2025", tmp_path)

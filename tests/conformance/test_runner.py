"""A wire cell end to end on a real server: records, verdicts, and no process left behind."""

from __future__ import annotations

import json
from pathlib import Path

import psutil
import pytest

from conformance import expectations, records, render, runner


def _descendants() -> set[int]:
    return {child.pid for child in psutil.Process().children(recursive=True)}


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    path = tmp_path / "run"
    (path / records.CELLS_DIR).mkdir(parents=True)
    return path


def test_wire_cell_records_results_and_cleans_up(run_dir: Path) -> None:
    before = _descendants()
    cases = ["A01", "B21", "B24", "C44", "D55", "E59a", "E65"]
    cells = runner.run_matrix([("raw", "uvicorn")], cases, run_dir, jobs=1)
    assert _descendants() <= before, "server or cell processes left behind"
    (cell,) = cells
    assert cell["error"] is None
    kinds = {r["id"]: r["kind"] for r in cell["results"]}
    assert kinds == {
        "A01": "pass",
        "B21": "pass",
        "B24": "pass",
        "C44": "pass",
        "D55": "pass",
        "E59a": "fail",
        "E65": "pass",
    }
    gate = expectations.evaluate(cells, expectations.load())
    assert gate["passed"], gate["unexpected"]  # E59a on uvicorn is a recorded deviation
    stored = json.loads((run_dir / records.CELLS_DIR / "raw--uvicorn.json").read_text())
    assert stored["results"][0]["spec"]


def test_a_cell_that_cannot_start_is_recorded_as_failed(run_dir: Path) -> None:
    record = runner.run_cell("nosuchframework", "uvicorn", runner.select(["B21", "A15"]), run_dir)
    assert "cannot import" in record["error"]
    kinds = {r["id"]: r["kind"] for r in record["results"]}
    assert kinds == {"B21": "fail", "A15": "not_applicable"}


def test_render_reads_stored_records(run_dir: Path) -> None:
    record = runner.run_cell("raw", "inprocess", runner.select(["A0*"]), run_dir)
    gate = expectations.evaluate([record], expectations.load())
    records.write_json(run_dir / records.CELLS_DIR / "raw--inprocess.json", record)
    records.write_json(
        run_dir / records.RUN_FILE,
        {
            "run_id": "test-run",
            "profile": "test",
            "started": 0,
            "duration_s": 1.0,
            "environment": records.environment(),
            "gate": gate,
            "deviations": [],
        },
    )
    page = render.render_page(run_dir).read_text()
    assert "A01" in page and "raw" in page and "passed" in page
    section = render.render_matrix_section(records.read_run(run_dir))
    assert section.startswith("<section") and "&lt;section" not in page


def test_plan_profiles() -> None:
    quick = runner.plan(runner.PROFILES["quick"])
    full = runner.plan(runner.PROFILES["full"])
    assert set(quick) < set(full)
    assert {("raw", s) for s in runner.server_names()} <= set(quick)
    assert {("velocix", s) for s in ("inprocess", "uvicorn", "granian", "hypercorn")} <= set(quick)
    assert runner.plan(runner.PROFILES["full"], ["velocix"], ["granian"]) == [
        ("velocix", "granian")
    ]

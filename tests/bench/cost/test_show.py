"""show of cost runs: Ir/request and ratio to raw; --against per-cell differences and worst."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import cli
from bench.cost import summary

from .conftest import make_cost, store_cost_run

A = [
    make_cost("raw", 100_000_000),
    make_cost("velocix", 150_000_000),
    make_cost("raw", 80_000_000, server="granian"),
    make_cost("fastapi", None),
]
B = [
    make_cost("raw", 100_500_000),
    make_cost("velocix", 153_000_000),
    make_cost("raw", 80_000_000, server="granian"),
    make_cost("fastapi", 400_000_000),
]


def test_cells_have_ir_per_request_and_ratio_to_raw_on_the_same_server() -> None:
    cells = {cell.cell_id: cell for cell in summary.cells(A)}
    assert cells["uvicorn/velocix/plaintext"].ir_per_request == 150_000.0
    assert cells["uvicorn/velocix/plaintext"].ratio == pytest.approx(1.5)
    assert cells["uvicorn/raw/plaintext"].ratio == pytest.approx(1.0)
    assert cells["uvicorn/fastapi/plaintext"].ratio is None
    assert [cell.app for cell in summary.cells(A) if cell.server == "uvicorn"] == [
        "raw",
        "velocix",
        "fastapi",
    ]


def test_changes_between_runs_and_the_worst_cell() -> None:
    found = {change.cell_id: change.change for change in summary.changes(A, B)}
    # fastapi failed in A: not a difference, only in B.
    assert set(found) == {
        "uvicorn/raw/plaintext",
        "uvicorn/velocix/plaintext",
        "granian/raw/plaintext",
    }
    assert found["uvicorn/velocix/plaintext"] == pytest.approx(0.02)
    assert found["uvicorn/raw/plaintext"] == pytest.approx(0.005)
    assert found["granian/raw/plaintext"] == 0
    worst = summary.worst(summary.changes(A, B))
    assert worst is not None and worst.cell_id == "uvicorn/velocix/plaintext"
    assert summary.worst([]) is None


def test_show_prints_a_cost_run(reports: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = store_cost_run(reports, "20250101T000000Z", A)
    assert cli.main(["show", str(run), "--output", str(reports)]) == 0
    out = capsys.readouterr().out
    assert "Per-request cost" in out
    assert "150,000" in out and "1.50" in out and "1 (baseline)" in out
    assert "FAILED: request 3 GET /plaintext: status 500" in out


def test_show_against_prints_differences_and_the_worst(
    reports: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store_cost_run(reports, "20250101T000000Z", A)
    store_cost_run(reports, "20250102T000000Z", B)
    code = cli.main(["show", "20250102", "--against", "20250101", "--output", str(reports)])
    assert code == 0
    out = capsys.readouterr().out
    assert "153,000" in out and "+2.00%" in out and "+0.50%" in out
    assert "worst cell uvicorn/velocix/plaintext differs by +2.00%" in out

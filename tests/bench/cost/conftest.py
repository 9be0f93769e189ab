"""Synthetic cost records and stored cost runs for the cost tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cost import cli as cost_cli
from bench.cost import plan
from bench.cost.records import RUN_SUFFIX, CostRecord, ProcessCost, append, cost_cell_id
from bench.infra.results import RunInfo, RunStore
from tests.bench.factories import ENV


def make_cost(
    app: str,
    ir: int | None,
    *,
    server: str = "uvicorn",
    scenario: str = "plaintext",
    requests: int = 1000,
    run_id: str = "20250101T000000Z-aaaaaaaa-cost",
) -> CostRecord:
    """One record whose only process spent ``ir`` instructions over ``requests`` (None: failed)."""
    processes = (
        [ProcessCost(pid=10, command=["python"], instructions=ir, dump="callgrind/x")]
        if ir is not None
        else []
    )
    return CostRecord(
        run_id=run_id,
        cell_id=cost_cell_id(server, app, scenario),
        kind="measurement" if ir is not None else "failure",
        app=app,
        server=server,
        scenario=scenario,
        variant="app",
        requests=requests,
        warmup=200,
        seed=1,
        pool_size=512,
        started_at="2025-01-01T00:00:00+00:00",
        finished_at="2025-01-01T00:00:05+00:00",
        instructions=ir,
        ir_per_request=None if ir is None else ir / requests,
        processes=processes,
        reason=None if ir is not None else "request 3 GET /plaintext: status 500",
        valgrind="valgrind-3.19.0",
        env=ENV,
    )


def store_cost_run(reports: Path, stamp: str, records: list[CostRecord]) -> Path:
    """A stored cost run (run.json + cost.jsonl) under ``reports/runs``."""
    run_id = f"{stamp}-aaaaaaaa{RUN_SUFFIX}"
    config = plan.CostConfig(profile="smoke", apps=("raw",), servers=("uvicorn",), scenarios=())
    info = RunInfo(
        run_id=run_id,
        created_at="2025-01-01T00:00:00+00:00",
        argv=["python", "-m", "bench", "cost"],
        config=cost_cli.lab_config(config),
        env=ENV,
        status="complete",
    )
    store = RunStore.create(reports, info)
    for record in records:
        append(store.directory / "cost.jsonl", CostRecord(**{**_fields(record), "run_id": run_id}))
    return store.directory


def _fields(record: CostRecord) -> dict[str, object]:
    return {name: getattr(record, name) for name in record.__struct_fields__}


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    """An empty reports directory."""
    return tmp_path / "reports"

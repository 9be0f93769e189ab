"""Cost records: Ir/request arithmetic over processes, the schema round trip, the store."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from bench.cost import records
from bench.cost.records import CostRecord, ProcessCost

from .conftest import make_cost


def process(pid: int, instructions: int) -> ProcessCost:
    return ProcessCost(pid=pid, command=["granian"], instructions=instructions, dump=f"cg.{pid}")


def test_instructions_are_summed_over_every_server_process() -> None:
    # granian: a main process and its worker; both count.
    total, each = records.per_request([process(1, 48_000), process(2, 18_052_000)], 200)
    assert total == 18_100_000
    assert each == 90_500.0


def test_per_request_needs_requests() -> None:
    with pytest.raises(ValueError, match="positive"):
        records.per_request([process(1, 10)], 0)


def test_record_round_trips_through_json() -> None:
    record = make_cost("velocix", 150_000_000)
    decoded = msgspec.json.decode(records.encode(record), type=CostRecord)
    assert decoded == record
    assert decoded.ir_per_request == 150_000.0
    assert decoded.cell_id == "uvicorn/velocix/plaintext"
    assert decoded.env.git.short == "aaaaaaaa"


def test_failure_records_carry_a_reason_and_no_figure() -> None:
    record = msgspec.json.decode(records.encode(make_cost("raw", None)), type=CostRecord)
    assert record.kind == "failure"
    assert record.ir_per_request is None and record.processes == []
    assert record.reason == "request 3 GET /plaintext: status 500"


def test_store_appends_lines_and_skips_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / records.COST_FILE
    records.append(path, make_cost("raw", 100_000_000))
    records.append(path, make_cost("velocix", 120_000_000))
    with open(path, "ab") as handle:
        handle.write(records.encode(make_cost("fastapi", 1))[:40])  # a crash mid-append
    loaded = records.load(tmp_path)
    assert [record.app for record in loaded] == ["raw", "velocix"]
    assert records.is_cost_run(tmp_path)
    assert not records.is_cost_run(tmp_path / "elsewhere")

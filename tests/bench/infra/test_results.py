"""The record schema and the run store: round trips, deterministic ids, durable appends."""

from __future__ import annotations

import json
import os
from pathlib import Path

import msgspec
import pytest

from bench.infra import results
from bench.infra.results import Errors, Record, RunInfo, RunStore
from tests.bench.factories import CONFIG, ENV, make_record


def test_record_round_trips_through_json_with_its_schema_version() -> None:
    record = make_record()
    line = msgspec.json.encode(record)
    assert json.loads(line)["schema_version"] == results.SCHEMA_VERSION == 1
    assert msgspec.json.decode(line, type=Record) == record


def test_record_rejects_a_wrong_field_type() -> None:
    data = json.loads(msgspec.json.encode(make_record()))
    data["concurrency"] = "many"
    with pytest.raises(msgspec.ValidationError, match="concurrency"):
        msgspec.json.decode(json.dumps(data), type=Record)


def test_ids_are_deterministic() -> None:
    cell = results.cell_id("granian", "velocix", "json", 256)
    assert cell == "granian/velocix/json/c256"
    assert results.record_id(cell, "run", 2) == "granian/velocix/json/c256/run2"
    assert results.record_id(cell, "check") == "granian/velocix/json/c256/check"


def test_errors_total_adds_every_counter() -> None:
    errors = Errors(status=1, connect=2, read=3, write=4, timeout=5, mismatch=6)
    assert errors.total == 21


def test_store_appends_and_skips_a_torn_last_line(tmp_path: Path) -> None:
    info = RunInfo(
        run_id="20250101T000000Z-aaaaaaaa", created_at="x", argv=[], config=CONFIG, env=ENV
    )
    store = RunStore.create(tmp_path, info)
    first, second = make_record(1), make_record(2)
    store.append(first)
    store.append(second)
    with open(store.results_path, "ab") as handle:
        handle.write(b'{"schema_version": 1, "run_id": "tor')  # a crash mid-append
    assert store.records() == [first, second]
    assert store.info().config == CONFIG


def test_store_points_latest_at_the_newest_run(tmp_path: Path) -> None:
    for run_id in ("20250101T000000Z-aaaaaaaa", "20250102T000000Z-bbbbbbbb"):
        info = RunInfo(run_id=run_id, created_at="x", argv=[], config=CONFIG, env=ENV)
        RunStore.create(tmp_path, info)
    latest = tmp_path / "latest"
    assert latest.is_symlink()
    assert latest.resolve().name == "20250102T000000Z-bbbbbbbb"
    assert results.resolve_run("latest", tmp_path).name == "20250102T000000Z-bbbbbbbb"
    assert results.resolve_run("20250101", tmp_path).name == "20250101T000000Z-aaaaaaaa"
    with pytest.raises(FileNotFoundError, match="several runs"):
        results.resolve_run("2025", tmp_path)
    with pytest.raises(FileNotFoundError, match="no run"):
        results.resolve_run("1999", tmp_path)


def test_write_atomic_replaces_the_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "run.json"
    results.write_atomic(target, b"old")
    results.write_atomic(target, b"new contents")
    assert target.read_bytes() == b"new contents"
    assert os.listdir(tmp_path) == ["run.json"]  # no temporary file left behind


def test_run_id_sorts_by_time_and_names_the_commit() -> None:
    from datetime import UTC, datetime

    run_id = results.new_run_id("abcd1234", datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC))
    assert run_id == "20250304T050607Z-abcd1234"


def test_an_old_record_without_machine_speed_still_loads() -> None:
    # A line as stored before the gauge existed: no machine_speed fields at all.
    data = json.loads(msgspec.json.encode(make_record()))
    del data["machine_speed"], data["machine_speed_version"]
    old = msgspec.json.decode(json.dumps(data), type=Record)
    assert old.machine_speed is None and old.machine_speed_version is None
    assert old == make_record()


def test_stored_runs_from_before_the_gauge_still_load() -> None:
    sample = Path(__file__).resolve().parents[3] / "reports" / "runs" / "sample-quick"
    records = list(results.iter_records(sample / results.RESULTS_FILE))
    assert len(records) > 100
    assert len((sample / results.RESULTS_FILE).read_bytes().splitlines()) == len(records)
    info = results.read_info(sample)
    assert info.config.gauge_s == 0.2  # the default, absent from the stored file


def test_an_old_run_json_without_gauge_fields_loads() -> None:
    info = RunInfo(run_id="r", created_at="x", argv=[], config=CONFIG, env=ENV)
    data = json.loads(msgspec.json.encode(info))
    del data["gauge"], data["config"]["gauge_s"]
    old = msgspec.json.decode(json.dumps(data), type=RunInfo)
    assert old.gauge == {} and old.config.gauge_s == 0.2

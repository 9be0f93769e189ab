"""Locust statistics -> result records: counts, correct-only rates, errors, time series,
the ceiling stated next to every result, generator-bound flags, and the store round trip."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import msgspec
import pytest

from bench.flows import records
from bench.flows.locust_csv import AGGREGATED, FailureRow, HistoryRow, LocustOutput, RequestRow
from bench.flows.records import Ceiling, FlowRun
from bench.infra.cpu import CpuAccount, SetShare
from bench.infra.results import (
    FLAG_ERRORS,
    FLAG_GENERATOR_BOUND,
    FLAG_UNPINNED,
    Config,
    Environment,
    Git,
    LocustTopology,
    Machine,
    Resources,
    RunInfo,
    RunStore,
    Software,
)

ENV = Environment(
    machine=Machine(
        cpu_model="Test CPU", logical_cpus=2, physical_cores=2, memory_total_mib=1024,
        kernel="6.0", os="Linux", architecture="x86_64",
    ),
    software=Software(python="3.11.7", python_implementation="CPython",
                      packages={"locust": "2.47.0"}, tools={}),
    git=Git(commit="a" * 40, short="aaaaaaaa", dirty=False, branch="main"),
)  # fmt: skip
TOPOLOGY = LocustTopology(
    master_host="127.0.0.1", master_port=5557, workers=2, master_cpus=[1],
    worker_cpus=[[1], [1]], users=10, spawn_rate=5.0, run_time_s=10.0,
    locustfile="bench/flows/journeys.py", user_classes=["CatalogUser=6"],
    think_time_s=[0.5, 2.0], locust_version="2.47.0",
)  # fmt: skip
RESOURCES = Resources(
    server_cpu_mean=40.0, server_cpu_max=60.0, server_rss_max_mib=50.0,
    generator_cpu_mean=30.0, generator_cpu_max=45.0, server_cpuset_busy=42.0,
    generator_cpuset_busy=35.0, samples=20, interval_s=0.5,
)  # fmt: skip
RUN = FlowRun(
    run_id="20260101T000000Z-aaaaaaaa", env=ENV, app="velocix", server="granian",
    scenario="flows", phase="run", topology=TOPOLOGY, started_at="2026-01-01T00:00:00+00:00",
    finished_at="2026-01-01T00:00:12+00:00", server_command=["granian"],
    driver_command=["locust", "--master"], resources=RESOURCES, worker_cpu_mean=[20.0, 22.0],
    generator_cpus=1, server_cpus=1, pinned=True,
    ceiling=Ceiling(1000.0, "20251231T000000Z-aaaaaaaa:granian/raw/locust_ceiling/c32/calibration"),
)  # fmt: skip
PCT = {"50%": 2.0, "66%": 3.0, "75%": 3.0, "80%": 4.0, "90%": 5.0, "95%": 8.0, "98%": 12.0,
       "99%": 15.0, "99.9%": 30.0, "99.99%": 31.0, "100%": 31.0}  # fmt: skip


def row(kind: str, name: str, requests: int, failures: int, rps: float) -> RequestRow:
    return RequestRow(
        request_type=kind, name=name, requests=requests, failures=failures, median_ms=2.0,
        mean_ms=3.5, min_ms=0.5, max_ms=31.0, mean_bytes=100.0, rps=rps,
        failures_per_s=0.0, percentiles=dict(PCT),
    )  # fmt: skip


def history(name: str, kind: str, timestamp: int, users: int, total: int, fails: int) -> HistoryRow:
    return HistoryRow(
        timestamp=timestamp, users=users, request_type=kind, name=name, rps=0.0,
        failures_per_s=0.0, percentiles={"50%": 2.0, "95%": float(timestamp % 10)},
        total_requests=total, total_failures=fails,
    )  # fmt: skip


FAILURES = (
    FailureRow("GET", "/db/[id]", "CatchResponseError('$.randomNumber: N != expected N')", 3),
    FailureRow("GET", "/db/[id]", "CatchResponseError('status 500, expected 200')", 2),
    FailureRow("WS", "/ws/echo message", "EchoMismatch('sent a str frame, got bytes back')", 4),
    FailureRow("WS", "/ws/echo connect", "ConnectionRefusedError(111, 'Connection refused')", 1),
    FailureRow("GET", "/users/[id]", "timeout('timed out')", 1),
    FailureRow("GET", "/users/[id]", "ConnectionResetError(104, 'reset by peer')", 1),
)
OUTPUT = LocustOutput(
    requests=(
        row("GET", "/db/[id]", 500, 5, 50.0),
        row("GET", "/users/[id]", 100, 2, 10.0),
        row("WS", "/ws/echo connect", 10, 1, 1.0),
        row("WS", "/ws/echo message", 390, 4, 39.0),
        row("", AGGREGATED, 1000, 12, 100.0),
    ),
    history=(
        history(AGGREGATED, "", 100, 0, 0, 0),  # the master waiting for its workers
        history(AGGREGATED, "", 101, 10, 0, 0),
        history(AGGREGATED, "", 102, 10, 90, 0),
        history(AGGREGATED, "", 103, 10, 210, 3),
        history(AGGREGATED, "", 104, 10, 300, 3),
        history(AGGREGATED, "", 105, 10, 420, 6),
        history("/db/[id]", "GET", 102, 10, 40, 0),
    ),
    failures=FAILURES,
    exceptions=(),
)


def by_name(name: str) -> records.Record:
    found = [r for r in records.flow_records(OUTPUT, RUN) if r.locust and r.locust.name == name]
    assert len(found) == 1
    return found[0]


def test_one_record_per_request_name_then_the_aggregate() -> None:
    made = records.flow_records(OUTPUT, RUN)
    assert [r.record_id for r in made] == [
        "granian/velocix/flows/c10/run1/GET /db/[id]",
        "granian/velocix/flows/c10/run1/GET /users/[id]",
        "granian/velocix/flows/c10/run1/WS /ws/echo connect",
        "granian/velocix/flows/c10/run1/WS /ws/echo message",
        "granian/velocix/flows/c10/run1/Aggregated",
    ]
    assert {r.source for r in made} == {"locust"}
    assert {r.phase for r in made} == {"run"}
    assert {r.cell_id for r in made} == {"granian/velocix/flows/c10"}
    assert [r.protocol for r in made] == ["http", "http", "ws", "ws", "http+ws"]


def test_only_correct_answers_count_as_throughput() -> None:
    aggregate = by_name(AGGREGATED)
    assert aggregate.requests == 1000
    assert aggregate.ok_requests == 988
    assert aggregate.elapsed_s == pytest.approx(10.0)  # Locust's 1000 requests at 100/s
    assert aggregate.rps == pytest.approx(98.8)
    db = by_name("/db/[id]")
    assert (db.ok_requests, db.rps) == (495, pytest.approx(49.5))
    assert db.latency is not None
    assert (db.latency.p50, db.latency.p99, db.latency.p999, db.latency.max) == (2, 15, 30, 31)


def test_failures_are_counted_by_kind_with_their_messages() -> None:
    db = by_name("/db/[id]")
    assert db.errors is not None
    assert (db.errors.mismatch, db.errors.status, db.errors.total) == (3, 2, 5)
    assert db.locust is not None
    assert db.locust.failure_messages == {
        "$.randomNumber: N != expected N": 3,
        "status 500, expected 200": 2,
    }
    aggregate = by_name(AGGREGATED)
    assert aggregate.errors is not None
    assert aggregate.errors.total == 12
    assert (aggregate.errors.connect, aggregate.errors.timeout, aggregate.errors.read) == (1, 1, 1)
    assert aggregate.errors.mismatch == 7
    assert FLAG_ERRORS in aggregate.flags


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        pytest.param("CatchResponseError('status 404, expected 200')", "status", id="status"),
        pytest.param("CatchResponseError('$.id: 2 != expected 1')", "mismatch", id="body"),
        pytest.param("EchoMismatch(\"echo 'b' != sent 'a'\")", "mismatch", id="ws-echo"),
        pytest.param("ConnectionRefusedError(111, 'Connection refused')", "connect", id="refused"),
        pytest.param("timeout('timed out')", "timeout", id="timeout"),
        pytest.param("ConnectionClosedError(None, None, None)", "read", id="closed"),
    ],
)
def test_failure_kinds(error: str, kind: str) -> None:
    assert records.failure_kind(error) == kind


def test_time_series_starts_with_the_users_and_rates_use_cumulative_counts() -> None:
    points = by_name(AGGREGATED).locust.history  # type: ignore[union-attr]
    assert [p.t for p in points] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert [p.users for p in points] == [10] * 5
    # Trailing 3 s: (90-0)/1, (210-0)/2, (300-0)/3, (420-90)/3.
    assert [p.rps for p in points] == [0.0, 90.0, 105.0, 100.0, 110.0]
    assert points[-1].failures_per_s == 2.0
    assert points[1].p95 == 2.0 and points[1].p50 == 2.0
    db_points = by_name("/db/[id]").locust.history  # type: ignore[union-attr]
    assert [(p.t, p.rps) for p in db_points] == [(1.0, 0.0)]


def test_the_ceiling_is_stated_next_to_every_result() -> None:
    for record in records.flow_records(OUTPUT, RUN):
        assert record.locust is not None
        assert record.locust.ceiling_rps_per_worker == 1000.0
        assert record.locust.rps_per_worker == pytest.approx(49.4)  # 98.8 ok req/s / 2
        assert record.locust.topology.workers == 2
        assert "49 req/s per worker = 5% of Locust's ceiling of 1000" in (record.reason or "")
        assert FLAG_GENERATOR_BOUND not in record.flags


def test_near_the_ceiling_every_record_is_flagged_generator_bound() -> None:
    near = replace(RUN, ceiling=Ceiling(52.0, "x:y"))
    made = records.flow_records(OUTPUT, near)
    assert all(FLAG_GENERATOR_BOUND in record.flags for record in made)
    assert "95% of Locust's ceiling" in (made[-1].reason or "")
    assert "GENERATOR-BOUND" in (made[-1].reason or "")


def test_a_saturated_worker_is_generator_bound_even_far_from_the_ceiling() -> None:
    busy = replace(RUN, worker_cpu_mean=[20.0, 97.0])
    reasons = records.generator_bound_reasons(49.4, busy)
    assert reasons == ["worker 1 used 97% of a CPU"]
    assert FLAG_GENERATOR_BOUND in records.flow_records(OUTPUT, busy)[0].flags


def test_without_a_ceiling_the_note_says_it_was_not_measured() -> None:
    made = records.flow_records(OUTPUT, replace(RUN, ceiling=None, pinned=False))
    assert "ceiling was not measured" in (made[-1].reason or "")
    assert made[-1].locust is not None and made[-1].locust.ceiling_rps_per_worker is None
    assert FLAG_UNPINNED in made[-1].flags


def test_ceiling_record_is_a_calibration_read_back_as_the_ceiling() -> None:
    calibration = replace(
        RUN, app="raw", scenario="locust_ceiling", phase="calibration", ceiling=None,
        topology=msgspec.structs.replace(TOPOLOGY, workers=1, users=32),
    )  # fmt: skip
    record = records.ceiling_record(OUTPUT, calibration)
    assert record.record_id == "granian/raw/locust_ceiling/c32/calibration"
    assert record.phase == "calibration" and record.run_index is None
    assert FLAG_GENERATOR_BOUND in record.flags
    ceiling = records.ceiling_from(record)
    assert ceiling == Ceiling(98.8, f"{RUN.run_id}:granian/raw/locust_ceiling/c32/calibration")
    assert records.ceiling_from(records.flow_records(OUTPUT, RUN)[-1]) is None


def test_failure_record_has_the_reason_and_no_figures() -> None:
    record = records.failure_record(RUN, "granian/velocix/flows/c10/check", "check", "wrong")
    assert (record.kind, record.phase, record.reason) == ("failure", "check", "wrong")
    assert record.rps is None and record.latency is None and record.locust is None
    assert records.ceiling_from(record) is None


def test_latency_is_none_before_any_answer() -> None:
    empty = replace(row("GET", "/db/[id]", 0, 0, 0.0), percentiles={"50%": None})
    assert records.latency_of(empty) is None


def test_records_round_trip_through_the_run_store(tmp_path: Path) -> None:
    config = Config(
        profile="loadtest", apps=["velocix"], servers=["granian"], scenarios=["flows"],
        concurrency=[10], duration_s=10.0, warmup_s=0.0, primer_s=0.0, runs=1,
        server_cpus=[0], generator_cpus=[1], driver="locust", seed=1, pool_size=0,
        check_samples=3, database="sqlite", timeout_s=30.0,
    )  # fmt: skip
    info = RunInfo(run_id=RUN.run_id, created_at="now", argv=[], config=config, env=ENV)
    store = RunStore.create(tmp_path, info)
    made = records.flow_records(OUTPUT, RUN)
    for record in made:
        store.append(record)
    assert store.records() == made


def test_rate_per_worker_cpu_corrects_for_a_busy_machine() -> None:
    aggregate = by_name(AGGREGATED)
    assert aggregate.locust is not None
    # 98.8 correct req/s made with 0.42 CPU-seconds per second (20% + 22%).
    assert aggregate.locust.rps_per_worker_cpu == pytest.approx(98.8 / 0.42, rel=1e-3)
    assert records.rps_per_worker_cpu(OUTPUT, replace(RUN, worker_cpu_mean=[])) is None


def test_a_ceiling_measured_without_a_whole_cpu_says_it_is_understated() -> None:
    starved = replace(
        RUN, app="raw", scenario="locust_ceiling", phase="calibration", ceiling=None,
        worker_cpu_mean=[37.0], topology=msgspec.structs.replace(TOPOLOGY, workers=1),
    )  # fmt: skip
    note = records.ceiling_record(OUTPUT, starved).reason or ""
    assert "the worker got only 37% of a CPU" in note and "about 267 req/s" in note
    whole = replace(starved, worker_cpu_mean=[96.0])
    assert "understated" not in (records.ceiling_record(OUTPUT, whole).reason or "")


def account(generator_foreign: float) -> CpuAccount:
    def share(cpu: int, foreign: float) -> SetShare:
        return SetShare(cpus=[cpu], busy=60.0, irq=5.0, steal=0.0, server=40.0, generator=0.0,
                        runner=0.2, kernel=0.0, foreign=foreign)  # fmt: skip

    return CpuAccount(
        wall_s=10.0, server_set=share(0, 1.0), generator_set=share(1, generator_foreign)
    )


def test_other_processes_on_locusts_cpus_make_the_run_contended() -> None:
    busy = replace(RUN, resources=msgspec.structs.replace(RESOURCES, cpu=account(38.0)))
    assert "contended" in records.flow_records(OUTPUT, busy)[-1].flags
    quiet = replace(RUN, resources=msgspec.structs.replace(RESOURCES, cpu=account(2.0)))
    assert "contended" not in records.flow_records(OUTPUT, quiet)[-1].flags
    assert "contended" not in records.flow_records(OUTPUT, RUN)[-1].flags  # not accounted

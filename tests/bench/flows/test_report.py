"""The report's user-flow section: from stored records only, the ceiling next to every run,
a loud warning when generator-bound, failures shown, nothing when there is no Locust record."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bench.flows import records, report
from bench.flows.locust_csv import AGGREGATED, FailureRow, HistoryRow, LocustOutput, RequestRow
from bench.flows.records import Ceiling, FlowRun
from bench.infra.results import Environment, Git, LocustTopology, Machine, Record, Software

ENV = Environment(
    machine=Machine(cpu_model="Test CPU", logical_cpus=2, physical_cores=2,
                    memory_total_mib=1024, kernel="6.0", os="Linux", architecture="x86_64"),
    software=Software(python="3.11.7", python_implementation="CPython", packages={}, tools={}),
    git=Git(commit="a" * 40, short="aaaaaaaa", dirty=False, branch="main"),
)  # fmt: skip
TOPOLOGY = LocustTopology(
    master_host="127.0.0.1", master_port=41000, workers=2, master_cpus=[1],
    worker_cpus=[[1], [1]], users=10, spawn_rate=5.0, run_time_s=4.0,
    locustfile="bench/flows/journeys.py", user_classes=["CatalogUser=6", "ChatUser=1"],
    think_time_s=[0.5, 2.0], locust_version="2.47.0",
)  # fmt: skip
RUN = FlowRun(
    run_id="r1", env=ENV, app="velocix", server="granian", scenario="flows", phase="run",
    topology=TOPOLOGY, started_at="s", finished_at="f", server_command=[], driver_command=[],
    resources=None, worker_cpu_mean=[10.0, 12.0], generator_cpus=1, server_cpus=1,
    pinned=True, ceiling=Ceiling(2000.0, "r0:granian/raw/locust_ceiling/c32/calibration"),
)  # fmt: skip
PCT = {"50%": 2.0, "95%": 9.0, "99%": 14.0, "100%": 20.0, "75%": 3.0, "90%": 5.0, "99.9%": 20.0}


def stats_row(kind: str, name: str, requests: int, failures: int, rps: float) -> RequestRow:
    return RequestRow(kind, name, requests, failures, 2.0, 3.0, 0.5, 20.0, 80.0, rps, 0.0, PCT)


def point(timestamp: int, total: int, fails: int) -> HistoryRow:
    return HistoryRow(timestamp, 10, "", AGGREGATED, 0.0, 0.0, {"50%": 2.0, "95%": 9.0},
                      total, fails)  # fmt: skip


OUTPUT = LocustOutput(
    requests=(
        stats_row("GET", "/db/[id]", 300, 4, 75.0),
        stats_row("", AGGREGATED, 400, 4, 100.0),
    ),
    history=tuple(point(100 + t, 100 * t, t) for t in range(5)),
    failures=(FailureRow("GET", "/db/[id]", "CatchResponseError('$.id: N != expected N')", 4),),
    exceptions=(),
)


def flow_records(run: FlowRun = RUN) -> list[Record]:
    return records.flow_records(OUTPUT, run)


def test_no_locust_record_means_no_section() -> None:
    lab_only = [replace_source(record, "lab") for record in flow_records()]
    assert report.section_html(lab_only) is None


def replace_source(record: Record, source: str) -> Record:
    import msgspec

    return msgspec.structs.replace(record, source=source)


def test_section_states_topology_ceiling_rows_and_failures() -> None:
    html = report.section_html(flow_records())
    assert html is not None
    assert f'id="{report.ANCHOR}"' in html
    assert "50 req/s per worker = 2% of Locust&#39;s ceiling of 2,000 req/s per worker" in html
    assert "2 worker processes" in html and "127.0.0.1:41000" in html
    assert "CatalogUser=6" in html
    assert "/db/[id]" in html and "Aggregated" in html
    assert "4 \N{MULTIPLICATION SIGN} <code>$.id: N != expected N</code>" in html
    assert "<svg" in html and "correct answers" in html  # the time-series chart
    assert "Generator-bound" not in html


def test_generator_bound_runs_get_a_loud_warning() -> None:
    near = replace(RUN, ceiling=Ceiling(52.0, "r0:x"))  # 49.5 req/s per worker: 95%
    html = report.section_html(flow_records(near))
    assert html is not None
    assert "⚠ Generator-bound" in html and "add workers or hosts" in html


def test_failed_runs_show_their_reason() -> None:
    failed = records.failure_record(RUN, "granian/velocix/flows/c10/check", "check", "bad /db/1")
    html = report.section_html([failed])
    assert html is not None
    assert "failed: bad /db/1" in html


def test_the_ceiling_run_comes_first_and_explains_itself() -> None:
    calibration = replace(
        RUN, app="raw", scenario="locust_ceiling", phase="calibration", ceiling=None
    )
    views = report.views([*flow_records(), records.ceiling_record(OUTPUT, calibration)])
    assert [view.phase for view in views] == ["calibration", "run"]
    assert views[0].ceiling.startswith("Locust's ceiling: 50 checked requests per second")
    assert [row.name for row in views[1].rows] == ["/db/[id]", AGGREGATED]


@pytest.mark.parametrize("history", [(), (point(100, 0, 0),)])
def test_too_short_a_history_draws_no_chart(history: tuple[HistoryRow, ...]) -> None:
    short = LocustOutput(OUTPUT.requests, history, OUTPUT.failures, ())
    aggregate = records.flow_records(short, RUN)[-1]
    assert report.timeline(aggregate, "k") is None

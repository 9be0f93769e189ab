"""Driver selection, the WebSocket client's and Locust's output parsing, pool files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import drivers
from bench.drivers.base import DriverError
from bench.drivers.locust import LocustDriver, parse_stats_csv
from bench.drivers.ws import WsDriver, parse_summary
from bench.drivers.ws_client import Tally, dump_pool, load_pool, summary
from bench.scenarios.base import Case, Expect, HttpRequest, WsMessage

LOCUST_CSV = """Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,\
Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,\
90%,95%,98%,99%,99.9%,99.99%,100%
GET,GET,900,10,4,4.5,1,30,13.0,450.0,5.0,4,5,5,6,7,8,9,12,25,30,30
,Aggregated,900,10,4,4.5,1,30,13.0,450.0,5.0,4,5,5,6,7,8,9,12,25,30,30
"""


def test_locust_csv_counts_failures_as_errors_not_throughput(tmp_path: Path) -> None:
    path = tmp_path / "x_stats.csv"
    path.write_text(LOCUST_CSV)
    result = parse_stats_csv(path, 2.0)
    assert (result.requests, result.ok_requests, result.errors.status) == (900, 890, 10)
    assert result.rps == 445.0
    assert (result.latency.p50, result.latency.p99, result.latency.p999) == (4.0, 12.0, 25.0)
    assert result.notes and "generator-bound" in result.notes[0]


def test_locust_csv_missing_is_a_driver_error(tmp_path: Path) -> None:
    with pytest.raises(DriverError, match="unreadable Locust stats"):
        parse_stats_csv(tmp_path / "absent.csv", 1.0)


def test_locust_is_generator_bound_by_construction(tmp_path: Path) -> None:
    driver = LocustDriver()
    assert driver.generator_bound
    cases = [Case(HttpRequest("POST", "/items", (("a", "b"),), b"\x00{}"), Expect())]
    pool = driver.prepare(cases, 200, tmp_path / "pool.json")
    (entry,) = json.loads(pool.path.read_text())
    assert entry == {"method": "POST", "path": "/items", "headers": {"a": "b"}, "body": "AHt9"}


def test_ws_pool_round_trips_text_and_binary(tmp_path: Path) -> None:
    messages: list[str | bytes] = ["héllo", b"\x00\xff", ""]
    path = tmp_path / "pool.json"
    path.write_text(dump_pool(messages))
    assert load_pool(path) == messages
    pool = WsDriver().prepare([WsMessage(m) for m in messages], 101, tmp_path / "p.json")
    assert load_pool(pool.path) == messages


def test_ws_summary_counts_mismatches_as_errors() -> None:
    tally = Tally()
    tally.latencies_ns = [1_000_000, 2_000_000, 3_000_000, 4_000_000]
    tally.ok, tally.mismatch, tally.bytes = 3, 1, 400
    tally.errors["read"] = 2
    result = parse_summary(summary(tally, 2.0))
    assert (result.requests, result.ok_requests, result.rps) == (4, 3, 1.5)
    assert (result.errors.mismatch, result.errors.read, result.errors.total) == (1, 2, 3)
    assert result.latency.p50 == pytest.approx(2.5)
    assert result.latency.max == pytest.approx(4.0)


def test_ws_summary_rejects_broken_output() -> None:
    with pytest.raises(DriverError, match="unreadable"):
        parse_summary({"messages": 1})


def test_http_driver_prefers_wrk_and_falls_back_to_locust(monkeypatch: pytest.MonkeyPatch) -> None:
    wrk = drivers.DRIVERS["wrk"]
    monkeypatch.setattr(type(wrk), "available", lambda self: True)
    assert drivers.http_driver("auto").name == "wrk"
    assert drivers.http_driver("locust").name == "locust"
    monkeypatch.setattr(type(wrk), "available", lambda self: False)
    assert drivers.http_driver("auto").name == "locust"
    with pytest.raises(DriverError, match="wrk is not installed"):
        drivers.http_driver("wrk")
    with pytest.raises(DriverError, match="unknown HTTP driver"):
        drivers.http_driver("ab")
    assert drivers.driver_for("ws").name == "ws-client"

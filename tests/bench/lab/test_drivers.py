"""Driver selection, the WebSocket client's and Locust's output parsing, pool files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.lab import drivers
from bench.lab.drivers.base import DriverError
from bench.lab.drivers.locust import (
    LocustDriver,
    histogram_percentile,
    parse_stats_json,
    read_stats,
)
from bench.lab.drivers.ws import WsDriver, parse_summary
from bench.lab.drivers.ws_client import Tally, dump_pool, load_pool, summary
from bench.lab.scenarios.base import Case, Expect, HttpRequest, WsMessage

LOCUST_ENTRY = {
    "name": "GET", "method": "GET", "start_time": 100.0, "last_request_timestamp": 102.0,
    "num_requests": 900, "num_none_requests": 0, "num_failures": 10,
    "total_response_time": 4050.0, "max_response_time": 30.5, "min_response_time": 0.5,
    "total_content_length": 11_700,
    "response_times": {"1": 400, "4": 350, "9": 140, "30": 10},
}  # fmt: skip


def test_locust_stats_count_failures_as_errors_not_throughput() -> None:
    post = {**LOCUST_ENTRY, "name": "POST", "num_requests": 100, "num_failures": 0,
            "response_times": {"2": 100}, "last_request_timestamp": 101.5,
            "total_response_time": 50.0}  # fmt: skip
    result = parse_stats_json([LOCUST_ENTRY, post], 2.0)
    assert (result.requests, result.ok_requests, result.errors.status) == (1000, 990, 10)
    assert result.elapsed_s == 2.0  # the run's length
    assert result.rps == 495.0
    assert (result.latency.p50, result.latency.p90, result.latency.p999) == (2.0, 9.0, 30.0)
    assert result.latency.mean == pytest.approx(4.1)  # (4050 + 50) ms / 1000 requests
    assert result.notes and "generator-bound" in result.notes[0]


def test_locust_rates_divide_by_the_run_length_not_the_busy_span() -> None:
    # The smoke run the issue found: 16 requests in the first 0.95 ms of a 1 s run were
    # stored as 17,305 req/s. They are 16 requests in 1 s.
    burst = {**LOCUST_ENTRY, "num_requests": 16, "num_failures": 0, "start_time": 100.0,
             "last_request_timestamp": 100.00095, "response_times": {"1": 16}}  # fmt: skip
    result = parse_stats_json([burst], 1.0)
    assert result.elapsed_s == 1.0 and result.rps == 16.0
    late = {**LOCUST_ENTRY, "last_request_timestamp": 103.5}  # answers past the run time
    assert parse_stats_json([late], 2.0).elapsed_s == 3.5


def test_histogram_percentile_walks_the_buckets() -> None:
    histogram = {1.0: 50, 2.0: 40, 10.0: 10}
    assert [histogram_percentile(histogram, p) for p in (50, 51, 90, 91, 100)] == [
        1.0, 2.0, 2.0, 10.0, 10.0,
    ]  # fmt: skip
    assert histogram_percentile({}, 50) == 0.0


def test_locust_stats_missing_or_empty_are_driver_errors(tmp_path: Path) -> None:
    with pytest.raises(DriverError, match="unreadable Locust stats"):
        read_stats(tmp_path / "absent.json", 1.0)
    with pytest.raises(DriverError, match="no request"):
        parse_stats_json([{**LOCUST_ENTRY, "num_requests": 0, "num_failures": 0}], 1.0)


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

"""wrk driver: the Lua pool it cycles and the JSON summary its done() hook writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.lab.drivers.base import DriverError
from bench.lab.drivers.wrk import WrkDriver, lua_pool, lua_string, parse_summary, read_summary
from bench.lab.scenarios.base import Case, Expect, HttpRequest, WsMessage

SUMMARY: dict[str, Any] = {
    "duration_us": 2_000_000,
    "requests": 10_000,
    "bytes": 1_500_000,
    "errors": {"connect": 1, "read": 2, "write": 3, "status": 40, "timeout": 4},
    "expect": 200,
    "hooked": False,
    "unexpected": 0,
    "latency_us": {
        "min": 100, "max": 9000, "mean": 1234.5, "stdev": 10.0,
        "p50": 1000, "p75": 1500, "p90": 2000, "p99": 5000, "p999": 8000,
    },
}  # fmt: skip


def test_summary_counts_only_expected_statuses_as_throughput() -> None:
    result = parse_summary(SUMMARY)
    assert result.requests == 10_000
    assert result.ok_requests == 9_960  # wrk's errors.status (status > 399) subtracted
    assert result.elapsed_s == 2.0
    assert result.rps == pytest.approx(4_980.0)
    assert result.errors.status == 40
    assert (result.errors.connect, result.errors.read, result.errors.write) == (1, 2, 3)
    assert result.errors.timeout == 4
    assert result.bytes_read == 1_500_000


def test_summary_converts_latency_to_milliseconds() -> None:
    latency = parse_summary(SUMMARY).latency
    assert (latency.p50, latency.p75, latency.p90) == (1.0, 1.5, 2.0)
    assert (latency.p99, latency.p999, latency.max) == (5.0, 8.0, 9.0)
    assert latency.mean == pytest.approx(1.2345)


def test_summary_uses_the_script_counter_when_an_error_status_is_expected() -> None:
    # A 404 scenario: every response is a wrk "status error", only the hook knows better.
    data = {**SUMMARY, "expect": 404, "hooked": True, "unexpected": 7}
    data["errors"] = {**SUMMARY["errors"], "status": 10_000}
    result = parse_summary(data)
    assert result.ok_requests == 9_993
    assert result.errors.status == 7


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"requests": None}, "unreadable"),
        ({"latency_us": {}}, "unreadable"),
        ({"duration_us": 0}, "duration"),
    ],
)
def test_summary_rejects_broken_output(change: dict[str, Any], message: str) -> None:
    with pytest.raises(DriverError, match=message):
        parse_summary({**SUMMARY, **change})


def test_read_summary_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DriverError, match="no readable summary"):
        read_summary(tmp_path / "absent.json")
    (tmp_path / "ok.json").write_text(json.dumps(SUMMARY))
    assert read_summary(tmp_path / "ok.json").requests == 10_000


def test_lua_string_escapes_everything_but_printable_ascii() -> None:
    assert lua_string("GET") == '"GET"'
    assert lua_string('a"b\\c') == '"a\\034b\\092c"'
    assert lua_string("é\n") == '"\\195\\169\\010"'
    assert lua_string(b"\x00\xff") == '"\\000\\255"'


def test_lua_pool_lists_every_request_with_headers_and_body() -> None:
    cases = [
        Case(HttpRequest("GET", "/users/1"), Expect()),
        Case(
            HttpRequest("POST", "/items", (("content-type", "application/json"),), b"{}"), Expect()
        ),
    ]
    source = lua_pool(cases)
    assert source.startswith("return {\n") and source.endswith("}\n")
    assert '{method = "GET", path = "/users/1", headers = {}, body = nil},' in source
    assert (
        '{method = "POST", path = "/items", headers = {["content-type"] = "application/json"}, '
        'body = "{}"},'
    ) in source


def test_prepare_refuses_websocket_messages(tmp_path: Path) -> None:
    with pytest.raises(DriverError, match="HTTP cases"):
        WrkDriver().prepare([WsMessage("x")], 200, tmp_path / "pool.lua")
    pool = WrkDriver().prepare([Case(HttpRequest("GET", "/"), Expect())], 200, tmp_path / "p.lua")
    assert pool.size == 1 and pool.expect_status == 200
    assert pool.path.read_text().startswith("return {")

"""Reading Locust's CSV statistics: the exact columns Locust 2.x writes, N/A, bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.flows.locust_csv import (
    AGGREGATED,
    LocustCsvError,
    read_failures,
    read_history,
    read_output,
    read_requests,
)

PERCENTILES = "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
STATS = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
    f"{PERCENTILES}\n"
    "GET,/db/[id],126,3,1,2.26,0.89,26.9,30.1,24.45,0.58,1,2,2,2,4,6,9,23,27,27,27\n"
    "WS,/ws/echo message,39,0,1,1.24,0.42,5.81,118.3,7.57,0.0,1,1,1,2,3,4,6,6,6,6,6\n"
    ",Aggregated,165,3,1,2.0,0.42,26.9,51.0,32.0,0.58,1,2,2,2,4,6,9,23,27,27,27\n"
)
HISTORY_HEADER = (
    f"Timestamp,User Count,Type,Name,Requests/s,Failures/s,{PERCENTILES},"
    "Total Request Count,Total Failure Count,Total Median Response Time,"
    "Total Average Response Time,Total Min Response Time,Total Max Response Time,"
    "Total Average Content Size\n"
)
NA = ",".join(["N/A"] * 11)
HISTORY = HISTORY_HEADER + (
    f"100,0,,Aggregated,0.000000,0.000000,{NA},0,0,0,0.0,0,0,0\n"
    "101,10,GET,/db/[id],0.000000,0.000000,1,1,2,3,5,6,27,27,27,27,27,46,1,1,2.8,0.9,26.9,30.1\n"
    "101,10,,Aggregated,0.000000,0.000000,1,2,2,3,6,21,26,27,30,30,30,60,1,1,3.3,0.6,30.4,54.0\n"
)
FAILURES = (
    "Method,Name,Error,Occurrences,First Seen,Last Seen\n"
    "GET,/db/[id],\"CatchResponseError('$.randomNumber: 8 != expected 7')\",3,"
    "2026-11-25T04:19:55Z,2026-11-25T04:19:58Z\n"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def write_output(tmp_path: Path, stats: str = STATS) -> Path:
    prefix = tmp_path / "flows"
    write(tmp_path, "flows_stats.csv", stats)
    write(tmp_path, "flows_stats_history.csv", HISTORY)
    write(tmp_path, "flows_failures.csv", FAILURES)
    write(tmp_path, "flows_exceptions.csv", "Count,Message,Traceback,Nodes\n")
    return prefix


def test_request_rows_keep_counts_rates_and_percentiles(tmp_path: Path) -> None:
    rows = read_requests(write(tmp_path, "s.csv", STATS))
    db = rows[0]
    assert (db.request_type, db.name, db.requests, db.failures) == ("GET", "/db/[id]", 126, 3)
    assert db.ok_requests == 123
    assert db.rps == pytest.approx(24.45)
    assert db.percentiles["95%"] == 6.0
    assert db.percentiles["99.9%"] == 27.0
    assert list(db.percentiles) == PERCENTILES.split(",")
    assert rows[-1].key == ("", AGGREGATED)


def test_history_reads_na_as_none_and_keeps_time_order(tmp_path: Path) -> None:
    rows = read_history(write(tmp_path, "h.csv", HISTORY))
    assert [row.timestamp for row in rows] == [100, 101, 101]
    assert rows[0].percentiles["95%"] is None
    assert rows[1].key == ("GET", "/db/[id]")
    assert (rows[2].users, rows[2].total_requests, rows[2].total_failures) == (10, 60, 1)
    assert rows[2].percentiles["95%"] == 21.0


def test_failures_keep_locusts_error_text(tmp_path: Path) -> None:
    (row,) = read_failures(write(tmp_path, "f.csv", FAILURES))
    assert row.key == ("GET", "/db/[id]")
    assert row.error == "CatchResponseError('$.randomNumber: 8 != expected 7')"
    assert row.occurrences == 3


def test_read_output_splits_entries_from_the_aggregate(tmp_path: Path) -> None:
    output = read_output(write_output(tmp_path))
    assert output.aggregated.requests == 165
    assert [row.name for row in output.entries] == ["/db/[id]", "/ws/echo message"]
    assert output.exceptions == ()


def test_output_without_aggregated_row_is_an_error(tmp_path: Path) -> None:
    header = STATS.splitlines()[0] + "\n"
    with pytest.raises(LocustCsvError, match="no Aggregated row"):
        read_output(write_output(tmp_path, header))


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LocustCsvError, match="cannot read"):
        read_requests(tmp_path / "absent_stats.csv")


def test_non_numeric_value_names_the_column(tmp_path: Path) -> None:
    broken = STATS.replace("GET,/db/[id],126,", "GET,/db/[id],lots,")
    with pytest.raises(LocustCsvError, match="Request Count is 'lots'"):
        read_requests(write(tmp_path, "s.csv", broken))


def test_missing_column_is_named(tmp_path: Path) -> None:
    broken = STATS.replace("Failure Count", "Fails")
    with pytest.raises(LocustCsvError, match="no column 'Failure Count'"):
        read_requests(write(tmp_path, "s.csv", broken))

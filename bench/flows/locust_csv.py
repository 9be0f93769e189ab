"""Read Locust's CSV statistics (``--csv PREFIX --csv-full-history``) into typed rows.

Locust writes, and keeps rewriting during the run, four files; the master's are the whole
distributed run's:

- ``PREFIX_stats.csv`` — one row per (type, name) and an ``Aggregated`` row: counts,
  response times (ms), ``Requests/s`` over the run, and the percentile columns
  ``50%`` … ``100%`` (whole milliseconds, ``N/A`` before any answer);
- ``PREFIX_stats_history.csv`` — every second, one row per (type, name) (full history) and
  an ``Aggregated`` row: users, current requests and failures per second, percentiles over
  Locust's rolling window, cumulative counts;
- ``PREFIX_failures.csv`` — one row per (method, name, error): occurrences;
- ``PREFIX_exceptions.csv`` — errors raised in user code (a bug in a locustfile).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

AGGREGATED = "Aggregated"


class LocustCsvError(ValueError):
    """A Locust CSV file is missing or not in the expected format."""


@dataclass(frozen=True, slots=True)
class RequestRow:
    """One row of ``_stats.csv``."""

    request_type: str
    name: str
    requests: int
    failures: int
    median_ms: float
    mean_ms: float
    min_ms: float
    max_ms: float
    mean_bytes: float
    rps: float
    failures_per_s: float
    percentiles: dict[str, float | None]

    @property
    def key(self) -> tuple[str, str]:
        """``(type, name)``: how Locust tells its statistics entries apart."""
        return (self.request_type, self.name)

    @property
    def ok_requests(self) -> int:
        """Requests that got the exact expected answer (Locust counts failures as requests)."""
        return max(self.requests - self.failures, 0)


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One row of ``_stats_history.csv`` (one entry at one second)."""

    timestamp: int
    users: int
    request_type: str
    name: str
    rps: float
    failures_per_s: float
    percentiles: dict[str, float | None]
    total_requests: int
    total_failures: int

    @property
    def key(self) -> tuple[str, str]:
        """``(type, name)`` of the entry."""
        return (self.request_type, self.name)


@dataclass(frozen=True, slots=True)
class FailureRow:
    """One row of ``_failures.csv``."""

    request_type: str
    name: str
    error: str
    occurrences: int

    @property
    def key(self) -> tuple[str, str]:
        """``(type, name)`` of the entry that failed."""
        return (self.request_type, self.name)


@dataclass(frozen=True, slots=True)
class LocustOutput:
    """Everything one Locust master wrote."""

    requests: tuple[RequestRow, ...]
    history: tuple[HistoryRow, ...]
    failures: tuple[FailureRow, ...]
    exceptions: tuple[str, ...]

    @property
    def aggregated(self) -> RequestRow:
        """The ``Aggregated`` row of all requests."""
        for row in self.requests:
            if _is_aggregated(row):
                return row
        raise LocustCsvError("Locust statistics have no Aggregated row")

    @property
    def entries(self) -> tuple[RequestRow, ...]:
        """Rows of individual request names (the Aggregated row left out)."""
        return tuple(row for row in self.requests if not _is_aggregated(row))


def _is_aggregated(row: RequestRow) -> bool:
    return row.name == AGGREGATED and not row.request_type


def _rows(path: Path) -> Iterator[Mapping[str, str]]:
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            yield from csv.DictReader(handle)
    except OSError as exc:
        raise LocustCsvError(f"cannot read {path}: {exc.strerror or exc}") from None


def _number(row: Mapping[str, str], column: str, path: Path) -> float:
    try:
        return float(row[column])
    except KeyError:
        raise LocustCsvError(f"{path.name}: no column {column!r}") from None
    except (TypeError, ValueError):
        raise LocustCsvError(f"{path.name}: {column} is {row[column]!r}, not a number") from None


def _count(row: Mapping[str, str], column: str, path: Path) -> int:
    return int(_number(row, column, path))


def _percentiles(row: Mapping[str, str], path: Path) -> dict[str, float | None]:
    """Every ``NN%`` column; ``N/A`` (no answer yet) as None."""
    found: dict[str, float | None] = {}
    for column, value in row.items():
        if column and column.endswith("%"):
            found[column] = None if value in ("N/A", "", None) else _number(row, column, path)
    return found


def read_requests(path: Path) -> tuple[RequestRow, ...]:
    """The rows of ``PREFIX_stats.csv``."""
    return tuple(
        RequestRow(
            request_type=row.get("Type") or "",
            name=row.get("Name") or "",
            requests=_count(row, "Request Count", path),
            failures=_count(row, "Failure Count", path),
            median_ms=_number(row, "Median Response Time", path),
            mean_ms=_number(row, "Average Response Time", path),
            min_ms=_number(row, "Min Response Time", path),
            max_ms=_number(row, "Max Response Time", path),
            mean_bytes=_number(row, "Average Content Size", path),
            rps=_number(row, "Requests/s", path),
            failures_per_s=_number(row, "Failures/s", path),
            percentiles=_percentiles(row, path),
        )
        for row in _rows(path)
    )


def read_history(path: Path) -> tuple[HistoryRow, ...]:
    """The rows of ``PREFIX_stats_history.csv``, in file (time) order."""
    return tuple(
        HistoryRow(
            timestamp=_count(row, "Timestamp", path),
            users=_count(row, "User Count", path),
            request_type=row.get("Type") or "",
            name=row.get("Name") or "",
            rps=_number(row, "Requests/s", path),
            failures_per_s=_number(row, "Failures/s", path),
            percentiles=_percentiles(row, path),
            total_requests=_count(row, "Total Request Count", path),
            total_failures=_count(row, "Total Failure Count", path),
        )
        for row in _rows(path)
    )


def read_failures(path: Path) -> tuple[FailureRow, ...]:
    """The rows of ``PREFIX_failures.csv``."""
    return tuple(
        FailureRow(
            request_type=row.get("Method") or "",
            name=row.get("Name") or "",
            error=row.get("Error") or "",
            occurrences=_count(row, "Occurrences", path),
        )
        for row in _rows(path)
    )


def read_exceptions(path: Path) -> tuple[str, ...]:
    """``"<count>x <message>"`` for each error raised in user code (absent file: none)."""
    if not path.exists():
        return ()
    return tuple(f"{row.get('Count', '?')}x {row.get('Message', '')}" for row in _rows(path))


def read_output(prefix: Path) -> LocustOutput:
    """Read the files Locust wrote for ``--csv PREFIX``."""
    requests = read_requests(Path(f"{prefix}_stats.csv"))
    if not any(_is_aggregated(row) for row in requests):
        raise LocustCsvError(f"{prefix}_stats.csv has no Aggregated row: Locust wrote nothing")
    return LocustOutput(
        requests=requests,
        history=read_history(Path(f"{prefix}_stats_history.csv")),
        failures=read_failures(Path(f"{prefix}_failures.csv")),
        exceptions=read_exceptions(Path(f"{prefix}_exceptions.csv")),
    )

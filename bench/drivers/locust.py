"""Locust (FastHttpUser, headless) as the HTTP driver when wrk is not installed.

Every result it produces is flagged ``fallback_driver`` and ``generator_bound``: one core of
Locust drives roughly a fifth of what wrk does (see benchmark-method.md), so these figures
measure the generator, not the server. The runner says so loudly.
"""

from __future__ import annotations

import base64
import csv
import json
import shutil
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path

from bench import process
from bench.drivers.base import DriverError, LoadJob, LoadResult, Pool
from bench.results import Errors, Latency
from bench.scenarios.base import Case, WsMessage

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"


def _number(row: dict[str, str], key: str) -> float:
    value = row.get(key, "")
    return float(value) if value not in ("", "N/A") else 0.0


def parse_stats_csv(path: Path, duration: float) -> LoadResult:
    """Read the ``Aggregated`` row of Locust's ``<prefix>_stats.csv``."""
    try:
        with open(path, newline="") as handle:
            rows = {row["Name"]: row for row in csv.DictReader(handle)}
        row = rows["Aggregated"]
        requests = int(_number(row, "Request Count"))
        failures = int(_number(row, "Failure Count"))
        latency = Latency(
            p50=_number(row, "50%"),
            p75=_number(row, "75%"),
            p90=_number(row, "90%"),
            p99=_number(row, "99%"),
            p999=_number(row, "99.9%"),
            mean=_number(row, "Average Response Time"),
            max=_number(row, "Max Response Time"),
        )
    except (OSError, KeyError, ValueError) as exc:
        raise DriverError(f"unreadable Locust stats {path}: {exc!r}") from None
    return LoadResult(
        elapsed_s=duration,
        requests=requests,
        ok_requests=requests - failures,
        bytes_read=int(_number(row, "Average Content Size") * requests),
        latency=latency,
        errors=Errors(status=failures),
        notes=("Locust fallback: generator-bound, not a server figure",),
    )


class LocustDriver:
    """HTTP load with Locust's FastHttpUser, one pinned headless process."""

    name = "locust"
    protocol = "http"
    generator_bound = True

    def available(self) -> bool:
        return shutil.which("locust") is not None or _importable("locust")

    def prepare(self, pool: Sequence[Case] | Sequence[WsMessage], expect: int, path: Path) -> Pool:
        cases = [case for case in pool if isinstance(case, Case)]
        if len(cases) != len(pool) or not cases:
            raise DriverError("Locust needs a non-empty pool of HTTP cases")
        entries = [
            {
                "method": c.request.method,
                "path": c.request.path,
                "headers": dict(c.request.headers),
                "body": base64.b64encode(c.request.body).decode(),
            }
            for c in cases
        ]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(entries))
        return Pool(path=path, expect_status=expect, size=len(cases))

    def start(
        self,
        url: str,
        pool: Pool,
        *,
        concurrency: int,
        duration: int,
        cpus: Sequence[int],
        workdir: Path,
    ) -> LoadJob:
        prefix = workdir / f"locust-{uuid.uuid4().hex}"
        command = [
            *process.pin_prefix(cpus),
            sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
            "--host", url, "--users", str(concurrency), "--spawn-rate", str(concurrency),
            "--run-time", f"{duration}s", "--stop-timeout", "2", "--csv", str(prefix),
            "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0",
        ]  # fmt: skip
        env = process.child_env(
            {"BENCH_LOCUST_POOL": str(pool.path), "BENCH_LOCUST_EXPECT": str(pool.expect_status)}
        )
        job = process.spawn(command, log=workdir / "locust.log", env=env)
        stats = Path(f"{prefix}_stats.csv")
        return LoadJob(
            command, job, lambda: parse_stats_csv(stats, float(duration)), timeout=duration + 60.0
        )


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None

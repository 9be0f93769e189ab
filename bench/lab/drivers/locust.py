"""Locust (FastHttpUser, headless) as the HTTP driver when wrk is not installed.

Every result it produces is flagged ``fallback_driver`` and ``generator_bound``: one core of
Locust drives roughly a fifth of what wrk does (see benchmark-method.md), so these figures
measure the generator, not the server. The runner says so loudly.
"""

from __future__ import annotations

import base64
import json
import shutil
import sys
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.infra import process
from bench.infra.results import Errors, Latency
from bench.lab.drivers.base import DriverError, LoadJob, LoadResult, Pool
from bench.lab.scenarios.base import Case, WsMessage

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"


def histogram_percentile(histogram: Mapping[float, int], percent: float) -> float:
    """A percentile from Locust's response-time histogram (ms buckets, rounded by Locust)."""
    total = sum(histogram.values())
    if total == 0:
        return 0.0
    rank = percent / 100 * total
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return float(bucket)
    return float(max(histogram))


def parse_stats_json(entries: Sequence[Mapping[str, Any]], duration: float) -> LoadResult:
    """Aggregate the per-request-name entries of Locust's ``--json-file`` output.

    The rate divides by the run's length: the configured ``duration`` (Locust's
    ``--run-time``), or the time from the first entry's start to the last response when that
    is longer. Never by the first-to-last span alone: a run that sent 16 requests in its first
    millisecond and then stalled is 16 requests in ``duration`` seconds, not 17,000 req/s.
    """
    try:
        requests = sum(int(entry["num_requests"]) for entry in entries)
        failures = sum(int(entry["num_failures"]) for entry in entries)
        histogram: Counter[float] = Counter()
        for entry in entries:
            histogram.update(
                {float(bucket): int(count) for bucket, count in entry["response_times"].items()}
            )
        total_time = sum(float(entry["total_response_time"]) for entry in entries)
        started = min(float(entry["start_time"]) for entry in entries)
        last = max(float(entry["last_request_timestamp"] or 0) for entry in entries)
        content = sum(int(entry["total_content_length"]) for entry in entries)
        slowest = max(float(entry["max_response_time"] or 0) for entry in entries)
    except (KeyError, TypeError, ValueError) as exc:
        raise DriverError(f"unreadable Locust stats ({exc!r})") from None
    if requests == 0:
        raise DriverError("Locust made no request")
    elapsed = max(duration, last - started)
    return LoadResult(
        elapsed_s=elapsed,
        requests=requests,
        ok_requests=requests - failures,
        bytes_read=content,
        latency=Latency(
            p50=histogram_percentile(histogram, 50),
            p75=histogram_percentile(histogram, 75),
            p90=histogram_percentile(histogram, 90),
            p99=histogram_percentile(histogram, 99),
            p999=histogram_percentile(histogram, 99.9),
            mean=total_time / requests,
            max=slowest,
        ),
        errors=Errors(status=failures),
        notes=("Locust fallback: generator-bound, not a server figure",),
    )


def read_stats(path: Path, duration: float) -> LoadResult:
    """Parse the ``--json-file`` output of one Locust run."""
    try:
        entries = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DriverError(f"unreadable Locust stats {path}: {exc}") from None
    return parse_stats_json(entries, duration)


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
        # All users start within 0.1 s: a slow ramp would be measured as low throughput.
        command = [
            *process.pin_prefix(cpus),
            sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
            "--host", url, "--users", str(concurrency), "--spawn-rate", str(concurrency * 10),
            "--run-time", f"{duration}s", "--stop-timeout", "2", "--json-file", str(prefix),
            "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0",
        ]  # fmt: skip
        env = process.child_env(
            {"BENCH_LOCUST_POOL": str(pool.path), "BENCH_LOCUST_EXPECT": str(pool.expect_status)}
        )
        job = process.spawn(command, log=workdir / "locust.log", env=env)
        stats = Path(f"{prefix}.json")
        return LoadJob(
            command, job, lambda: read_stats(stats, float(duration)), timeout=duration + 60.0
        )


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None

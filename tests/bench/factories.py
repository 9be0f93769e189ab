"""Synthetic environment, configuration and records shared by the lab's tests."""

from __future__ import annotations

import msgspec

from bench.infra import results
from bench.infra.results import (
    Config,
    Environment,
    Errors,
    Git,
    Latency,
    Machine,
    Record,
    Software,
)

ENV = Environment(
    machine=Machine(
        cpu_model="Test CPU",
        logical_cpus=2,
        physical_cores=2,
        memory_total_mib=1024,
        kernel="6.0",
        os="Linux",
        architecture="x86_64",
    ),
    software=Software(python="3.11.7", python_implementation="CPython", packages={}, tools={}),
    git=Git(commit="a" * 40, short="aaaaaaaa", dirty=False, branch="main"),
)
CONFIG = Config(
    profile="smoke",
    apps=["raw"],
    servers=["uvicorn"],
    scenarios=["plaintext"],
    concurrency=[64],
    duration_s=1.0,
    warmup_s=0.5,
    primer_s=0.2,
    runs=3,
    server_cpus=[0],
    generator_cpus=[1],
    driver="wrk",
    seed=1,
    pool_size=16,
    check_samples=4,
    database="sqlite",
    timeout_s=30.0,
)


def make_record(run_index: int = 1, **changes: object) -> Record:
    cell = results.cell_id("uvicorn", "raw", "plaintext", 64)
    record = Record(
        run_id="20250101T000000Z-aaaaaaaa",
        record_id=results.record_id(cell, "run", run_index),
        cell_id=cell,
        kind="measurement",
        phase="run",
        run_index=run_index,
        app="raw",
        server="uvicorn",
        scenario="plaintext",
        variant="app",
        protocol="http",
        concurrency=64,
        driver="wrk",
        duration_s=1.0,
        started_at="2025-01-01T00:00:00+00:00",
        finished_at="2025-01-01T00:00:01+00:00",
        elapsed_s=1.0,
        requests=1000,
        ok_requests=990,
        rps=990.0,
        latency=Latency(p50=1, p75=2, p90=3, p99=4, p999=5, mean=1.5, max=9),
        errors=Errors(status=10),
        env=ENV,
    )
    return msgspec.structs.replace(record, **changes)

"""Synthetic runs for the report tests, built through the result schema's own Structs.

Records are made with :class:`bench.infra.results.Record` and stored with
:class:`bench.infra.results.RunStore`, so a schema change breaks these fixtures loudly instead of
leaving hand-typed JSON to drift.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path

import msgspec
import pytest

from bench.infra import results
from bench.infra.cpu import CpuAccount, SetShare
from bench.infra.gauge import GAUGE_VERSION, GaugeReading
from bench.infra.results import (
    Config,
    Environment,
    Errors,
    Git,
    Latency,
    Machine,
    Record,
    Resources,
    RunInfo,
    RunStore,
    Software,
)

MACHINE = Machine(
    cpu_model="Synthetic CPU @ 3.0GHz",
    logical_cpus=2,
    physical_cores=2,
    memory_total_mib=4096,
    kernel="6.1.0-test",
    os="Linux-6.1.0-test-x86_64-with-glibc2.36",
    architecture="x86_64",
)
ENV = Environment(
    machine=MACHINE,
    software=Software(
        python="3.11.7",
        python_implementation="CPython",
        packages={"starlette": "1.10.0", "fastapi": "0.165.0", "uvicorn": "0.54.0"},
        tools={"wrk": "wrk 4.1.0"},
    ),
    git=Git(commit="c" * 40, short="cccccccc", dirty=True, branch="main"),
)
CONFIG = Config(
    profile="quick",
    apps=["raw", "velocix", "starlette", "fastapi"],
    servers=["uvicorn", "granian"],
    scenarios=["plaintext", "json"],
    concurrency=[64],
    duration_s=10.0,
    warmup_s=3.0,
    primer_s=1.0,
    runs=3,
    server_cpus=[0],
    generator_cpus=[1],
    driver="wrk",
    seed=7,
    pool_size=64,
    check_samples=8,
    database="sqlite",
    timeout_s=30.0,
)
RUN_ID = "20250301T120000Z-cccccccc"

CellRecords = Callable[..., list[Record]]
WriteRun = Callable[..., Path]


def cell_records(
    server: str,
    app: str,
    scenario: str,
    rps: Sequence[float] = (1000.0, 1010.0, 990.0),
    *,
    concurrency: int = 64,
    run_id: str = RUN_ID,
    env: Environment = ENV,
    failure: str | None = None,
    failure_phase: results.Phase = "check",
    flags: Sequence[str] = (),
    errors: Errors | None = None,
    p99: Sequence[float] | None = None,
    server_cpu: float = 97.0,
    generator_cpu: float = 60.0,
    rss: float = 40.0,
    machine: Sequence[float] | None = None,
    workers: int = 1,
    foreign: float | None = None,
    not_applicable: str | None = None,
) -> list[Record]:
    """The records one cell leaves: a check, then one ``run`` record per value of ``rps``.

    ``failure`` records a failure at ``failure_phase`` (a failed check has no runs after it).
    ``machine`` gives each run's machine-speed gauge reading (none: recorded without gauge).
    ``foreign`` gives each run a CPU accounting with that foreign share on the server's CPU
    (flag it ``contended`` to make the cell refused); ``not_applicable`` records the cell as one
    the framework cannot serve, with that reason.
    """
    cell = results.cell_id(server, app, scenario, concurrency, workers)
    common = {
        "run_id": run_id,
        "cell_id": cell,
        "app": app,
        "server": server,
        "scenario": scenario,
        "variant": "app",
        "protocol": "http",
        "concurrency": concurrency,
        "driver": "wrk",
        "duration_s": 10.0,
        "started_at": "2025-03-01T12:00:00+00:00",
        "finished_at": "2025-03-01T12:00:10+00:00",
        "server_command": [server, "bench.frameworks." + app + ".app:app", "--workers", "1"],
        "driver_command": ["wrk", "-c", str(concurrency)],
        "env": env,
        "workers": workers,
    }
    if not_applicable is not None:
        return [
            Record(
                record_id=results.record_id(cell, "check"),
                kind="not_applicable",
                phase="check",
                reason=not_applicable,
                **common,
            )
        ]
    if failure is not None and failure_phase == "check":
        return [
            Record(
                record_id=results.record_id(cell, "check"),
                kind="failure",
                phase="check",
                reason=failure,
                **common,
            )
        ]
    found = [
        Record(
            record_id=results.record_id(cell, "check"), kind="measurement", phase="check", **common
        )
    ]
    tails = p99 if p99 is not None else [100_000.0 / value for value in rps]
    speeds = machine if machine is not None else [None] * len(rps)
    for index, (value, tail, speed) in enumerate(zip(rps, tails, speeds, strict=True), start=1):
        found.append(
            Record(
                record_id=results.record_id(cell, "run", index),
                kind="measurement",
                phase="run",
                run_index=index,
                elapsed_s=10.0,
                requests=int(value * 10),
                ok_requests=int(value * 10),
                rps=value,
                latency=Latency(
                    p50=tail / 4,
                    p75=tail / 3,
                    p90=tail / 2,
                    p99=tail,
                    p999=tail * 1.5,
                    mean=tail / 3.5,
                    max=tail * 2,
                ),
                errors=errors or Errors(),
                resources=Resources(
                    server_cpu_mean=server_cpu,
                    server_cpu_max=100.0,
                    server_rss_max_mib=rss,
                    generator_cpu_mean=generator_cpu,
                    generator_cpu_max=generator_cpu + 5,
                    server_cpuset_busy=server_cpu,
                    generator_cpuset_busy=generator_cpu,
                    samples=40,
                    interval_s=0.25,
                    cpu=None if foreign is None else cpu_account(server_cpu, foreign),
                ),
                flags=list(flags),
                machine_speed=speed,
                machine_speed_version=GAUGE_VERSION if speed is not None else None,
                **common,
            )
        )
    if failure is not None:
        found.append(
            Record(
                record_id=results.record_id(cell, failure_phase),
                kind="failure",
                phase=failure_phase,
                reason=failure,
                **common,
            )
        )
    return found


def cpu_account(server: float, foreign: float) -> CpuAccount:
    """A CPU accounting of one run: the server's share and ``foreign`` on CPU 0, a quiet CPU 1."""

    def share(cpu: int, server: float, generator: float, foreign: float) -> SetShare:
        busy = server + generator + foreign
        return SetShare(cpus=[cpu], busy=busy, irq=2.0, steal=0.0, server=server,
                        generator=generator, runner=0.2, kernel=0.0, foreign=foreign)  # fmt: skip

    return CpuAccount(
        wall_s=10.0,
        server_set=share(0, server, 0.0, foreign),
        generator_set=share(1, 0.0, 60.0, 1.0),
    )


def write_run(
    reports: Path,
    records: Sequence[Record],
    *,
    run_id: str = RUN_ID,
    config: Config = CONFIG,
    env: Environment = ENV,
    status: results.RunStatus = "complete",
    plan: Sequence[str] | None = None,
    gauge: dict[str, GaugeReading] | None = None,
    frameworks: Sequence[results.FrameworkInfo] = (),
    baseline: str = results.LEGACY_BASELINE,
) -> Path:
    """Store a run (``run.json`` + ``results.jsonl``) the way the runner does."""
    info = RunInfo(
        run_id=run_id,
        created_at="2025-03-01T12:00:00+00:00",
        finished_at="2025-03-01T12:04:00+00:00" if status != "running" else None,
        status=status,
        argv=["python", "-m", "bench", "run", "--profile", config.profile],
        config=config,
        env=env,
        plan=list(plan) if plan is not None else [r.record_id for r in records],
        commands={"uvicorn": ["uvicorn", "--workers", "1", "--no-access-log"]},
        gauge=dict(gauge or {}),
        frameworks=list(frameworks),
        baseline=baseline,
    )
    store = RunStore.create(reports, info)
    for record in records:
        store.append(msgspec.structs.replace(record, run_id=run_id))
    return store.directory


def gauge_reading(speed: float, cv: float, cpus: Sequence[int] = (0,)) -> GaugeReading:
    """A synthetic 1 s machine-speed gauge reading."""
    return GaugeReading(
        version=GAUGE_VERSION,
        seconds=1.0,
        units_per_s=speed,
        p10=speed * 0.96,
        p90=speed * 1.04,
        cv=cv,
        windows=20,
        pinned=True,
        cpus=list(cpus),
        cpu_share=0.99,
    )


EXAMPLE_GAUGE = {
    "start": gauge_reading(6000.0, 0.021),
    "generator": gauge_reading(5900.0, 0.025, (1,)),
    "end": gauge_reading(5700.0, 0.034),
}
"""The example run's whole-run gauge readings (``run.json``)."""
MACHINE_SLOW_CELL = ("uvicorn", "starlette", "json")
"""The example cell with a ``machine_slow`` run (gauge 15% below the others)."""


def example_records(run_id: str = RUN_ID, scale: float = 1.0) -> list[Record]:
    """A quick-profile-like run: 4 apps x 2 servers x 2 scenarios, with one failed cell, one
    generator-bound cell and one with a machine_slow run, throughput multiplied by ``scale``;
    every run carries a machine-speed reading (spread 9000-10500 per cell: 16.7%)."""
    speeds = {"raw": 50_000.0, "velocix": 45_000.0, "starlette": 30_000.0, "fastapi": 12_000.0}
    found: list[Record] = []
    for scenario, factor in (("plaintext", 1.0), ("json", 0.9)):
        for server, server_factor in (("uvicorn", 1.0), ("granian", 1.1)):
            for app, speed in speeds.items():
                base = speed * factor * server_factor * scale
                kwargs: dict[str, object] = {}
                if (server, app, scenario) == ("granian", "fastapi", "json"):
                    kwargs["failure"] = "status 500 for GET /json (expected 200)"
                if (server, app, scenario) == ("granian", "raw", "plaintext"):
                    kwargs["flags"] = [results.FLAG_GENERATOR_BOUND]
                    kwargs["generator_cpu"] = 96.0
                kwargs["machine"] = (9000.0, 10000.0, 10500.0)
                if (server, app, scenario) == MACHINE_SLOW_CELL:
                    kwargs["flags"] = [results.FLAG_MACHINE_SLOW]
                    kwargs["machine"] = (10000.0, 8500.0, 10000.0)
                rps = (base * 0.99, base, base * 1.012)
                found += cell_records(server, app, scenario, rps, run_id=run_id, **kwargs)
    return found


FIELD_APPS = {
    # app: ratio to raw on (uvicorn, granian); registry order differs from the speed order.
    "raw": (1.0, 1.0),
    "velocix": (0.91, 0.95),
    "starlette": (0.62, 0.60),
    "fastapi": (0.31, 0.29),
    "litestar": (0.78, 0.80),
    "blacksheep": (0.94, 0.90),
    "falcon": (0.85, 0.84),
    "quart": (0.36, 0.33),
    "sanic": (0.55, 0.58),
    "django": (0.21, 0.19),
}
FIELD_SCENARIOS = {"json": 1.0, "path_param": 0.92, "post_validated": 0.7, "ws_echo": 0.5}
FIELD_CONFIG = msgspec.structs.replace(
    CONFIG,
    profile="field",
    apps=list(FIELD_APPS),
    scenarios=list(FIELD_SCENARIOS),
)
FIELD_REFUSED = ("uvicorn", "starlette", "path_param")
"""The field run's contended cell: 42% foreign load on the server's CPU in every run."""
FIELD_FAILED = ("granian", "quart", "post_validated")
FIELD_NOT_APPLICABLE = "django"
"""Django has no WebSocket: its ws_echo cells are not applicable."""
DJANGO_WS = "Django has no WebSocket support without Channels"


def field_records(run_id: str = RUN_ID, workers: Sequence[int] = (1,)) -> list[Record]:
    """Ten frameworks x uvicorn, granian x json, path_param, post_validated, ws_echo, with one
    contended (refused) cell, one failed cell and Django's ws_echo cells not applicable; each
    worker count in ``workers`` scales throughput by 1.8 per doubling."""
    found: list[Record] = []
    for count in workers:
        for scenario, factor in FIELD_SCENARIOS.items():
            for index, server in enumerate(("uvicorn", "granian")):
                for app, ratios in FIELD_APPS.items():
                    base = 40_000.0 * factor * ratios[index] * (1.8 ** (count.bit_length() - 1))
                    kwargs: dict[str, object] = {"workers": count}
                    if (server, app, scenario) == FIELD_REFUSED:
                        kwargs |= {"flags": [results.FLAG_CONTENDED], "foreign": 42.0}
                    if (server, app, scenario) == FIELD_FAILED:
                        kwargs["failure"] = "status 500 for POST /items (expected 201)"
                    if app == FIELD_NOT_APPLICABLE and scenario == "ws_echo":
                        kwargs["not_applicable"] = DJANGO_WS
                    # Seeded per cell: round-to-round noise gives every ratio a real interval.
                    noise = random.Random(f"{server}/{app}/{scenario}/{count}")
                    rps = [base * noise.uniform(0.97, 1.03) for _ in range(3)]
                    found += cell_records(server, app, scenario, rps, run_id=run_id, **kwargs)
    return found


@pytest.fixture
def make_cell() -> CellRecords:
    """Build one cell's records (see :func:`cell_records`)."""
    return cell_records


@pytest.fixture
def store_run() -> WriteRun:
    """Store records as a run under a reports directory (see :func:`write_run`)."""
    return write_run


@pytest.fixture
def example_run(tmp_path: Path) -> Path:
    """A stored quick-profile-like run with a failed and a generator-bound cell."""
    return write_run(tmp_path / "reports", example_records())


@pytest.fixture
def example() -> Callable[..., list[Record]]:
    """Build the records of the example run (see :func:`example_records`)."""
    return example_records


@pytest.fixture(scope="session")
def rendered_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example run rendered once per session (charts are the slow part): its run dir."""
    from bench.report.render import render_run

    reports = tmp_path_factory.mktemp("rendered") / "reports"
    run_dir = write_run(reports, example_records(), gauge=EXAMPLE_GAUGE)
    write_conformance(reports)
    render_run(run_dir, reports)
    return run_dir


@pytest.fixture(scope="session")
def rendered_field(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ten-framework field run (:func:`field_records`) rendered once per session."""
    from bench.report.render import render_run

    reports = tmp_path_factory.mktemp("field") / "reports"
    run_dir = write_run(reports, field_records(), config=FIELD_CONFIG)
    render_run(run_dir, reports, auto_previous=False)
    return run_dir


def small_records(run_id: str = RUN_ID, scale: float = 1.0) -> list[Record]:
    """Two cells (raw and velocix on uvicorn, plaintext): quick to render."""
    return cell_records(
        "uvicorn",
        "raw",
        "plaintext",
        (1000.0 * scale, 1010.0 * scale, 990.0 * scale),
        run_id=run_id,
    ) + cell_records(
        "uvicorn",
        "velocix",
        "plaintext",
        (900.0 * scale, 910.0 * scale, 890.0 * scale),
        run_id=run_id,
    )


@pytest.fixture
def small() -> Callable[..., list[Record]]:
    """Build the records of a two-cell run (see :func:`small_records`)."""
    return small_records


def write_conformance(reports: Path, env: Environment = ENV) -> Path:
    """A conformance run stored the way ``python -m conformance run`` stores one: real cases,
    outcomes from the suite's own constructors, verdicts from its expectations gate.

    ``raw`` in-process passes every check; ``velocix`` on uvicorn has one outcome of each
    kind (A01 pass, A02 fail, A03 skip, A04 not applicable, A05 spec-ambiguous).
    """
    from conformance import expectations, records
    from conformance.cases import all_cases
    from conformance.cases import model as outcomes
    from conformance.render import render_page
    from conformance.runner import result_record

    cases = all_cases()[:5]
    mixed = [
        outcomes.passed("fine"),
        outcomes.failed("sent body <b>before</b> start", observed="body", expected="start"),
        outcomes.skipped("needs a server feature"),
        outcomes.not_applicable("no such API"),
        outcomes.ambiguous("the spec is silent"),
    ]
    cells = [
        {"schema": records.CELL_SCHEMA, "framework": "raw", "server": "inprocess",
         "started": 0.0, "error": None, "duration_s": 1.0,
         "results": [result_record(case, outcomes.passed(), 0.01) for case in cases]},
        {"schema": records.CELL_SCHEMA, "framework": "velocix", "server": "uvicorn",
         "started": 0.0, "error": None, "duration_s": 2.0,
         "results": [result_record(c, o, 0.01) for c, o in zip(cases, mixed, strict=True)]},
    ]  # fmt: skip
    gate = expectations.evaluate(cells, [])
    run_dir = reports / "conformance" / "20250301T110000Z-cccccccc"
    for cell in cells:
        name = records.cell_name(cell["framework"], cell["server"])
        records.write_json(run_dir / records.CELLS_DIR / f"{name}.json", cell)
    info = {
        "schema": records.RUN_SCHEMA, "run_id": run_dir.name, "profile": "quick",
        "started": 0.0, "environment": msgspec.to_builtins(env),
        "cells": [records.cell_name(c["framework"], c["server"]) for c in cells],
        "case_filter": None, "deviations": [], "gate": gate, "duration_s": 3.0,
    }  # fmt: skip
    records.write_json(run_dir / records.RUN_FILE, info)
    render_page(run_dir)  # the matrix fragment the lab report embeds, as a real run stores it
    records.point_latest(run_dir)
    return run_dir


@pytest.fixture
def store_conformance() -> Callable[..., Path]:
    """Store a small conformance run under a reports directory (see :func:`write_conformance`)."""
    return write_conformance

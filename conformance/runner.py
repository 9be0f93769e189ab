"""The matrix runner: framework x server cells, each in a fresh process, results as records.

A cell runs every case against one framework module served one way: ``inprocess`` (the
validated app on an event loop thread) or a real server from bench's registry running
:mod:`conformance.served`. Each cell is a subprocess in its own process group with a time
limit; a cell that fails to start or hangs is recorded as failed and the run goes on.
"""

from __future__ import annotations

import fnmatch
import json
import os
import queue
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import frameworks as field
from conformance import records
from conformance.cases import all_cases
from conformance.cases.model import Case, Context, Outcome, failed
from conformance.targets import InProcessTarget, Target, WireTarget

INPROCESS = "inprocess"
CELL_TIMEOUT = 300.0


def server_names() -> list[str]:
    """``inprocess`` then every server of bench's registry."""
    from bench.infra.servers import registry

    return [INPROCESS, *registry()]


@dataclass(frozen=True)
class Profile:
    """Which cells and cases a run covers."""

    name: str
    summary: str
    frameworks: tuple[str, ...] | None
    servers: tuple[str, ...] | None
    cells: tuple[tuple[str, str], ...] | None = None


PROFILES = {
    "full": Profile("full", "every framework on every server", None, None),
    # CI: Velocix on every main server, every framework in-process and on uvicorn, the
    # baseline on every server and server variant (it carries the server-only checks).
    "quick": Profile(
        "quick",
        "Velocix and raw on every main server, raw on the variants; all frameworks in-process "
        "and on uvicorn",
        None,
        None,
        cells=(
            *(
                (fw, s)
                for fw in ("raw", "velocix")
                for s in ("inprocess", "uvicorn", "granian", "hypercorn")
            ),
            *(("raw", s) for s in ("uvicorn-h11", "uvicorn-wsproto", "uvicorn-wslegacy", "daphne")),
            ("starlette", "inprocess"),
            ("starlette", "uvicorn"),
            ("fastapi", "inprocess"),
            ("fastapi", "uvicorn"),
        ),
    ),
}


def plan(
    profile: Profile, frameworks: Sequence[str] | None = None, servers: Sequence[str] | None = None
) -> list[tuple[str, str]]:
    """The (framework, server) cells to run, in a stable order."""
    all_frameworks = list(frameworks or profile.frameworks or field.names())
    all_servers = list(servers or profile.servers or server_names())
    cells = [(f, s) for f in all_frameworks for s in all_servers]
    if profile.cells is not None and not (frameworks or servers):
        cells = [cell for cell in cells if cell in profile.cells]
    return cells


def select(patterns: Sequence[str] | None) -> list[Case]:
    """Cases whose id matches one of the glob ``patterns`` (all when None)."""
    cases = list(all_cases())
    if not patterns:
        return cases
    return [c for c in cases if any(fnmatch.fnmatchcase(c.id, p) for p in patterns)]


def result_record(case: Case, outcome: Outcome, duration: float) -> dict[str, Any]:
    """One case's result as stored."""
    return {
        **case.describe(),
        "kind": outcome.kind,
        "detail": outcome.detail,
        "observed": outcome.observed,
        "expected": outcome.expected,
        "duration_s": round(duration, 3),
    }


def run_cases(
    ctx: Context, cases: Sequence[Case], progress: Callable[[str, Outcome], None] | None = None
) -> list[dict[str, Any]]:
    """Run ``cases`` in one cell; a crashing check is recorded as a failure."""
    results = []
    for case in cases:
        started = time.monotonic()
        outcome = case.applicability(ctx)
        if outcome is None:
            try:
                outcome = case.run(ctx)
            except Exception as exc:
                where = traceback.extract_tb(exc.__traceback__)[-1]
                outcome = failed(
                    f"check raised {type(exc).__name__}: {exc} "
                    f"({Path(where.filename).name}:{where.lineno})"
                )
        results.append(result_record(case, outcome, time.monotonic() - started))
        if progress is not None:
            progress(case.id, outcome)
    return results


def open_target(server: str, app_ref: str, workdir: Path, cpus: Sequence[int]) -> Target:
    """Start the cell's target (in-process app with lifespan, or a server)."""
    if server == INPROCESS:
        module_name, _, attribute = app_ref.partition(":")
        import importlib

        target = InProcessTarget(getattr(importlib.import_module(module_name), attribute))
        target.start()
        return target
    return WireTarget(server, app_ref, workdir, cpus=cpus)


def run_cell(
    framework: str, server: str, cases: Sequence[Case], workdir: Path, *, cpus: Sequence[int] = (0,)
) -> dict[str, Any]:
    """Run one cell in this process and return its record."""
    started = time.monotonic()
    record: dict[str, Any] = {
        "schema": records.CELL_SCHEMA,
        "framework": framework,
        "server": server,
        "started": time.time(),
        "error": None,
    }
    try:
        module = field.load_conformance(framework)
        features: frozenset[str] = field.conformance_features(framework)
    except Exception as exc:
        return _cell_failed(
            record, cases, f"cannot import {framework}: {exc!r}", frozenset(), started
        )
    app_ref = f"{field.module_name(framework, 'conformance')}:app"
    try:
        target = open_target(server, app_ref, workdir, cpus)
    except Exception as exc:
        return _cell_failed(record, cases, f"cannot start {server}: {exc}", features, started)
    ctx = Context(
        framework,
        server,
        features,
        target,
        workdir,
        app_ref,
        # A framework with no startup hook of its own (Django) has no failing-startup app.
        failing_ref=(
            f"{field.module_name(framework, 'conformance')}:app_failing_startup"
            if hasattr(module, "app_failing_startup")
            else None
        ),
    )
    try:
        record["results"] = run_cases(ctx, cases)
    finally:
        ctx.close()
        target.close()
    record["duration_s"] = round(time.monotonic() - started, 2)
    return record


def _cell_failed(
    record: dict[str, Any],
    cases: Sequence[Case],
    error: str,
    features: frozenset[str],
    started: float,
) -> dict[str, Any]:
    record["error"] = error
    results = []
    for case in cases:
        outcome = case.applicable_to(record["framework"], record["server"], features)
        results.append(result_record(case, outcome or failed(f"cell error: {error}"), 0.0))
    record["results"] = results
    record["duration_s"] = round(time.monotonic() - started, 2)
    return record


def cell_in_subprocess(
    framework: str,
    server: str,
    case_patterns: Sequence[str] | None,
    run_dir: Path,
    cpu: int,
    timeout: float = CELL_TIMEOUT,
) -> dict[str, Any]:
    """Run a cell in a fresh process group (killed whole on timeout); read its record."""
    from bench.infra import process

    out = run_dir / records.CELLS_DIR / f"{records.cell_name(framework, server)}.json"
    log = run_dir / "logs" / f"{records.cell_name(framework, server)}.log"
    command = [
        sys.executable,
        "-m",
        "conformance",
        "_cell",
        "--framework",
        framework,
        "--server",
        server,
        "--out",
        str(out),
        "--cpu",
        str(cpu),
    ]
    for pattern in case_patterns or ():
        command += ["--case", pattern]
    child = process.spawn(command, log=log, env=process.child_env())
    try:
        child.wait(timeout)
    except subprocess.TimeoutExpired:
        pass
    finally:
        process.stop(child, 5.0)
    if out.exists():
        data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        return data
    cases = select(case_patterns)
    record = {
        "schema": records.CELL_SCHEMA,
        "framework": framework,
        "server": server,
        "started": time.time(),
    }
    reason = f"cell process ended without a record (exit {child.returncode}): " + process.tail(
        log, 6
    ).replace("\n", " | ")
    data = _cell_failed(record, cases, reason, frozenset(), time.monotonic())
    records.write_json(out, data)
    return data


def run_matrix(
    cells: Sequence[tuple[str, str]],
    case_patterns: Sequence[str] | None,
    run_dir: Path,
    *,
    jobs: int = 2,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Run every cell (``jobs`` at a time, each pinned to its own CPU where possible)."""
    cpus = sorted(os.sched_getaffinity(0))
    slots: queue.Queue[int] = queue.Queue()
    for index in range(max(jobs, 1)):
        slots.put(cpus[index % len(cpus)])

    def one(cell: tuple[str, str]) -> dict[str, Any]:
        cpu = slots.get()
        try:
            record = cell_in_subprocess(cell[0], cell[1], case_patterns, run_dir, cpu)
        finally:
            slots.put(cpu)
        if progress is not None:
            progress(record)
        return record

    with ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:
        return list(pool.map(one, cells))


def cell_main(
    framework: str, server: str, out: Path, case_patterns: Sequence[str] | None, cpu: int
) -> int:
    """Entry point of a cell subprocess (``python -m conformance _cell``)."""
    workdir = out.parent.parent / "logs" / records.cell_name(framework, server)
    record = run_cell(framework, server, select(case_patterns), workdir, cpus=(cpu,))
    records.write_json(out, record)
    return 0

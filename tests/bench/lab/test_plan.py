"""Planning: interleaved runs, primers on fresh processes only, deterministic ids."""

from __future__ import annotations

import msgspec
import pytest

from bench.infra import results
from bench.infra.results import Config
from bench.lab import plan, profiles

BASE = Config(
    profile="quick",
    apps=["raw", "velocix", "starlette", "fastapi"],
    servers=["uvicorn", "granian"],
    scenarios=["plaintext", "json"],
    concurrency=[64],
    duration_s=2.0,
    warmup_s=1.0,
    primer_s=1.0,
    runs=3,
    server_cpus=[0],
    generator_cpus=[1],
    driver="wrk",
    seed=7,
    pool_size=64,
    check_samples=4,
    database="sqlite",
    timeout_s=30.0,
)


def config(**changes: object) -> Config:
    return msgspec.structs.replace(BASE, **changes)


def test_interleave_cycles_through_apps_run_by_run() -> None:
    assert plan.interleave(["A", "B", "C", "D"], 2) == [
        ("A", 1), ("B", 1), ("C", 1), ("D", 1),
        ("A", 2), ("B", 2), ("C", 2), ("D", 2),
    ]  # fmt: skip


def test_blocks_go_server_by_server_then_scenario() -> None:
    blocks = plan.plan(BASE)
    assert [(b.server, b.scenario) for b in blocks] == [
        ("uvicorn", "plaintext"),
        ("uvicorn", "json"),
        ("granian", "plaintext"),
        ("granian", "json"),
    ]


def test_block_is_primer_warmups_then_interleaved_runs() -> None:
    first = plan.plan(BASE)[0]
    phases = [(s.phase, s.app, s.run_index) for s in first.steps]
    apps = BASE.apps
    assert phases == (
        [("primer", app, None) for app in apps]
        + [("warmup", app, None) for app in apps]
        + [("run", app, index) for index in (1, 2, 3) for app in apps]
    )
    assert {s.concurrency for s in first.steps if s.phase == "primer"} == {plan.PRIMER_CONCURRENCY}
    assert {s.duration for s in first.steps if s.phase == "run"} == {2}


def test_primer_only_on_the_first_use_of_a_server_process() -> None:
    blocks = plan.plan(config(scenarios=["plaintext", "json", "middleware"]))
    primed = [(b.server, b.scenario) for b in blocks if any(s.phase == "primer" for s in b.steps)]
    # app and app_mw are different processes: the middleware block primes its own.
    assert primed == [
        ("uvicorn", "plaintext"),
        ("uvicorn", "middleware"),
        ("granian", "plaintext"),
        ("granian", "middleware"),
    ]


def test_sweep_warms_up_and_interleaves_at_every_level() -> None:
    block = plan.plan(config(concurrency=[16, 256], primer_s=0.0, runs=1))[0]
    assert [(s.phase, s.concurrency) for s in block.steps] == [
        (phase, level) for level in (16, 256) for phase in ("warmup", "run") for _ in BASE.apps
    ]


def test_no_warmup_or_primer_when_disabled() -> None:
    steps = plan.plan(config(warmup_s=0.0, primer_s=0.0))[0].steps
    assert {s.phase for s in steps} == {"run"}


def test_record_ids_are_unique_and_reproducible() -> None:
    ids = [s.record_id for b in plan.plan(BASE) for s in b.steps]
    assert len(ids) == len(set(ids))
    assert ids == [s.record_id for b in plan.plan(BASE) for s in b.steps]
    assert "granian/fastapi/json/c64/run3" in ids
    assert "uvicorn/raw/plaintext/c64/primer" in ids


def test_websocket_scenarios_get_a_driver_calibration_first() -> None:
    blocks = plan.plan(config(scenarios=["ws_echo"], concurrency=[16, 64]))
    calibration = blocks[0]
    assert (calibration.server, calibration.apps) == (plan.CALIBRATION_SERVER, ("raw",))
    assert [(s.phase, s.concurrency) for s in calibration.steps] == [
        ("calibration", 16),
        ("calibration", 64),
    ]
    assert not plan.calibration_steps(BASE)


def test_planned_seconds_adds_every_step() -> None:
    # per server x scenario: 4 primers (1 s, first scenario only) + 4 warm-ups + 12 runs x 2 s
    expected = 2 * ((4 * 1 + 4 * 1 + 12 * 2) + (4 * 1 + 12 * 2))
    assert plan.planned_seconds(plan.plan(BASE)) == expected


def test_planned_seconds_include_the_gauge_before_runs_and_calibrations() -> None:
    blocks = plan.plan(config(scenarios=["plaintext", "ws_echo"], servers=["uvicorn"]))
    gauged = [s for b in blocks for s in b.steps if s.phase in plan.GAUGED_PHASES]
    assert {s.phase for s in gauged} == {"run", "calibration"}
    assert len(gauged) == 2 * 12 + 1  # 12 runs per scenario, 1 calibration level
    without = plan.planned_seconds(blocks)
    assert plan.planned_seconds(blocks, 0.25) == pytest.approx(without + 0.25 * len(gauged))


def test_worker_counts_are_their_own_cells_and_server_blocks() -> None:
    scaled = config(apps=["raw", "velocix"], servers=["uvicorn"], scenarios=["json"],
                    workers=1, worker_levels=[1, 2, 4])  # fmt: skip
    blocks = plan.plan(scaled)
    assert [(b.server, b.workers) for b in blocks] == [
        ("uvicorn", 1),
        ("uvicorn", 2),
        ("uvicorn", 4),
    ]
    cells = sorted({s.cell_id for b in blocks for s in b.steps if s.phase == "run"})
    assert cells == [
        "uvicorn/raw/json/c64", "uvicorn/raw/json/c64w2", "uvicorn/raw/json/c64w4",
        "uvicorn/velocix/json/c64", "uvicorn/velocix/json/c64w2", "uvicorn/velocix/json/c64w4",
    ]  # fmt: skip
    # every worker count is a fresh server process: primed again
    primers = [(s.app, s.workers) for b in blocks for s in b.steps if s.phase == "primer"]
    assert primers == [(a, w) for w in (1, 2, 4) for a in ("raw", "velocix")]
    assert results.parse_level("c64w4") == (64, 4) and results.parse_level("c16") == (16, 1)


def test_the_scaling_profile_doubles_workers_up_to_the_server_cpus() -> None:
    assert profiles.worker_levels(1) == [1]
    assert profiles.worker_levels(2) == [1, 2]
    assert profiles.worker_levels(8) == [1, 2, 4, 8]
    assert profiles.worker_levels(6) == [1, 2, 4, 6]

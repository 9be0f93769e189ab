"""The lab's resolving power: the A/A/B analysis on synthetic runs, the slowed baseline, the
loop's price under callgrind, and the calibration quoted by compare."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import Any

import msgspec
import pytest

from bench.cost import callgrind
from bench.infra.results import Config, Record
from bench.lab import calibrate, calibration, calibration_app
from bench.lab.calibration import AGAIN, BASELINE, Calibration, Load, Rate, slow_app
from tests.bench.factories import ENV, make_record
from tests.bench.lab.test_plan import BASE

SLOWDOWNS = (5, 10)


def runs(app: str, values: list[float], server: str = "uvicorn") -> list[Record]:
    return [
        msgspec.structs.replace(
            make_record(index),
            app=app,
            rps=value,
            server=server,
            scenario="json",
            cell_id=f"{server}/{app}/json/c64",
            record_id=f"{server}/{app}/json/c64/run{index}",
        )
        for index, value in enumerate(values, start=1)
    ]


def experiment(noise: float, seed: int = 3, rounds: int = 9) -> list[Record]:
    """raw, raw-again and the slowed copies over ``rounds`` interleaved rounds whose machine
    speed drifts alike for everyone, each run with its own noise of ``noise`` (relative)."""
    rng = random.Random(seed)
    drift = [1.0 + 0.2 * rng.random() for _ in range(rounds)]

    def series(factor: float) -> list[float]:
        return [10_000 * factor * d * (1 + rng.gauss(0, noise)) for d in drift]

    records = runs(BASELINE, series(1.0)) + runs(AGAIN, series(1.0))
    for percent in SLOWDOWNS:
        records += runs(slow_app(percent), series(1 / (1 + percent / 100)))
    return records


def test_rounds_are_split_into_groups_of_the_profiles_runs() -> None:
    groups = calibration.groups_of(runs(BASELINE, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), BASELINE, 3)
    assert groups == [{1: 1.0, 2: 2.0, 3: 3.0}, {4: 4.0, 5: 5.0, 6: 6.0}]


def test_a_quiet_machine_resolves_small_slowdowns_without_false_positives() -> None:
    cell = calibration.analyse_cell(experiment(0.003), "uvicorn", "json", 64, 3, SLOWDOWNS)
    assert cell.groups == 3
    assert cell.rps_false_positives.trials == 6 and cell.ratio_false_positives.trials == 3
    assert cell.ratio_false_positives.hits == 0
    assert cell.ratio_detected["5"] == Rate(hits=6, trials=6)
    assert cell.ratio_resolves == 5
    # Absolute req/s carry the machine's drift (up to 20% between rounds): the paired ratio
    # cancels it and detects what req/s cannot.
    assert cell.rps_detected["5"].rate < cell.ratio_detected["5"].rate


def test_a_noisy_machine_resolves_less() -> None:
    quiet = calibration.analyse_cell(experiment(0.003), "uvicorn", "json", 64, 3, SLOWDOWNS)
    noisy = calibration.analyse_cell(experiment(0.08), "uvicorn", "json", 64, 3, SLOWDOWNS)
    assert noisy.ratio_detected["5"].rate < quiet.ratio_detected["5"].rate
    assert noisy.ratio_resolves is None or noisy.ratio_resolves > 5


@pytest.mark.parametrize(
    ("detected", "expected"),
    [
        ({"5": (6, 6), "10": (6, 6)}, 5),
        ({"5": (3, 6), "10": (6, 6)}, 10),
        ({"5": (6, 6), "10": (2, 6)}, None),  # a larger slowdown missed: 5% is luck
        ({"5": (0, 6), "10": (0, 6)}, None),
    ],
)
def test_resolves_is_the_smallest_reliable_slowdown_above_which_all_are(
    detected: dict[str, tuple[int, int]], expected: int | None
) -> None:
    rates = {key: Rate(hits=hits, trials=trials) for key, (hits, trials) in detected.items()}
    assert calibration.resolves(rates) == expected


def result(cells: list[calibration.CellCalibration], **changes: Any) -> Calibration:
    base = Calibration(
        run_id="20250101T000000Z-aaaaaaaa-calibration", created_at="2025-01-01T00:00:00+00:00",
        profile="quick", duration_s=1.0, warmup_s=0.5, runs=3, repeats=3, concurrency=64,
        server_cpus=[0], generator_cpus=[1], alpha=0.05, threshold=0.03, reliable=0.8,
        slowdowns=[5, 10], per_iteration_ir=145.0, wrapper_ir=4000.0, cells=cells, env=ENV,
    )  # fmt: skip
    return msgspec.structs.replace(base, **changes)


def test_calibrations_are_stored_and_matched_by_machine_and_protocol(tmp_path: Path) -> None:
    cell = calibration.analyse_cell(experiment(0.003), "uvicorn", "json", 64, 3, SLOWDOWNS)
    older = result([cell])
    newer = result([cell], run_id="20250102T000000Z-bbbbbbbb-calibration")
    other_protocol = result([cell], run_id="20250103T000000Z-cccccccc-calibration", runs=5)
    for item in (older, newer, other_protocol):
        calibration.store(tmp_path, item)
    assert [c.run_id for c in calibration.load_all(tmp_path)] == [
        older.run_id, newer.run_id, other_protocol.run_id,
    ]  # fmt: skip
    found = calibration.matching(tmp_path, BASE, ENV.machine)  # BASE: 3 runs of 2 s
    assert found is None  # BASE runs 2 s, the calibrations 1 s
    config = msgspec.structs.replace(BASE, duration_s=1.0, warmup_s=0.5)
    found = calibration.matching(tmp_path, config, ENV.machine)
    assert found is not None and found.run_id == newer.run_id
    elsewhere = msgspec.structs.replace(ENV.machine, cpu_model="Another CPU")
    assert calibration.matching(tmp_path, config, elsewhere) is None
    line = calibration.describe(found.cells[0])
    assert line.startswith("resolves req/s ") and "paired ratio >= 5%" in line
    assert "A/A false positives" in line


def test_the_slowed_baseline_spins_the_load_of_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spun: list[int] = []
    monkeypatch.setattr(calibration_app, "spin", spun.append)

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        return None

    app = calibration_app.slowed(inner, {"/users/": 7, "/json": 3, "/": 1})

    async def call(path: str, kind: str = "http") -> None:
        await app({"type": kind, "path": path}, None, None)

    for path in ("/users/12", "/json", "/other"):
        asyncio.run(call(path))
    asyncio.run(call("/json", "websocket"))
    assert spun == [7, 3, 1]  # longest prefix wins; not for a WebSocket
    load = tmp_path / "load.json"
    load.write_text(json.dumps({"uvicorn": {"raw-slow5": {"/json": 11}}}))
    monkeypatch.setenv(calibration_app.LOAD_ENV, str(load))
    calibration_app._loads.cache_clear()
    assert callable(getattr(calibration_app, "uvicorn__raw-slow5"))
    with pytest.raises(AttributeError):
        getattr(calibration_app, "granian__raw-slow5")
    with pytest.raises(AttributeError):
        getattr(calibration_app, "__wrapped__")  # noqa: B009 (a dunder the loader may ask)
    calibration_app._loads.cache_clear()


def test_the_loads_add_the_wanted_share_of_raws_instructions() -> None:
    config = msgspec.structs.replace(BASE, servers=["uvicorn"], scenarios=["json", "plaintext"])
    costs = {("uvicorn", "json"): 120_000.0, ("uvicorn", "plaintext"): 100_000.0}
    table, loads = calibrate.loads_for(config, [5, 10], costs, 150.0, 3000.0)
    assert table["uvicorn"]["raw-slow5"] == {"/json": 20, "/plaintext": 13}  # (6000-3000)/150
    assert table["uvicorn"]["raw-slow10"]["/json"] == 60
    json_loads = loads[("uvicorn", "json")]
    assert [load.percent for load in json_loads] == [5, 10]
    assert json_loads[0].share == pytest.approx(0.05) and json_loads[1].share == pytest.approx(0.1)
    assert isinstance(json_loads[0], Load)


def test_the_lab_run_serves_raw_twice_and_the_slowed_copies() -> None:
    args = calibrate.parser().parse_args(["--servers", "granian", "--scenarios", "json"])
    config = calibrate.lab_config(args)
    assert config.apps == [BASELINE, AGAIN, "raw-slow5", "raw-slow10", "raw-slow20"]
    assert config.runs == 9 and config.duration_s == 2.0 and config.concurrency == [64]
    longer = calibrate.parser().parse_args(["--runs", "5", "--duration", "4", "--repeats", "2"])
    assert (calibrate.lab_config(longer).runs, calibrate.lab_config(longer).duration_s) == (10, 4)
    assert config.targets[f"{AGAIN}:app"] == "bench.frameworks.raw.app:app"
    assert config.targets["raw-slow5:app"] == "bench.lab.calibration_app:{server}__raw-slow5"
    assert isinstance(config, Config)


@pytest.mark.slow
@pytest.mark.skipif(bool(callgrind.missing_tools()), reason="valgrind is not installed")
def test_the_loop_is_priced_under_callgrind() -> None:
    per_iteration, wrapper = calibrate.price_loop()
    assert 20 < per_iteration < 1000  # a few bytecodes' worth of instructions
    assert 100 < wrapper < 50_000  # an extra coroutine layer and a prefix match

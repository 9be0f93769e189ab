"""The machine-speed gauge: deterministic work, sane readings, the thread's affinity always
restored, versions never mixed, the machine_slow rule, and ``python -m bench gauge``."""

from __future__ import annotations

import os
import statistics

import msgspec
import numpy as np
import pytest

from bench import cli
from bench.infra import gauge
from bench.infra.gauge import GaugeReading, GaugeVersionError, Samples
from bench.infra.results import Record
from bench.lab import cli as lab_cli
from bench.lab.runner import machine_slow
from bench.lab.summary import MachineSpeed, machine_change, machine_ratio
from tests.bench.factories import make_record

ALLOWED = sorted(os.sched_getaffinity(0))
FIRST = ALLOWED[0]


def reading_of(version: int = gauge.GAUGE_VERSION, speed: float = 1000.0) -> GaugeReading:
    return GaugeReading(
        version=version,
        seconds=1.0,
        units_per_s=speed,
        p10=speed * 0.9,
        p90=speed * 1.1,
        cv=0.05,
        windows=20,
        pinned=True,
    )


def test_a_unit_is_deterministic_work() -> None:
    first = gauge.unit()
    assert first > 0
    assert all(gauge.unit() == first for _ in range(5))


def test_a_reading_is_sane() -> None:
    reading = gauge.measure([FIRST], 0.2)
    assert reading.version == gauge.GAUGE_VERSION
    assert reading.windows > 0
    assert 0 < reading.p10 <= reading.units_per_s <= reading.p90
    assert reading.cv >= 0
    assert reading.seconds >= 0.2
    assert reading.pinned and reading.cpus == [FIRST]
    assert reading.cpu_share is not None and 0 < reading.cpu_share <= 1
    # It survives the round trip through run.json.
    assert msgspec.json.decode(msgspec.json.encode(reading), type=GaugeReading) == reading


def test_the_summary_of_windows_is_median_percentiles_and_cv() -> None:
    rates = tuple(float(x) for x in range(100, 1100, 100))  # 100 .. 1000
    reading = gauge.reading(Samples(rates, 0.5, True, (0,), 0.99))
    p10, p90 = np.percentile(rates, [10, 90])
    assert reading.units_per_s == 550.0
    assert (reading.p10, reading.p90) == (round(p10, 1), round(p90, 1))
    assert reading.cv == round(statistics.stdev(rates) / statistics.fmean(rates), 4)
    assert reading.windows == 10
    single = gauge.reading(Samples((800.0,), 0.05, False, (), 1.0))
    assert (single.units_per_s, single.p10, single.p90, single.cv) == (800.0, 800.0, 800.0, 0)
    assert not single.pinned
    with pytest.raises(ValueError, match="at least one window"):
        gauge.reading(Samples((), 0.0, True, (0,), 1.0))


def test_the_thread_is_pinned_while_working_and_restored_after() -> None:
    before = os.sched_getaffinity(0)
    seen: list[set[int]] = []

    def work() -> None:
        seen.append(os.sched_getaffinity(0))

    gauge.measure([FIRST], 0.01, window=0.005, work=work)
    assert seen and all(affinity == {FIRST} for affinity in seen)
    assert os.sched_getaffinity(0) == before


def test_affinity_is_restored_when_the_work_raises() -> None:
    before = os.sched_getaffinity(0)

    def broken() -> None:
        assert os.sched_getaffinity(0) == {FIRST}
        raise RuntimeError("work failed")

    with pytest.raises(RuntimeError, match="work failed"):
        gauge.measure([FIRST], 0.1, work=broken)
    assert os.sched_getaffinity(0) == before


def test_without_pinning_it_still_measures_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    # A CPU this process may not use: run where allowed rather than fail.
    unusable = gauge.measure([max(ALLOWED) + 64], 0.05, window=0.01)
    assert not unusable.pinned and unusable.windows > 0

    def refuse(pid: int, cpus: object) -> None:
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr(os, "sched_setaffinity", refuse)
    refused = gauge.measure([FIRST], 0.05, window=0.01)
    assert not refused.pinned and refused.units_per_s > 0


@pytest.mark.parametrize(("seconds", "window"), [(0, 0.05), (-1, 0.05), (1, 0)])
def test_bad_durations_are_refused(seconds: float, window: float) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        gauge.measure([FIRST], seconds, window)


def test_readings_of_different_versions_are_never_compared() -> None:
    assert gauge.speed_ratio(reading_of(speed=900), reading_of(speed=1000)) == 0.9
    with pytest.raises(GaugeVersionError, match="gauge version 1 vs 2"):
        gauge.speed_ratio(reading_of(1), reading_of(2))
    this, other = MachineSpeed(1, 900.0, 0.1, 3), MachineSpeed(2, 1000.0, 0.1, 3)
    with pytest.raises(GaugeVersionError):
        machine_ratio(this, other)
    change = machine_change(this, other)
    assert change.ratio is None and change.verdict() is None
    assert change.problem is not None and "not comparable" in change.problem
    assert "not comparable: gauge version 1 vs 2" in change.line("this", "other")


@pytest.mark.parametrize(
    ("speed", "reference", "slow"),
    [
        pytest.param(89.0, [100.0, 100.0, 100.0], True, id="11% below"),
        pytest.param(90.0, [100.0, 100.0, 100.0], False, id="exactly 10% below"),
        pytest.param(95.0, [100.0, 100.0], False, id="5% below"),
        pytest.param(50.0, [100.0], False, id="one reference reading is not enough"),
        pytest.param(80.0, [60.0, 100.0, 100.0, 120.0], True, id="median, not mean"),
    ],
)
def test_the_slow_rule(speed: float, reference: list[float], slow: bool) -> None:
    assert gauge.slower_than(speed, reference) is slow


def gauged(index: int, speed: float | None, **changes: object) -> Record:
    fields: dict[str, object] = {
        "machine_speed": speed,
        "machine_speed_version": gauge.GAUGE_VERSION if speed is not None else None,
    }
    return make_record(index, **{**fields, **changes})


def test_machine_slow_on_synthetic_records() -> None:
    earlier = [gauged(1, 1000.0), gauged(2, 1040.0), gauged(3, 960.0)]
    assert machine_slow(890.0, gauge.GAUGE_VERSION, earlier)  # median 1000: 11% below
    assert not machine_slow(910.0, gauge.GAUGE_VERSION, earlier)
    # Readings of another gauge version, other phases and ungauged records are not the
    # reference: what is left is too little to judge.
    others = [
        gauged(1, 1000.0, machine_speed_version=gauge.GAUGE_VERSION + 1),
        gauged(2, 1000.0, phase="calibration", record_id="x/calibration"),
        gauged(3, None),
        gauged(4, 1000.0),
    ]
    assert not machine_slow(500.0, gauge.GAUGE_VERSION, others)


def test_gauge_command_prints_windows_and_a_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["gauge", "--seconds", "1", "--cpus", str(FIRST)]) == 0
    out = capsys.readouterr().out
    assert f"machine-speed gauge v{gauge.GAUGE_VERSION}" in out
    assert out.count("x median") == 5  # never fewer than 5 windows
    verdict = out.strip().splitlines()[-1]
    assert verdict.startswith(("steady: CV below 3%", "unsteady: CV"))


@pytest.mark.parametrize(
    ("cv", "p10", "p90", "verdict"),
    [
        (0.02, 980.0, 1020.0, "steady: CV below 3% (2.0%)"),
        (
            0.12,
            800.0,
            1200.0,
            "unsteady: CV 12.0%: figures from this machine will vary by about ±20% run to run",
        ),
    ],
)
def test_gauge_verdict(cv: float, p10: float, p90: float, verdict: str) -> None:
    reading = msgspec.structs.replace(reading_of(speed=1000.0), cv=cv, p10=p10, p90=p90)
    assert lab_cli.gauge_verdict(reading).startswith(verdict)


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--seconds", "0"], "--seconds must be positive"), (["--cpus", "x"], "invalid CPU")],
)
def test_gauge_command_rejects_bad_input(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["gauge", *argv]) == 2
    assert message in capsys.readouterr().out

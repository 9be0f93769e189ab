"""The command line: profiles and overrides, clear errors, list and show."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from bench import cli
from bench.infra.gauge import GAUGE_VERSION, GaugeReading
from bench.infra.results import RunInfo, RunStore
from bench.lab import cli as lab_cli
from bench.lab import profiles
from tests.bench.factories import CONFIG, ENV, make_record


def config_for(*argv: str) -> object:
    args = lab_cli.run_parser().parse_args(list(argv))
    return lab_cli.build_config(args)


def test_quick_profile_is_the_issue_matrix() -> None:
    config = lab_cli.build_config(lab_cli.run_parser().parse_args([]))
    assert config.profile == "quick"
    assert config.apps == ["raw", "velocix", "starlette", "fastapi"]
    assert config.servers == ["uvicorn", "granian"]
    assert config.scenarios == ["plaintext", "json", "path_param", "post_validated"]
    assert (config.runs, config.concurrency, config.duration_s) == (3, [64], 2.0)


def test_full_profile_selects_everything_registered() -> None:
    config = lab_cli.build_config(lab_cli.run_parser().parse_args(["--profile", "full"]))
    assert config.servers == ["uvicorn", "granian", "hypercorn"]
    assert "ws_echo" in config.scenarios and "db" in config.scenarios
    assert profiles.PROFILES["full"].apps is None


def test_options_override_the_profile() -> None:
    args = lab_cli.run_parser().parse_args(
        [
            "--profile", "smoke", "--apps", "raw,fastapi", "--servers", "hypercorn",
            "--scenarios", "db", "--duration", "4", "--runs", "5", "--concurrency", "16,64,256",
            "--warmup", "0", "--seed", "9", "--server-cpus", "1", "--generator-cpus", "0",
        ]
    )  # fmt: skip
    config = lab_cli.build_config(args)
    assert (config.apps, config.servers, config.scenarios) == (
        ["raw", "fastapi"],
        ["hypercorn"],
        ["db"],
    )
    assert (config.duration_s, config.runs, config.warmup_s, config.seed) == (4.0, 5, 0.0, 9)
    assert config.concurrency == [16, 64, 256]
    assert (config.server_cpus, config.generator_cpus) == ([1], [0])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--apps", "raw,flask"], "unknown app flask"),
        (["--servers", "gunicorn"], "unknown server gunicorn"),
        (["--scenarios", "nope"], "unknown scenario nope"),
        (["--concurrency", "64,x"], "comma-separated integers"),
        (["--concurrency", "0"], "positive"),
        (["--duration", "0"], "--duration must be at least 1"),
        (["--server-cpus", "a-b"], "invalid CPU"),
    ],
)
def test_bad_options_exit_2_with_a_clear_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert cli.main(["run", *argv, "--output", str(tmp_path)]) == 2
    assert message in capsys.readouterr().out
    assert not (tmp_path / "runs").exists()  # nothing started


def test_list_names_every_plugin(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("raw", "velocix", "granian", "hypercorn", "ws_echo", "middleware", "smoke", "wrk"):
        assert name in out


def test_show_prints_the_stored_table(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    info = RunInfo(
        run_id="20250101T000000Z-aaaaaaaa", created_at="x", argv=[], config=CONFIG, env=ENV
    )
    store = RunStore.create(tmp_path, info)
    for index in (1, 2, 3):
        store.append(make_record(index))
    assert cli.main(["show", "latest", "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "20250101T000000Z-aaaaaaaa" in out
    assert "990 [990-990]" in out  # median rps with its CI
    assert "1 (baseline)" in out


def test_show_of_an_unknown_run_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert cli.main(["show", "nope", "--output", str(tmp_path)]) == 2
    assert "no run 'nope'" in capsys.readouterr().out


def test_show_against_reports_the_worst_cell_difference(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for run_id, rps in (
        ("20250101T000000Z-aaaaaaaa", 1000.0),
        ("20250102T000000Z-bbbbbbbb", 1040.0),
    ):
        info = RunInfo(run_id=run_id, created_at="x", argv=[], config=CONFIG, env=ENV)
        store = RunStore.create(tmp_path, info)
        for index in (1, 2, 3):
            store.append(msgspec.structs.replace(make_record(index), run_id=run_id, rps=rps))
    assert cli.main(["show", "20250102", "--against", "20250101", "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "worst cell differs by 3.9%" in out  # |1040 - 1000| / 1020


def gauged_run(tmp_path: Path, run_id: str, speeds: tuple[float, ...], **info: object) -> None:
    run = RunInfo(run_id=run_id, created_at="x", argv=[], config=CONFIG, env=ENV, **info)  # type: ignore[arg-type]
    store = RunStore.create(tmp_path, run)
    for index, speed in enumerate(speeds, start=1):
        record = make_record(index, machine_speed=speed, machine_speed_version=GAUGE_VERSION)
        store.append(msgspec.structs.replace(record, run_id=run_id))


def reading(speed: float, cv: float) -> GaugeReading:
    return GaugeReading(
        version=GAUGE_VERSION, seconds=1.0, units_per_s=speed, p10=speed * 0.95,
        p90=speed * 1.05, cv=cv, windows=20, pinned=True, cpus=[0],
    )  # fmt: skip


def test_show_prints_the_gauge_and_each_cells_machine_spread(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    gauge = {"start": reading(6000.0, 0.021), "end": reading(5400.0, 0.034)}
    gauged_run(tmp_path, "20250101T000000Z-aaaaaaaa", (5000.0, 6000.0, 5500.0), gauge=gauge)
    assert cli.main(["show", "latest", "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "start 6,000 (CV 2.1%)" in out
    assert "end 5,400 (CV 3.4%)" in out
    assert "end/start 0.900" in out
    assert "median 5,500 units/s over 3 runs, spread 20%" in out
    assert "machine spread" in out and " 20% " in out  # the column: 6000 / 5000 - 1


def test_show_of_a_run_without_gauge_data_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    store = RunStore.create(
        tmp_path,
        RunInfo(run_id="20250101T000000Z-a", created_at="x", argv=[], config=CONFIG, env=ENV),
    )
    store.append(make_record(1))
    assert cli.main(["show", "latest", "--output", str(tmp_path)]) == 0
    assert "machine speed: not gauged in this run" in capsys.readouterr().out


def test_show_against_prints_the_machine_speed_ratio_and_says_when_it_moved(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    gauged_run(tmp_path, "20250101T000000Z-aaaaaaaa", (1000.0, 1000.0, 1000.0))
    gauged_run(tmp_path, "20250102T000000Z-bbbbbbbb", (800.0, 850.0, 900.0))
    gauged_run(tmp_path, "20250103T000000Z-cccccccc", (1020.0, 1020.0, 1020.0))
    assert cli.main(["show", "20250102", "--against", "20250101", "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "this 850 (3 readings), other 1,000 (3): ratio this/other 0.850" in out
    assert "machine this/other" in out and "0.850" in out  # per cell
    assert "machine speed differed by 16.2% between these runs" in out  # 150 / 925
    assert "not attributable to the code" in out
    assert cli.main(["show", "20250103", "--against", "20250101", "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "ratio this/other 1.020" in out
    assert "differed by" not in out  # 2% is within the 5% repeatability target


def test_show_against_refuses_to_compare_gauge_versions(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    gauged_run(tmp_path, "20250101T000000Z-aaaaaaaa", (1000.0,))
    run = RunInfo(run_id="20250102T000000Z-b", created_at="x", argv=[], config=CONFIG, env=ENV)
    store = RunStore.create(tmp_path, run)
    record = make_record(1, machine_speed=500.0, machine_speed_version=GAUGE_VERSION + 1)
    store.append(msgspec.structs.replace(record, run_id=run.run_id))
    assert cli.main(["show", "20250102", "--against", "20250101", "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "not comparable: gauge version" in out
    assert "n/a (gauge versions differ)" in out
    assert "differed by" not in out


def test_gauge_seconds_option() -> None:
    assert config_for("--gauge-s", "0.15").gauge_s == 0.15  # type: ignore[attr-defined]
    assert config_for().gauge_s == 0.2  # type: ignore[attr-defined]
    assert config_for("--gauge-s", "0").gauge_s == 0.0  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--gauge-s", "-1"], "--gauge-s must be 0 or more"),
        (["--resume", "latest", "--gauge-s", "0.1"], "drop --gauge-s"),
    ],
)
def test_bad_gauge_options_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert cli.main(["run", *argv, "--output", str(tmp_path)]) == 2
    assert message in capsys.readouterr().out


def test_one_gauged_run_has_no_spread_to_show(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    gauged_run(tmp_path, "20250101T000000Z-aaaaaaaa", (1000.0,))
    assert cli.main(["show", "latest", "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "n/a (1 run)" in out and " 0% " not in out

"""Options of ``python -m bench.flows``: durations, think times, validation with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.flows import cli
from bench.infra import environment
from bench.infra.results import LocustStats, LocustTopology, Phase, Record


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("20", 20.0), ("20s", 20.0), ("1m", 60.0), ("1m30s", 90.0), ("2.5", 2.5)],
)
def test_durations(text: str, seconds: float) -> None:
    assert cli.seconds(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "0", "0.5s", "5h", "-3"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(cli.UsageError):
        cli.seconds(text)


def test_think_time_range() -> None:
    assert cli.think_range("0.5,2") == (0.5, 2.0)
    assert cli.think_range("1") == (1.0, 1.0)
    for bad in ("2,1", "-1,2", "a,b", "1,2,3"):
        with pytest.raises(cli.UsageError):
            cli.think_range(bad)


def test_options_are_validated_and_defaulted(tmp_path: Path) -> None:
    args = cli.parser().parse_args(
        ["--users", "7", "--workers", "3", "--time", "1m", "--output", str(tmp_path),
         "--server-cpus", "0", "--generator-cpus", "1"]
    )  # fmt: skip
    options = cli.options_of(args)
    assert (options.app, options.server, options.users, options.workers) == (
        "velocix", "granian", 7, 3,
    )  # fmt: skip
    assert options.run_time_s == 60.0
    assert (options.server_cpus, options.generator_cpus) == ((0,), (1,))
    assert (options.think_min_s, options.think_max_s) == (0.5, 2.0)
    assert options.ceiling == "measure" and options.reports == tmp_path


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--app", "flask"], "unknown app 'flask'"),
        (["--server", "gunicorn"], "unknown server 'gunicorn'"),
        (["--users", "0"], "--users must be at least 1"),
        (["--workers", "0"], "--workers must be at least 1"),
        (["--spawn-rate", "0"], "--spawn-rate must be at least 0.1"),
        (["--server-cpus", "3-1"], "invalid CPU range"),
        (["--time", "soon"], "a duration is like"),
    ],
)
def test_bad_options_exit_2_with_a_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert cli.main([*argv, "--output", str(tmp_path)]) == 2
    assert message in capsys.readouterr().out
    assert not (tmp_path / "runs").exists()  # nothing started, nothing stored


def test_an_unusable_reports_directory_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert cli.main(["--output", str(blocker / "reports")]) == 2
    assert "cannot create the run" in capsys.readouterr().out


def test_the_ceiling_is_shown_next_to_the_rate_per_worker() -> None:
    assert cli.per_worker(_record("run", 24.0, 1291.0)) == "24 of 1,291 (2%)"
    assert cli.per_worker(_record("run", 24.0, None)) == "24 of ? (not measured)"
    assert cli.per_worker(_record("calibration", 1291.0, None)) == "1,291 = the ceiling"
    assert "~3,000 at a whole CPU" in cli.per_worker(_record("calibration", 1291.0, None, 3000.0))


def _record(
    phase: Phase, per_worker: float, ceiling: float | None, per_cpu: float | None = None
) -> Record:
    topology = LocustTopology(
        master_host="127.0.0.1", master_port=1, workers=1, master_cpus=[1], worker_cpus=[[1]],
        users=1, spawn_rate=1.0, run_time_s=1.0, locustfile="f", user_classes=[],
        think_time_s=[0.0, 0.0], locust_version="2.47.0",
    )  # fmt: skip
    stats = LocustStats(
        request_type="", name="Aggregated", failures=0, rps_per_worker=per_worker,
        ceiling_rps_per_worker=ceiling, topology=topology, rps_per_worker_cpu=per_cpu,
    )  # fmt: skip
    return Record(
        run_id="r", record_id="x", cell_id="c", source="locust", kind="measurement",
        phase=phase, app="raw", server="granian", scenario="flows", variant="app",
        protocol="http", concurrency=1, driver="locust", duration_s=1.0, started_at="s",
        finished_at="f", env=environment.collect(), locust=stats,
    )  # fmt: skip

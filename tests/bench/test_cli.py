"""The command line: profiles and overrides, clear errors, list and show."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from bench import cli, profiles
from bench.results import RunInfo, RunStore

from .test_results import CONFIG, ENV, make_record


def config_for(*argv: str) -> object:
    args = cli.parser().parse_args(["run", *argv])
    return cli.build_config(args)


def test_quick_profile_is_the_issue_matrix() -> None:
    config = cli.build_config(cli.parser().parse_args(["run"]))
    assert config.profile == "quick"
    assert config.apps == ["raw", "velocix", "starlette", "fastapi"]
    assert config.servers == ["uvicorn", "granian"]
    assert config.scenarios == ["plaintext", "json", "path_param", "post_validated"]
    assert (config.runs, config.concurrency, config.duration_s) == (3, [64], 2.0)


def test_full_profile_selects_everything_registered() -> None:
    config = cli.build_config(cli.parser().parse_args(["run", "--profile", "full"]))
    assert config.servers == ["uvicorn", "granian", "hypercorn"]
    assert "ws_echo" in config.scenarios and "db" in config.scenarios
    assert profiles.PROFILES["full"].apps is None


def test_options_override_the_profile() -> None:
    args = cli.parser().parse_args(
        [
            "run", "--profile", "smoke", "--apps", "raw,fastapi", "--servers", "hypercorn",
            "--scenarios", "db", "--duration", "4", "--runs", "5", "--concurrency", "16,64,256",
            "--warmup", "0", "--seed", "9", "--server-cpus", "1", "--generator-cpus", "0",
        ]
    )  # fmt: skip
    config = cli.build_config(args)
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

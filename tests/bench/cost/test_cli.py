"""python -m bench cost: profiles, option errors, missing valgrind (exit 2, nothing stored)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import cli
from bench.cost import callgrind
from bench.cost import cli as cost_cli


def config_for(*argv: str) -> object:
    return cost_cli.build_config(cost_cli.parser().parse_args(list(argv)))


def test_quick_profile_is_the_lab_quick_matrix() -> None:
    config = cost_cli.build_config(cost_cli.parser().parse_args([]))
    assert config.profile == "quick"
    assert config.apps == ("raw", "velocix", "starlette", "fastapi")
    assert config.servers == ("uvicorn", "granian")
    assert config.scenarios == ("plaintext", "json", "path_param", "post_validated")
    assert (config.requests, config.warmup) == (1000, 200)


def test_smoke_profile_is_raw_and_velocix_on_uvicorn_and_the_quick_scenarios() -> None:
    config = cost_cli.build_config(cost_cli.parser().parse_args(["--profile", "smoke"]))
    assert (config.apps, config.servers, config.scenarios) == (
        ("raw", "velocix"),
        ("uvicorn",),
        ("plaintext", "json", "path_param", "post_validated"),
    )


def test_gate_and_update_baseline_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cost_cli.parser().parse_args(["--gate", "--update-baseline"])
    assert "not allowed with argument" in capsys.readouterr().err


def test_options_override_the_profile() -> None:
    args = cost_cli.parser().parse_args(
        ["--apps", "fastapi", "--servers", "granian", "--scenarios", "json",
         "--requests", "50", "--warmup", "0", "--seed", "7", "--server-cpus", "0"]
    )  # fmt: skip
    config = cost_cli.build_config(args)
    assert (config.apps, config.servers, config.scenarios) == (
        ("fastapi",),
        ("granian",),
        ("json",),
    )
    assert (config.requests, config.warmup, config.seed, config.server_cpus) == (50, 0, 7, (0,))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--apps", "flask"], "unknown app flask"),
        (["--scenarios", "ws_echo"], "only HTTP scenarios"),
        (["--requests", "0"], "--requests must be at least 1"),
        (["--warmup", "-1"], "--warmup must be at least 0"),
        (["--server-cpus", "x"], "invalid CPU list"),
    ],
)
def test_bad_options_are_one_line_errors(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["cost", *argv, "--output", str(tmp_path)]) == 2
    assert message in capsys.readouterr().out
    assert not (tmp_path / "runs").exists()


def test_missing_valgrind_exits_2_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(callgrind.shutil, "which", lambda name: None)
    assert cli.main(["cost", "--profile", "smoke", "--output", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    assert "valgrind and callgrind_control not found" in out
    assert not (tmp_path / "runs").exists()

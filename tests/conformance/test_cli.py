"""``python -m conformance``: readable verdicts and exit codes."""

from __future__ import annotations

import pytest

from conformance.__main__ import main


def test_check_passes_a_conforming_app(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "conformance.broken_apps:correct_app", "--path", "/", "--path", "/x"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "conforms" in out


def test_check_fails_an_app_that_mutates_the_scope(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "bench.frameworks.starlette.conformance:app", "--case", "A17"])
    out = capsys.readouterr().out
    assert code == 1
    assert "A17" in out and "does not conform" in out


def test_bad_arguments_give_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "no-colon"]) == 2
    assert "module:attribute" in capsys.readouterr().out
    assert main(["check", "conformance.broken_apps:correct_app", "--server", "nginx"]) == 2


def test_listing_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cases"]) == 0
    assert "E66d" in capsys.readouterr().out
    assert main(["rules"]) == 0
    assert "ws.close.code" in capsys.readouterr().out

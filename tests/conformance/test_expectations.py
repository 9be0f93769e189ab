"""The expectations file is valid and the gate judges results against it."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest

from conformance import expectations
from conformance.cases import by_id


def test_shipped_file_is_valid_and_names_real_cases() -> None:
    deviations = expectations.load()
    assert deviations, "the file records the deviations the matrix found"
    ids = list(by_id())
    for deviation in deviations:
        assert any(fnmatch.fnmatchcase(case, deviation.case) for case in ids), deviation
        assert deviation.framework != "velocix"
        assert deviation.reason


def test_velocix_entries_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "e.toml"
    path.write_text('[[deviation]]\ncase="A01"\nframework="velocix"\nserver="*"\nreason="x"\n')
    with pytest.raises(expectations.ExpectationsError, match="bugs to fix"):
        expectations.load(path)


def test_entries_need_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "e.toml"
    path.write_text('[[deviation]]\ncase="A01"\nframework="x"\nserver="*"\nreason=" "\n')
    with pytest.raises(expectations.ExpectationsError, match="empty reason"):
        expectations.load(path)


def _cell(framework: str, server: str, **kinds: str) -> dict[str, object]:
    return {
        "framework": framework,
        "server": server,
        "results": [{"id": case, "kind": kind, "detail": ""} for case, kind in kinds.items()],
    }


def test_gate_flags_unexpected_failures_and_passes() -> None:
    deviations = [
        expectations.Deviation("B2*", "*", "granian", "fail", "port as str"),
        expectations.Deviation("A17", "starlette", "*", "fail", "scope writes"),
    ]
    cells = [
        _cell("starlette", "granian", A17="fail", B23="fail", B24="pass", C44="fail"),
        _cell("raw", "granian", B23="pass", A17="pass"),
    ]
    gate = expectations.evaluate(cells, deviations)  # type: ignore[arg-type]
    assert not gate["passed"]
    found = {(u["framework"], u["id"], u["verdict"]) for u in gate["unexpected"]}
    assert found == {
        ("starlette", "C44", "unexpected-fail"),
        ("starlette", "B24", "unexpected-pass"),
        ("raw", "B23", "unexpected-pass"),
    }
    assert gate["counts"]["expected-fail"] == 2


def test_gate_passes_when_every_failure_is_known() -> None:
    deviations = [expectations.Deviation("C53", "*", "*", "fail", "no version header")]
    cells = [_cell("velocix", "uvicorn", C53="fail", A01="pass", A08="not_applicable")]
    gate = expectations.evaluate(cells, deviations)  # type: ignore[arg-type]
    assert gate["passed"]
    assert gate["unconfirmed_deviations"] == []


def test_most_specific_entry_wins() -> None:
    general = expectations.Deviation("C*", "*", "*", "fail", "general")
    specific = expectations.Deviation("C49", "*", "hypercorn", "fail", "specific")
    assert expectations.lookup([general, specific], "C49", "raw", "hypercorn") is specific

"""JUnit XML of the matrix gate: an unexpected result is a failure, a known deviation is not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import junitparser

from conformance import junit


def _result(case_id: str, kind: str, verdict: str, detail: str = "") -> dict[str, Any]:
    return {"id": case_id, "title": f"title {case_id}", "kind": kind, "verdict": verdict,
            "detail": detail, "duration_s": 0.5}  # fmt: skip


def test_matrix_gate_as_junit(tmp_path: Path) -> None:
    cells = [
        {
            "framework": "raw",
            "server": "uvicorn",
            "duration_s": 3.0,
            "results": [
                _result("B21", "pass", "ok"),
                _result("B35", "fail", "expected-fail", "HTTP/1.0 without Content-Length: chunked"),
                _result("E59a", "pass", "unexpected-pass", "refused: 400"),
                _result("C45", "not_applicable", "ok", "uvicorn does not offer it"),
            ],
        }
    ]
    path = tmp_path / "matrix.xml"
    junit.write(path, junit.from_matrix(cells))
    xml = junitparser.JUnitXml.fromfile(str(path))
    [suite] = list(xml)
    assert suite.name == "raw x uvicorn"
    assert (suite.tests, suite.failures, suite.skipped) == (4, 1, 2)
    by_id = {case.name.split()[0]: case for case in suite}
    assert by_id["B21"].is_passed
    [failure] = by_id["E59a"].result
    assert isinstance(failure, junitparser.Failure)
    assert failure.message == "unexpected-pass: refused: 400"
    [known] = by_id["B35"].result
    assert isinstance(known, junitparser.Skipped) and known.message.startswith("known deviation")

"""JUnit XML for CI (``--junit FILE``): one ``<testsuite>`` per app x server, one ``<testcase>``
per case. A counted failure is a ``<failure>``; a pass is an empty test case; anything else
(skip, not applicable, spec-ambiguous, a server failure not counted) is ``<skipped>`` with its
reason, so CI dashboards show it without failing the build.
"""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

Status = Literal["passed", "failure", "skipped"]


@dataclass(frozen=True)
class TestCase:
    """One case's result as JUnit sees it."""

    classname: str
    name: str
    seconds: float
    status: Status
    message: str = ""
    text: str = ""


@dataclass
class Suite:
    """One app x server (or framework x server) pairing."""

    name: str
    cases: list[TestCase]
    properties: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def write(path: Path, suites: Sequence[Suite], name: str = "asgi-conformance") -> None:
    """Write ``suites`` as a JUnit XML document to ``path``."""
    root = ET.Element("testsuites", name=name)
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    for suite in suites:
        counts = _counts(suite.cases)
        for key in totals:
            totals[key] += counts[key]
        element = ET.SubElement(
            root,
            "testsuite",
            name=suite.name,
            tests=str(counts["tests"]),
            failures=str(counts["failures"]),
            errors="0",
            skipped=str(counts["skipped"]),
            time=f"{suite.seconds:.3f}",
            timestamp=stamp,
            hostname=socket.gethostname(),
        )
        if suite.properties:
            properties = ET.SubElement(element, "properties")
            for key, value in suite.properties.items():
                ET.SubElement(properties, "property", name=key, value=value)
        for case in suite.cases:
            _case(element, case)
    root.set("tests", str(totals["tests"]))
    root.set("failures", str(totals["failures"]))
    root.set("errors", "0")
    root.set("skipped", str(totals["skipped"]))
    root.set("time", f"{sum(s.seconds for s in suites):.3f}")
    ET.indent(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def _counts(cases: Sequence[TestCase]) -> dict[str, int]:
    return {
        "tests": len(cases),
        "failures": sum(c.status == "failure" for c in cases),
        "skipped": sum(c.status == "skipped" for c in cases),
    }


def _case(parent: ET.Element, case: TestCase) -> None:
    element = ET.SubElement(
        parent, "testcase", classname=case.classname, name=case.name, time=f"{case.seconds:.3f}"
    )
    if case.status == "failure":
        failure = ET.SubElement(element, "failure", message=case.message, type="conformance")
        failure.text = case.text or case.message
    elif case.status == "skipped":
        ET.SubElement(element, "skipped", message=case.message)


def from_check(report: Any) -> Suite:
    """The suite of a ``check`` report (:class:`conformance.check.Report`)."""
    cases = []
    for result in report.results:
        name = f"{result['id']} {result['title']}"
        classname = f"conformance.{report.server}.{result['group']}"
        cases.append(TestCase(classname, name, result["duration_s"], *_check_status(result)))
    return Suite(
        f"{report.app_ref} on {report.server}",
        cases,
        {
            "app": report.app_ref,
            "server": report.server,
            "framework": report.framework,
            "routes": report.routes.describe(),
            "verdict": "conforms" if report.conforms else "does not conform",
            "summary": report.summary(),
        },
        report.duration_s,
    )


def _check_status(result: dict[str, Any]) -> tuple[Status, str, str]:
    kind, detail = result["kind"], result["detail"]
    if kind == "pass":
        return "passed", "", ""
    if kind != "fail":
        label = {"not_applicable": "not applicable", "spec_ambiguous": "spec-ambiguous"}
        return "skipped", f"{label.get(kind, kind)}: {detail}", ""
    text = "\n".join(
        line
        for line in (
            detail,
            f"blame: {result['blame']} ({result['blame_reason']})",
            _deviation_line(result.get("deviation")),
            f"spec: {result['spec']}",
        )
        if line
    )
    if not result.get("counted"):
        return "skipped", f"server failure, not counted (--include-server counts it): {detail}", ""
    return "failure", f"[{result['blame']}] {detail}", text


def _deviation_line(deviation: dict[str, Any] | None) -> str:
    if not deviation:
        return ""
    link = f" ({deviation['link']})" if deviation.get("link") else ""
    return f"known deviation (expectations.toml): {deviation['reason']}{link}"


def from_matrix(cells: Sequence[dict[str, Any]]) -> list[Suite]:
    """One suite per matrix cell; a failure is an unexpected result of the gate."""
    suites = []
    for cell in cells:
        cases = []
        for result in cell["results"]:
            verdict = result.get("verdict", "ok")
            name = f"{result['id']} {result['title']}"
            classname = f"conformance.{cell['framework']}.{cell['server']}"
            seconds = result.get("duration_s", 0.0)
            if verdict in ("unexpected-fail", "unexpected-pass"):
                message = f"{verdict}: {result['detail']}"
                cases.append(TestCase(classname, name, seconds, "failure", message, message))
            elif result["kind"] == "pass" and verdict == "ok":
                cases.append(TestCase(classname, name, seconds, "passed"))
            else:
                label = "known deviation" if verdict == "expected-fail" else result["kind"]
                message = f"{label}: {result['detail']}"
                cases.append(TestCase(classname, name, seconds, "skipped", message))
        suites.append(
            Suite(
                f"{cell['framework']} x {cell['server']}",
                cases,
                {"framework": cell["framework"], "server": cell["server"]},
                float(cell.get("duration_s") or 0.0),
            )
        )
    return suites

"""Blame: who a failure belongs to, decided by the control run on the raw baseline."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from conformance import expectations
from conformance.cases import by_id
from conformance.cases.model import Outcome, failed, passed
from conformance.check import Plan, _blame, framework_of


class FakeControl:
    def __init__(self, outcome: Outcome | None, error: str | None = None) -> None:
        self.result = outcome
        self.error = error
        self.asked: list[str] = []

    def outcome(self, case: Any) -> Outcome | None:
        self.asked.append(case.id)
        return self.result


def blame(
    case_id: str,
    detail: str,
    control: FakeControl,
    *,
    server: str | None = "uvicorn",
    include_server: bool = False,
    framework: str = "custom",
) -> dict[str, Any]:
    record: dict[str, Any] = {"kind": "fail", "detail": detail}
    ctx = SimpleNamespace(inprocess=server is None, server=server or "inprocess")
    plan = Plan("x:app", server, [], include_server=include_server)
    _blame(record, by_id()[case_id], ctx, control, expectations.load(), framework, plan)  # type: ignore[arg-type]
    return record


def test_in_process_failures_are_the_apps_without_a_control_run() -> None:
    control = FakeControl(failed("x"))
    record = blame("G04", "body on a 204", control, server=None)
    assert (record["blame"], record["counted"], control.asked) == ("app", True, [])


def test_failure_the_baseline_does_not_have_is_the_apps() -> None:
    record = blame("A01", "[http.start.duplicate] ...", FakeControl(passed()))
    assert (record["blame"], record["counted"]) == ("app", True)
    assert "baseline passes" in record["blame_reason"]


def test_server_failure_is_not_counted_unless_asked() -> None:
    control = FakeControl(failed("HTTP/1.0 without Content-Length: chunked"))
    record = blame("B35", "HTTP/1.0 without Content-Length: chunked", control)
    assert (record["blame"], record["counted"]) == ("server", False)
    assert record["deviation"] is not None and record["deviation"]["server"] == "uvicorn"
    counted = blame("B35", "anything", control, include_server=True)
    assert (counted["blame"], counted["counted"]) == ("server", True)


def test_app_traffic_failing_like_the_baseline_modulo_numbers_is_the_servers() -> None:
    control = FakeControl(failed("client is ('127.0.0.1', '40001')"))
    record = blame("A03", "client is ('127.0.0.1', '52344')", control, server="granian")
    assert record["blame"] == "server"
    both = blame("A03", "[headers.name-case] 'X-Y'", control, server="granian")
    assert (both["blame"], both["counted"]) == ("both", True)
    assert "also fails" in both["blame_reason"]


def test_a_control_that_cannot_run_leaves_the_failure_counted() -> None:
    record = blame("A01", "x", FakeControl(None, "the baseline did not start on uvicorn: boom"))
    assert (record["blame"], record["counted"]) == ("app", True)
    assert record["blame_reason"].startswith("unattributed: the baseline did not start")


def test_known_framework_deviation_is_shown_on_the_apps_failure() -> None:
    record = blame("G03", "HEAD / answered 405", FakeControl(passed()), server=None,
                   framework="fastapi")  # fmt: skip
    assert record["blame"] == "app" and record["deviation"]["link"] == "fastapi #1773"


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("bench.frameworks.fastapi.conformance:app", "fastapi"),
        ("bench.frameworks.starlette.conformance:app", "starlette"),
        ("bench.frameworks.velocix.conformance:app", "velocix"),
        ("conformance.broken_apps:correct_app", "custom"),
    ],
)
def test_framework_of(reference: str, expected: str) -> None:
    from conformance.check import load_app

    assert framework_of(load_app(reference)) == expected

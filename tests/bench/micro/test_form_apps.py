"""The micro table's battery rows: every framework answers the form and middleware cases."""

from __future__ import annotations

import asyncio

import pytest

from bench import frameworks
from bench.micro.cases import CASES, MicroCase
from bench.micro.driver import Lifespans, MicroServer

BATTERY_CASES = [case for case in CASES if case.name in ("form", "middleware")]


def test_battery_rows_are_in_the_table() -> None:
    assert [case.name for case in BATTERY_CASES] == ["middleware", "form"]


@pytest.mark.parametrize("framework", frameworks.names())
@pytest.mark.parametrize("case", BATTERY_CASES, ids=lambda case: case.name)
def test_case_answered_correctly(case: MicroCase, framework: str) -> None:
    if frameworks.get(framework).not_applicable(case.requires):
        with pytest.raises(ImportError):  # no form app is written for a framework without forms
            frameworks.load(framework, case.target)
        return
    loop = asyncio.new_event_loop()
    lifespans = Lifespans(loop)
    try:
        app = frameworks.load(framework, case.target)
        if frameworks.get(framework).needs_lifespan:
            lifespans.start(app)
        server = MicroServer(app, case, loop)
        server.prime()  # raises AssertionError on a wrong status, content type or body
        server.run_batch(3)  # later calls give the same body
    finally:
        lifespans.close()
        loop.close()


@pytest.mark.parametrize("framework", frameworks.names())
def test_middleware_stack_adds_its_headers(framework: str) -> None:
    case = next(case for case in BATTERY_CASES if case.name == "middleware")
    loop = asyncio.new_event_loop()
    lifespans = Lifespans(loop)
    try:
        app = frameworks.load(framework, case.target)
        if frameworks.get(framework).needs_lifespan:
            lifespans.start(app)
        _, headers, _ = MicroServer(app, case, loop).call_once()
    finally:
        lifespans.close()
        loop.close()
    names = {name.lower() for name, _ in headers}  # Django's are mixed-case (see A03)
    assert {b"access-control-allow-origin", b"x-request-id"} <= names


def test_unknown_target_is_an_import_error() -> None:
    with pytest.raises(ImportError, match="no 'nope'"):
        frameworks.load("raw", "nope")  # type: ignore[arg-type]

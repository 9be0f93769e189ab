"""The micro table's battery rows: every framework answers the form and middleware cases."""

from __future__ import annotations

import asyncio

import pytest

from bench.micro.cases import CASES, MicroCase
from bench.micro.driver import MicroServer
from bench.micro.frameworks import FRAMEWORKS, MINIMAL, load_app

BATTERY_CASES = [case for case in CASES if case.name in ("form", "middleware")]
# The minimal baseline answers the five core cases only (bench/micro/minimal.py).
BATTERY_FRAMEWORKS = [name for name in FRAMEWORKS if name != MINIMAL]


def test_battery_rows_are_in_the_table() -> None:
    assert [case.name for case in BATTERY_CASES] == ["middleware", "form"]


@pytest.mark.parametrize("framework", BATTERY_FRAMEWORKS)
@pytest.mark.parametrize("case", BATTERY_CASES, ids=lambda case: case.name)
def test_case_answered_correctly(case: MicroCase, framework: str) -> None:
    loop = asyncio.new_event_loop()
    try:
        server = MicroServer(load_app(framework, case.target, case.module), case, loop)
        server.prime()  # raises AssertionError on a wrong status, content type or body
        server.run_batch(3)  # later calls give the same body
    finally:
        loop.close()


@pytest.mark.parametrize("framework", BATTERY_FRAMEWORKS)
def test_middleware_stack_adds_its_headers(framework: str) -> None:
    case = next(case for case in BATTERY_CASES if case.name == "middleware")
    loop = asyncio.new_event_loop()
    try:
        server = MicroServer(load_app(framework, case.target, case.module), case, loop)
        _, headers, _ = server.call_once()
    finally:
        loop.close()
    names = {name.lower() for name, _ in headers}
    assert {b"access-control-allow-origin", b"x-request-id"} <= names


def test_unknown_target_is_an_import_error() -> None:
    with pytest.raises(ImportError, match="no 'nope'"):
        load_app("raw", "nope")

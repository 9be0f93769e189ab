"""The case table: enough checks, every group, unique ids, metadata complete."""

from __future__ import annotations

import pytest

from conformance.cases import all_cases
from conformance.cases.model import Case


def test_at_least_sixty_cases_across_the_six_groups() -> None:
    cases = all_cases()
    assert len(cases) >= 60
    # A-E follow the checklist; G is generated traffic on an app's own routes.
    assert {case.group for case in cases} == {"A", "B", "C", "D", "E", "G"}
    assert len({case.id for case in cases}) == len(cases)
    assert {case.item for case in cases} == set(range(1, 67))  # every checklist item


@pytest.mark.parametrize("case", all_cases(), ids=[case.id for case in all_cases()])
def test_case_metadata(case: Case) -> None:
    assert case.id.startswith(case.group)
    assert case.title and case.spec
    assert case.where in ("any", "wire", "inprocess")
    assert callable(case.run)


def test_applicability_rules() -> None:
    by = {case.id: case for case in all_cases()}
    assert by["B21"].applicable_to("raw", "inprocess", frozenset()) is not None
    assert by["B21"].applicable_to("raw", "uvicorn", frozenset()) is None
    assert by["A15"].applicable_to("raw", "uvicorn", frozenset()) is not None
    denial = by["A14"].applicable_to("velocix", "inprocess", frozenset({"file"}))
    assert denial is not None and "denial_response" in denial.detail
    assert by["D54"].applicable_to("starlette", "uvicorn", frozenset()) is not None
    assert by["D54"].applicable_to("custom", "uvicorn", frozenset(), check_mode=True) is None
    assert by["A09"].applicable_to("custom", "inprocess", frozenset(), check_mode=True)


def test_check_mode_says_what_a_case_needs() -> None:
    by = {case.id: case for case in all_cases()}
    needs_endpoint = by["C45"].applicable_to("custom", "uvicorn", frozenset(), check_mode=True)
    assert needs_endpoint is not None and "ws:/conformance/ws/denial" in needs_endpoint.detail
    needs_server = by["B21"].applicable_to("custom", "inprocess", frozenset(), check_mode=True)
    assert needs_server is not None and "--server" in needs_server.detail
    assert by["G01"].applicable_to("custom", "inprocess", frozenset(), check_mode=True) is None

"""What each framework's conformance app declares matches what it can serve."""

from __future__ import annotations

import pytest

from bench import frameworks as field
from conformance.cases import all_cases
from conformance.cases.model import WEBSOCKET


@pytest.mark.parametrize("framework", field.names())
def test_websocket_cases_follow_the_spec(framework: str) -> None:
    # A framework lacks WebSocket only where its spec says so (with the reason), so a module
    # cannot silently turn its WebSocket cases off.
    features = field.conformance_features(framework)
    assert (WEBSOCKET in features) is field.get(framework).supports("websocket")
    assert WEBSOCKET not in field.load_conformance(framework).FEATURES  # derived, not repeated


def test_websocket_cases_are_not_applicable_without_websocket() -> None:
    django = field.conformance_features("django")
    by_id = {case.id: case for case in all_cases()}
    for case_id in ("A11", "C43", "C52"):
        outcome = by_id[case_id].applicable_to("django", "uvicorn", django)
        assert outcome is not None and outcome.kind == "not_applicable"
        assert "websocket" in outcome.detail
        quart = field.conformance_features("quart")
        assert by_id[case_id].applicable_to("quart", "uvicorn", quart) is None
    # An HTTP case still applies to Django.
    assert by_id["A18"].applicable_to("django", "uvicorn", django) is None


def test_a_framework_without_a_startup_hook_has_no_failing_startup_app() -> None:
    assert not hasattr(field.load_conformance("django"), "app_failing_startup")
    assert hasattr(field.load_conformance("quart"), "app_failing_startup")

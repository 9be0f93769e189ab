"""The conformance framework registry: what each module declares matches what it can serve."""

from __future__ import annotations

import importlib

import pytest

from conformance import apps
from conformance.cases import all_cases
from conformance.cases.model import WEBSOCKET


@pytest.mark.parametrize("framework", apps.names())
def test_websocket_feature_matches_the_contract_app(framework: str) -> None:
    # A framework lacks WebSocket only where its contract app says ws_echo is not applicable,
    # so a module that forgets the feature cannot silently turn its WebSocket cases off.
    contract = importlib.import_module(f"bench.apps.{framework}")
    lacks_websocket = "ws_echo" in getattr(contract, "NOT_APPLICABLE", {})
    assert (WEBSOCKET in apps.load(framework).FEATURES) is not lacks_websocket


def test_websocket_cases_are_not_applicable_without_websocket() -> None:
    django = apps.load("django")
    by_id = {case.id: case for case in all_cases()}
    for case_id in ("A11", "C43", "C52"):
        outcome = by_id[case_id].applicable_to("django", "uvicorn", django.FEATURES)
        assert outcome is not None and outcome.kind == "not_applicable"
        assert "websocket" in outcome.detail
        assert by_id[case_id].applicable_to("quart", "uvicorn", apps.load("quart").FEATURES) is None
    # An HTTP case still applies to Django.
    assert by_id["A18"].applicable_to("django", "uvicorn", django.FEATURES) is None


def test_a_framework_without_a_startup_hook_has_no_failing_startup_app() -> None:
    assert not hasattr(apps.load("django"), "app_failing_startup")
    assert hasattr(apps.load("quart"), "app_failing_startup")

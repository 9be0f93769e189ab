"""The asgion cross-check's comparison: agreements vanish, disagreements carry a reason."""

from __future__ import annotations

from conformance import crosscheck
from conformance.validator import RULES


def test_agreement_is_not_reported() -> None:
    row = {"where": "x", "ours": ["http.body.before-start"], "theirs": ["HF-002:error"]}
    assert crosscheck.compare(row) is None


def test_disagreements_are_explained() -> None:
    row = {
        "where": "raw: http GET /",
        "ours": ["scope.mutated"],
        "theirs": ["HS-014:error", "SEM-002:info"],
    }
    found = crosscheck.compare(row)
    assert found is not None
    assert found["ours"] == ["scope.mutated"] and found["theirs"] == ["HS-014"]
    assert "raw_path" in found["reason"] and found["explained"]


def test_softer_asgion_severity_is_named() -> None:
    row = {"where": "x", "ours": ["http.body.head"], "theirs": ["HF-011:info"]}
    found = crosscheck.compare(row)
    assert found is not None and "info level" in found["reason"]


def test_unknown_rules_are_flagged_unexplained() -> None:
    row = {"where": "x", "ours": [], "theirs": ["ZZ-999:error"]}
    found = crosscheck.compare(row)
    assert found is not None and not found["explained"]


def test_mapping_targets_exist() -> None:
    targets = {rule for rules in crosscheck.EQUIVALENT.values() for rule in rules}
    assert targets <= RULES.keys()
    assert set(crosscheck.OURS_ONLY) <= RULES.keys()

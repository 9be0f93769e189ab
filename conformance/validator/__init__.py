"""The in-process validator: ``validate(app)`` and the rules it checks."""

from conformance.validator.rules import RULES, ASGIConformanceError, Rule, Violation
from conformance.validator.wrapper import CONNECTION_HEADER, Observer, ValidatedApp, validate

__all__ = [
    "CONNECTION_HEADER",
    "RULES",
    "ASGIConformanceError",
    "Observer",
    "Rule",
    "ValidatedApp",
    "Violation",
    "validate",
]

"""ASGI / HTTP / WebSocket / lifespan conformance suite of the Velocix lab.

``conformance.validate(app)`` wraps any ASGI application and checks the scope it is given and
every event it sends; ``python -m conformance`` runs the over-the-wire checks and the
framework x server matrix.
"""

from conformance.validator import (
    RULES,
    ASGIConformanceError,
    Rule,
    ValidatedApp,
    Violation,
    validate,
)

__all__ = ["RULES", "ASGIConformanceError", "Rule", "ValidatedApp", "Violation", "validate"]

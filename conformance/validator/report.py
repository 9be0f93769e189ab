"""The per-connection reporter: turns a rule id and a message into a recorded Violation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.validator.rules import ASGIConformanceError, Violation, rule


class Reporter:
    """Records violations for one connection; raises for errors when the wrapper is strict."""

    def __init__(
        self,
        sink: Callable[[Violation], None],
        *,
        strict: bool,
        scope_type: str = "",
        method: str = "",
        path: str = "",
        connection: str = "",
    ) -> None:
        self._sink = sink
        self._strict = strict
        self.scope_type = scope_type
        self.method = method
        self.path = path
        self.connection = connection
        self.count = 0

    def __call__(self, rule_id: str, message: str, **extra: Any) -> None:
        """Record one violation of ``rule_id`` (and raise it in strict mode if it is an error)."""
        meta = rule(rule_id)
        violation = Violation(
            rule=rule_id,
            message=message,
            severity=meta.severity,
            spec=meta.spec,
            item=meta.item,
            scope_type=self.scope_type,
            method=self.method,
            path=self.path,
            connection=self.connection,
            extra=extra,
        )
        self.count += 1
        self._sink(violation)
        if self._strict and meta.severity == "error":
            raise ASGIConformanceError(violation)

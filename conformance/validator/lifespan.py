"""State machine of the lifespan scope."""

from __future__ import annotations

from typing import Any

from conformance.validator.messages import event_type
from conformance.validator.report import Reporter

_REPLIES = {
    "lifespan.startup.complete": "lifespan.startup",
    "lifespan.startup.failed": "lifespan.startup",
    "lifespan.shutdown.complete": "lifespan.shutdown",
    "lifespan.shutdown.failed": "lifespan.shutdown",
}


class LifespanChecker:
    """Startup and shutdown: each reply answers its event, once."""

    def __init__(self, scope: dict[str, Any], report: Reporter) -> None:
        self.scope = scope
        self.report = report
        self.pending: set[str] = set()
        self.answered: set[str] = set()
        self.seen: list[str] = []

    def received(self, message: Any) -> None:
        """Check lifespan.startup / lifespan.shutdown from the server."""
        kind = event_type(message, self.report)
        if kind in ("lifespan.startup", "lifespan.shutdown"):
            if kind in self.seen:
                self.report("receive.order", f"second {kind!r}")
            if kind == "lifespan.shutdown" and "lifespan.startup" not in self.answered:
                self.report("receive.order", "lifespan.shutdown before startup was answered")
            self.seen.append(kind)
            self.pending.add(kind)
        elif kind is not None:
            self.report("receive.message", f"unexpected {kind!r} on the lifespan scope")

    def send_failed(self) -> None:
        """Lifespan sends do not fail on a well-behaved server; nothing to track."""

    def sending(self, message: Any) -> None:
        """Check a startup/shutdown reply."""
        kind = event_type(message, self.report)
        if kind is None:
            return
        answers = _REPLIES.get(kind)
        if answers is None:
            self.report("message.unknown-type", f"{kind!r} is not a lifespan event")
            return
        if answers not in self.pending:
            self.report("lifespan.send.state", f"{kind!r} without a pending {answers!r}")
        self.pending.discard(answers)
        self.answered.add(answers)
        if kind.endswith(".failed") and not isinstance(message.get("message", ""), str):
            self.report("lifespan.failed.message", f"message {message.get('message')!r}")

    def finished(self, error: BaseException | None) -> None:
        """Returning from the lifespan call is allowed at any point."""

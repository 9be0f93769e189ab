"""``validate(app)``: the validating wrapper, in the spirit of ``wsgiref.validate``."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Protocol

from conformance.validator.http import HTTPChecker
from conformance.validator.lifespan import LifespanChecker
from conformance.validator.report import Reporter
from conformance.validator.rules import Violation
from conformance.validator.scope import KNOWN_TYPES, check_scope, mutations, snapshot
from conformance.validator.websocket import WebSocketChecker

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Request header that names a connection in reports (the wire cases set it on each request).
CONNECTION_HEADER = b"x-conformance-id"
_CHECKERS: dict[str, type[HTTPChecker | WebSocketChecker | LifespanChecker]] = {
    "http": HTTPChecker,
    "websocket": WebSocketChecker,
    "lifespan": LifespanChecker,
}


class Observer(Protocol):
    """Receives violations as they happen and a note when each application call ends."""

    def violation(self, violation: Violation) -> None:
        """Called for every violation."""

    def started(self, connection: str, scope: dict[str, Any]) -> None:
        """Called with the scope as the server handed it, before the application runs."""

    def finished(self, connection: str, scope_type: str) -> None:
        """Called when the application call for ``connection`` has returned or raised."""


class ValidatedApp:
    """An ASGI app wrapped so that the scope it receives and every event are checked.

    In strict mode (the default) an error-severity violation raises
    :class:`~conformance.validator.rules.ASGIConformanceError` at the point it happens, before
    the offending event reaches the server. Otherwise violations are only recorded in
    :attr:`violations` (and passed to the observer) and events are forwarded unchanged (one-shot
    headers as a fresh iterator of the same pairs, see :func:`replayable_headers`), which lets
    the server's own handling of a bad event be observed too.
    """

    def __init__(self, app: ASGIApp, *, strict: bool = True, observer: Observer | None = None):
        self.app = app
        self.strict = strict
        self.observer = observer
        self.violations: list[Violation] = []
        self._ids = itertools.count(1)

    def clear(self) -> None:
        """Forget the violations recorded so far."""
        self.violations.clear()

    def rules_violated(self) -> set[str]:
        """Ids of the rules violated so far."""
        return {violation.rule for violation in self.violations}

    def _record(self, violation: Violation) -> None:
        self.violations.append(violation)
        if self.observer is not None:
            self.observer.violation(violation)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        report = self._reporter(scope)
        if self.observer is not None and isinstance(scope, dict):
            self.observer.started(report.connection, scope)
        check_scope(scope, report)
        kind = scope.get("type") if isinstance(scope, dict) else None
        try:
            if kind not in KNOWN_TYPES:
                await self._unknown_scope(scope, receive, send, report)
            else:
                await _Connection(self.app, scope, report).run(receive, send)
        finally:
            if self.observer is not None:
                self.observer.finished(report.connection, str(kind))

    async def _unknown_scope(
        self, scope: Scope, receive: Receive, send: Send, report: Reporter
    ) -> None:
        # The spec asks applications to *raise* for protocols they do not understand, so
        # the server does not wait on them (asgi.rst, note in "Protocol Specifications").
        await self.app(scope, receive, send)
        kind = scope.get("type") if isinstance(scope, dict) else None
        report("scope.unknown-type-accepted", f"app returned normally for type {kind!r}")

    def _reporter(self, scope: Any) -> Reporter:
        connection = f"c{next(self._ids)}"
        method = path = kind = ""
        if isinstance(scope, dict):
            kind = str(scope.get("type", ""))
            method = str(scope.get("method", "")) if kind == "http" else ""
            path = str(scope.get("path", ""))
            for name, value in scope.get("headers") or ():
                if name == CONNECTION_HEADER and isinstance(value, bytes):
                    connection = value.decode("latin-1")
        return Reporter(
            self._record,
            strict=self.strict,
            scope_type=kind,
            method=method,
            path=path,
            connection=connection,
        )


def replayable_headers(message: Message) -> tuple[Message, Message]:
    """The message to check and the message to forward, the same when ``headers`` can be read
    twice. One-shot headers (Sanic sends a generator) would be used up by the check and reach
    the server empty, so the check and the server each get a fresh generator of the same pairs:
    the validator stays transparent (the next layer still sees a generator)."""
    headers = message.get("headers") if isinstance(message, dict) else None
    if not hasattr(headers, "__next__"):  # absent, a list, or anything but an iterator
        return message, message
    pairs = list(headers)
    checked = {**message, "headers": (pair for pair in pairs)}
    return checked, {**message, "headers": (pair for pair in pairs)}


class _Connection:
    """One application call: wraps receive/send around the protocol's checker."""

    def __init__(self, app: ASGIApp, scope: Scope, report: Reporter) -> None:
        self.app = app
        self.scope = scope
        self.report = report
        self.checker = _CHECKERS[scope["type"]](dict(scope), report)
        self.before = snapshot(dict(scope))
        self.mutation_reported = False

    async def run(self, receive: Receive, send: Send) -> None:
        async def checked_receive() -> Message:
            message = await receive()
            self.checker.received(message)
            return message

        async def checked_send(message: Message) -> None:
            self._check_mutation()
            checked, message = replayable_headers(message)
            self.checker.sending(checked)
            try:
                await send(message)
            except OSError:
                self.checker.send_failed()
                raise

        error: BaseException | None = None
        try:
            await self.app(self.scope, checked_receive, checked_send)
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._check_mutation()
            if not isinstance(error, AssertionError):
                self.checker.finished(error)

    def _check_mutation(self) -> None:
        if self.mutation_reported:
            return
        changed = mutations(self.before, dict(self.scope))
        if changed:
            self.mutation_reported = True
            self.report("scope.mutated", f"scope changed in place: {', '.join(changed)}")


def validate(
    app: ASGIApp, *, strict: bool = True, observer: Observer | None = None
) -> ValidatedApp:
    """Wrap ``app`` so that every scope and event crossing it is checked against the spec.

    ``strict=True`` raises :class:`ASGIConformanceError` on the first error; ``strict=False``
    records violations in ``.violations`` (and reports them to ``observer``) and forwards
    events unchanged.
    """
    return ValidatedApp(app, strict=strict, observer=observer)

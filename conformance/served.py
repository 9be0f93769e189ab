"""The application a server process runs during the wire checks.

``CONFORMANCE_TARGET`` (``module:attribute``) names the app under test. It is served behind
``validate(app, strict=False)`` with the event log as observer, so every scope, violation and
end of call lands in ``CONFORMANCE_LOG``; ``/conformance/raw/*`` goes to the raw probes
instead. ``CONFORMANCE_LIFESPAN`` selects a lifespan behaviour for the lifespan checks:

* ``""`` (default): the target's own lifespan, with two entries added to the state namespace;
* ``raise``: raise on the lifespan scope (the server must carry on without lifespan, D56);
* ``slow-startup``: hold ``startup.complete`` back 1.5 s (no request may be processed, D54);
* ``slow-shutdown``: hold ``shutdown.complete`` back 1 s (the server must wait, D57);
* ``crash-after-startup``: complete startup, then raise (undefined by the spec, D58).
"""

from __future__ import annotations

import asyncio
import importlib
import os
from typing import Any

from conformance import probes
from conformance.eventlog import ENV_LOG, EventLog
from conformance.validator.wrapper import ASGIApp, Message, Receive, Scope, Send, validate

ENV_TARGET = "CONFORMANCE_TARGET"
ENV_LIFESPAN = "CONFORMANCE_LIFESPAN"
CONNECTION_HEADER = b"x-conformance-id"


def load(target: str) -> ASGIApp:
    """Import ``module:attribute``, with a clear error for a malformed or missing target."""
    module_name, colon, attribute = target.partition(":")
    if not colon or not module_name or not attribute:
        raise ValueError(f"target {target!r} is not of the form module:attribute")
    app: ASGIApp = getattr(importlib.import_module(module_name), attribute)
    return app


class Served:
    """Target app behind the validator, raw probes beside it, lifespan behaviour selectable."""

    def __init__(self, target: ASGIApp, log: EventLog | None, lifespan_mode: str = "") -> None:
        self.log = log
        self.validated = validate(target, strict=False, observer=log)
        self.lifespan_mode = lifespan_mode

    def note(self, **record: Any) -> None:
        """Write a record to the event log, if there is one."""
        if self.log is not None:
            self.log.write(record)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(scope, receive, send)
            return
        if scope["type"] == "websocket" and (ws_probe := probes.ws_probe_for(scope)):
            # Behind the validator too, so the scope the server built is logged and checked.
            await validate(ws_probe, strict=False, observer=self.log)(scope, receive, send)
            return
        probe = probes.probe_for(scope) if scope["type"] == "http" else None
        if probe is None:
            await self.validated(scope, receive, send)
            return
        connection = _connection_id(scope)
        try:
            await probe(scope, receive, send, probes.query_of(scope))
        finally:
            self.note(event="probe-finished", connection=connection)

    async def lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the target's lifespan (or a deliberate misbehaviour), logging each step."""
        mode = self.lifespan_mode
        self.note(event="lifespan", phase="called", mode=mode)
        if mode == "raise":
            raise RuntimeError("this app does not support lifespan (conformance D56)")
        if mode == "crash-after-startup":
            await self._crash_after_startup(receive, send)
            return
        namespace = scope.get("state")
        if isinstance(namespace, dict):
            namespace[probes.STATE_VALUE] = "initial"
            namespace[probes.STATE_SHARED] = {"hits": 0}
        await self.validated(scope, self._logged_receive(receive), self._held_send(send))

    def _logged_receive(self, receive: Receive) -> Receive:
        async def logged() -> Message:
            message = await receive()
            self.note(event="lifespan", phase=str(message.get("type")) + ".received")
            return message

        return logged

    def _held_send(self, send: Send) -> Send:
        async def held(message: Message) -> None:
            kind = str(message.get("type"))
            if kind == "lifespan.startup.complete" and self.lifespan_mode == "slow-startup":
                await asyncio.sleep(1.5)
            if kind == "lifespan.shutdown.complete" and self.lifespan_mode == "slow-shutdown":
                await asyncio.sleep(1.0)
            self.note(event="lifespan", phase=kind + ".sent")
            if kind == "lifespan.startup.complete":
                probes.LIFESPAN["startup_complete"] = True
            await send(message)

        return held

    async def _crash_after_startup(self, receive: Receive, send: Send) -> None:
        await receive()
        probes.LIFESPAN["startup_complete"] = True
        await send({"type": "lifespan.startup.complete"})
        self.note(event="lifespan", phase="lifespan.startup.complete.sent")
        await asyncio.sleep(0.3)
        self.note(event="lifespan", phase="crashed")
        raise RuntimeError("lifespan task crashed after startup (conformance D58)")


def _connection_id(scope: Scope) -> str:
    for name, value in scope.get("headers") or ():
        if name == CONNECTION_HEADER:
            return bytes(value).decode("latin-1")
    return ""


def build() -> Served:
    """The served app described by the environment."""
    target = os.environ.get(ENV_TARGET)
    if not target:
        raise RuntimeError(f"{ENV_TARGET} is not set: name the app under test as module:attr")
    log_path = os.environ.get(ENV_LOG)
    log = EventLog(log_path) if log_path else None
    return Served(load(target), log, os.environ.get(ENV_LIFESPAN, ""))


class _FromEnvironment:
    """The module's ``app``: builds :class:`Served` from the environment on first call.

    Importing the module (tests, tooling) therefore needs no environment, and servers that
    look the attribute up with ``eval`` (hypercorn) find a plain module attribute.
    """

    def __init__(self) -> None:
        self._served: Served | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._served is None:
            self._served = build()
        await self._served(scope, receive, send)


app = _FromEnvironment()

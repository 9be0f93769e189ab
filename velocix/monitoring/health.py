"""Health, readiness and startup probes with registered checks.

::

    health = HealthChecks(timeout=2.0)

    @health.check("database")
    async def database() -> dict[str, Any]:
        await pool.execute("SELECT 1")
        return {"pool_size": pool.size}

    health.register(app)   # GET /health (liveness), /ready (readiness), /startup

A check passes unless it raises, returns ``False`` or overruns its timeout; a returned mapping
is reported as ``details``. The checks of one probe run concurrently, each bounded by its own
timeout, so one hung dependency cannot hang the probe. All pass: 200; any failure: 503 — both
with a per-check report::

    {"detail": "1 of 2 checks failed", "status": 503,
     "checks": {"database": {"status": "timeout", "duration_ms": 2000.4,
                             "error": "timed out after 2.0s"}, ...}}

Startup checks latch: once they have all passed, ``/startup`` answers 200 without running them
again (Kubernetes startupProbe semantics), and with no startup checks it is 200 right away, so a
started application never stays "starting". Exception messages can reveal internals, so only
the exception type is reported unless ``show_errors=True``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from velocix.core.background import is_async_callable
from velocix.core.concurrency import run_in_threadpool
from velocix.core.response import JSONResponse

__all__ = ["CheckResult", "HealthChecks"]

Kind = Literal["liveness", "readiness", "startup"]
KINDS: tuple[Kind, ...] = ("liveness", "readiness", "startup")
CheckFunction = Callable[[], Any]
_NO_STORE = {"Cache-Control": "no-store"}


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    function: CheckFunction
    timeout: float
    kind: Kind


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one check: ``status`` is ``"pass"``, ``"fail"`` or ``"timeout"``."""

    name: str
    status: str
    duration_ms: float
    details: Mapping[str, Any] | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON form used in probe responses."""
        report: dict[str, Any] = {"status": self.status, "duration_ms": round(self.duration_ms, 1)}
        if self.details is not None:
            report["details"] = dict(self.details)
        if self.error is not None:
            report["error"] = self.error
        return report


class HealthChecks:
    """A registry of checks and the probe endpoints that run them.

    ``timeout``: default per-check timeout in seconds. ``show_errors``: include exception
    messages (not just their type) in failure reports.
    """

    def __init__(self, *, timeout: float = 5.0, show_errors: bool = False) -> None:
        if timeout <= 0:
            raise ValueError("HealthChecks: timeout must be > 0 seconds")
        self.timeout = timeout
        self.show_errors = show_errors
        self.checks: dict[Kind, list[Check]] = {kind: [] for kind in KINDS}
        self.started = False

    def add(
        self,
        name: str,
        function: CheckFunction,
        *,
        timeout: float | None = None,
        kind: Kind = "readiness",
    ) -> None:
        """Register ``function`` (async, or sync run in the thread pool) as a ``kind`` check."""
        if kind not in KINDS:
            raise ValueError(f"HealthChecks: kind must be one of {KINDS}, got {kind!r}")
        if any(check.name == name for check in self.checks[kind]):
            raise ValueError(f"HealthChecks: a {kind} check named {name!r} already exists")
        if timeout is not None and timeout <= 0:
            raise ValueError("HealthChecks: timeout must be > 0 seconds")
        self.checks[kind].append(Check(name, function, timeout or self.timeout, kind))

    def check(
        self, name: str | None = None, *, timeout: float | None = None, kind: Kind = "readiness"
    ) -> Callable[[CheckFunction], CheckFunction]:
        """Decorator form of :meth:`add` (the name defaults to the function's name)."""

        def decorator(function: CheckFunction) -> CheckFunction:
            self.add(name or function.__name__, function, timeout=timeout, kind=kind)
            return function

        return decorator

    async def run_check(self, check: Check) -> CheckResult:
        """Run one check under its timeout."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(check.timeout):
                outcome = await self._call(check.function)
        except TimeoutError:
            return CheckResult(
                check.name, "timeout", _ms_since(started), error=f"timed out after {check.timeout}s"
            )
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}" if self.show_errors else type(exc).__name__
            return CheckResult(check.name, "fail", _ms_since(started), error=error)
        if outcome is False:
            return CheckResult(check.name, "fail", _ms_since(started), error="check returned False")
        details = outcome if isinstance(outcome, Mapping) else None
        return CheckResult(check.name, "pass", _ms_since(started), details=details)

    @staticmethod
    async def _call(function: CheckFunction) -> Any:
        if is_async_callable(function):
            return await function()
        result = await run_in_threadpool(function)
        if isinstance(result, Awaitable):
            return await result
        return result

    async def run(self, kind: Kind) -> list[CheckResult]:
        """Run every ``kind`` check concurrently."""
        return list(await asyncio.gather(*(self.run_check(c) for c in self.checks[kind])))

    async def probe(self, kind: Kind) -> JSONResponse:
        """The probe response for ``kind``: 200 when every check passes, else 503."""
        if kind == "startup" and self.started:
            return _report(200, "Started", [])
        results = await self.run(kind)
        failed = sum(result.status != "pass" for result in results)
        if failed:
            return _report(503, f"{failed} of {len(results)} checks failed", results)
        if kind == "startup":
            self.started = True
        return _report(200, "All checks passed", results)

    async def liveness(self) -> JSONResponse:
        """Endpoint: is the process able to serve (liveness checks only)."""
        return await self.probe("liveness")

    async def readiness(self) -> JSONResponse:
        """Endpoint: should traffic be sent here (readiness checks)."""
        return await self.probe("readiness")

    async def startup(self) -> JSONResponse:
        """Endpoint: has the application finished starting (latched once passed)."""
        return await self.probe("startup")

    def register(
        self,
        app: Any,
        *,
        live_path: str | None = "/health",
        ready_path: str | None = "/ready",
        startup_path: str | None = "/startup",
        include_in_schema: bool = False,
    ) -> None:
        """Add the probe routes to ``app`` (a Velocix app or Router); ``None`` skips one."""
        endpoints = (
            (live_path, self.liveness, "health_liveness"),
            (ready_path, self.readiness, "health_readiness"),
            (startup_path, self.startup, "health_startup"),
        )
        for path, endpoint, name in endpoints:
            if path is not None:
                app.add_api_route(
                    path,
                    endpoint,
                    methods=["GET"],
                    name=name,
                    include_in_schema=include_in_schema,
                    tags=["health"],
                )


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0


def _report(status: int, detail: str, results: list[CheckResult]) -> JSONResponse:
    body = {
        "detail": detail,
        "status": status,
        "checks": {result.name: result.as_dict() for result in results},
    }
    return JSONResponse(body, status, _NO_STORE)

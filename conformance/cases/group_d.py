"""Group D: lifespan (checklist items 54-58), each on a fresh server process.

The served wrapper's ``CONFORMANCE_LIFESPAN`` mode makes startup slow, shutdown slow, the
lifespan call raise, or the lifespan task crash later; ``app_failing_startup`` is each
framework's own idiom for a startup hook that fails.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from typing import Any

from conformance.cases.model import (
    Case,
    Context,
    Outcome,
    ambiguous,
    failed,
    not_applicable,
    passed,
    verdict,
)
from conformance.cases.wirehelp import status_of
from conformance.targets import WireTarget, new_connection_id
from conformance.wire import http1

_LIFESPAN = "asgiref specs/lifespan.rst"
_RAW_ONLY = frozenset({"raw"})
_SERVER_REASON = "server behaviour with a fresh server process: checked in the raw column"


def _new(ctx: Context, ref: str | None = None, **options: Any) -> WireTarget:
    ready = ctx.wire.ready_path if ref is None else None  # the app under check: any answer
    return WireTarget(
        ctx.server, ref or ctx.app_ref, ctx.workdir, wait_ready=False, ready_path=ready, **options
    )


#: Served by conformance.served beside any app: "the server serves" whatever the app answers.
SERVING_PROBE = "/conformance/raw/echo"


def no_lifespan(ctx: Context, target: WireTarget) -> Outcome | None:
    """Not applicable when the server never called the app with a lifespan scope."""
    if any(r.get("phase") == "called" for r in target.events.events("lifespan")):
        return None
    return not_applicable(f"{ctx.server} does not run the lifespan protocol (it is optional)")


def terminate_leader(target: WireTarget, timeout: float) -> int | None:
    """SIGTERM the server's main process only (as an orchestrator does) and wait for it.

    The whole group is still killed afterwards by ``target.close()``; signalling the group
    first would hit the workers directly and skip the server's own graceful shutdown.
    """
    process = target.running.process
    if process is None:
        return None
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout)
    return process.returncode


def _get(port: int, path: str, timeout: float = 1.0) -> http1.Response | str:
    try:
        return http1.exchange(port, http1.build_request("GET", path), timeout=timeout)
    except (OSError, TimeoutError, http1.PeerClosed, http1.FramingError) as exc:
        return f"{type(exc).__name__}"


LIFESPAN_SPEC_VERSIONS = ("1.0", "2.0")


def d54a_lifespan_scope(ctx: Context) -> Outcome:
    from bench.frameworks._shared.conformance import decode

    scopes = [
        decode(r["scope"])
        for r in ctx.wire.events.events("scope")
        if (r.get("scope") or {}).get("type") == "lifespan"
    ]
    if not scopes:
        return not_applicable(f"{ctx.server} does not run the lifespan protocol (it is optional)")
    scope = scopes[0]
    asgi = scope.get("asgi") or {}
    failures = []
    if asgi.get("version") != "3.0":
        failures.append(f"asgi.version {asgi.get('version')!r}, expected '3.0'")
    spec = asgi.get("spec_version")
    if spec is not None and spec not in LIFESPAN_SPEC_VERSIONS:
        failures.append(
            f"lifespan spec_version {spec!r}: the lifespan spec has only versions "
            f"{' and '.join(LIFESPAN_SPEC_VERSIONS)}"
        )
    if "state" in scope and not isinstance(scope["state"], dict):
        failures.append(f"state is a {type(scope['state']).__name__}, not a dict")
    return verdict(
        failures,
        f"lifespan scope asgi {asgi}",
        observed={"asgi": asgi, "state": type(scope.get("state")).__name__},
        expected={"version": "3.0", "spec_version": "1.0 or 2.0 (default 1.0)"},
    )


def d54_no_early_requests(ctx: Context) -> Outcome:
    target = _new(ctx, lifespan_mode="slow-startup")
    answers: list[bool] = []
    try:
        target.spawn()
        deadline = time.monotonic() + 15.0
        while time.monotonic() < deadline and True not in answers:
            result = _get(target.port, "/conformance/raw/lifespan", 2.0)
            if isinstance(result, http1.Response) and result.status == 200:
                answers.append(b'"startup_complete": true' in result.body)
                if not target.events.events("lifespan"):
                    break  # serving, and no lifespan call at all: a server without lifespan
            time.sleep(0.05)
    finally:
        target.close()
    if (skip := no_lifespan(ctx, target)) is not None:
        return skip
    if False in answers:
        return failed(
            "a request was processed before lifespan.startup.complete", answers.count(False), 0
        )
    if not answers:
        return failed("the server never served a request after startup")
    return passed("requests only after startup.complete (held 1.5 s)")


def d55_startup_failed(ctx: Context) -> Outcome:
    from bench.infra.servers.base import ServerError

    if ctx.failing_ref is None:
        return not_applicable("no failing-startup variant of this app")
    target = _new(ctx, ctx.failing_ref)
    try:
        target.running.start(20.0)
    except ServerError:
        if (skip := no_lifespan(ctx, target)) is not None:
            return skip  # never started the app's lifespan: it did not become ready for that
        code = target.running.process.returncode if target.running.process else None
        log = target.server_log_text()
        failures = [] if code not in (0, None) else [f"exit code {code}"]
        if "startup failed on purpose" not in log:
            failures.append("the failure message was not logged")
        return verdict(
            failures,
            f"exited with code {code} and logged the message",
            observed={"exit_code": code},
        )
    finally:
        target.close()
    if (skip := no_lifespan(ctx, target)) is not None:
        return skip
    return failed("the server kept running after lifespan.startup.failed", "serving", "exit != 0")


def d56_lifespan_raises(ctx: Context) -> Outcome:
    from bench.infra.servers.base import ServerError

    target = _new(ctx, lifespan_mode="raise")
    try:
        target.running.start(20.0)
        served = status_of(_get(target.port, SERVING_PROBE, 3.0))
    except ServerError:
        code = target.running.process.returncode if target.running.process else None
        return failed(
            f"the server exited (code {code}) because the lifespan call raised",
            {"exit_code": code},
            "keeps serving",
        )
    finally:
        target.close()
    if (skip := no_lifespan(ctx, target)) is not None:
        return skip
    calls = target.events.events("lifespan")
    failures = []
    if served != 200:
        failures.append(f"GET {SERVING_PROBE} answered {served} after the lifespan call raised")
    if len(calls) != 1:
        failures.append(f"{len(calls)} lifespan events, expected the single failed call")
    return verdict(
        failures,
        "kept serving without further lifespan events",
        observed={"served": served, "lifespan_events": len(calls)},
    )


def d57_shutdown_order(ctx: Context) -> Outcome:
    target = _new(ctx, lifespan_mode="slow-shutdown")
    connection = new_connection_id()
    result: dict[str, Any] = {}

    def in_flight() -> None:
        raw = http1.build_request(
            "GET", "/conformance/raw/sleep?s=1", [("x-conformance-id", connection)]
        )
        try:
            result["status"] = http1.exchange(target.port, raw, timeout=6.0).status
        except (OSError, TimeoutError, http1.PeerClosed, http1.FramingError) as exc:
            result["status"] = type(exc).__name__

    try:
        target.running.start(20.0)
        request = threading.Thread(target=in_flight)
        request.start()
        time.sleep(0.3)
        terminate_leader(target, 10.0)
        stopped_at = time.time()
        request.join(8)
    finally:
        target.close()
    if (skip := no_lifespan(ctx, target)) is not None:
        return skip
    phases = {r["phase"]: r["t"] for r in target.events.events("lifespan")}
    finished = [
        r["t"] for r in target.events.events("probe-finished") if r.get("connection") == connection
    ]
    failures = []
    if result.get("status") != 200:
        failures.append(f"in-flight request ended with {result.get('status')}")
    shutdown = phases.get("lifespan.shutdown.received")
    if shutdown is None:
        failures.append("lifespan.shutdown never sent")
    elif finished and shutdown < finished[0]:
        failures.append("lifespan.shutdown sent while a request was in flight")
    complete = phases.get("lifespan.shutdown.complete.sent")
    if complete is None:
        failures.append("the server exited before the app sent shutdown.complete")
    elif stopped_at < complete:
        failures.append("the server exited before shutdown.complete")
    return verdict(
        failures,
        "shutdown after connections closed; waited for complete",
        observed={"request": result.get("status"), "phases": sorted(phases)},
    )


def d58_crash_after_startup(ctx: Context) -> Outcome:
    target = _new(ctx, lifespan_mode="crash-after-startup")
    try:
        target.running.start(20.0)
        time.sleep(0.8)
        observed = {
            "alive": target.running.alive(),
            "serving": status_of(_get(target.port, SERVING_PROBE, 2.0)),
        }
    finally:
        target.close()
    if (skip := no_lifespan(ctx, target)) is not None:
        return skip
    return ambiguous(
        "the spec does not say what a server does when the lifespan task fails "
        "after startup (uvicorn #2308; asgiref #276)",
        observed,
    )


CASES: tuple[Case, ...] = (
    Case(
        "D54a",
        "D",
        54,
        "The lifespan scope: asgi.version 3.0, a lifespan spec_version (1.0 or 2.0)",
        f"{_LIFESPAN} Scope",
        ("lifespan",),
        d54a_lifespan_scope,
        where="wire",
        tools=("AS",),
        generic=True,
    ),
    Case(
        "D54",
        "D",
        54,
        "No request is processed before startup.complete",
        f"{_LIFESPAN} Startup Complete",
        ("/conformance/raw/lifespan",),
        d54_no_early_requests,
        where="wire",
        frameworks=_RAW_ONLY,
        reason_other_frameworks=_SERVER_REASON,
        tools=("GC",),
        generic=True,
    ),
    Case(
        "D55",
        "D",
        55,
        "startup.failed: the server logs the message and exits non-zero",
        f"{_LIFESPAN} Startup Failed; hypercorn #97",
        ("lifespan",),
        d55_startup_failed,
        where="wire",
    ),
    Case(
        "D56",
        "D",
        56,
        "The app raising on the lifespan scope: serving goes on, no more events",
        f"{_LIFESPAN} Scope",
        ("lifespan", SERVING_PROBE),
        d56_lifespan_raises,
        where="wire",
        frameworks=_RAW_ONLY,
        reason_other_frameworks=_SERVER_REASON,
        generic=True,
    ),
    Case(
        "D57",
        "D",
        57,
        "shutdown only after connections closed; the server waits for complete",
        f"{_LIFESPAN} Shutdown; granian #772",
        ("/conformance/raw/sleep",),
        d57_shutdown_order,
        where="wire",
        frameworks=_RAW_ONLY,
        reason_other_frameworks=_SERVER_REASON,
        generic=True,
    ),
    Case(
        "D58",
        "D",
        58,
        "The lifespan task failing after startup (spec-undefined)",
        "uvicorn #2308; asgiref #276",
        ("lifespan",),
        d58_crash_after_startup,
        where="wire",
        frameworks=_RAW_ONLY,
        reason_other_frameworks=_SERVER_REASON,
        generic=True,
    ),
)

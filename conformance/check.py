"""``python -m conformance check MODULE:APP``: the suite on anyone's ASGI app, with blame.

The app runs in-process (behind the validator, with the generated traffic of the G cases) and,
with ``--server``, under that server too. Its routes come from :mod:`conformance.routes`.

Blame: a failure in-process is the app's. A failure under a server is run again against the
raw baseline (``bench.frameworks.raw.conformance``) on the same server as a control: if the baseline
passes, the failure is the app's; if it fails the same way, the server's; if it fails
differently, both. ``expectations.toml`` entries for every framework (``*``) name the server's
known deviations; entries for the framework the app is built on are shown as that framework's.
The verdict counts the app's failures (``app`` and ``both``); ``include_server`` counts the
server's too.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from conformance import expectations
from conformance.cases.model import Case, Context, Outcome, failed
from conformance.routes import (
    OPENAPI_PATHS,
    HTTPRoute,
    Routes,
    WebSocketRoute,
    from_openapi,
    from_route_table,
    merge,
)
from conformance.runner import result_record
from conformance.targets import InProcessTarget, WireTarget

Blame = Literal["app", "server", "both"]
BASELINE = "bench.frameworks.raw.conformance:app"
READY_TIMEOUT = 30.0


class CheckError(Exception):
    """The check cannot run (a bad app reference, an app that cannot be imported, a server that
    never became ready): one line for the user, exit code 2."""


def load_app(app_ref: str) -> Any:
    """Import ``module:attribute`` from the current directory; CheckError with one clear line."""
    module_name, colon, attribute = app_ref.partition(":")
    if not colon or not module_name or not attribute:
        raise CheckError(f"app {app_ref!r} must be given as module:attribute (e.g. main:app)")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        hint = "" if exc.name != module_name else " (run from the directory that holds it)"
        raise CheckError(f"cannot import {module_name!r}: {exc}{hint}") from None
    except Exception as exc:
        raise CheckError(
            f"importing {module_name!r} raised {type(exc).__name__}: {exc}".rstrip(": ")
        ) from None
    target: Any = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise CheckError(f"module {module_name!r} has no attribute {attribute!r}")
        target = getattr(target, part)
    if not callable(target):
        raise CheckError(f"{app_ref} is a {type(target).__name__}, not an ASGI application")
    return target


def framework_of(app: Any) -> str:
    """The framework an app is built on, as expectations.toml names them (else ``custom``)."""
    seen = 0
    while app is not None and seen < 10:
        package = type(app).__module__.split(".")[0]
        if package in ("fastapi", "starlette", "velocix"):
            return package
        app = getattr(app, "app", None)
        seen += 1
    return "custom"


@dataclass
class Plan:
    """What to check and how."""

    app_ref: str
    server: str | None
    cases: Sequence[Case]
    paths: Sequence[HTTPRoute] = ()
    websockets: Sequence[WebSocketRoute] = ()
    routes_file: Routes | None = None
    ready_path: str = "/"
    include_server: bool = False
    workdir: Path = field(default_factory=lambda: Path.cwd())


@dataclass
class Report:
    """The results of one check, each with its blame."""

    app_ref: str
    server: str
    framework: str
    routes: Routes
    results: list[dict[str, Any]]
    include_server: bool
    duration_s: float = 0.0
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Results per outcome kind."""
        found: dict[str, int] = {}
        for result in self.results:
            found[result["kind"]] = found.get(result["kind"], 0) + 1
        return found

    def failures(self, *blames: str) -> list[dict[str, Any]]:
        """Failed results with one of ``blames``."""
        return [r for r in self.results if r["kind"] == "fail" and r.get("blame") in blames]

    @property
    def counted(self) -> list[dict[str, Any]]:
        """The failures the verdict counts."""
        return [r for r in self.results if r["kind"] == "fail" and r.get("counted")]

    @property
    def conforms(self) -> bool:
        """No counted failure."""
        return not self.counted

    def summary(self) -> str:
        """The one-line summary (the last line a CI log shows)."""
        counts = self.counts()
        app = len(self.failures("app", "both"))
        server = len(self.failures("server"))
        server_note = "" if self.include_server else " (not counted)"
        verdict = "conforms" if self.conforms else "does not conform"
        return (
            f"{self.app_ref} on {self.server}: {verdict}: "
            f"{app} app failure(s), {server} server failure(s){server_note}, "
            f"{counts.get('pass', 0)} passed, {counts.get('skip', 0)} skipped, "
            f"{counts.get('not_applicable', 0)} not applicable, "
            f"{counts.get('spec_ambiguous', 0)} spec-ambiguous; "
            f"{len(self.results)} cases in {self.duration_s:.1f} s"
        )


Progress = Callable[[dict[str, Any]], None]


def run(plan: Plan, progress: Progress | None = None) -> Report:
    """Run the check; CheckError when it cannot run at all."""
    with _importable_from_cwd():
        return _run(plan, progress)


@contextlib.contextmanager
def _importable_from_cwd() -> Iterator[None]:
    """The current directory on the path of this process and of the servers it starts."""
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [os.getcwd(), before]))
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = before


def _run(plan: Plan, progress: Progress | None) -> Report:
    started = time.monotonic()
    app = load_app(plan.app_ref)
    framework = framework_of(app)
    local = InProcessTarget(app)
    contexts: list[Context] = []
    targets: list[InProcessTarget | WireTarget] = [local]
    try:
        local.start()
        routes = discover(plan, local, app)
        local_ctx = _context(local, plan, routes, "inprocess")
        contexts.append(local_ctx)
        wire_ctx = None
        if plan.server is not None:
            wire = _start_server(plan.server, plan.app_ref, plan, routes.ready_path)
            targets.append(wire)
            wire_ctx = _context(wire, plan, routes, plan.server)
            contexts.append(wire_ctx)
        control = _Control(plan, routes)
        deviations = expectations.load()
        results = []
        try:
            for case in plan.cases:
                ctx = local_ctx if _in_process(case, wire_ctx) else wire_ctx
                assert ctx is not None
                record = result_record(case, *run_case(case, ctx))
                _blame(record, case, ctx, control, deviations, framework, plan)
                results.append(record)
                if progress is not None:
                    progress(record)
        finally:
            control.close()
    finally:
        for ctx in contexts:
            ctx.close()
        for target in reversed(targets):
            target.close()
    return Report(
        plan.app_ref,
        plan.server or "inprocess",
        framework,
        routes,
        results,
        plan.include_server,
        round(time.monotonic() - started, 1),
    )


def _in_process(case: Case, wire_ctx: Context | None) -> bool:
    return case.where == "inprocess" or wire_ctx is None


def _context(target: Any, plan: Plan, routes: Routes, server: str) -> Context:
    return Context(
        "custom",
        server,
        frozenset(),
        target,
        plan.workdir,
        plan.app_ref,
        traffic=routes.traffic(),
        routes=routes,
        check_mode=True,
    )


def _start_server(server: str, app_ref: str, plan: Plan, ready_path: str | None) -> WireTarget:
    from bench.infra.servers.base import ServerError

    path = ready_path or plan.ready_path
    try:
        return WireTarget(server, app_ref, plan.workdir, ready_path=path, timeout=READY_TIMEOUT)
    except ServerError as exc:
        last = [line for line in str(exc).splitlines() if line.strip()][-1:]
        raise CheckError(
            f"{server} did not answer GET {path} within {READY_TIMEOUT:.0f} s "
            f"(is {path!r} a path the app serves? --ready-path): {' '.join(last)}"
        ) from None


def discover(plan: Plan, local: InProcessTarget, app: Any) -> Routes:
    """The app's routes: a routes file, then the options, then OpenAPI, then the route table."""
    if plan.routes_file is not None:
        return plan.routes_file
    openapi: tuple[HTTPRoute, ...] = ()
    if not (plan.paths or plan.websockets):
        for path in OPENAPI_PATHS:
            exchange = local.request("GET", path)
            if exchange.status == 200:
                import json

                try:
                    document = json.loads(exchange.body)
                except ValueError:
                    continue
                if isinstance(document, dict) and isinstance(document.get("paths"), dict):
                    openapi = from_openapi(document)
                    break
    found = merge(plan.paths, plan.websockets, openapi, from_route_table(app))
    return Routes(found.http, found.websocket, found.source, plan.ready_path)


class _Control:
    """The raw baseline on the same server, started on the first failure that needs it."""

    def __init__(self, plan: Plan, routes: Routes) -> None:
        self.plan = plan
        self.routes = routes
        self.target: WireTarget | None = None
        self.ctx: Context | None = None
        self.error: str | None = None

    def outcome(self, case: Case) -> Outcome | None:
        """The case's outcome on the baseline (None when the baseline could not run)."""
        if self.ctx is None and self.error is None:
            self._start()
        if self.ctx is None:
            return None
        return run_case(case, self.ctx)[0]

    def _start(self) -> None:
        from bench import frameworks as field

        assert self.plan.server is not None
        try:
            self.target = WireTarget(
                self.plan.server, BASELINE, self.plan.workdir, timeout=READY_TIMEOUT
            )
        except Exception as exc:
            self.error = f"the baseline did not start on {self.plan.server}: {exc}"
            return
        self.ctx = Context(
            "raw",
            self.plan.server,
            field.conformance_features("raw"),
            self.target,
            self.plan.workdir,
            BASELINE,
            failing_ref=f"{field.module_name('raw', 'conformance')}:app_failing_startup",
            traffic=self.routes.traffic(),
            routes=self.routes,
            check_mode=True,
        )

    def close(self) -> None:
        if self.ctx is not None:
            self.ctx.close()
        if self.target is not None:
            self.target.close()


def _blame(
    record: dict[str, Any],
    case: Case,
    ctx: Context,
    control: _Control,
    deviations: list[expectations.Deviation],
    framework: str,
    plan: Plan,
) -> None:
    """Attribute a failure (``blame``, ``blame_reason``, ``deviation``, ``counted``)."""
    if record["kind"] != "fail":
        record["counted"] = False
        return
    server = None if ctx.inprocess else ctx.server
    known_server = (
        expectations.lookup([d for d in deviations if d.framework == "*"], case.id, "x", server)
        if server
        else None
    )
    known_framework = expectations.lookup(
        [d for d in deviations if d.framework != "*"], case.id, framework, server or "inprocess"
    )
    blame: Blame
    if server is None:
        blame, reason = "app", "in-process: no server involved"
    else:
        baseline = control.outcome(case)
        if baseline is None:
            blame, reason = "app", f"unattributed: {control.error}"
        elif baseline.kind != "fail":
            blame, reason = "app", f"the raw baseline {baseline.kind}es on {server}"
        elif case.where == "wire" or _same(baseline.detail, record["detail"]):
            # A wire case observes the server (probes beside the app); an app-traffic case
            # failing as on the baseline (ports and counts aside) is the server's too.
            blame, reason = "server", f"the raw baseline fails the same way on {server}"
        else:
            blame = "both"
            reason = f"the raw baseline also fails on {server}: {baseline.detail}"
    known = known_server if blame in ("server", "both") else None
    known = known or (known_framework if blame == "app" else None)
    record["blame"] = blame
    record["blame_reason"] = reason
    record["deviation"] = known.to_dict() if known else None
    record["counted"] = blame != "server" or plan.include_server


def _same(first: str, second: str) -> bool:
    """Equal failure details once numbers (ports, connection ids, sizes) are set aside."""
    return re.sub(r"\d+", "#", first) == re.sub(r"\d+", "#", second)


def run_case(case: Case, ctx: Context) -> tuple[Outcome, float]:
    """(outcome, seconds): applicability, then the case; a crashing check is a failure that
    says where it crashed."""
    import traceback

    started = time.monotonic()
    outcome = case.applicability(ctx)
    if outcome is None:
        try:
            outcome = case.run(ctx)
        except Exception as exc:
            where = traceback.extract_tb(exc.__traceback__)[-1]
            outcome = failed(
                f"check raised {type(exc).__name__}: {exc} "
                f"({Path(where.filename).name}:{where.lineno})"
            )
    return outcome, time.monotonic() - started

"""Run a cost configuration into a cost run directory, one record per cell.

Server process by server process (:func:`bench.cost.plan.groups`): start it under callgrind,
measure each of its scenarios (:func:`bench.cost.measure.measure`), store the record, stop
the process group (always, in ``finally``), delete its scratch directory (start-up dumps of
short-lived children, vgdb FIFOs). Nothing stops the run: a server that does not start, a
wrong answer or a control command that fails becomes a failure record with its reason; a
server that died fails its remaining scenarios.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from bench import frameworks
from bench.cost import callgrind
from bench.cost.measure import Counted, WrongAnswer, measure, request_pool
from bench.cost.plan import CostConfig, Group, groups
from bench.cost.records import COST_FILE, CostRecord, append, cost_cell_id
from bench.cost.server import CallgrindServer
from bench.infra import db
from bench.infra.results import Environment, RunInfo, RunStore, utc_now
from bench.infra.servers import registry as servers
from bench.infra.servers.base import ServerError
from bench.lab.scenarios import registry as scenarios
from bench.lab.scenarios.base import Context, HttpScenario

Report = Callable[[CostRecord], None]


def _ignore(record: CostRecord) -> None:
    return None


class CostRunner:
    """Measures every cell of a :class:`CostConfig` into one run directory."""

    def __init__(
        self,
        config: CostConfig,
        store: RunStore,
        info: RunInfo,
        env: Environment,
        valgrind: str,
        report: Report = _ignore,
        announce: Callable[[str], None] = lambda text: None,
    ) -> None:
        self.config = config
        self.store = store
        self.info = info
        self.env = env
        self.valgrind = valgrind
        self.report = report
        self.announce = announce
        self.server_env: dict[str, str] = {}
        self.context = Context(world={})
        self.records: list[CostRecord] = []

    def prepare_database(self) -> None:
        """The world table the db scenario reads (same seed, same rows as the lab)."""
        path = self.store.path("world.sqlite3")
        self.context = Context(world=db.create_world(path, seed=self.config.seed))
        self.server_env[db.SQLITE_ENV] = str(path)

    def record(
        self,
        group: Group,
        scenario: str,
        started: str,
        server: CallgrindServer | None,
        *,
        counted: Counted | None = None,
        reason: str | None = None,
    ) -> CostRecord:
        """Build, store and report one record (a failure when nothing was counted)."""
        record = CostRecord(
            run_id=self.info.run_id,
            cell_id=cost_cell_id(group.server, group.app, scenario),
            kind="measurement" if counted is not None else "failure",
            app=group.app,
            server=group.server,
            scenario=scenario,
            variant=group.variant,
            requests=self.config.requests,
            warmup=self.config.warmup,
            seed=self.config.seed,
            pool_size=self.config.pool_size,
            started_at=started,
            finished_at=utc_now(),
            instructions=counted.instructions if counted else None,
            ir_per_request=round(counted.ir_per_request, 1) if counted else None,
            processes=counted.processes if counted else [],
            elapsed_s=round(counted.elapsed_s, 3) if counted else None,
            control_commands=counted.control_commands if counted else [],
            reason=reason,
            valgrind=self.valgrind,
            valgrind_command=server.valgrind_command if server else [],
            server_command=server.command if server else [],
            server_cpus=list(self.config.server_cpus),
            pinned=server.pinned if server else False,
            env=self.env,
        )
        append(self.store.directory / COST_FILE, record)
        self.records.append(record)
        self.report(record)
        return record

    def run_group(self, group: Group) -> None:
        """Start one server process, measure its scenarios, stop it, clean its scratch."""
        spec = servers()[group.server]
        target = frameworks.import_string(
            group.app, "app_mw" if group.variant == "app_mw" else "app"
        )
        name = f"{group.server}-{group.app}-{group.variant}"
        scratch = self.store.path("callgrind", ".scratch", name)
        scratch.mkdir(parents=True, exist_ok=True)
        server = CallgrindServer(
            spec,
            target,
            cpus=self.config.server_cpus,
            env=self.server_env,
            log=self.store.path("servers", f"{name}.log"),
            scratch=scratch,
        )
        self.info.commands[f"{group.server}/{group.app}/{group.variant}"] = server.command
        self.store.write_info(self.info)
        self.announce(f"{group.server}/{group.app}: starting under callgrind")
        started = utc_now()
        try:
            try:
                server.start(self.config.timeout_s)
            except (ServerError, OSError) as exc:
                reason = f"server failed to start: {exc}"
                for scenario in group.scenarios:
                    self.record(group, scenario, started, server, reason=reason)
                return
            for scenario in group.scenarios:
                self.measure_cell(group, scenario, server)
        finally:
            server.stop()
            shutil.rmtree(scratch, ignore_errors=True)

    def measure_cell(self, group: Group, scenario: str, server: CallgrindServer) -> None:
        """Count one scenario on a running server; a failure record when anything is wrong."""
        started = utc_now()
        if not server.alive():
            code = server.process.returncode if server.process else None
            self.record(group, scenario, started, server, reason=f"server exited (code {code})")
            return
        chosen = scenarios()[scenario]
        assert isinstance(chosen, HttpScenario)  # plan.http_scenarios filtered the selection
        cases = request_pool(chosen, self.context, self.config.seed, self.config.pool_size)
        keep = self.store.path("callgrind", group.server, group.app, scenario)
        try:
            counted = measure(
                server,
                cases,
                requests=self.config.requests,
                warmup=self.config.warmup,
                keep=keep,
                run_dir=self.store.directory,
            )
        except (WrongAnswer, callgrind.CallgrindError, OSError) as exc:
            reason = str(exc)
            if not server.alive():
                reason = f"server exited: {reason}"
            self.record(group, scenario, started, server, reason=reason)
            return
        self.record(group, scenario, started, server, counted=counted)

    def run(self) -> list[CostRecord]:
        """Measure every cell; run.json ends ``complete`` (or ``interrupted``/``failed``)."""
        status = "failed"
        try:
            self.prepare_database()
            for group in groups(self.config):
                self.run_group(group)
            status = "complete"
        except KeyboardInterrupt:
            status = "interrupted"
            self.info.notes.append(f"interrupted at {utc_now()}: finished cells are stored")
            raise
        finally:
            shutil.rmtree(self.store.directory / "callgrind" / ".scratch", ignore_errors=True)
            self.info.status = status  # type: ignore[assignment]
            self.info.finished_at = utc_now()
            self.store.write_info(self.info)
        return self.records


def cost_store(reports: Path, info: RunInfo) -> RunStore:
    """Create the cost run directory (``run.json`` written, ``reports/latest`` pointed at it)."""
    return RunStore.create(reports, info)

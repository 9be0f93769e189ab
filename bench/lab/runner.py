"""Execute a plan: servers up, correctness gate, measurements, one record each, servers down.

For each :class:`~bench.lab.plan.Block` (one server, one scenario): every app's server process
is started (or reused: fresh per (server, app, variant) for the whole server block), its
answers are checked against the scenario's expected responses over the real socket, then the
block's steps run — primer, warm-ups, interleaved runs — each a pinned driver process sampled
by a :class:`~bench.lab.monitor.Monitor`. Afterwards a few cases are checked again.

The machine-speed gauge (:mod:`bench.infra.gauge`) runs on the server CPUs for ``Config.gauge_s``
right before every ``run`` and ``calibration`` step, while the server is idle (the previous
driver has exited); its rate is stored in the record (``machine_speed``) and a run well below
the run's median so far is flagged ``machine_slow``. A 1 s reading of the server CPUs (and of
the generator CPUs) before the first block and after the last goes to ``run.json``.

Nothing that goes wrong stops the run: a server that does not start, a failed check, a driver
crash or a server dying mid-measurement becomes a ``failure`` record with its reason, and
that app's remaining steps in the block are skipped. SIGINT/SIGTERM stop the run cleanly
(status ``interrupted``, with a note saying which signal and during what): every child process
group is stopped in ``finally``.

Resuming (``python -m bench run --resume RUN``): the runner is given the records already
stored; a step whose record exists, or whose cell already failed its check, is never run again,
and a block with nothing left is skipped without starting a server. A fresh server process
whose warm-up was stored before the interruption gets an unrecorded warm-up before its first
measured run, so resumed runs are measured warm like the others.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import httpx
from websockets.sync.client import ClientConnection, connect

from bench import frameworks
from bench.infra import db, gauge
from bench.infra.process import pin_prefix
from bench.infra.results import (
    FLAG_CONTENDED,
    FLAG_DRIVER_CEILING,
    FLAG_ERRORS,
    FLAG_FALLBACK_DRIVER,
    FLAG_MACHINE_SLOW,
    FLAG_UNPINNED,
    Config,
    Environment,
    Kind,
    Phase,
    Record,
    Resources,
    RunInfo,
    RunStore,
    cell_id,
    record_id,
    utc_now,
)
from bench.infra.servers import registry as servers
from bench.infra.servers.base import RunningServer, ServerError
from bench.lab import plan
from bench.lab.drivers import driver_for
from bench.lab.drivers.base import Driver, DriverError, LoadJob, LoadResult, Pool
from bench.lab.evidence import evidence_flags
from bench.lab.monitor import Monitor, tree
from bench.lab.probe import probe_http, probe_ws
from bench.lab.scenarios import registry as scenarios
from bench.lab.scenarios.base import Context, HttpScenario, Scenario, WsScenario, pool_rng

CEILING_SHARE = 0.9
"""A WebSocket result at 90% of the driver's ceiling or more is flagged ``driver_ceiling``."""
RUN_GAUGE_S = 1.0
"""Seconds of each whole-run gauge reading (start, generator, end) in ``run.json``."""


class Progress(Protocol):
    """What the runner reports while it works (the CLI draws it with rich)."""

    def begin(self, total_seconds: float) -> None: ...

    def step(self, description: str) -> None: ...

    def advance(self, seconds: float) -> None: ...

    def note(self, message: str) -> None: ...


class NullProgress:
    """Reports nothing (tests, library use)."""

    def begin(self, total_seconds: float) -> None:
        return None

    def step(self, description: str) -> None:
        return None

    def advance(self, seconds: float) -> None:
        return None

    def note(self, message: str) -> None:
        return None


def app_target(config: Config, server: str, app: str, variant: Literal["app", "app_mw"]) -> str:
    """The import string a server is given: the framework's, or the configuration's own for
    an app that is not a framework of the registry (the calibration's baseline copies;
    ``{server}`` in it names the server)."""
    target = config.targets.get(f"{app}:{variant}")
    if target is None:
        return frameworks.import_string(app, variant)
    return target.replace("{server}", server)


class ServerPool:
    """Running servers by (server, app, variant); started on demand, stopped by server block."""

    def __init__(self, store: RunStore, config: Config, env: dict[str, str]) -> None:
        self.store = store
        self.config = config
        self.env = env
        self.running: dict[tuple[str, str, str, int], RunningServer] = {}
        self.commands: dict[str, list[str]] = {}

    def get(self, server: str, app: str, variant: str, workers: int = 1) -> RunningServer:
        """The live server for this target, starting a fresh one when needed."""
        key = (server, app, variant, workers)
        current = self.running.get(key)
        if current is not None and current.alive():
            return current
        if current is not None:
            current.stop()
        self.stop_other_servers(server, workers)
        target = app_target(self.config, server, app, "app_mw" if variant == "app_mw" else "app")
        label = f"{server}-{app}-{variant}" + (f"-w{workers}" if workers != 1 else "")
        log = self.store.path("servers", f"{label}.log")
        running = RunningServer(
            servers()[server], target, cpus=self.config.server_cpus, env=self.env, log=log,
            workers=workers,
        )  # fmt: skip
        name = f"{server}/{app}/{variant}" + (f"/w{workers}" if workers != 1 else "")
        self.commands[name] = running.command
        running.start(self.config.timeout_s)
        self.running[key] = running
        return running

    def stop_other_servers(self, server: str, workers: int = 1) -> None:
        """Stop processes of other servers (or worker counts): one configuration at a time."""
        for key in [key for key in self.running if (key[0], key[3]) != (server, workers)]:
            self.running.pop(key).stop()

    def stop_all(self) -> None:
        """Stop every server process group."""
        while self.running:
            self.running.popitem()[1].stop()


class SyncWs:
    """Adapts a ``websockets`` sync connection to :class:`bench.lab.probe.WsSession`."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    def send(self, data: str | bytes) -> None:
        self.connection.send(data)

    def receive(self) -> str | bytes:
        return self.connection.recv(timeout=10)


@dataclass
class BlockState:
    """Which apps of the current block can still be measured, and which cells have failed."""

    live: dict[str, RunningServer] = field(default_factory=dict)
    failed_cells: set[str] = field(default_factory=set)


def machine_slow(speed: float, version: int, earlier: Iterable[Record]) -> bool:
    """The ``machine_slow`` rule (see :data:`bench.infra.results.FLAG_MACHINE_SLOW`): ``speed`` is
    more than 10% below the median machine speed of the ``run`` records stored before it in
    the same run with the same gauge version (at least 2 of them)."""
    reference = [
        record.machine_speed
        for record in earlier
        if record.phase == "run"
        and record.machine_speed is not None
        and record.machine_speed_version == version
    ]
    return gauge.slower_than(speed, reference)


class Runner:
    """Runs one configured matrix into one run directory."""

    def __init__(
        self,
        config: Config,
        store: RunStore,
        info: RunInfo,
        env: Environment,
        progress: Progress | None = None,
        resume: Sequence[Record] = (),
    ) -> None:
        self.config = config
        self.store = store
        self.info = info
        self.env = env
        self.progress = progress or NullProgress()
        self.blocks = plan.plan(config)
        self.context = Context(world={})
        self.server_env: dict[str, str] = {}
        self.pools: dict[tuple[str, str], Pool] = {}
        self.ceiling: dict[int, float] = {}
        self.pool = ServerPool(store, config, self.server_env)
        # Server and generator on separate CPUs, both pinnable: otherwise every figure says so.
        self.isolated = (
            set(config.server_cpus).isdisjoint(config.generator_cpus)
            and bool(pin_prefix(config.server_cpus))
            and bool(pin_prefix(config.generator_cpus))
        )
        self.activity = "setup"
        # What a resumed run already stored: never redone.
        self.done = {record.record_id for record in resume}
        self.done_cells = {
            record.cell_id
            for record in resume
            if record.kind == "failure" and record.phase in ("check", "postcheck")
        }
        for record in resume:
            if record.phase == "calibration" and record.rps:
                self.ceiling[record.concurrency] = record.rps
        self.rewarmed: set[tuple[str, str, str, int, int]] = set()
        # Earlier run records of this run: the reference of the machine_slow rule.
        self.gauged: list[Record] = [record for record in resume if record.phase == "run"]

    # -- setup ---------------------------------------------------------------------------

    def prepare_database(self) -> None:
        """Create this run's world table (and copy it to PostgreSQL when a DSN is set)."""
        path = self.store.path("world.sqlite3")
        world = db.create_world(path, seed=self.config.seed)
        self.context = Context(world=world)
        self.server_env[db.SQLITE_ENV] = str(path)
        dsn = os.environ.get(db.PG_DSN_ENV)
        if dsn:
            asyncio.run(db.copy_world_to_postgres(dsn, world))

    def driver(self, scenario: Scenario) -> Driver:
        return driver_for(scenario.protocol, self.config.driver)

    def driver_name(self, scenario: Scenario) -> str:
        """The driver a record names; the configured one when it cannot run here (the record
        is then the failure saying so, and must still be written)."""
        try:
            return self.driver(scenario).name
        except DriverError:
            return self.config.driver

    def prepared_pool(self, scenario: Scenario, driver: Driver) -> Pool:
        """The scenario's request pool for this driver, generated once per run."""
        key = (scenario.name, driver.name)
        if key not in self.pools:
            rng = pool_rng(self.config.seed, scenario.name)
            cases = scenario.pool(rng, self.context, self.config.pool_size)
            expect = (
                scenario.load_status(rng, self.context)
                if isinstance(scenario, HttpScenario)
                else 101
            )
            suffix = "lua" if driver.name == "wrk" else "json"
            path = self.store.path("pools", f"{scenario.name}.{driver.name}.{suffix}")
            self.pools[key] = driver.prepare(cases, expect, path)
        return self.pools[key]

    # -- records -------------------------------------------------------------------------

    def record(
        self,
        *,
        server: str,
        app: str,
        scenario: Scenario,
        concurrency: int,
        phase: Phase,
        started_at: str,
        run_index: int | None = None,
        duration: float = 0.0,
        result: LoadResult | None = None,
        resources: Resources | None = None,
        flags: Sequence[str] = (),
        reason: str | None = None,
        server_command: Sequence[str] = (),
        driver_command: Sequence[str] = (),
        driver: str = "",
        machine_speed: float | None = None,
        not_applicable: bool = False,
        attempt: int | None = None,
        workers: int = 1,
    ) -> Record:
        """Build a record of this run and store it durably."""
        cell = cell_id(server, app, scenario.name, concurrency, workers)
        kind: Kind = "measurement" if result is not None else "failure"
        record = Record(
            run_id=self.info.run_id,
            record_id=record_id(cell, phase, run_index, attempt),
            cell_id=cell,
            kind="not_applicable" if not_applicable else kind,
            phase=phase,
            run_index=run_index,
            app=app,
            server=server,
            scenario=scenario.name,
            variant=scenario.variant,
            protocol=scenario.protocol,
            concurrency=concurrency,
            driver=driver or self.driver_name(scenario),
            duration_s=duration,
            started_at=started_at,
            finished_at=utc_now(),
            workers=workers,
            elapsed_s=result.elapsed_s if result else None,
            requests=result.requests if result else None,
            ok_requests=result.ok_requests if result else None,
            rps=round(result.rps, 2) if result else None,
            bytes_read=result.bytes_read if result else None,
            latency=result.latency if result else None,
            errors=result.errors if result else None,
            resources=resources,
            machine_speed=machine_speed,
            machine_speed_version=gauge.GAUGE_VERSION if machine_speed is not None else None,
            flags=list(flags),
            reason=reason,
            server_command=list(server_command),
            driver_command=list(driver_command),
            env=self.env,
        )
        self.store.append(record)
        if phase == "run":
            self.gauged.append(record)
        return record

    def fail_cells(
        self,
        state: BlockState,
        block: plan.Block,
        app: str,
        phase: Phase,
        reason: str,
        command: Sequence[str] = (),
        recorded: str | None = None,
    ) -> None:
        """Record ``reason`` for every cell of ``app`` in the block not failed yet, and skip
        the app's remaining steps; ``recorded`` is a cell whose failure is already stored."""
        scenario = scenarios()[block.scenario]
        state.live.pop(app, None)
        for level in block.concurrency:
            cell = cell_id(block.server, app, block.scenario, level, block.workers)
            if cell in state.failed_cells or cell == recorded:
                state.failed_cells.add(cell)
                continue
            state.failed_cells.add(cell)
            self.record(
                server=block.server,
                app=app,
                scenario=scenario,
                concurrency=level,
                phase=phase,
                started_at=utc_now(),
                reason=reason,
                server_command=command,
                workers=block.workers,
            )
        self.progress.note(f"FAILED {block.server}/{app}/{block.scenario}: {reason}")

    # -- correctness -----------------------------------------------------------------------

    def check(
        self, scenario: Scenario, server: RunningServer, samples: int, edges: bool
    ) -> list[str]:
        """Failures of the scenario's cases against a running server (empty: correct)."""
        rng = random.Random(f"{self.config.seed}:probe:{scenario.name}:{edges}")
        try:
            if isinstance(scenario, WsScenario):
                messages = scenario.probe(rng, self.context, samples)
                url = server.url.replace("http://", "ws://", 1) + scenario.path
                with connect(url, compression=None, open_timeout=10, close_timeout=2) as conn:
                    return probe_ws(SyncWs(conn), messages)
            cases = (
                scenario.probe(rng, self.context, samples)
                if edges
                else scenario.pool(rng, self.context, samples)
            )
            with httpx.Client(base_url=server.url, timeout=10.0) as client:
                return probe_http(client, cases)
        except Exception as exc:  # any client error is a failed check, with its reason
            return [f"probe error: {exc!r}"]

    def open_block(self, block: plan.Block) -> BlockState:
        """Start (or reuse) each app's server and gate it on the correctness check."""
        state = BlockState()
        scenario = scenarios()[block.scenario]
        for app in block.apps:
            self.activity = f"{block.server}/{app}/{block.scenario}: start + check"
            self.progress.step(self.activity)
            try:
                server = self.pool.get(block.server, app, scenario.variant, block.workers)
            except (ServerError, OSError) as exc:
                self.fail_cells(state, block, app, "check", f"server failed to start: {exc}")
                continue
            failures = self.check(scenario, server, self.config.check_samples, edges=True)
            if failures:
                reason = f"{len(failures)} wrong response(s): " + " | ".join(failures[:3])
                self.fail_cells(state, block, app, "check", reason, server.command)
                continue
            state.live[app] = server
        return state

    def close_block(self, block: plan.Block, state: BlockState) -> None:
        """Re-check a few answers after load: a server broken by load invalidates its cells."""
        scenario = scenarios()[block.scenario]
        for app, server in list(state.live.items()):
            if not server.alive():
                self.fail_cells(state, block, app, "postcheck", "server exited after load")
                continue
            failures = self.check(scenario, server, 4, edges=False)
            if failures:
                reason = "wrong response after load: " + " | ".join(failures[:3])
                self.fail_cells(state, block, app, "postcheck", reason, server.command)

    # -- measuring -----------------------------------------------------------------------

    def flags(
        self, driver: Driver, result: LoadResult, resources: Resources, step: plan.Step
    ) -> list[str]:
        """Why a figure deserves caution (see ``FLAG_*`` in :mod:`bench.infra.results`)."""
        flags = evidence_flags(
            resources,
            self.config.generator_cpus,
            workers=step.workers,
            generator_bound=driver.generator_bound,
        )
        if driver.name == "locust":
            flags.append(FLAG_FALLBACK_DRIVER)
        if step.phase != "calibration" and driver.protocol == "ws":
            ceiling = self.ceiling.get(step.concurrency)
            if ceiling and result.rps >= CEILING_SHARE * ceiling:
                flags.append(FLAG_DRIVER_CEILING)
        if not self.isolated:
            flags.append(FLAG_UNPINNED)
        if result.errors.total:
            flags.append(FLAG_ERRORS)
        return flags

    def machine_speed(self, step: plan.Step) -> float | None:
        """Gauge the idle server CPUs right before a run/calibration step (None: not gauged)."""
        if self.config.gauge_s <= 0 or step.phase not in plan.GAUGED_PHASES:
            return None
        speed = gauge.measure(self.config.server_cpus, self.config.gauge_s).units_per_s
        self.progress.advance(self.config.gauge_s)
        return speed

    def machine_flags(self, step: plan.Step, speed: float | None) -> list[str]:
        """``machine_slow`` when this run's gauge reading is well below the run's so far."""
        if speed is None or step.phase != "run":
            return []
        return [FLAG_MACHINE_SLOW] if machine_slow(speed, gauge.GAUGE_VERSION, self.gauged) else []

    def measure(
        self,
        block: plan.Block,
        step: plan.Step,
        server: RunningServer,
        state: BlockState,
        attempt: int = 0,
    ) -> bool:
        """Run one step and store its record (a failure record when anything goes wrong).

        Returns False when the run was contended and may be measured again (``attempt`` below
        ``Config.remeasure``): its record is then stored as ``rejected`` attempt ``attempt``.
        """
        scenario = scenarios()[step.scenario]
        speed = self.machine_speed(step)
        started = utc_now()
        phase: Phase = step.phase
        rejected: int | None = None

        def store(
            reason: str | None,
            *,
            result: LoadResult | None = None,
            resources: Resources | None = None,
            flags: Sequence[str] = (),
            driver_command: Sequence[str] = (),
            driver: str = "",
        ) -> None:
            self.record(
                server=step.server, app=step.app, scenario=scenario,
                concurrency=step.cell_concurrency or step.concurrency, phase=phase,
                started_at=started, run_index=step.run_index, duration=float(step.duration),
                result=result, resources=resources, flags=flags, reason=reason,
                server_command=server.command, driver_command=driver_command, driver=driver,
                machine_speed=speed, attempt=rejected, workers=step.workers,
            )  # fmt: skip

        try:
            driver = self.driver(scenario)
            job = self.start_driver(driver, scenario, server, step)
        except DriverError as exc:
            store(f"driver could not start: {exc}")
            return True
        monitor = Monitor(
            server.processes,
            lambda: tree(job.process.pid),
            self.config.server_cpus,
            self.config.generator_cpus,
        ).start()
        try:
            result = job.wait()
        except DriverError as exc:
            store(str(exc), driver_command=job.command)
            return True
        finally:
            resources = monitor.stop()
        if not server.alive():
            code = server.process.returncode if server.process else None
            reason = f"server exited during {step.record_id} (exit code {code})"
            store(reason, driver_command=job.command)
            self.fail_cells(
                state, block, step.app, "check", f"not measured: {reason}",
                server.command, recorded=step.cell_id,
            )  # fmt: skip
            return True
        if result.ok_requests == 0:
            reason = (
                f"no correct response under load ({result.requests} responses, {result.errors})"
            )
            store(reason, driver_command=job.command)
            return True
        if step.phase == "calibration":
            self.ceiling[step.concurrency] = result.rps
        flags = self.flags(driver, result, resources, step) + self.machine_flags(step, speed)
        again = step.phase == "run" and FLAG_CONTENDED in flags and attempt < self.config.remeasure
        if again:
            phase, rejected = "rejected", attempt + 1
        store(
            "; ".join(result.notes) or None,
            result=result,
            resources=resources,
            flags=flags,
            driver_command=job.command,
            driver=driver.name,
        )
        return not again

    def start_driver(
        self, driver: Driver, scenario: Scenario, server: RunningServer, step: plan.Step
    ) -> LoadJob:
        """Start the load driver of one step against ``server``, pinned to the generator CPUs."""
        pool = self.prepared_pool(scenario, driver)
        url = server.url + (scenario.path if isinstance(scenario, WsScenario) else "")
        return driver.start(
            url,
            pool,
            concurrency=step.concurrency,
            duration=step.duration,
            cpus=self.config.generator_cpus,
            workdir=self.store.path("logs", "driver.log").parent,
        )

    # -- the run -------------------------------------------------------------------------

    def finished(self, step: plan.Step) -> bool:
        """True when a resumed run already stored this step (or its cell's failure)."""
        return step.record_id in self.done or step.cell_id in self.done_cells

    def record_not_applicable(self, block: plan.Block) -> None:
        """One ``not_applicable`` record per cell of an app whose framework cannot serve the
        block's scenario (its spec's reason); nothing is started for it."""
        scenario = scenarios()[block.scenario]
        for app in block.apps:
            if f"{app}:app" in self.config.targets:
                continue  # not a framework of the registry: applicable by construction
            reason = frameworks.get(app).not_applicable(scenario.requires)
            if reason is None:
                continue
            for level in block.concurrency:
                cell = cell_id(block.server, app, block.scenario, level, block.workers)
                if record_id(cell, "check") in self.done:
                    continue
                self.record(
                    server=block.server, app=app, scenario=scenario, concurrency=level,
                    phase="check", started_at=utc_now(), reason=reason, not_applicable=True,
                    workers=block.workers,
                )  # fmt: skip

    def run_block(self, block: plan.Block) -> None:
        self.record_not_applicable(block)
        steps = tuple(step for step in block.steps if not self.finished(step))
        gauge_s = self.config.gauge_s
        skipped = (step for step in block.steps if step not in steps)
        self.progress.advance(sum(plan.step_seconds(step, gauge_s) for step in skipped))
        if not steps:
            return  # everything was stored before the run was resumed: no server needed
        apps_left = tuple(app for app in block.apps if any(step.app == app for step in steps))
        block = dataclasses.replace(block, apps=apps_left, steps=steps)
        state = self.open_block(block)
        for step in block.steps:
            server = state.live.get(step.app)
            if server is None or step.cell_id in state.failed_cells:
                self.progress.advance(plan.step_seconds(step, self.config.gauge_s))
                continue
            label = f"run {step.run_index}" if step.phase == "run" else step.phase
            self.activity = step.record_id
            self.progress.step(
                f"{step.server}/{step.app}/{step.scenario} c={step.concurrency} {label}"
            )
            self.rewarm(step, server)
            attempt = 0
            while not self.measure(block, step, server, state, attempt):
                attempt += 1  # contended: measured again, up to --remeasure times
                self.progress.note(f"{step.record_id}: contended, measuring again ({attempt})")
            self.progress.advance(step.duration)
        self.close_block(block, state)

    def rewarm(self, step: plan.Step, server: RunningServer) -> None:
        """Resumed run: warm a fresh server whose recorded warm-up ran before the interruption
        (the warm-up is not recorded again; a failing one shows in the measured run)."""
        key = (step.server, step.app, step.scenario, step.concurrency, step.workers)
        if step.phase != "run" or key in self.rewarmed:
            return
        self.rewarmed.add(key)
        warmup = plan.Step(
            "warmup", step.server, step.app, step.scenario, step.concurrency,
            int(self.config.warmup_s), workers=step.workers,
        )  # fmt: skip
        if warmup.record_id not in self.done:
            return  # this session ran the plan's own warm-up (or there is none)
        scenario = scenarios()[step.scenario]
        try:
            self.start_driver(self.driver(scenario), scenario, server, warmup).wait()
        except DriverError:
            return

    def gauge_run(self, key: str, cpus: Sequence[int]) -> None:
        """A whole-run gauge reading into ``run.json`` (skipped when the gauge is off)."""
        if self.config.gauge_s <= 0:
            return
        self.progress.step(f"machine-speed gauge ({key})")
        self.info.gauge[key] = gauge.measure(cpus, RUN_GAUGE_S)
        self.progress.advance(RUN_GAUGE_S)
        self.store.write_info(self.info)

    def run(self) -> RunInfo:
        """Run every block; returns the final run info (status complete or interrupted)."""
        self.info.plan = [step.record_id for block in self.blocks for step in block.steps]
        self.store.write_info(self.info)
        whole_run = 3 * RUN_GAUGE_S if self.config.gauge_s > 0 else 0.0
        self.progress.begin(plan.planned_seconds(self.blocks, self.config.gauge_s) + whole_run)
        try:
            fallback = self.driver(scenarios()["plaintext"]).name == "locust"
        except DriverError as exc:  # e.g. a run configured for wrk, resumed where wrk is gone
            fallback = False
            message = f"no HTTP load driver: {exc}; every HTTP step is recorded as failed"
            self.info.notes.append(message)
            self.progress.note(message)
        if self.config.driver == "locust" or fallback:
            message = (
                "Locust drives HTTP load (wrk missing or not chosen): "
                "EVERY HTTP figure is generator-bound, not a server figure"
            )
            self.info.notes.append(message)
            self.progress.note(message)
        status = "failed"
        try:
            self.prepare_database()
            if "start" in self.info.gauge:  # a resumed run keeps its first readings
                self.gauge_run("resumed", self.config.server_cpus)
                self.progress.advance(RUN_GAUGE_S if self.config.gauge_s > 0 else 0.0)
            else:
                self.gauge_run("start", self.config.server_cpus)
                self.gauge_run("generator", self.config.generator_cpus)
            for block in self.blocks:
                self.run_block(block)
            self.gauge_run("end", self.config.server_cpus)
            status = "complete"
        except KeyboardInterrupt as exc:
            status = "interrupted"
            self.info.notes.append(
                f"interrupted ({str(exc) or 'SIGINT'}) at {utc_now()} during {self.activity}; "
                f"finish it with: python -m bench run --resume {self.info.run_id}"
            )
            raise
        finally:
            self.pool.stop_all()
            self.info.status = status  # type: ignore[assignment]
            self.info.finished_at = utc_now()
            self.info.commands = dict(self.pool.commands)
            self.store.write_info(self.info)
        return self.info

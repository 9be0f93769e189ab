"""One distributed user-flow run: server up, correctness gate, Locust master + K workers.

1. A run directory is created in the lab's store (``reports/runs/<id>/``) with its own
   ``world`` table (random rows from the seed).
2. Locust's ceiling is measured (or reused from the newest stored calibration on the same
   machine and Locust version): the raw ASGI app on granian, one worker, no think time.
3. The chosen app is served by the chosen server (the lab's server registry: pinned to the
   server CPU set, its own process group, readiness probed) and its answers to every step the
   journeys take are checked before any load; a wrong answer stops here with a failure record.
4. ``locust --master`` and K ``locust --worker`` processes — each its own process group,
   pinned away from the server — run the journeys for ``--time`` seconds over TCP on
   loopback; their CPU is sampled; every process group is stopped afterwards, whatever
   happened, and the master is killed if it overruns its deadline.
5. The master's CSV statistics become records (:mod:`bench.flows.records`) appended to
   ``results.jsonl``; ``run.json`` gets the exact commands and the final status.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, Protocol

import httpx
import psutil
from websockets.sync.client import connect

from bench import frameworks
from bench.flows import cases, topology
from bench.flows.locust_csv import LocustCsvError, LocustOutput, read_output
from bench.flows.records import (
    Ceiling,
    FlowRun,
    ceiling_from,
    ceiling_record,
    failure_record,
    flow_records,
)
from bench.flows.sampler import LocustSampler
from bench.infra import environment, process
from bench.infra.db import SQLITE_ENV, create_world
from bench.infra.results import (
    Config,
    Environment,
    LocustTopology,
    Phase,
    Record,
    Resources,
    RunInfo,
    RunStatus,
    RunStore,
    iter_records,
    new_run_id,
    utc_now,
)
from bench.infra.servers import registry as servers
from bench.infra.servers.base import RunningServer, ServerError, free_port
from bench.lab.probe import probe_http, probe_ws
from bench.lab.runner import SyncWs
from bench.lab.scenarios import registry as scenarios
from bench.lab.scenarios.base import Context, HttpScenario, WsScenario

CeilingMode = Literal["measure", "reuse", "off"]
CEILING_APP = frameworks.BASELINE
CEILING_SERVER = "granian"
FLOWS = "flows"
CEILING_SCENARIO = "locust_ceiling"
CHECKED_SCENARIOS = ("path_param", "post_validated", "db", "ws_echo")
"""Scenarios whose valid cases gate the server before the journeys run. Only what the
journeys send is checked: bad-input (4xx) edge cases are the throughput lab's gate."""
CHECK_SAMPLES = 3
REUSE_SEARCH_RUNS = 50


class LoadtestError(RuntimeError):
    """The run could not produce statistics; the message says why."""


class Target(Protocol):
    """What a run loads: a lab server it starts, or one already running elsewhere."""

    command: list[str]

    @property
    def url(self) -> str: ...

    def start(self, timeout: float) -> None: ...

    def stop(self, timeout: float = 5.0) -> None: ...

    def alive(self) -> bool: ...

    def processes(self) -> list[psutil.Process]: ...


@dataclass
class ExternalTarget:
    """A server this run does not start (``--target URL``): reachable by remote workers."""

    url: str
    command: list[str] = field(default_factory=list)

    def start(self, timeout: float) -> None:
        """Only check that it answers ``GET /plaintext``."""
        try:
            answer = httpx.get(f"{self.url.rstrip('/')}/plaintext", timeout=timeout)
        except httpx.HTTPError as exc:
            raise ServerError(f"target {self.url} does not answer: {exc!r}") from None
        if answer.status_code != 200:
            raise ServerError(f"target {self.url} answers GET /plaintext with {answer.status_code}")

    def stop(self, timeout: float = 5.0) -> None:
        """Nothing to stop: someone else runs it."""

    def alive(self) -> bool:
        """Assumed alive; the check after load finds out otherwise."""
        return True

    def processes(self) -> list[psutil.Process]:
        """Not sampled: it may run on another host."""
        return []


@dataclass(frozen=True, slots=True)
class Options:
    """A loadtest as the command line configured it."""

    app: str
    server: str
    users: int
    spawn_rate: float
    run_time_s: float
    workers: int
    think_min_s: float
    think_max_s: float
    server_cpus: tuple[int, ...]
    generator_cpus: tuple[int, ...]
    seed: int
    reports: Path
    ceiling: CeilingMode = "measure"
    ceiling_only: bool = False
    ceiling_time_s: float = 10.0
    ceiling_users: int = 32
    start_timeout_s: float = 30.0
    target: str | None = None
    """URL of a server already running (on another host, say): nothing is started for it."""
    remote_workers: int = 0
    master_bind: str = topology.MASTER_HOST
    master_port: int | None = None
    wait_workers_s: float = topology.EXPECT_WORKERS_WAIT_S


@dataclass
class Outcome:
    """What a loadtest stored."""

    store: RunStore
    records: list[Record]
    ceiling: Ceiling | None
    status: RunStatus


Say = Callable[[str], None]


def config_of(options: Options) -> Config:
    """The run's :class:`Config` as the lab's run store records it.

    ``scenarios`` stays empty: a loadtest plans no throughput cells of the lab's matrix (the
    report would list them as not run). What ran is in the records (scenarios ``flows`` and
    ``locust_ceiling``), ``argv`` and ``commands``; ``apps``/``servers`` name what may run.
    """
    cells: list[tuple[str, str]] = []
    if options.ceiling != "off" or options.ceiling_only:
        cells.append((CEILING_SERVER, CEILING_APP))
    if not options.ceiling_only:
        cells.append((options.server, options.app))
    return Config(
        profile="loadtest",
        apps=list(dict.fromkeys(app for _, app in cells)),
        servers=list(dict.fromkeys(server for server, _ in cells)),
        scenarios=[],
        concurrency=[options.users],
        duration_s=options.run_time_s,
        warmup_s=0.0,
        primer_s=0.0,
        runs=1,
        server_cpus=list(options.server_cpus),
        generator_cpus=list(options.generator_cpus),
        driver="locust",
        seed=options.seed,
        pool_size=0,
        check_samples=CHECK_SAMPLES,
        database="sqlite",
        timeout_s=options.start_timeout_s,
    )


# -- processes --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LocustRun:
    """A finished Locust run: its statistics and everything measured around it."""

    output: LocustOutput
    resources: Resources
    worker_cpu_mean: list[float]
    started_at: str
    finished_at: str
    master_command: list[str]
    worker_commands: list[list[str]]
    user_classes: dict[str, int]


def wait_for_line(log: Path, text: str, master: subprocess.Popen[bytes], timeout: float) -> None:
    """Wait until the master logs ``text`` (the test started) or exits, at most ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and master.poll() is None:
        if text in log.read_text(errors="replace"):
            return
        time.sleep(0.1)


def run_locust(
    plan: topology.Plan,
    server: Target,
    server_cpus: Sequence[int],
    store: RunStore,
    label: str,
) -> LocustRun:
    """Run one master and ``plan.workers`` workers to completion; always stop every group."""
    python = sys.executable
    env = process.child_env()
    master_command = topology.master_command(plan, python)
    worker_commands = [topology.worker_command(plan, i, python) for i in range(plan.workers)]
    master_log = store.path("locust", f"{label}-master.log")
    started_at = utc_now()
    children: list[subprocess.Popen[bytes]] = []
    try:
        master = process.spawn(master_command, log=master_log, env=env)
        children.append(master)
        for index, command in enumerate(worker_commands):
            log = store.path("locust", f"{label}-worker{index}.log")
            children.append(process.spawn(command, log=log, env=env))
        # CPU is sampled from the first spawned user on: worker start-up is not load.
        wait_for_line(master_log, "Sending spawn jobs", master, plan.wait_workers_s)
        sampler = LocustSampler(
            server.processes,
            master.pid,
            [child.pid for child in children[1:]],
            server_cpus=server_cpus,
            generator_cpus=plan.master_cpus,
        ).start()
        try:
            code = master.wait(timeout=plan.deadline_s)
        except subprocess.TimeoutExpired:
            raise LoadtestError(
                f"the Locust master overran its {plan.deadline_s:.0f}s deadline and was "
                f"stopped: {process.tail(master_log)}"
            ) from None
        finally:
            resources, worker_cpu = sampler.stop_all()
    finally:
        for child in reversed(children):
            process.stop(child, timeout=5.0)
    finished_at = utc_now()
    if code != 0:
        raise LoadtestError(
            f"the Locust master exited with code {code}: {process.tail(master_log)}"
        )
    try:
        output = read_output(plan.csv_prefix)
    except LocustCsvError as exc:
        raise LoadtestError(f"{exc}; master log: {process.tail(master_log)}") from None
    return LocustRun(
        output=output,
        resources=resources,
        worker_cpu_mean=worker_cpu,
        started_at=started_at,
        finished_at=finished_at,
        master_command=master_command,
        worker_commands=worker_commands,
        user_classes=topology.spawned_users(master_log.read_text(errors="replace")),
    )


# -- correctness gate -------------------------------------------------------------------------


def precheck(url: str, world: Context, seed: int) -> list[str]:
    """Every way the server's answers to the journeys' steps are wrong (empty: correct)."""
    rng = random.Random(f"{seed}:flows:check")
    failures: list[str] = []
    try:
        with httpx.Client(base_url=url, timeout=10.0) as client:
            browse = [cases.browse(rng) for _ in range(CHECK_SAMPLES)]
            failures += probe_http(client, browse)
            for name in CHECKED_SCENARIOS:
                scenario = scenarios()[name]
                if isinstance(scenario, HttpScenario):
                    failures += probe_http(client, scenario.pool(rng, world, CHECK_SAMPLES))
        ws = scenarios()["ws_echo"]
        if isinstance(ws, WsScenario):
            ws_url = url.replace("http://", "ws://", 1) + ws.path
            with connect(ws_url, compression=None, open_timeout=10, close_timeout=2) as conn:
                failures += probe_ws(SyncWs(conn), ws.probe(rng, world, CHECK_SAMPLES))
    except Exception as exc:  # any client error fails the gate, with its reason
        failures.append(f"check error: {exc!r}")
    return failures


# -- the run ---------------------------------------------------------------------------------


def find_ceiling(reports: Path, env: Environment, exclude: str = "") -> Ceiling | None:
    """The newest stored ceiling measured on this CPU model with this Locust version."""
    runs = sorted((reports / "runs").glob("*/results.jsonl"), reverse=True)
    wanted = env.software.packages.get("locust")
    for path in runs[:REUSE_SEARCH_RUNS]:
        if path.parent.name == exclude:
            continue
        for record in iter_records(path):
            ceiling = ceiling_from(record)
            same_machine = record.env.machine.cpu_model == env.machine.cpu_model
            if ceiling and same_machine and record.env.software.packages.get("locust") == wanted:
                return ceiling
    return None


class Loadtest:
    """One loadtest into one new run directory of the lab's store."""

    def __init__(self, options: Options, argv: Sequence[str], say: Say) -> None:
        self.options = options
        self.say = say
        self.env: Environment = environment.collect()
        self.info = RunInfo(
            run_id=new_run_id(self.env.git.short),
            created_at=utc_now(),
            argv=list(argv),
            config=config_of(options),
            env=self.env,
            frameworks=frameworks.run_frameworks([options.app, CEILING_APP]),
            baseline=frameworks.BASELINE,
        )
        self.store = RunStore.create(options.reports, self.info)
        self.world_file = self.store.path("world.sqlite3")
        self.world = Context(create_world(self.world_file, seed=options.seed))
        self.records: list[Record] = []

    def run(self) -> Outcome:
        """Measure (or find) the ceiling, then run the journeys; the run's status is stored."""
        status: RunStatus = "failed"
        ceiling: Ceiling | None = None
        try:
            ceiling = self.ceiling()
            ok = self.options.ceiling_only or self.journeys(ceiling)
            status = "complete" if ok else "failed"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            self.info.status = status
            self.info.finished_at = utc_now()
            self.store.write_info(self.info)
        return Outcome(self.store, self.records, ceiling, status)

    # -- steps --

    def ceiling(self) -> Ceiling | None:
        """Locust's ceiling per worker process: measured now, reused, or not wanted."""
        if self.options.ceiling_only:
            return self.measure_ceiling()
        if self.options.ceiling == "off":
            return None
        if self.options.ceiling == "reuse":
            found = find_ceiling(self.options.reports, self.env, exclude=self.info.run_id)
            if found is not None:
                self.say(f"reusing Locust's ceiling {found.rps_per_worker:.0f} req/s per worker "
                         f"({found.source})")  # fmt: skip
                return found
            self.say("no stored ceiling for this CPU and Locust version: measuring it")
        return self.measure_ceiling()

    def measure_ceiling(self) -> Ceiling | None:
        """One worker, no think time, plaintext of the raw app on granian."""
        options = self.options
        self.say(
            f"measuring Locust's ceiling: {CEILING_APP} on {CEILING_SERVER}, 1 worker, "
            f"{options.ceiling_users} users, {options.ceiling_time_s:g}s"
        )
        records = self.measure(
            CEILING_SERVER,
            CEILING_APP,
            CEILING_SCENARIO,
            topology.CEILING,
            users=options.ceiling_users,
            spawn_rate=float(options.ceiling_users),
            run_time_s=options.ceiling_time_s,
            workers=1,
            extra=(),
            ceiling=None,
        )
        return ceiling_from(records[0]) if records else None

    def journeys(self, ceiling: Ceiling | None) -> bool:
        """The journeys against the chosen app and server; False when no figures came out."""
        options = self.options
        self.say(
            f"journeys: {options.app} on {options.server}, {options.users} users "
            f"(+{options.spawn_rate:g}/s), {options.run_time_s:g}s, {options.workers} worker(s)"
        )
        extra = (
            "--world-seed", str(options.seed),
            "--think-min", f"{options.think_min_s:g}",
            "--think-max", f"{options.think_max_s:g}",
        )  # fmt: skip
        records = self.measure(
            options.server,
            options.app,
            FLOWS,
            topology.JOURNEYS,
            users=options.users,
            spawn_rate=options.spawn_rate,
            run_time_s=options.run_time_s,
            workers=options.workers,
            extra=extra,
            ceiling=ceiling,
        )
        return bool(records) and all(record.kind == "measurement" for record in records)

    def measure(
        self,
        server_name: str,
        app: str,
        scenario: str,
        locustfile: Path,
        *,
        users: int,
        spawn_rate: float,
        run_time_s: float,
        workers: int,
        extra: tuple[str, ...],
        ceiling: Ceiling | None,
    ) -> list[Record]:
        """Serve, check, load, re-check; the stored records (a failure record on failure)."""
        label = f"{scenario}-{server_name}-{app}"
        server = self.new_server(server_name, app, external=scenario == FLOWS)
        plan = self.plan(locustfile, server, label, users, spawn_rate, run_time_s, workers, extra)
        if scenario == FLOWS:
            plan = self.distribute(plan)
        think = [self.options.think_min_s, self.options.think_max_s] if extra else [0.0, 0.0]
        flow = self.flow_run(plan, server_name, server, app, scenario, think, ceiling)
        try:
            server.start(self.options.start_timeout_s)
            self.info.commands[f"server {label}"] = server.command
            wrong = precheck(server.url, self.world, self.options.seed)
            if wrong:
                return [self.fail(flow, "check", "wrong answers before load: " + "; ".join(wrong))]
            run = run_locust(plan, server, self.options.server_cpus, self.store, label)
            self.remember(label, run)
            flow = self.flow_run(plan, server_name, server, app, scenario, think, ceiling, run)
            wrong = precheck(server.url, self.world, self.options.seed) if server.alive() else [
                "the server exited during the run"
            ]  # fmt: skip
        except (ServerError, LoadtestError) as exc:
            return [self.fail(flow, "run", str(exc))]
        finally:
            server.stop()
        records = (
            [ceiling_record(run.output, flow)]
            if scenario == CEILING_SCENARIO
            else flow_records(run.output, flow)
        )
        for record in records:
            self.append(record)
        if wrong:
            records.append(
                self.fail(flow, "postcheck", "wrong answers after load: " + "; ".join(wrong))
            )
        return records

    # -- helpers --

    def append(self, record: Record) -> None:
        """Store one record durably and keep it for the summary."""
        self.store.append(record)
        self.records.append(record)

    def fail(self, flow: FlowRun, phase: Phase, reason: str) -> Record:
        """Store a failure record (the reason is printed too)."""
        record = failure_record(flow, f"{flow.cell}/{phase}", phase, reason)
        self.append(record)
        self.say(f"FAILED {flow.cell} ({phase}): {reason}")
        return record

    def new_server(self, server_name: str, app: str, *, external: bool = False) -> Target:
        """A (not yet started) server for ``app``, pinned to the server CPU set; or the
        ``--target`` URL when one was given for the journeys."""
        if external and self.options.target:
            return ExternalTarget(self.options.target)
        return RunningServer(
            servers()[server_name],
            frameworks.import_string(app),
            cpus=self.options.server_cpus,
            env={SQLITE_ENV: str(self.world_file)},
            log=self.store.path("servers", f"{server_name}-{app}.log"),
        )

    def plan(
        self, locustfile: Path, server: Target, label: str, users: int,
        spawn_rate: float, run_time_s: float, workers: int, extra: tuple[str, ...],
    ) -> topology.Plan:  # fmt: skip
        """The topology of one Locust run: master port, CPUs, CSV prefix."""
        master_cpus, worker_cpus = topology.assign_cpus(self.options.generator_cpus, workers)
        return topology.Plan(
            locustfile=locustfile,
            host=server.url,
            users=users,
            spawn_rate=spawn_rate,
            run_time_s=run_time_s,
            workers=workers,
            master_port=free_port(),
            master_cpus=master_cpus,
            worker_cpus=worker_cpus,
            csv_prefix=self.store.path("locust", label),
            extra=extra,
        )

    def distribute(self, plan: topology.Plan) -> topology.Plan:
        """Open the journeys' master to workers on other hosts when some are expected."""
        options = self.options
        plan = replace(
            plan,
            remote_workers=options.remote_workers,
            bind_host=options.master_bind,
            master_port=options.master_port or plan.master_port,
            wait_workers_s=options.wait_workers_s,
        )
        if options.remote_workers:
            self.say(
                f"waiting up to {options.wait_workers_s:g}s for {options.remote_workers} remote "
                f"worker(s); on each other host, in a checkout of commit {self.env.git.short} "
                f"with Locust {self.env.software.packages.get('locust')}, run:\n  "
                + topology.remote_worker_command(plan, "<this host's address>")
            )
        return plan

    def flow_run(
        self, plan: topology.Plan, server_name: str, server: Target, app: str, scenario: str,
        think: list[float], ceiling: Ceiling | None, run: LocustRun | None = None,
    ) -> FlowRun:  # fmt: skip
        """What the records need to know beyond Locust's statistics."""
        python = sys.executable
        now = utc_now()
        return FlowRun(
            run_id=self.info.run_id,
            env=self.env,
            app=app,
            server=server_name,
            scenario=scenario,
            phase="calibration" if scenario == CEILING_SCENARIO else "run",
            topology=LocustTopology(
                master_host=plan.bind_host,
                master_port=plan.master_port,
                workers=plan.total_workers,
                master_cpus=list(plan.master_cpus),
                worker_cpus=[list(cpus) for cpus in plan.worker_cpus],
                users=plan.users,
                spawn_rate=plan.spawn_rate,
                run_time_s=plan.run_time_s,
                locustfile=str(plan.locustfile.relative_to(process.ROOT)),
                user_classes=[f"{k}={v}" for k, v in (run.user_classes if run else {}).items()],
                think_time_s=think,
                locust_version=self.env.software.packages.get("locust", "missing"),
                worker_command=topology.worker_command(plan, 0, python),
                remote_workers=plan.remote_workers,
            ),
            started_at=run.started_at if run else now,
            finished_at=run.finished_at if run else now,
            server_command=server.command,
            driver_command=run.master_command if run else topology.master_command(plan, python),
            resources=run.resources if run else None,
            worker_cpu_mean=run.worker_cpu_mean if run else [],
            generator_cpus=len(self.options.generator_cpus),
            server_cpus=len(self.options.server_cpus),
            pinned=self.pinned,
            ceiling=ceiling,
        )

    @property
    def pinned(self) -> bool:
        """Both CPU sets pinned with taskset, and disjoint."""
        server, generator = self.options.server_cpus, self.options.generator_cpus
        return (
            bool(process.pin_prefix(server))
            and bool(process.pin_prefix(generator))
            and set(server).isdisjoint(generator)
        )

    def remember(self, label: str, run: LocustRun) -> None:
        """Put the exact Locust command lines in ``run.json``."""
        self.info.commands[f"locust master {label}"] = run.master_command
        for index, command in enumerate(run.worker_commands):
            self.info.commands[f"locust worker{index} {label}"] = command
        self.store.write_info(self.info)

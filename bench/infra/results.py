"""Result records of the load lab: the schema (``SCHEMA_VERSION`` 1) and the run store.

Layout of one run, ``reports/runs/<YYYYmmddTHHMMSSZ>-<short commit>/``:

- ``run.json`` — :class:`RunInfo`: run id, status (``running`` → ``complete`` /
  ``interrupted`` / ``failed``), the exact argv, the :class:`Config` (profile, apps, servers,
  scenarios, concurrency levels, durations, runs, CPU sets, driver, seed), the
  :class:`Environment` (machine, Python, package and tool versions, git commit + dirty flag),
  the planned record ids, every server command line and the machine-speed gauge readings at
  start and end (:mod:`bench.infra.gauge`). Rewritten atomically
  (write + fsync + rename).
- ``results.jsonl`` — one :class:`Record` per line, appended as each measurement ends (one
  ``write`` of the whole line, then fsync, so a crash leaves at most a torn last line, which
  readers skip). Every record is self-describing: it embeds the environment, the server and
  driver command lines and its configuration fields.
- ``servers/*.log`` (server stdout/stderr), ``pools/*`` (the requests the driver cycled).

``reports/latest`` is a symlink to the newest run directory.

:class:`Record` fields:

- identity: ``schema_version``, ``run_id``, ``record_id`` (deterministic, unique in a run:
  ``<cell_id>/<phase>`` or ``<cell_id>/run<k>`` — what ``--resume`` skips), ``cell_id``
  (``<server>/<app>/<scenario>/c<concurrency>``), ``source`` (``lab``; other writers such as
  Locust user flows use their own name);
- what ran: ``kind`` (``measurement``, ``failure``, or ``not_applicable``: the framework
  cannot do what the scenario needs — its spec in :mod:`bench.frameworks` says why, in
  ``reason`` — so nothing was started or measured), ``phase`` (``check`` = correctness
  gate before load, ``calibration`` = the WebSocket driver's ceiling, ``primer``, ``warmup``,
  ``run``, ``rejected`` = a contended attempt of a run that ``--remeasure`` measured again
  (kept, never summarised), ``postcheck`` = correctness re-checked after load),
  ``run_index`` (1..N for ``run``), ``app``, ``server``, ``scenario``, ``variant``
  (``app``/``app_mw``), ``protocol`` (``http``/``ws``), ``concurrency``, ``driver``,
  ``duration_s`` (configured), ``started_at``/``finished_at`` (UTC ISO 8601);
- figures (``None`` on failures): ``elapsed_s``, ``requests`` (responses received),
  ``ok_requests`` (responses with the expected status), ``rps`` (= ``ok_requests /
  elapsed_s``: only correct responses count), ``bytes_read``, ``latency``
  (:class:`Latency`, ms), ``errors`` (:class:`Errors`), ``resources`` (:class:`Resources`);
- ``machine_speed`` / ``machine_speed_version`` (``run`` and ``calibration`` records only,
  ``None`` in records written before the gauge existed or with ``Config.gauge_s == 0``): the
  machine-speed gauge (:mod:`bench.infra.gauge`, units of fixed pure-Python work per second) on the
  server CPUs, measured right before the step while the server was idle, and its version;
- ``flags`` (see ``FLAG_*``), ``reason`` (why it failed, or a note),
  ``server_command``/``driver_command`` (exact argv), ``env``;
- ``locust`` (:class:`LocustStats`, ``None`` unless ``source == "locust"``): Locust's own
  statistics of a user-flow run (:mod:`bench.flows`) — one record per request name plus one
  named ``Aggregated``, each with its RPS/p50/p95 time series, failure messages, the
  distributed topology and Locust's measured ceiling per worker process.

Statistics (medians, CIs, ratios) are computed from ``phase == "run"`` measurements by
:mod:`bench.lab.stats`; renderers read these files only.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, TypeVar

import msgspec

from bench.infra.cpu import CpuAccount
from bench.infra.gauge import STEP_SECONDS, GaugeReading

SCHEMA_VERSION = 1

T = TypeVar("T")

Kind = Literal["measurement", "failure", "not_applicable"]
Phase = Literal["check", "calibration", "primer", "warmup", "run", "rejected", "postcheck"]
RunStatus = Literal["running", "complete", "interrupted", "failed"]

FLAG_GENERATOR_BOUND = "generator_bound"
"""The load generator used more than ~90% of its CPU: the figure may measure the generator."""
FLAG_DRIVER_CEILING = "driver_ceiling"
"""Throughput reached the driver's measured ceiling (WebSocket client): a lower bound only."""
FLAG_FALLBACK_DRIVER = "fallback_driver"
"""wrk was missing and Locust drove the load: generator-bound by construction."""
FLAG_UNPINNED = "unpinned"
"""CPU pinning was unavailable: server and generator may have shared a CPU."""
FLAG_ERRORS = "errors"
"""The driver saw socket errors or unexpected statuses during the measurement."""
FLAG_NOISY = "noisy"
"""Old records only (replaced by ``contended``): the server's CPU set was busier than the server
by 15 points, with irq/softirq time left out of "busy" — a rule that missed foreign load."""
FLAG_CONTENDED = "contended"
"""Foreign load (other processes, or the hypervisor's steal) took more than the threshold of
the server's or the generator's CPU set during the measurement (:mod:`bench.infra.cpu`,
threshold ``bench.lab.monitor.CONTENDED_PCT``): the figure is not the server's capacity."""
FLAG_UNSATURATED = "unsaturated"
"""The server used less than ``bench.lab.monitor.SATURATED_PCT`` of the CPUs it could use while
the generator had headroom and nothing foreign ran: the server was not pushed to its capacity
(too few connections, or it waited on something), so the figure is not its capacity."""
FLAG_MACHINE_SLOW = "machine_slow"
"""The machine itself was slow right before this run. Exact rule
(:func:`bench.infra.gauge.slower_than`, applied by the runner as each ``run`` record is
written): the record's ``machine_speed`` is
more than 10% below the median ``machine_speed`` of the ``run`` records of the same run stored
before it (same gauge version; records kept by ``--resume`` count), and at least 2 such earlier
readings exist. The first two runs of a run are never flagged. Throughput is not corrected."""


class Machine(msgspec.Struct, kw_only=True, frozen=True):
    """The host the run measured on."""

    cpu_model: str
    logical_cpus: int
    physical_cores: int | None
    memory_total_mib: int
    kernel: str
    os: str
    architecture: str


class Software(msgspec.Struct, kw_only=True, frozen=True):
    """Interpreter, Python distributions (``"missing"`` when absent) and external tools."""

    python: str
    python_implementation: str
    packages: dict[str, str]
    tools: dict[str, str]


class Git(msgspec.Struct, kw_only=True, frozen=True):
    """The source tree measured: ``commit`` is ``"unknown"`` outside a git checkout."""

    commit: str
    short: str
    dirty: bool
    branch: str | None


class Environment(msgspec.Struct, kw_only=True, frozen=True):
    """Everything about where and what was measured."""

    machine: Machine
    software: Software
    git: Git


class Config(msgspec.Struct, kw_only=True, frozen=True):
    """The run's configuration, after the profile and the command-line options are applied."""

    profile: str
    apps: list[str]
    servers: list[str]
    scenarios: list[str]
    concurrency: list[int]
    duration_s: float
    warmup_s: float
    primer_s: float
    runs: int
    server_cpus: list[int]
    generator_cpus: list[int]
    driver: str
    seed: int
    pool_size: int
    check_samples: int
    database: str
    timeout_s: float
    gauge_s: float = STEP_SECONDS
    """Seconds of machine-speed gauge before each run/calibration step (0: no gauge at all)."""
    workers: int = 1
    """Worker processes of every server (``--workers``)."""
    worker_levels: list[int] = []
    """Worker counts measured one after another (the ``scaling`` profile); empty: ``workers``
    only."""
    remeasure: int = 0
    """How many times a contended run is measured again before its record stands
    (``--remeasure``); each rejected attempt is kept as a ``rejected`` record."""
    targets: dict[str, str] = {}
    """``<app>:<variant>`` -> import string for apps that are not frameworks of the registry
    (the calibration's copies of the baseline)."""

    def worker_counts(self) -> list[int]:
        """The worker counts the run measures, in order."""
        return list(self.worker_levels) or [self.workers]


class Latency(msgspec.Struct, kw_only=True, frozen=True):
    """Response latency percentiles in milliseconds (closed loop: coordinated omission not
    corrected — a stalled server delays the next request instead of inflating latency)."""

    p50: float
    p75: float
    p90: float
    p99: float
    p999: float
    mean: float
    max: float


class Errors(msgspec.Struct, kw_only=True, frozen=True):
    """Error counts of one measurement. ``status`` counts responses with another status than
    the scenario expects; ``mismatch`` counts wrong WebSocket echoes."""

    status: int = 0
    connect: int = 0
    read: int = 0
    write: int = 0
    timeout: int = 0
    mismatch: int = 0

    @property
    def total(self) -> int:
        """All errors together."""
        return self.status + self.connect + self.read + self.write + self.timeout + self.mismatch


class Resources(msgspec.Struct, kw_only=True, frozen=True):
    """CPU and memory sampled (psutil) during one measurement.

    CPU figures are percent of one CPU: ``server_*`` summed over the server's process tree,
    ``generator_*`` over the driver's. ``*_cpuset_busy`` is the whole CPU set's busy time as a
    percent of the set (all processes; since ``cpu`` exists it counts irq and softirq time as
    busy, before that it left them out). ``cpu`` (absent in older records) splits each set's
    time between the server, the generator, the lab runner, the kernel's network threads and
    foreign load (:mod:`bench.infra.cpu`); ``sampler_cpu`` is what the runner's own sampling
    thread used, in percent of one CPU.
    """

    server_cpu_mean: float
    server_cpu_max: float
    server_rss_max_mib: float
    generator_cpu_mean: float
    generator_cpu_max: float
    server_cpuset_busy: float
    generator_cpuset_busy: float
    samples: int
    interval_s: float
    cpu: CpuAccount | None = None
    sampler_cpu: float | None = None


class LocustPoint(msgspec.Struct, kw_only=True, frozen=True):
    """One second of a Locust run (``--csv-full-history``); ``t`` is seconds since the first
    row. ``p50``/``p95`` (ms) are over Locust's rolling ~10 s window, None before any answer."""

    t: float
    users: int
    rps: float
    failures_per_s: float
    p50: float | None = None
    p95: float | None = None


class LocustTopology(msgspec.Struct, kw_only=True, frozen=True):
    """How a Locust run was distributed: one master and ``workers`` worker processes,
    connected over TCP (ZeroMQ) exactly as across machines; ``worker_cpus`` lists the local
    workers' CPUs."""

    master_host: str
    master_port: int
    workers: int
    master_cpus: list[int]
    worker_cpus: list[list[int]]
    users: int
    spawn_rate: float
    run_time_s: float
    locustfile: str
    user_classes: list[str]
    think_time_s: list[float]
    locust_version: str
    worker_command: list[str] = []
    remote_workers: int = 0
    """Of ``workers``, how many ran on other hosts (not sampled, not pinned here)."""


class LocustStats(msgspec.Struct, kw_only=True, frozen=True):
    """Locust's statistics of one request name (``name == "Aggregated"``: all requests).

    ``percentiles_ms`` keeps Locust's own columns (``"50%"`` … ``"100%"``, whole ms).
    ``ceiling_rps_per_worker`` is Locust's measured ceiling (``ceiling_source`` names the
    calibration record); a run whose ``rps_per_worker`` comes near it is generator-bound.
    """

    request_type: str
    name: str
    failures: int
    failure_messages: dict[str, int] = {}
    percentiles_ms: dict[str, float] = {}
    rps_per_worker: float
    rps_per_worker_cpu: float | None = None
    """Correct answers per second per CPU-second the local workers used: Locust's rate at a
    full CPU, which a busy machine's ``rps_per_worker`` understates."""
    ceiling_rps_per_worker: float | None = None
    ceiling_source: str | None = None
    worker_cpu_mean: list[float] = []
    history: list[LocustPoint] = []
    topology: LocustTopology


class Record(msgspec.Struct, kw_only=True, frozen=True):
    """One measurement (or one failure) — the unit everything downstream reads."""

    schema_version: int = SCHEMA_VERSION
    run_id: str
    record_id: str
    cell_id: str
    source: str = "lab"
    kind: Kind
    phase: Phase
    run_index: int | None = None
    app: str
    server: str
    scenario: str
    variant: str
    protocol: str
    concurrency: int
    driver: str
    duration_s: float
    started_at: str
    finished_at: str
    workers: int = 1
    """Worker processes of the server (``--workers``; cells of other counts are other cells)."""
    elapsed_s: float | None = None
    requests: int | None = None
    ok_requests: int | None = None
    rps: float | None = None
    bytes_read: int | None = None
    latency: Latency | None = None
    errors: Errors | None = None
    resources: Resources | None = None
    machine_speed: float | None = None
    machine_speed_version: int | None = None
    flags: list[str] = []
    reason: str | None = None
    server_command: list[str] = []
    driver_command: list[str] = []
    env: Environment
    locust: LocustStats | None = None


LEGACY_BASELINE = "raw"
LEGACY_ORDER = ("raw", "velocix", "starlette", "fastapi")
"""Baseline and order of runs stored before they were recorded in ``run.json``."""


class FrameworkInfo(msgspec.Struct, kw_only=True, frozen=True):
    """One framework as a run saw it (:class:`bench.frameworks.Framework` at the time)."""

    name: str
    display: str
    unsupported: dict[str, str] = {}
    """What it could not do, each with the reason (its not-applicable cells say why)."""


class RunInfo(msgspec.Struct, kw_only=True):
    """``run.json``: the run as a whole."""

    schema_version: int = SCHEMA_VERSION
    run_id: str
    created_at: str
    finished_at: str | None = None
    status: RunStatus = "running"
    argv: list[str]
    config: Config
    env: Environment
    plan: list[str] = []
    commands: dict[str, list[str]] = {}
    notes: list[str] = []
    gauge: dict[str, GaugeReading] = {}
    """Machine-speed gauge readings of 1 s (:mod:`bench.infra.gauge`): ``start`` (server CPUs,
    before the first block), ``generator`` (generator CPUs, at start), ``end`` (server CPUs,
    after the last block; absent when the run did not complete), ``resumed`` (server CPUs,
    when ``--resume`` continued the run)."""
    frameworks: list[FrameworkInfo] = []
    """The frameworks the run measured, in the order its tables and charts list them (from
    :mod:`bench.frameworks` when the run was made). Empty in runs made before the registry:
    readers then fall back to :data:`LEGACY_ORDER`."""
    baseline: str = LEGACY_BASELINE
    """The app every ratio divides by."""

    def framework_order(self) -> list[str]:
        """The frameworks' report order: as stored, else the order runs used before it was."""
        if self.frameworks:
            return [framework.name for framework in self.frameworks]
        return list(LEGACY_ORDER)


def utc_now() -> str:
    """The current time as UTC ISO 8601 with seconds precision."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_run_id(short_commit: str, now: datetime | None = None) -> str:
    """``<YYYYmmddTHHMMSSZ>-<short commit>``: sorts chronologically, names the code measured."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{short_commit}"


def cell_id(server: str, app: str, scenario: str, concurrency: int, workers: int = 1) -> str:
    """The deterministic id of one (server, app, scenario, concurrency) cell; a server with more
    than one worker process is its own cell (``c64w4``)."""
    suffix = f"w{workers}" if workers != 1 else ""
    return f"{server}/{app}/{scenario}/c{concurrency}{suffix}"


def parse_level(level: str) -> tuple[int, int]:
    """``c64`` -> (64, 1), ``c64w4`` -> (64, 4): the last part of a cell id."""
    concurrency, _, workers = level.removeprefix("c").partition("w")
    return int(concurrency), int(workers or 1)


def record_id(
    cell: str, phase: Phase, run_index: int | None = None, attempt: int | None = None
) -> str:
    """The deterministic id of one record of a cell (``run<k>`` for measured runs,
    ``run<k>/rejected<j>`` for a contended attempt of run k that was measured again)."""
    if phase == "rejected":
        return f"{cell}/run{run_index}/rejected{attempt}"
    return f"{cell}/run{run_index}" if phase == "run" else f"{cell}/{phase}"


_encoder = msgspec.json.Encoder()
_record_decoder = msgspec.json.Decoder(Record)
_info_decoder = msgspec.json.Decoder(RunInfo)

RESULTS_FILE = "results.jsonl"
INFO_FILE = "run.json"


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so readers see the old or the new file, never a mix."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    # The rename is durable only once the directory entry is flushed.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def append_line(path: Path, line: bytes) -> None:
    """Append one JSON line with a single ``write``, then fsync (a crash tears at most it)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        written = os.write(fd, line)
        if written != len(line):  # a regular file takes the whole write or fails
            raise OSError(f"short write to {path}: {written} of {len(line)} bytes")
        os.fsync(fd)
    finally:
        os.close(fd)


def iter_jsonl(path: Path, decoder: msgspec.json.Decoder[T]) -> Iterator[T]:
    """Decoded lines of a JSON Lines file in order; a torn final line or a foreign line is
    skipped (a missing file yields nothing)."""
    if not path.exists():
        return
    with open(path, "rb") as handle:
        for line in handle:
            if not line.endswith(b"\n"):
                return  # torn final line of an interrupted append
            try:
                yield decoder.decode(line)
            except msgspec.DecodeError:
                continue


def append_record(path: Path, record: Record) -> None:
    """Append one record as one line with a single ``write``, then fsync."""
    append_line(path, _encoder.encode(record) + b"\n")


def iter_records(path: Path) -> Iterator[Record]:
    """Records of a ``results.jsonl`` in file order; a torn or foreign line is skipped."""
    return iter_jsonl(path, _record_decoder)


def read_info(run_dir: Path) -> RunInfo:
    """``run.json`` of a run directory."""
    return _info_decoder.decode((run_dir / INFO_FILE).read_bytes())


class RunStore:
    """One run directory: ``run.json`` + ``results.jsonl`` (+ logs and pools)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.results_path = directory / RESULTS_FILE

    @classmethod
    def create(cls, reports: Path, info: RunInfo) -> RunStore:
        """Make the run directory, write ``run.json`` and point ``reports/latest`` at it."""
        directory = reports / "runs" / info.run_id
        directory.mkdir(parents=True, exist_ok=False)
        store = cls(directory)
        store.write_info(info)
        update_latest(reports, directory)
        return store

    def write_info(self, info: RunInfo) -> None:
        """Rewrite ``run.json`` atomically."""
        write_atomic(self.directory / INFO_FILE, msgspec.json.format(_encoder.encode(info)))

    def info(self) -> RunInfo:
        """The current ``run.json``."""
        return read_info(self.directory)

    def append(self, record: Record) -> None:
        """Store one record durably."""
        append_record(self.results_path, record)

    def records(self) -> list[Record]:
        """Every stored record, in the order written."""
        return list(iter_records(self.results_path))

    def path(self, *parts: str) -> Path:
        """A path inside the run directory, its parent created."""
        target = self.directory.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        return target


def update_latest(reports: Path, run_dir: Path) -> None:
    """Point ``reports/latest`` at ``run_dir`` (relative symlink, swapped atomically)."""
    latest = reports / "latest"
    tmp = reports / f".latest.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(os.path.relpath(run_dir, reports))
    os.replace(tmp, latest)


def resolve_run(reference: str, reports: Path) -> Path:
    """A run directory from ``latest``, a run id (or unique prefix) or a path."""
    candidate = Path(reference)
    if (candidate / INFO_FILE).exists():
        return candidate
    if reference == "latest":
        latest = reports / "latest"
        if (latest / INFO_FILE).exists():
            return latest.resolve()
        raise FileNotFoundError(f"no run yet: {latest} does not exist")
    runs = reports / "runs"
    matches = sorted(path for path in runs.glob(f"{reference}*") if (path / INFO_FILE).exists())
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise FileNotFoundError(f"no run {reference!r} under {runs}")
    raise FileNotFoundError(f"{reference!r} matches several runs: {[p.name for p in matches]}")

"""Fault injection: whatever breaks, the lab records why, goes on (or stops cleanly), leaves no
process or listening socket behind, keeps every stored line intact, and can resume.

Faults: a server that fails to start, crashes mid-run, hangs without answering (from the start,
or mid-run), a port taken by another process (silent, or answering like a real server), wrk
missing from PATH, and the run interrupted by SIGINT and by SIGTERM (then finished with
``python -m bench run --resume RUN`` without redoing a stored record).

Misbehaving servers are ``tests/bench/lab/fault_server.py`` registered as server plugins for the
test; everything else is the real lab: real uvicorn, real wrk, the real runner and CLI.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec
import psutil
import pytest

from bench import cli
from bench.infra import environment, process
from bench.infra.process import ROOT
from bench.infra.results import (
    Config,
    Record,
    RunInfo,
    RunStore,
    new_run_id,
    read_info,
    resolve_run,
    utc_now,
)
from bench.infra.servers import base, registry
from bench.infra.servers.base import HOST, ServerSpec, http_ready
from bench.lab.runner import Runner

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

FAULT_SERVER = Path(__file__).with_name("fault_server.py")
HEALTHY = "uvicorn"


def fault_spec(mode: str) -> ServerSpec:
    """A server plugin running ``fault_server.py`` in ``mode``."""

    def command(python: str, target: str, port: int, workers: int = 1) -> list[str]:
        return [python, str(FAULT_SERVER), mode, target, str(port)]

    return ServerSpec(f"fault-{mode}", f"injected fault: {mode}", command)


def config(servers: list[str], apps: list[str], **changes: object) -> Config:
    """A short real run: 1 run of 1 s per cell at c=4, no primer or warm-up."""
    base_config = Config(
        profile="faults",
        apps=apps,
        servers=servers,
        scenarios=["plaintext"],
        concurrency=[4],
        duration_s=1.0,
        warmup_s=0.0,
        primer_s=0.0,
        runs=1,
        server_cpus=[0],
        generator_cpus=[1 if (os.cpu_count() or 1) > 1 else 0],
        driver="wrk",
        seed=11,
        pool_size=64,
        check_samples=6,
        database="sqlite",
        timeout_s=20.0,
    )
    return msgspec.structs.replace(base_config, **changes)


def new_store(tmp_path: Path, run_config: Config) -> tuple[RunStore, RunInfo]:
    env = environment.collect()
    info = RunInfo(
        run_id=new_run_id("faults"), created_at=utc_now(), argv=[], config=run_config, env=env
    )
    return RunStore.create(tmp_path / "reports", info), info


# --- what must hold after every fault ---------------------------------------------------------


def stored_records(run_dir: Path) -> list[Record]:
    """Every line of results.jsonl, decoded strictly: none torn, none unreadable, ids unique."""
    data = (run_dir / "results.jsonl").read_bytes()
    assert data.endswith(b"\n"), "torn last line"
    records = [msgspec.json.decode(line, type=Record) for line in data.splitlines()]
    ids = [record.record_id for record in records]
    assert len(ids) == len(set(ids)), f"duplicate record ids: {ids}"
    return records


def listening_ports() -> set[int]:
    return {
        connection.laddr.port
        for connection in psutil.net_connections(kind="tcp")
        if connection.status == psutil.CONN_LISTEN
    }


def assert_nothing_left(processes: list[psutil.Process], ports: set[int]) -> None:
    """No process of the run alive (zombies reaped too), nothing listening on its ports."""
    deadline = time.monotonic() + 10
    alive = [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert alive == [], f"left behind: {[p.cmdline() for p in alive]}"
    assert not listening_ports() & ports, f"still listening: {listening_ports() & ports}"


def assert_no_descendants(ports: set[int]) -> None:
    assert psutil.Process().children(recursive=True) == []
    assert_nothing_left([], ports)


@pytest.fixture
def port_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[list[int], list[int]]]:
    """``(ports given to servers, ports to hand out first)``: records every server port and
    lets a test force the next ones (to make a port 'taken')."""
    given: list[int] = []
    forced: list[int] = []
    real = base.free_port

    def free_port() -> int:
        port = forced.pop(0) if forced else real()
        given.append(port)
        return port

    monkeypatch.setattr(base, "free_port", free_port)
    yield given, forced


# --- server faults: one parametrized test -----------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """One injected server fault and how the lab must record it."""

    name: str
    server: str  # the server plugin of the faulty cell (a fault_server mode or a real one)
    phase: str  # phase of the failure record
    reason: tuple[str, ...]  # all present in the failure's reason
    take_port: str | None = None  # "silent" / "answering": the port is taken beforehand
    timeout_s: float = 20.0
    measured_before: bool = False  # a measurement of the faulty cell may exist (stall)


FAULTS = [
    Fault("fails-to-start", "fault-refuse", "check",
          ("server failed to start", "exited with code 3", "refusing to start")),
    Fault("crashes-mid-run", "fault-crash", "run",
          ("server exited during", "/run1", "exit code -9")),
    Fault("hangs-without-answering", "fault-silent", "check",
          ("server failed to start", "not ready after 4s"), timeout_s=4.0),
    Fault("hangs-mid-run", "fault-stall", "postcheck",
          ("wrong response after load", "ReadTimeout"), measured_before=True),
    Fault("port-taken-by-a-silent-listener", HEALTHY, "check",
          ("server failed to start", "address already in use"), take_port="silent"),
    Fault("port-taken-by-an-answering-server", HEALTHY, "check",
          ("server failed to start", "address already in use"), take_port="answering"),
]  # fmt: skip


@contextlib.contextmanager
def taken_port(kind: str) -> Iterator[int]:
    """A port held by another process: a socket that listens but never accepts, or a real
    uvicorn serving the raw app (which would pass the lab's checks if the lab measured it)."""
    if kind == "silent":
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
            holder.bind((HOST, 0))
            holder.listen(8)
            yield holder.getsockname()[1]
        return
    port = base.free_port()
    command = [sys.executable, "-m", "uvicorn", "bench.frameworks.raw.app:app", "--host", HOST,
               "--port", str(port), "--log-level", "warning"]  # fmt: skip
    impostor = process.spawn(command, env=process.child_env())
    try:
        deadline = time.monotonic() + 30
        while not http_ready(port, 1.0):
            assert impostor.poll() is None and time.monotonic() < deadline, "impostor down"
            time.sleep(0.1)
        yield port
    finally:
        process.stop(impostor)


@pytest.mark.parametrize("fault", FAULTS, ids=[fault.name for fault in FAULTS])
def test_a_server_fault_is_recorded_and_the_run_goes_on(
    fault: Fault,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    port_log: tuple[list[int], list[int]],
) -> None:
    for mode in ("refuse", "crash", "silent", "stall"):
        monkeypatch.setitem(registry(), f"fault-{mode}", fault_spec(mode))
    given, forced = port_log
    # The faulty cell is raw on the fault's server; the run must go on to the healthy cells:
    # velocix on the same server when only a port is taken, else raw on a real uvicorn.
    if fault.take_port:
        run_config = config([HEALTHY], ["raw", "velocix"], timeout_s=fault.timeout_s)
    else:
        run_config = config([fault.server, HEALTHY], ["raw"], timeout_s=fault.timeout_s)
    store, info = new_store(tmp_path, run_config)
    with contextlib.ExitStack() as stack:
        if fault.take_port:
            forced.append(stack.enter_context(taken_port(fault.take_port)))
        final = Runner(run_config, store, info, environment.collect()).run()
    assert final.status == "complete"  # a failing cell never stops the run
    assert store.info().status == "complete"
    records = stored_records(store.directory)
    faulty = [r for r in records if (r.server, r.app) == (fault.server, "raw")]
    healthy = [r for r in records if (r.server, r.app) != (fault.server, "raw")]
    failures = [r for r in faulty if r.kind == "failure" and r.phase == fault.phase]
    assert failures, f"no {fault.phase} failure recorded: {[r.record_id for r in faulty]}"
    for text in fault.reason:
        assert text in (failures[0].reason or ""), failures[0].reason
    if not fault.measured_before:
        assert not [r for r in faulty if r.kind == "measurement"]
    assert healthy and all(r.kind == "measurement" and (r.rps or 0) > 0 for r in healthy)
    assert_no_descendants(set(given))


# --- wrk missing ------------------------------------------------------------------------------


@pytest.fixture
def path_without_wrk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PATH holds only taskset (pinning still works): no wrk anywhere."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    taskset = shutil.which("taskset")
    if taskset:
        (bin_dir / "taskset").symlink_to(taskset)
    monkeypatch.setenv("PATH", str(bin_dir))
    assert shutil.which("wrk") is None


@pytest.mark.usefixtures("path_without_wrk")
def test_wrk_missing_falls_back_to_locust_and_says_so(
    tmp_path: Path, port_log: tuple[list[int], list[int]]
) -> None:
    code = cli.main(
        [
            "run", "--apps", "raw", "--servers", HEALTHY, "--scenarios", "plaintext",
            "--duration", "1", "--runs", "1", "--warmup", "0", "--primer", "0",
            "--concurrency", "4", "--seed", "3", "--output", str(tmp_path), "--fail-on-failure",
        ]
    )  # fmt: skip
    assert code == 0
    run_dir = resolve_run("latest", tmp_path)
    info = read_info(run_dir)
    assert (info.status, info.config.driver) == ("complete", "locust")
    assert any("Locust drives HTTP load" in note for note in info.notes)
    (record,) = stored_records(run_dir)
    assert (record.kind, record.driver) == ("measurement", "locust")
    assert {"fallback_driver", "generator_bound"} <= set(record.flags)
    assert_no_descendants(set(port_log[0]))


@pytest.mark.usefixtures("path_without_wrk")
def test_wrk_required_but_missing_is_a_clear_error_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["run", "--driver", "wrk", "--profile", "smoke", "--output", str(tmp_path)])
    assert code == 2
    assert "wrk is not installed" in capsys.readouterr().out
    assert not (tmp_path / "runs").exists()  # no half-made run directory
    assert_no_descendants(set())


@pytest.mark.usefixtures("path_without_wrk")
def test_wrk_gone_from_a_configured_run_fails_each_step_with_its_reason(
    tmp_path: Path, port_log: tuple[list[int], list[int]]
) -> None:
    # A run configured for wrk (e.g. resumed on another machine) where wrk is not installed.
    run_config = config([HEALTHY], ["raw", "velocix"])
    store, info = new_store(tmp_path, run_config)
    final = Runner(run_config, store, info, environment.collect()).run()
    assert final.status == "complete"
    assert any("no HTTP load driver" in note for note in store.info().notes)
    records = stored_records(store.directory)
    assert [r.record_id for r in records] == [
        "uvicorn/raw/plaintext/c4/run1",
        "uvicorn/velocix/plaintext/c4/run1",
    ]
    for record in records:
        assert record.kind == "failure"
        assert "driver could not start: wrk is not installed" in (record.reason or "")
    assert_no_descendants(set(port_log[0]))


# --- interrupted runs, then --resume ----------------------------------------------------------

RUN_OPTIONS = [
    "--apps", "raw,velocix", "--servers", HEALTHY, "--scenarios", "plaintext,json",
    "--duration", "1", "--runs", "2", "--warmup", "1", "--primer", "0", "--concurrency", "4",
    "--seed", "9", "--check-samples", "4",
]  # fmt: skip
# ``python -m bench`` with SIGINT's default handler restored: a shell starting a background job
# (CI, nohup) makes it ignore SIGINT, and Python keeps that; a terminal's Ctrl-C does not.
INTERRUPTIBLE = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv = ['bench', *sys.argv[1:]]; runpy.run_module('bench', run_name='__main__')"
)


def lines_in(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def run_ports(run_dir: Path) -> set[int]:
    """Every port a server of the run was started on (from the recorded command lines)."""
    ports = set()
    for command in read_info(run_dir).commands.values():
        ports.add(int(command[command.index("--port") + 1]))
    for record in stored_records(run_dir):
        if "--port" in record.server_command:
            ports.add(int(record.server_command[record.server_command.index("--port") + 1]))
    return ports


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_run_stops_cleanly_and_resume_finishes_it(
    sig: signal.Signals, tmp_path: Path
) -> None:
    output = ["--output", str(tmp_path)]
    log = tmp_path / "interrupted.log"
    with open(log, "wb") as handle:
        runner = subprocess.Popen(
            [sys.executable, "-c", INTERRUPTIBLE, "run", *RUN_OPTIONS, *output],
            cwd=ROOT,
            env=process.child_env(),
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 90
        results = None
        while results is None or lines_in(results) < 2:  # two records stored, more to come
            assert runner.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "the run never stored two records"
            time.sleep(0.05)
            found = list((tmp_path / "runs").glob("*/results.jsonl"))
            results = found[0] if found else None
        children = descendants(runner.pid)  # servers and the running driver, right now
        runner.send_signal(sig)
        assert runner.wait(timeout=60) == 130
    finally:
        if runner.poll() is None:
            process.stop(runner)
    run_dir = results.parent
    info = read_info(run_dir)
    assert info.status == "interrupted"
    assert any(sig.name in note and "--resume" in note for note in info.notes), info.notes
    kept = results.read_bytes()
    before = stored_records(run_dir)
    assert 2 <= len(before) < len(info.plan)
    assert_nothing_left(children, run_ports(run_dir))

    # Finish it with the real command line; nothing stored is redone or rewritten.
    resumed = subprocess.run(
        [sys.executable, "-m", "bench", "run", "--resume", info.run_id, *output],
        cwd=ROOT,
        env=process.child_env(),
        capture_output=True,
        timeout=150,
    )
    assert resumed.returncode == 0, resumed.stdout.decode()[-2000:]
    info = read_info(run_dir)
    assert info.status == "complete"
    assert any(note.startswith("resumed at") for note in info.notes)
    assert results.read_bytes().startswith(kept)  # the interrupted run's lines, untouched
    after = stored_records(run_dir)  # ids unique: nothing measured twice
    assert after[: len(before)] == before
    assert {r.record_id for r in after} == set(info.plan)  # every planned step, exactly once
    assert all(r.kind == "measurement" for r in after)
    assert_nothing_left([], run_ports(run_dir))
    assert descendants(os.getpid()) == []


def test_resume_cuts_a_torn_last_line_and_redoes_nothing_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A run killed mid-append (SIGKILL, power loss): every planned record but a torn tail.
    run_config = config([HEALTHY], ["raw"])
    store, info = new_store(tmp_path, run_config)
    env = environment.collect()
    record = Record(
        run_id=info.run_id, record_id="uvicorn/raw/plaintext/c4/run1",
        cell_id="uvicorn/raw/plaintext/c4", kind="failure", phase="run", run_index=1,
        app="raw", server=HEALTHY, scenario="plaintext", variant="app", protocol="http",
        concurrency=4, driver="wrk", duration_s=1.0, started_at=utc_now(),
        finished_at=utc_now(), reason="stored before the crash", env=env,
    )  # fmt: skip
    store.append(record)
    info.plan = [record.record_id]
    store.write_info(info)
    with open(store.results_path, "ab") as handle:
        handle.write(b'{"schema_version":1,"run_id":"torn')
    code = cli.main(["run", "--resume", info.run_id, "--output", str(tmp_path / "reports")])
    assert code == 0, capsys.readouterr().out
    assert stored_records(store.directory) == [record]  # torn tail cut, nothing redone
    assert read_info(store.directory).status == "complete"
    assert_no_descendants(set())


def test_resume_refuses_options_that_would_change_the_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, info = new_store(tmp_path, config([HEALTHY], ["raw"]))
    output = ["--output", str(tmp_path / "reports")]
    code = cli.main(["run", "--resume", info.run_id, "--apps", "velocix", *output])
    assert code == 2
    assert "--resume keeps the run's own configuration: drop --apps" in capsys.readouterr().out
    assert cli.main(["run", "--resume", "no-such-run", *output]) == 2
    assert stored_records_or_none(store.directory) is None


def stored_records_or_none(run_dir: Path) -> list[Record] | None:
    return stored_records(run_dir) if (run_dir / "results.jsonl").exists() else None

"""Child processes of the lab: started pinned in their own process group, always reaped.

Every server and load driver runs in a new session (so its whole tree can be signalled at
once), optionally pinned to a CPU set with ``taskset`` (kept in the recorded command line, so
the record says exactly what ran). :func:`stop` sends SIGTERM to the group, waits, then
SIGKILLs whatever is left — including grandchildren that outlived their parent.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]


def parse_cpus(text: str) -> list[int]:
    """Parse a CPU list such as ``"0"``, ``"0,2"`` or ``"0-3"``."""
    cpus: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        low, _, high = part.partition("-")
        try:
            first, last = int(low), int(high or low)
        except ValueError:
            raise ValueError(f"invalid CPU list {text!r}: expected e.g. 0 or 0,2 or 0-3") from None
        if first < 0 or last < first:
            raise ValueError(f"invalid CPU range {part!r} in {text!r}")
        cpus.update(range(first, last + 1))
    if not cpus:
        raise ValueError(f"empty CPU list {text!r}")
    return sorted(cpus)


def pin_prefix(cpus: Sequence[int]) -> list[str]:
    """``taskset -c <cpus>`` when available (empty when pinning is impossible here)."""
    if not cpus or shutil.which("taskset") is None:
        return []
    available = os.sched_getaffinity(0)
    if not set(cpus) <= available:
        return []
    return ["taskset", "-c", ",".join(str(cpu) for cpu in cpus)]


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a lab child: the project importable, output unbuffered."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def spawn(
    command: Sequence[str],
    *,
    log: Path | None = None,
    env: Mapping[str, str] | None = None,
    stdout: int | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``command`` in its own session (process group), output to ``log``."""
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as handle:
            return subprocess.Popen(
                list(command),
                cwd=ROOT,
                env=dict(env) if env is not None else None,
                stdin=subprocess.DEVNULL,
                stdout=handle if stdout is None else stdout,
                stderr=handle,
                start_new_session=True,
            )
    return subprocess.Popen(
        list(command),
        cwd=ROOT,
        env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL if stdout is None else stdout,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def group_members(pgid: int) -> list[psutil.Process]:
    """Live processes whose process group is ``pgid``."""
    members = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                members.append(proc)
    return members


def stop(process: subprocess.Popen[bytes], timeout: float = 5.0) -> int | None:
    """SIGTERM the process group, wait up to ``timeout``, then SIGKILL it; returns the exit code.

    The group id is the leader's pid (``start_new_session``), so members are found and killed
    even after the leader has exited.
    """
    pgid = process.pid
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None and not group_members(pgid):
            return process.returncode
        time.sleep(0.05)
    _signal_group(pgid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=timeout)
    deadline = time.monotonic() + timeout
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return process.returncode


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def tail(path: Path, lines: int = 12) -> str:
    """The last ``lines`` lines of a log file (for failure reasons)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])

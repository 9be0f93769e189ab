"""valgrind/callgrind as the lab uses it: the command prefix, the control commands, the dumps.

A server runs under ``valgrind --tool=callgrind --trace-children=yes`` with its dumps in a
scratch directory (``cg.<pid>.out`` per process, ``cg.<pid>.out.<n>`` per requested dump) and
its vgdb FIFOs under its own ``--vgdb-prefix`` there too. The prefix matters twice: the FIFOs
name exactly the valgrind processes of *this* server (granian's worker child included — a
fork or exec under ``--trace-children`` is a valgrind process of its own), and
``callgrind_control`` given the same prefix never reaches another user's valgrind runs on a
shared machine. Counters are zeroed and dumped per pid (``callgrind_control -z PID``,
``--dump PID``); a dump's ``totals:`` line is the instructions (Ir) since the last zero.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

VALGRIND = "valgrind"
CONTROL = "callgrind_control"
OUT_PATTERN = "cg.%p.out"
VGDB_NAME = "vgdb"
CONTROL_TIMEOUT_S = 60.0
"""A control command waits for the process to reach a safe point; under load this is quick,
but a process blocked in a system call is woken by vgdb through ptrace, which takes a moment."""
DUMP_WAIT_S = 30.0

_FIFO = re.compile(r"-from-vgdb-to-(\d+)-by-")


class CallgrindError(RuntimeError):
    """valgrind is missing, a control command failed, or a dump is missing or unreadable."""


def missing_tools() -> list[str]:
    """The valgrind executables this machine lacks (empty when everything is there)."""
    return [tool for tool in (VALGRIND, CONTROL) if shutil.which(tool) is None]


def require_tools() -> None:
    """Raise :class:`CallgrindError` with an install hint when valgrind is missing."""
    missing = missing_tools()
    if missing:
        raise CallgrindError(
            f"{' and '.join(missing)} not found: install valgrind "
            "(apt-get install valgrind) to measure instruction counts"
        )


def version() -> str:
    """``valgrind --version`` (e.g. ``valgrind-3.19.0``)."""
    require_tools()
    done = subprocess.run(
        [VALGRIND, "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    return done.stdout.strip() or done.stderr.strip() or "unknown"


def prefix(scratch: Path) -> list[str]:
    """The command-line prefix running a server under callgrind with dumps in ``scratch``."""
    return [
        VALGRIND,
        "--tool=callgrind",
        "--trace-children=yes",
        f"--callgrind-out-file={scratch / OUT_PATTERN}",
        f"--vgdb-prefix={scratch / VGDB_NAME}",
    ]


def control_command(scratch: Path, action: str, pid: int) -> list[str]:
    """``callgrind_control`` reaching exactly this scratch directory's processes."""
    return [CONTROL, f"--vgdb-prefix={scratch / VGDB_NAME}", action, str(pid)]


def valgrind_pids(scratch: Path) -> set[int]:
    """Pids of the live valgrind processes started with this scratch directory's prefix.

    Each announces itself with its vgdb FIFOs and removes them at exit (a SIGKILLed one
    leaves them: callers intersect with the live process tree).
    """
    pids = set()
    for path in scratch.glob(f"{VGDB_NAME}-from-vgdb-to-*"):
        match = _FIFO.search(path.name)
        if match:
            pids.add(int(match[1]))
    return pids


def control(scratch: Path, action: str, pids: Iterable[int]) -> list[list[str]]:
    """Run ``callgrind_control <action> PID`` for each pid; the commands run, in order.

    A pid callgrind_control does not answer with ``OK`` is an error: a figure summed over
    fewer processes than the server has would be wrong, not merely smaller.
    """
    commands = []
    for pid in sorted(pids):
        command = control_command(scratch, action, pid)
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=CONTROL_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            raise CallgrindError(f"{' '.join(command)} timed out") from None
        if done.returncode != 0 or "OK" not in done.stdout:
            output = (done.stdout + done.stderr).strip().replace("\n", " | ")
            raise CallgrindError(f"{' '.join(command)} failed ({done.returncode}): {output}")
        commands.append(command)
    return commands


def dump_parts(scratch: Path, pid: int) -> set[Path]:
    """The numbered dump files of one process (``cg.<pid>.out.<n>``)."""
    return set(scratch.glob(f"cg.{pid}.out.*"))


def parse_totals(text: str) -> int:
    """Instructions (Ir) in one callgrind dump: its ``totals:`` line (``summary:`` in old
    formats), the column of ``Ir`` named by the ``events:`` line."""
    events: list[str] = ["Ir"]
    total: str | None = None
    for line in text.splitlines():
        if line.startswith("events:"):
            events = line.split(":", 1)[1].split()
        elif line.startswith("totals:") or (total is None and line.startswith("summary:")):
            total = line.split(":", 1)[1]
    if total is None:
        raise CallgrindError("no totals: line in the callgrind dump")
    if "Ir" not in events:
        raise CallgrindError(f"the dump counts {events}, not Ir")
    values = total.split()
    index = events.index("Ir")
    try:
        return int(values[index]) if index < len(values) else 0
    except ValueError:
        raise CallgrindError(f"unreadable totals line: {total.strip()!r}") from None


def read_totals(path: Path) -> int:
    """Instructions in the dump file at ``path``."""
    try:
        return parse_totals(path.read_text(errors="replace"))
    except OSError as exc:
        raise CallgrindError(f"unreadable dump {path}: {exc}") from None


def complete(path: Path) -> bool:
    """True once a dump file is written through its ``totals:`` line (it is the last one)."""
    try:
        return "\ntotals:" in path.read_text(errors="replace")
    except OSError:
        return False


def dump(scratch: Path, pids: Sequence[int]) -> tuple[dict[int, Path], list[list[str]]]:
    """Request a dump of each process; the new dump file per pid, and the commands run."""
    before = {pid: dump_parts(scratch, pid) for pid in pids}
    commands = control(scratch, "--dump", pids)
    files: dict[int, Path] = {}
    deadline = time.monotonic() + DUMP_WAIT_S
    for pid in pids:
        while True:
            new = sorted(dump_parts(scratch, pid) - before[pid], key=_part_number)
            if new and complete(new[-1]):
                files[pid] = new[-1]
                break
            if time.monotonic() > deadline:
                raise CallgrindError(f"no complete dump of pid {pid} in {scratch}")
            time.sleep(0.05)
    return files, commands


def _part_number(path: Path) -> int:
    suffix = path.name.rsplit(".", 1)[-1]
    return int(suffix) if suffix.isdigit() else -1

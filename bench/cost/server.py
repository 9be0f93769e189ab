"""A lab server process under callgrind: the lab's exact command line behind valgrind.

:class:`CallgrindServer` is a :class:`~bench.infra.servers.base.RunningServer` (same free port,
readiness check, own process group, stop by group) whose command is
``taskset -c <server cpus> valgrind --tool=callgrind ... <the lab's server command>``, with
``PYTHONHASHSEED=0`` so string hashing — and with it every dict and set walk — is the same in
every run. Valgrind runs Python some 50 times slower, so readiness gets a generous timeout.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil

from bench.cost import callgrind
from bench.infra.process import pin_prefix
from bench.infra.servers.base import RunningServer, ServerSpec

HASH_SEED = "0"
STOP_TIMEOUT_S = 30.0
"""valgrind writes each process's final dump at exit: give SIGTERM time before SIGKILL."""


class CallgrindServer(RunningServer):
    """A server pinned to the server CPUs, run by valgrind/callgrind with dumps in ``scratch``."""

    def __init__(
        self,
        spec: ServerSpec,
        target: str,
        *,
        cpus: Sequence[int],
        env: Mapping[str, str],
        log: Path,
        scratch: Path,
    ) -> None:
        super().__init__(spec, target, cpus=cpus, env={**env, "PYTHONHASHSEED": HASH_SEED}, log=log)
        scratch.mkdir(parents=True, exist_ok=True)
        self.scratch = scratch
        self.lab_command = spec.command(sys.executable, target, self.port)
        self.valgrind_command = callgrind.prefix(scratch)
        self.command = [*pin_prefix(cpus), *self.valgrind_command, *self.lab_command]

    def counted(self) -> dict[int, list[str]]:
        """The server's live processes by pid with their command lines.

        Raises :class:`~bench.cost.callgrind.CallgrindError` when one of them is not a
        valgrind process (its instructions would silently be missing) or none is.
        """
        under_valgrind = callgrind.valgrind_pids(self.scratch)
        found: dict[int, list[str]] = {}
        for proc in self.processes():
            try:
                command = proc.cmdline()
            except psutil.Error:
                continue  # exited since the tree was listed: nothing left to count
            if proc.pid not in under_valgrind:
                raise callgrind.CallgrindError(
                    f"server process {proc.pid} ({' '.join(command)[:120]}) is not under "
                    "callgrind: its instructions would not be counted"
                )
            found[proc.pid] = command
        if not found:
            raise callgrind.CallgrindError("no live server process under callgrind")
        return found

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Stop the whole process group, giving valgrind time to write its final dumps."""
        super().stop(timeout)

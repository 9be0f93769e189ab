"""Cost records: one per (server, app, scenario), in ``cost.jsonl`` of a cost run directory.

A cost run is a normal lab run directory, ``reports/runs/<YYYYmmddTHHMMSSZ>-<commit>-cost/``:
its ``run.json`` is the lab's :class:`~bench.infra.results.RunInfo` (argv, configuration,
environment, server command lines, notes; written atomically), so ``show``, ``report``, the
run index and ``latest`` treat it like any run; its figures are in ``cost.jsonl`` (one
:class:`CostRecord` per line, appended with one ``write`` then fsync; a torn last line is
skipped by readers) instead of ``results.jsonl``. ``callgrind/`` keeps each measured dump
(``callgrind_annotate callgrind/<server>/<app>/<scenario>/cg.<pid>.out`` shows where the
instructions went).

A record is self-describing: the environment, the valgrind version and command line, the
server command line, the control commands run, the request counts and seed, and the
figures — total instructions (Ir) over the measured requests, Ir per request, and the
breakdown per server process. A failure has ``kind == "failure"``, a ``reason`` and no
figures.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

import msgspec

from bench.infra.results import Environment, append_line, iter_jsonl

COST_SCHEMA_VERSION = 1
COST_FILE = "cost.jsonl"
RUN_SUFFIX = "-cost"
SOURCE = "callgrind"

Kind = Literal["measurement", "failure"]


class ProcessCost(msgspec.Struct, kw_only=True, frozen=True):
    """Instructions of one server process (granian: the main process and its worker)."""

    pid: int
    command: list[str]
    instructions: int
    dump: str
    """The dump file, relative to the run directory."""


class CostRecord(msgspec.Struct, kw_only=True, frozen=True):
    """The instruction count of one (server, app, scenario) cell."""

    schema_version: int = COST_SCHEMA_VERSION
    run_id: str
    cell_id: str
    source: str = SOURCE
    kind: Kind
    app: str
    server: str
    scenario: str
    variant: str
    requests: int
    """Measured requests, all answered correctly (sent one after another on one connection)."""
    warmup: int
    seed: int
    pool_size: int
    started_at: str
    finished_at: str
    instructions: int | None = None
    """User-space instructions (Ir) of every server process over the measured requests."""
    ir_per_request: float | None = None
    processes: list[ProcessCost] = []
    elapsed_s: float | None = None
    """Wall time of the measured requests under valgrind (not a figure: it varies)."""
    reason: str | None = None
    valgrind: str = ""
    valgrind_command: list[str] = []
    server_command: list[str] = []
    control_commands: list[list[str]] = []
    server_cpus: list[int] = []
    pinned: bool = False
    env: Environment


def cost_cell_id(server: str, app: str, scenario: str) -> str:
    """``<server>/<app>/<scenario>``: the cell a cost record measures."""
    return f"{server}/{app}/{scenario}"


def per_request(processes: Sequence[ProcessCost], requests: int) -> tuple[int, float]:
    """Total instructions over the processes, and that total divided by ``requests``."""
    if requests < 1:
        raise ValueError(f"requests must be positive, got {requests}")
    total = sum(process.instructions for process in processes)
    return total, total / requests


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(CostRecord)


def encode(record: CostRecord) -> bytes:
    """One record as one JSON line (newline included)."""
    return _encoder.encode(record) + b"\n"


def append(path: Path, record: CostRecord) -> None:
    """Append one record as one line with a single ``write``, then fsync."""
    append_line(path, encode(record))


def iter_cost(path: Path) -> Iterator[CostRecord]:
    """Records of a ``cost.jsonl`` in file order; a torn or foreign line is skipped."""
    return iter_jsonl(path, _decoder)


def load(run_dir: Path) -> list[CostRecord]:
    """Every cost record of a run directory (empty when it is not a cost run)."""
    return list(iter_cost(run_dir / COST_FILE))


def is_cost_run(run_dir: Path) -> bool:
    """True when the run directory holds cost records."""
    return (run_dir / COST_FILE).is_file()

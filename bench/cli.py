"""``python -m bench <command>``: the lab's front door, dispatching to the part that owns the
command (each part parses its own options; ``python -m bench <command> -h`` shows them).

    python -m bench list                  frameworks, servers, scenarios, profiles, drivers
    python -m bench run ...               run a load matrix, store its records (bench.lab)
    python -m bench show [RUN]            the table of a stored run
    python -m bench gauge                 how steady is this machine's CPU speed?
    python -m bench calibrate ...         the smallest slowdown the lab detects here (A/A/B)
    python -m bench cost ...              instructions per request under callgrind (bench.cost)
    python -m bench report [RUN ...]      HTML reports (bench.report)
    python -m bench compare A B           two runs compared, verdicts with their evidence
    python -m bench loadtest ...          Locust user flows, 1 master + K workers (bench.flows)
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence

from bench.infra.options import USAGE_EXIT

COMMANDS: dict[str, tuple[str, str]] = {
    "list": ("bench.lab.cli:list_main", "list frameworks, servers, scenarios, profiles, drivers"),
    "run": ("bench.lab.cli:run_main", "run a load matrix and store its records"),
    "show": ("bench.lab.cli:show_main", "print the table of a stored run"),
    "gauge": ("bench.lab.cli:gauge_main", "measure how steady this machine's CPU speed is"),
    "calibrate": ("bench.lab.calibrate:main", "measure the lab's resolving power here (A/A/B)"),
    "cost": ("bench.cost.cli:main", "instructions per request of each cell (valgrind)"),
    "report": ("bench.report.cli:report_main", "render stored runs as HTML reports"),
    "compare": ("bench.report.cli:compare_main", "compare two stored runs cell by cell"),
    "loadtest": ("bench.flows.cli:main", "Locust user flows, one master + K workers"),
}


def usage() -> str:
    """The command list ``python -m bench`` prints without a (known) command."""
    width = max(map(len, COMMANDS))
    lines = ["usage: python -m bench <command> [options]   (-h after a command: its options)", ""]
    lines += [f"  {name:{width}}  {summary}" for name, (_, summary) in COMMANDS.items()]
    return "\n".join(lines)


def entry(command: str) -> Callable[[Sequence[str]], int]:
    """The function that runs ``command`` (imported only when that command runs)."""
    module, _, function = COMMANDS[command][0].partition(":")
    handler: Callable[[Sequence[str]], int] = getattr(importlib.import_module(module), function)
    return handler


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m bench``."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or arguments[0] in ("-h", "--help"):
        print(usage())
        return 0 if arguments else USAGE_EXIT
    command, rest = arguments[0], arguments[1:]
    if command not in COMMANDS:
        print(f"error: unknown command {command!r}\n\n{usage()}", file=sys.stderr)
        return USAGE_EXIT
    return entry(command)(rest)

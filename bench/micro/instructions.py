"""Instructions per request, in-process: ``python -m bench.micro.instructions``.

Wall-clock micro timings move with the machine; the number of instructions the interpreter
executes per request does not. For each (case, framework) this runs the app in-process under
``valgrind --tool=callgrind`` twice - ``--warmup`` requests then ``N`` more, and ``--warmup``
then ``2N`` - and reports ``(Ir(2N) - Ir(N)) / N``: the instructions of ``N`` steady-state
requests, start-up, imports and warm-up cancelled out. The driver is the micro benchmark's
(:class:`~bench.micro.driver.MicroServer`, every response checked), so its own per-call work
is counted for every framework alike. Needs valgrind; ``PYTHONHASHSEED=0``.

    python -m bench.micro.instructions --cases json,path --frameworks minimal,velocix
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.micro import apps
from bench.micro.apps import BASELINE, MINIMAL
from bench.micro.cases import CASES
from bench.micro.driver import Lifespans, MicroServer

ROOT = Path(__file__).resolve().parents[2]
_TOTALS = re.compile(rb"^(?:totals|summary): (\d+)", re.MULTILINE)


def drive(framework: str, case_name: str, warmup: int, requests: int) -> None:
    """The measured program: ``warmup`` then ``requests`` checked calls on one loop."""
    case = next(c for c in CASES if c.name == case_name)
    loop = asyncio.new_event_loop()
    app = apps.load(framework, case)
    lifespans = Lifespans(loop)
    if apps.needs_lifespan(framework):
        lifespans.start(app)
    server = MicroServer(app, case, loop)
    server.prime()
    server.run_batch(warmup)
    server.run_batch(requests)
    lifespans.close()
    loop.close()


def instructions(framework: str, case: str, warmup: int, requests: int) -> int:
    """Total Ir of one run of :func:`drive` under callgrind."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "callgrind.out"
        command = [
            "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
            sys.executable, "-m", "bench.micro.instructions", "--drive",
            framework, case, str(warmup), str(requests),
        ]  # fmt: skip
        env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(ROOT)}
        subprocess.run(command, check=True, capture_output=True, env=env, cwd=ROOT, timeout=900)
        found = _TOTALS.search(out.read_bytes())
        if found is None:
            raise RuntimeError(f"no totals in {out}")
        return int(found.group(1))


def per_request(framework: str, case: str, warmup: int, requests: int) -> float:
    """Steady-state instructions per request (the difference of two runs)."""
    single = instructions(framework, case, warmup, requests)
    double = instructions(framework, case, warmup, 2 * requests)
    return (double - single) / requests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.micro.instructions", description=__doc__)
    parser.add_argument("--cases", default="plaintext,json,path,query,body")
    parser.add_argument("--frameworks", default=f"{BASELINE},{MINIMAL},velocix")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--drive", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.drive:
        framework, case, warmup, requests = args.drive
        drive(framework, case, int(warmup), int(requests))
        return 0
    frameworks = [name for name in args.frameworks.split(",") if name]
    unknown = set(frameworks) - set(apps.names())
    if unknown:
        parser.error(f"unknown frameworks: {sorted(unknown)}")
    print(f"{'case':<12}" + "".join(f"{name:>14}" for name in frameworks) + "   (Ir/request)")
    for case in args.cases.split(","):
        row = f"{case:<12}"
        minimal = None
        for framework in frameworks:
            if not apps.serves(framework, next(c for c in CASES if c.name == case)):
                row += f"{'-':>14}"
                continue
            value = per_request(framework, case, args.warmup, args.requests)
            minimal = value if framework == MINIMAL else minimal
            ratio = f" {value / minimal:4.2f}x" if minimal and framework != MINIMAL else ""
            row += f"{value:>8.0f}{ratio:>6}"
        print(row, flush=True)
    print(f"x: ratio to {MINIMAL} (the minimal hand-written ASGI callable)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

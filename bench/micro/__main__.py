"""``python -m bench.micro``: run the micro benchmark and print the table.

The run is split into ``--passes`` passes, each a fresh ``python -m pytest`` process running
every (case, framework) cell for ``--rounds`` rounds, so that the frameworks are measured
interleaved in time: a burst of load from another process on a shared machine hits one pass of
every framework instead of all rounds of one. Each pass stores its pytest-benchmark JSON
(machine, commit and per-cell statistics) as ``pass-<n>.json`` in ``--out`` (default
``.benchmarks/micro/latest``, emptied first); the table is rendered from those files only.

Other options: ``--round-seconds S`` (target round length), ``--timer cpu|wall`` (default
``cpu``: process CPU time, which a busy machine disturbs far less than wall-clock time; all the
measured work runs on the calling thread), ``-k EXPR`` (pytest selection, e.g. ``-k "json and
velocix"``). The exit status is non-zero when a pass failed (a response check, an app error).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

from bench.micro.table import load_passes, render

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TIMERS = {"cpu": "time.process_time", "wall": "time.perf_counter"}
PASS_TIMEOUT = 600  # seconds; a pass normally takes a few seconds
SKIPPED = re.compile(r"^SKIPPED \[\d+\] \S+?:\d+: (?P<reason>.+)$", re.MULTILINE)


def skip_reasons(output: str) -> list[str]:
    """The distinct reasons of pytest's ``-rs`` summary lines, in order."""
    return list(dict.fromkeys(match["reason"] for match in SKIPPED.finditer(output)))


def pass_command(args: argparse.Namespace, result: Path) -> list[str]:
    """The pytest command line of one pass."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(HERE / "bench_micro.py"),
        "-q",
        "-rs",  # the skip reasons, printed under the table
        "-p",
        "no:cacheprovider",
        f"--benchmark-json={result}",
        "--benchmark-disable-gc",
        f"--benchmark-timer={TIMERS[args.timer]}",
        "--benchmark-columns=median,iqr,rounds",
        "--benchmark-sort=name",
    ]
    if args.select:
        command += ["-k", args.select]
    return command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.micro", description=__doc__)
    parser.add_argument("--passes", type=int, default=5, help="interleaved passes (processes)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per cell and pass")
    parser.add_argument("--round-seconds", type=float, default=0.02, help="target round length")
    parser.add_argument(
        "--out", type=Path, default=Path(".benchmarks/micro/latest"), help="result directory"
    )
    parser.add_argument(
        "--timer", choices=sorted(TIMERS), default="cpu", help="what a round's time is measured in"
    )
    parser.add_argument("-k", dest="select", default=None, help="pytest -k expression")
    parser.add_argument("-v", "--verbose", action="store_true", help="show pytest's output")
    args = parser.parse_args(argv)
    if args.passes < 1 or args.rounds < 1 or args.round_seconds <= 0:
        parser.error("--passes and --rounds must be >= 1 and --round-seconds > 0")
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("pass-*.json"):
        old.unlink()
    env = {
        **os.environ,
        "VELOCIX_MICRO_ROUNDS": str(args.rounds),
        "VELOCIX_MICRO_ROUND_SECONDS": str(args.round_seconds),
        "VELOCIX_MICRO_TIMER": TIMERS[args.timer],
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    status = 0
    skipped: list[str] = []
    for number in range(1, args.passes + 1):
        result = args.out / f"pass-{number}.json"
        print(f"pass {number}/{args.passes} ...", flush=True)
        completed = subprocess.run(
            pass_command(args, result),
            env=env,
            cwd=ROOT,
            capture_output=not args.verbose,
            text=True,
            timeout=PASS_TIMEOUT,
        )
        skipped += skip_reasons(completed.stdout or "")
        if completed.returncode != 0:
            status = completed.returncode
            print(f"pass {number} failed (exit {completed.returncode})", file=sys.stderr)
            if not args.verbose:
                print(completed.stdout[-4000:], completed.stderr[-4000:], file=sys.stderr)
    cells, about = load_passes(args.out)
    machine, commit = about["machine"], about["commit"]
    python = f"{machine.get('python_implementation', '?')} {machine.get('python_version', '?')}"
    cpu = machine.get("cpu", {}).get("brand_raw", "?")
    revision = str(commit.get("id", "?"))[:10] + (" dirty" if commit.get("dirty") else "")
    print()
    print(
        f"Micro benchmark ({python}, {cpu}, commit {revision}, timer {about['timer']},"
        f" {about['passes']} pass{'es' if about['passes'] != 1 else ''})"
    )
    print(render(cells))
    for reason in dict.fromkeys(skipped):
        print(f"skipped: {reason}")
    if skipped:
        print("(the micro dependency group installs every framework: nox -s micro)")
    return status


if __name__ == "__main__":
    sys.exit(main())

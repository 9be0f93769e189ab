"""``python -m bench.micro``: run the micro benchmark and print the table.

Options: ``--rounds N`` (timed rounds per cell), ``--round-seconds S`` (target round length),
``--json PATH`` (where pytest-benchmark stores the result, default
``.benchmarks/micro/latest.json``), ``-k EXPR`` (pytest selection, e.g. ``-k "json and
velocix"``). Exit status is pytest's: non-zero when a response check failed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pytest

from bench.micro.table import load, render

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.micro", description=__doc__)
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds per cell")
    parser.add_argument("--round-seconds", type=float, default=0.02, help="target round length")
    parser.add_argument(
        "--json", type=Path, default=Path(".benchmarks/micro/latest.json"), help="result file"
    )
    parser.add_argument("-k", dest="select", default=None, help="pytest -k expression")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.round_seconds <= 0:
        parser.error("--rounds must be >= 1 and --round-seconds > 0")
    os.environ["VELOCIX_MICRO_ROUNDS"] = str(args.rounds)
    os.environ["VELOCIX_MICRO_ROUND_SECONDS"] = str(args.round_seconds)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    pytest_args = [
        str(HERE / "bench_micro.py"),
        "-q",
        "-p",
        "no:cacheprovider",
        f"--benchmark-json={args.json}",
        "--benchmark-disable-gc",
        "--benchmark-columns=median,iqr,rounds",
        "--benchmark-sort=name",
    ]
    if args.select:
        pytest_args += ["-k", args.select]
    status = int(pytest.main(pytest_args))
    if args.json.exists():
        cells, about = load(args.json)
        machine = about["machine"]
        commit = about["commit"]
        python = f"{machine.get('python_implementation', '?')} {machine.get('python_version', '?')}"
        cpu = machine.get("cpu", {}).get("brand_raw", "?")
        revision = str(commit.get("id", "?"))[:10] + (" dirty" if commit.get("dirty") else "")
        print()
        print(f"Micro benchmark ({python}, {cpu}, commit {revision})")
        print(render(cells))
    return status


if __name__ == "__main__":
    sys.exit(main())

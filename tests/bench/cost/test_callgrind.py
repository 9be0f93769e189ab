"""Callgrind dumps and control: totals parsing (fixtures and a real dump), pids, commands."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from bench.cost import callgrind

FIXTURE = """# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 4242
cmd:  python -m uvicorn
part: 1

positions: line
events: Ir
summary: 999

fl=(1) /usr/lib/libc.so.6
fn=(1) memcpy
0 120

totals: 123456
"""


def test_totals_line_is_the_instruction_count() -> None:
    assert callgrind.parse_totals(FIXTURE) == 123456


def test_ir_is_found_by_the_events_line() -> None:
    text = "events: Dr Ir Dw\ntotals: 5 700 9\n"
    assert callgrind.parse_totals(text) == 700


def test_summary_line_of_old_formats_is_used_without_totals() -> None:
    assert callgrind.parse_totals("events: Ir\nsummary: 77\n") == 77


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("events: Ir\nfn=(1) f\n0 3\n", "no totals"),
        ("events: Dr\ntotals: 3\n", "not Ir"),
        ("events: Ir\ntotals: many\n", "unreadable totals"),
    ],
)
def test_unusable_dumps_are_clear_errors(text: str, message: str) -> None:
    with pytest.raises(callgrind.CallgrindError, match=message):
        callgrind.parse_totals(text)


def test_a_real_dump_counts_what_valgrind_reports(tmp_path: Path) -> None:
    # CI installs valgrind: without it this fails loudly instead of skipping.
    callgrind.require_tools()
    out = tmp_path / "cg.out"
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "/bin/true"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    collected = re.search(r"Collected : (\d+)", done.stderr)
    assert collected is not None, done.stderr
    assert callgrind.complete(out)
    assert callgrind.read_totals(out) == int(collected[1]) > 0


def test_valgrind_version_names_valgrind() -> None:
    assert callgrind.version().startswith("valgrind-")


def test_valgrind_pids_come_from_this_prefix_fifos_only(tmp_path: Path) -> None:
    for name in (
        "vgdb-from-vgdb-to-101-by-root-on-host",
        "vgdb-to-vgdb-from-101-by-root-on-host",
        "vgdb-shared-mem-vgdb-101-by-root-on-host",
        "vgdb-from-vgdb-to-202-by-root-on-host",
        "cg.101.out",
        "other-from-vgdb-to-303-by-root-on-host",
    ):
        (tmp_path / name).touch()
    assert callgrind.valgrind_pids(tmp_path) == {101, 202}


def test_commands_reach_only_this_scratch_directory(tmp_path: Path) -> None:
    prefix = callgrind.prefix(tmp_path)
    assert prefix[:3] == ["valgrind", "--tool=callgrind", "--trace-children=yes"]
    assert f"--callgrind-out-file={tmp_path}/cg.%p.out" in prefix
    assert f"--vgdb-prefix={tmp_path}/vgdb" in prefix
    assert callgrind.control_command(tmp_path, "-z", 42) == [
        "callgrind_control",
        f"--vgdb-prefix={tmp_path}/vgdb",
        "-z",
        "42",
    ]


def test_a_pid_that_is_not_a_callgrind_run_is_an_error(tmp_path: Path) -> None:
    callgrind.require_tools()
    with pytest.raises(callgrind.CallgrindError, match="failed"):
        callgrind.control(tmp_path, "-z", [1])


def test_missing_valgrind_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(callgrind.shutil, "which", lambda name: None)
    assert callgrind.missing_tools() == ["valgrind", "callgrind_control"]
    with pytest.raises(callgrind.CallgrindError, match="apt-get install valgrind"):
        callgrind.require_tools()


def test_dump_parts_are_numbered_files_of_one_pid(tmp_path: Path) -> None:
    for name in ("cg.7.out", "cg.7.out.1", "cg.7.out.2", "cg.77.out.1"):
        (tmp_path / name).touch()
    assert callgrind.dump_parts(tmp_path, 7) == {tmp_path / "cg.7.out.1", tmp_path / "cg.7.out.2"}

"""Child processes: CPU lists, pinning, and stopping a whole process group."""

from __future__ import annotations

import os
import time

import psutil
import pytest

from bench.infra import process


@pytest.mark.parametrize(
    ("text", "cpus"), [("0", [0]), ("1,0", [0, 1]), ("0-3", [0, 1, 2, 3]), ("2, 4-5", [2, 4, 5])]
)
def test_parse_cpus(text: str, cpus: list[int]) -> None:
    assert process.parse_cpus(text) == cpus


@pytest.mark.parametrize("text", ["", "a", "3-1", "-1"])
def test_parse_cpus_rejects_nonsense(text: str) -> None:
    with pytest.raises(ValueError, match="CPU"):
        process.parse_cpus(text)


def test_pin_prefix_uses_taskset_for_allowed_cpus_only() -> None:
    allowed = sorted(os.sched_getaffinity(0))
    assert process.pin_prefix([allowed[0]]) in ([], ["taskset", "-c", str(allowed[0])])
    assert process.pin_prefix([max(allowed) + 100]) == []


@pytest.mark.timeout(30)
def test_stop_kills_the_group_including_orphaned_grandchildren() -> None:
    # The shell backgrounds a sleeper and exits: the sleeper is orphaned but in the group.
    child = process.spawn(["sh", "-c", "sleep 60 & sleep 60 & wait"])
    deadline = time.monotonic() + 10
    while len(process.group_members(child.pid)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    members = process.group_members(child.pid)
    assert len(members) >= 3
    process.stop(child, timeout=3)
    assert process.group_members(child.pid) == []
    assert all(not psutil.pid_exists(p.pid) or p.status() == psutil.STATUS_ZOMBIE for p in members)


@pytest.mark.timeout(30)
def test_stop_escalates_to_sigkill_when_sigterm_is_ignored() -> None:
    child = process.spawn(["sh", "-c", "trap '' TERM; sleep 60 & wait; sleep 60"])
    time.sleep(0.3)
    process.stop(child, timeout=1)
    assert process.group_members(child.pid) == []
    assert child.returncode == -9  # SIGTERM was ignored: only SIGKILL ended it


def test_child_env_makes_the_project_importable() -> None:
    env = process.child_env({"EXTRA": "1"})
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(process.ROOT)
    assert env["EXTRA"] == "1"

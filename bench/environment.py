"""Collect the environment every run and record embeds: machine, software, git state."""

from __future__ import annotations

import contextlib
import platform
import shutil
import subprocess
import sys
import tomllib
from functools import cache
from importlib import metadata
from pathlib import Path

import psutil

from bench.results import Environment, Git, Machine, Software

ROOT = Path(__file__).resolve().parent.parent

PACKAGES = (
    "velocix",
    "msgspec",
    "orjson",
    "starlette",
    "fastapi",
    "pydantic",
    "pydantic-core",
    "litestar",
    "blacksheep",
    "falcon",
    "uvicorn",
    "granian",
    "hypercorn",
    "uvloop",
    "httptools",
    "h11",
    "websockets",
    "aiosqlite",
    "asyncpg",
    "locust",
    "httpx",
    "psutil",
    "numpy",
    "scipy",
    "rich",
)


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (``platform.processor()`` elsewhere)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "cpu model"):
                return value.strip()
    return platform.processor() or platform.machine()


def machine() -> Machine:
    """The host's CPU, memory and kernel."""
    return Machine(
        cpu_model=cpu_model(),
        logical_cpus=psutil.cpu_count(logical=True) or 1,
        physical_cores=psutil.cpu_count(logical=False),
        memory_total_mib=psutil.virtual_memory().total // 2**20,
        kernel=platform.release(),
        os=platform.platform(),
        architecture=platform.machine(),
    )


def package_version(name: str) -> str:
    """Installed version of distribution ``name``, ``"missing"`` when absent."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "missing"


def tool_version(command: list[str]) -> str:
    """First output line of a tool's version command, ``"missing"`` when not on PATH."""
    if shutil.which(command[0]) is None:
        return "missing"
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"error: {exc}"
    output = (done.stdout or done.stderr).strip().splitlines()
    return output[0] if output else "unknown"


def source_version() -> str:
    """Velocix's version from ``pyproject.toml`` when it is imported from the source tree."""
    try:
        with open(ROOT / "pyproject.toml", "rb") as handle:
            version: str = tomllib.load(handle)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "missing"
    return f"{version} (source tree)"


def software() -> Software:
    """Python, the relevant distributions and the external tools the lab runs."""
    return Software(
        python=sys.version.split()[0],
        python_implementation=platform.python_implementation(),
        packages={name: package_version(name) for name in PACKAGES}
        | ({"velocix": source_version()} if package_version("velocix") == "missing" else {}),
        tools={
            "wrk": tool_version(["wrk", "--version"]),
            "taskset": tool_version(["taskset", "--version"]),
        },
    )


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git() -> Git:
    """The checkout's commit, whether it has uncommitted changes, and the branch."""
    commit = _git("rev-parse", "HEAD")
    if commit is None:
        return Git(commit="unknown", short="nogit", dirty=True, branch=None)
    status = _git("status", "--porcelain", "--untracked-files=no")
    return Git(
        commit=commit,
        short=commit[:8],
        dirty=bool(status),
        branch=_git("rev-parse", "--abbrev-ref", "HEAD"),
    )


@cache
def collect() -> Environment:
    """The whole environment, collected once per process."""
    return Environment(machine=machine(), software=software(), git=git())

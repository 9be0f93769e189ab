"""Command-line plumbing every part's CLI shares: one usage error, name and number lists, the
default CPU split, signal handling and the console.

A :class:`UsageError` is printed as one line and exits with status 2, never a traceback.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from types import FrameType

import psutil
from rich.console import Console

USAGE_EXIT = 2


class UsageError(ValueError):
    """A bad option value: printed as a one-line message, exit status 2."""


def split_names(text: str | None, known: Sequence[str], kind: str) -> list[str] | None:
    """Comma-separated names checked against a registry (None when not given)."""
    if text is None:
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise UsageError(
            f"unknown {kind} {', '.join(unknown) or '(none)'}; known: {', '.join(known)}"
        )
    return list(dict.fromkeys(names))


def split_ints(text: str, kind: str) -> list[int]:
    """Comma-separated positive integers."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UsageError(f"{kind} must be comma-separated integers, got {text!r}") from None
    if not values or any(value < 1 for value in values):
        raise UsageError(f"{kind} must be positive integers, got {text!r}")
    return list(dict.fromkeys(values))


def split_cpus(allowed: Sequence[int]) -> tuple[list[int], list[int]]:
    """The default split of the CPUs this process may use: the server gets the first half
    (rounded down, at least one), the load generator the rest (both the one CPU if alone).

    2 CPUs: server [0], generator [1]; 16 CPUs: server 0-7, generator 8-15, so the lab runs
    unchanged on a bigger host (give ``--workers`` as many workers as server CPUs)."""
    ordered = sorted(allowed) or [0]
    half = max(1, len(ordered) // 2)
    return ordered[:half], ordered[half:] or ordered[:1]


def default_cpus() -> tuple[list[int], list[int]]:
    """:func:`split_cpus` of this process's CPU affinity."""
    return split_cpus(psutil.Process().cpu_affinity() or [0])


def raise_interrupt(signum: int, frame: FrameType | None) -> None:
    """A SIGTERM handler that stops a run as Ctrl-C does (children stopped in ``finally``)."""
    raise KeyboardInterrupt(signal.Signals(signum).name)


def console(stderr: bool = False) -> Console:
    """A rich console; logs and CI are not terminals: give tables room instead of 80 columns."""
    if sys.stdout.isatty():
        return Console(stderr=stderr)
    return Console(width=170, stderr=stderr)

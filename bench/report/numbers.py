"""How figures are written in tables, charts and the terminal: one place, one format each."""

from __future__ import annotations

from bench.lab.stats import Estimate

DASH = "—"


def rps(value: float) -> str:
    """Requests per second, whole numbers with thousands separators: ``48,213``."""
    return f"{value:,.0f}"


def short(value: float) -> str:
    """Compact form for chart labels: ``48.2k``, ``1.20M``, ``950``."""
    if abs(value) >= 1e6:
        return f"{value / 1e6:.2f}M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:.1f}k"
    if abs(value) >= 1e3:
        return f"{value / 1e3:.2f}k"
    return f"{value:.0f}"


def ms(value: float) -> str:
    """Milliseconds with three significant figures: ``0.412``, ``12.3``, ``1,204``."""
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def ratio(value: float) -> str:
    """A ratio to the baseline: ``0.62``."""
    return f"{value:.2f}"


def percent(value: float, signed: bool = False) -> str:
    """A percentage from a fraction (``0.031`` → ``3.1%``), signed for changes."""
    return f"{value * 100:+.1f}%" if signed else f"{value * 100:.1f}%"


def cpu(value: float) -> str:
    """CPU use in percent of one CPU: ``97%``."""
    return f"{value:.0f}%"


def mib(value: float) -> str:
    """Memory in MiB: ``41.2``."""
    return f"{value:.1f}"


def interval(estimate: Estimate, fmt: str = "rps") -> str:
    """``[low - high]`` (an en dash on the page) of an estimate in the given format."""
    writer = {"rps": rps, "ratio": ratio, "ms": ms}[fmt]
    return f"[{writer(estimate.low)} \u2013 {writer(estimate.high)}]"

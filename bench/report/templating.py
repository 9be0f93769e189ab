"""The jinja2 environment of the report pages and the filters that format figures in them."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from pathlib import Path

import jinja2

from bench.lab.stats import Estimate
from bench.report import numbers, palette

TEMPLATES = Path(__file__).parent / "templates"
PAGE = "index.html"


def _p_value(value: float) -> str:
    return "<0.001" if value < 0.001 else f"{value:.3f}"


FORMATS: dict[str, Callable[[float], str]] = {
    "rps": numbers.rps,
    "ms": numbers.ms,
    "ratio": numbers.ratio,
    "cpu": numbers.cpu,
    "mib": numbers.mib,
    "int": lambda value: f"{value:,.0f}",
    "p": _p_value,
    "pct": numbers.percent,
    "change": lambda value: numbers.percent(value, signed=True),
    "num": lambda value: f"{value:g}",
}
VERDICT_CLASSES = {
    "not significant": "ns",
    "only in A": "na",
    "only in B": "na",
    "not measured": "na",
    "not applicable": "na",
    "no verdict": "refused",
}


def _fmt(value: float | None, kind: str) -> str:
    # "n/a", not blank: a figure the records do not hold is said to be missing.
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return FORMATS[kind](value)


def _interval(estimate: Estimate | None, kind: str) -> str:
    if estimate is None:
        return "n/a"
    if estimate.n < 2:
        return "n/a (1 run)"  # a single run has no spread to show; [x - x] would pretend
    return numbers.interval(estimate, kind)


@cache
def templates() -> jinja2.Environment:
    """The jinja2 environment: autoescape on, undefined names are errors."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["fmt"] = _fmt
    env.filters["interval"] = _interval
    env.filters["verdict_class"] = lambda verdict: VERDICT_CLASSES.get(verdict, verdict)
    env.globals["colour"] = palette.colour
    return env

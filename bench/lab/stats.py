"""Statistics of repeated measurements: medians with percentile-bootstrap 95% CIs.

Never best-of: a cell's figure is the median of its interleaved runs, its uncertainty a
bootstrap confidence interval of that median; a framework's overhead is the ratio of its
median to the raw baseline's on the same server, with a CI from resampling both sides.
With 3 runs the CI of a median is coarse (it spans roughly the lowest to the highest run):
it is reported as such rather than dressed up. Resampling uses a fixed seed so a report
rendered twice from the same records shows the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

CONFIDENCE = 0.95
RESAMPLES = 10_000
SEED = 20_250_101


@dataclass(frozen=True, slots=True)
class Estimate:
    """A median with its confidence interval (``low <= value <= high``)."""

    value: float
    low: float
    high: float
    n: int

    def overlaps(self, other: Estimate) -> bool:
        """True when the two intervals overlap: the difference is not significant."""
        return self.low <= other.high and other.low <= self.high


def _as_array(values: Sequence[float]) -> np.ndarray:
    data = np.asarray(values, dtype=np.float64)
    if data.size == 0:
        raise ValueError("no values to summarise")
    if not np.all(np.isfinite(data)):
        raise ValueError(f"non-finite values: {values!r}")
    return data


def _bootstrap_medians(data: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    picks = rng.integers(0, data.size, size=(RESAMPLES, data.size))
    medians: np.ndarray = np.median(data[picks], axis=1)
    return medians


def _interval(samples: np.ndarray) -> tuple[float, float]:
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(samples, [tail, 100 - tail])
    return float(low), float(high)


def median_ci(values: Sequence[float]) -> Estimate:
    """Median of ``values`` and its percentile-bootstrap 95% CI."""
    data = _as_array(values)
    median = float(np.median(data))
    if data.size == 1:
        return Estimate(median, median, median, 1)
    low, high = _interval(_bootstrap_medians(data, np.random.default_rng(SEED)))
    return Estimate(median, min(low, median), max(high, median), int(data.size))


def ratio_ci(numerator: Sequence[float], denominator: Sequence[float]) -> Estimate:
    """``median(numerator) / median(denominator)`` with a bootstrap 95% CI of the ratio."""
    top, bottom = _as_array(numerator), _as_array(denominator)
    if np.any(bottom <= 0):
        raise ValueError("the denominator must be positive")
    ratio = float(np.median(top) / np.median(bottom))
    if top.size == 1 and bottom.size == 1:
        return Estimate(ratio, ratio, ratio, 1)
    rng = np.random.default_rng(SEED)
    samples = _bootstrap_medians(top, rng) / _bootstrap_medians(bottom, rng)
    low, high = _interval(samples)
    return Estimate(ratio, min(low, ratio), max(high, ratio), int(min(top.size, bottom.size)))


def paired_ratios(
    numerator: Mapping[int, float], denominator: Mapping[int, float]
) -> tuple[float, ...]:
    """Per-round ratios ``numerator[k] / denominator[k]`` for the rounds both sides measured
    (rounds of an interleaved run: each app's run k beside the baseline's run k), in round
    order. A slow drift of the machine moves both sides of a pair alike and cancels here."""
    return tuple(
        numerator[k] / denominator[k]
        for k in sorted(numerator.keys() & denominator.keys())
        if denominator[k] > 0
    )


def paired_ratio_ci(
    numerator: Mapping[int, float], denominator: Mapping[int, float]
) -> Estimate | None:
    """Median of the per-round ratios (:func:`paired_ratios`) with its bootstrap 95% CI, which
    resamples whole pairs; ``None`` when no round was measured on both sides."""
    ratios = paired_ratios(numerator, denominator)
    return median_ci(ratios) if ratios else None


def relative_difference(a: float, b: float) -> float:
    """``|a - b| / mean(a, b)``: how far apart two figures are, symmetric in a and b."""
    mean = (a + b) / 2
    return abs(a - b) / mean if mean else 0.0


def spread(values: Sequence[float]) -> float:
    """``max / min - 1`` of positive figures: how far apart the highest and lowest were."""
    if not values or min(values) <= 0:
        raise ValueError(f"spread needs positive values, got {values!r}")
    return max(values) / min(values) - 1

"""Statistics of repeated measurements: medians with percentile-bootstrap 95% CIs.

Never best-of: a cell's figure is the median of its interleaved runs, its uncertainty a
bootstrap confidence interval of that median; a framework's overhead is the ratio of its
median to the raw baseline's on the same server, with a CI from resampling both sides.
With 3 runs the CI of a median is coarse (it spans roughly the lowest to the highest run):
it is reported as such rather than dressed up. Resampling uses a fixed seed so a report
rendered twice from the same records shows the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats  # type: ignore[import-untyped]

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


# -- significance of a change between two samples (what compare and calibrate judge by) --

ALPHA = 0.05
THRESHOLD = 0.03
"""Smallest relative change called a regression or gain, even when significant (as asv
does with its factor): below it, the change is real but too small to act on."""


@dataclass(frozen=True, slots=True)
class Significance:
    """Outcome of the tests on two samples of one metric."""

    p_value: float | None
    """Welch's t-test on log values; ``None`` when a side has fewer than 2 runs."""
    rank_p_value: float | None
    """Exact two-sided Mann-Whitney U p-value (distribution-free)."""
    rank_floor: float
    """Smallest p-value the rank test can give with these sample sizes."""
    resolvable: float | None
    """Smallest relative change the t-test could call significant at this spread."""


def rank_floor(n_a: int, n_b: int) -> float:
    """Smallest two-sided exact Mann-Whitney U p-value with samples of these sizes."""
    return min(1.0, 2 / math.comb(n_a + n_b, n_a))


def welch_log(a: list[float], b: list[float], alpha: float = ALPHA) -> tuple[float, float] | None:
    """Welch's t-test on ``log`` values: (two-sided p, smallest resolvable relative change).

    ``None`` when a side has fewer than two values or a non-positive one. Computed directly
    (not ``scipy.stats.ttest_ind``) so that samples with no spread give a defined answer
    instead of a precision warning: identical runs on both sides are "no difference" (p = 1),
    different constants a certain one (p = 0).
    """
    if len(a) < 2 or len(b) < 2 or min(a + b) <= 0:
        return None
    la, lb = np.log(a), np.log(b)
    va, vb = float(np.var(la, ddof=1)) / len(a), float(np.var(lb, ddof=1)) / len(b)
    difference = float(np.mean(lb) - np.mean(la))
    se = math.sqrt(va + vb)
    if se == 0.0:
        return (0.0 if difference else 1.0), 0.0
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    p = float(2 * scipy_stats.t.sf(abs(difference) / se, df))
    resolvable = math.expm1(float(scipy_stats.t.ppf(1 - alpha / 2, df)) * se)
    return p, resolvable


def rank_test(a: list[float], b: list[float]) -> float | None:
    """Exact two-sided Mann-Whitney U p-value, ``None`` when a side is empty or all tied."""
    if not a or not b or len(set(a + b)) == 1:
        return None
    method = "exact" if len(set(a + b)) == len(a + b) else "asymptotic"  # exact needs no ties
    return float(scipy_stats.mannwhitneyu(a, b, alternative="two-sided", method=method).pvalue)


def significance(a: list[float], b: list[float], alpha: float = ALPHA) -> Significance:
    """Both tests on two samples of one metric."""
    welch = welch_log(a, b, alpha)
    return Significance(
        p_value=welch[0] if welch else None,
        rank_p_value=rank_test(a, b),
        rank_floor=rank_floor(len(a), len(b)) if a and b else 1.0,
        resolvable=welch[1] if welch else None,
    )


def judge(
    a: float,
    b: float,
    result: Significance,
    higher_is_better: bool,
    alpha: float = ALPHA,
    threshold: float = THRESHOLD,
) -> str:
    """Regression / gain only when significant and at least ``threshold`` in size."""
    if result.p_value is None or result.p_value >= alpha:
        return "not significant"
    change = b / a - 1
    if abs(change) < threshold:
        return "unchanged"
    better = change > 0 if higher_is_better else change < 0
    return "gain" if better else "regression"

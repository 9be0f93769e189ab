"""Medians with bootstrap CIs, ratios to the baseline, significance by CI overlap."""

from __future__ import annotations

import pytest

from bench.lab.stats import Estimate, median_ci, ratio_ci, relative_difference


def test_median_is_the_middle_run_never_the_best() -> None:
    estimate = median_ci([100.0, 300.0, 200.0])
    assert estimate.value == 200.0
    assert estimate.n == 3


def test_interval_contains_the_median_and_stays_within_the_data() -> None:
    values = [980.0, 1000.0, 1010.0, 1020.0, 1100.0]
    estimate = median_ci(values)
    assert min(values) <= estimate.low <= estimate.value <= estimate.high <= max(values)
    assert estimate.low < estimate.high


def test_interval_is_reproducible() -> None:
    values = [1.0, 2.0, 3.0, 5.0, 8.0, 13.0]
    assert median_ci(values) == median_ci(values)


def test_interval_narrows_with_agreeing_runs() -> None:
    spread = median_ci([900.0, 1000.0, 1100.0, 950.0, 1050.0])
    tight = median_ci([995.0, 1000.0, 1005.0, 998.0, 1002.0])
    assert tight.high - tight.low < spread.high - spread.low


def test_single_run_has_a_degenerate_interval() -> None:
    assert median_ci([42.0]) == Estimate(42.0, 42.0, 42.0, 1)


@pytest.mark.parametrize("values", [[], [1.0, float("nan")], [float("inf")]])
def test_rejects_empty_or_non_finite_input(values: list[float]) -> None:
    with pytest.raises(ValueError):
        median_ci(values)


def test_ratio_of_medians_with_interval() -> None:
    estimate = ratio_ci([50.0, 60.0, 55.0], [100.0, 110.0, 105.0])
    assert estimate.value == pytest.approx(55.0 / 105.0)
    assert estimate.low <= estimate.value <= estimate.high
    assert estimate.low >= 50.0 / 110.0 and estimate.high <= 60.0 / 100.0


def test_ratio_needs_a_positive_baseline() -> None:
    with pytest.raises(ValueError, match="positive"):
        ratio_ci([1.0], [0.0])


def test_overlap_means_not_significantly_different() -> None:
    a = Estimate(100.0, 95.0, 105.0, 3)
    assert a.overlaps(Estimate(103.0, 101.0, 110.0, 3))
    assert not a.overlaps(Estimate(120.0, 110.0, 130.0, 3))


def test_relative_difference_is_symmetric() -> None:
    assert relative_difference(100.0, 105.0) == relative_difference(105.0, 100.0)
    assert relative_difference(100.0, 105.0) == pytest.approx(5 / 102.5)
    assert relative_difference(0.0, 0.0) == 0.0

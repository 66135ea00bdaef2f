"""Intervals and tests of metrics_lib.core.stats against the published formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps

from metrics_lib.core.stats import compare_means, compare_means_from_moments, mean_result, t_interval


def test_welch_from_moments_is_welch_on_the_samples():
    a = np.array([120.0, 80, 95, 130, 101])
    b = np.array([90.0, 70, 85, 100])
    on_samples = compare_means(a, b)
    on_moments = compare_means_from_moments(a.mean(), a.std(ddof=1), a.size, b.mean(), b.std(ddof=1), b.size)
    # Welch: t = (m1 - m2) / sqrt(s1^2/n1 + s2^2/n2), Welch-Satterthwaite degrees of freedom
    v1, v2 = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    t = (a.mean() - b.mean()) / math.sqrt(v1 + v2)
    df = (v1 + v2) ** 2 / (v1**2 / (a.size - 1) + v2**2 / (b.size - 1))
    p = 2 * sps.t.sf(abs(t), df)
    for c in (on_samples, on_moments):
        assert c.value == pytest.approx(a.mean() - b.mean())
        assert c.statistic == pytest.approx(t) and c.p_value == pytest.approx(p)
        assert c.test == "Welch t" and c.significant == (p < 0.05)


def test_welch_from_moments_needs_two_values_a_side():
    c = compare_means_from_moments(10.0, math.nan, 1, 8.0, 2.0, 30)
    assert c.reason == "comparison needs at least 2 values in each period" and math.isnan(c.p_value)
    assert c.value == 2.0


def test_welch_from_moments_without_spread():
    assert compare_means_from_moments(5.0, 0.0, 10, 5.0, 0.0, 12).p_value == 1.0
    assert compare_means_from_moments(6.0, 0.0, 10, 5.0, 0.0, 12).p_value == 0.0


# t(0.975, 1 degree of freedom) = 12.7062 (published tables).
T_975_1 = 12.706204736


def test_t_interval_of_non_negative_values_is_truncated_at_zero():
    # [0.5, 3.5]: mean 2, s = sqrt(1.5^2 + 1.5^2) = sqrt(4.5), s / sqrt(2) = 1.5,
    # so mean +- t * 1.5 = 2 +- 19.0593 = [-17.0593, 21.0593]; a mean of hours cannot be negative.
    r = mean_result([0.5, 3.5], low=0)
    assert r.value == 2.0
    assert r.ci.low == 0.0
    assert r.ci.high == pytest.approx(2 + T_975_1 * 1.5)
    plain = mean_result([0.5, 3.5])
    assert plain.ci.low == pytest.approx(2 - T_975_1 * 1.5)
    assert plain.ci.high == r.ci.high


def test_t_interval_inside_the_range_is_unchanged():
    # 100 +- t(0.975, 3) * 18.2574 / 2 = 100 +- 3.18245 * 9.1287 = [70.95, 129.05]
    ci = t_interval(100.0, 18.2574, 4, low=0, high=1000)
    assert (round(ci.low, 2), round(ci.high, 2)) == (70.95, 129.05)
    assert (ci.low, ci.high) == (t_interval(100.0, 18.2574, 4).low, t_interval(100.0, 18.2574, 4).high)


def test_t_interval_is_truncated_to_a_scale():
    # answers 1 and 5 on a 1-5 scale: mean 3, s / sqrt(2) = 2, 3 +- 25.41 -> the whole scale
    ci = mean_result([1, 5], low=1, high=5).ci
    assert (ci.low, ci.high) == (1.0, 5.0)


@given(st.lists(st.floats(0, 1e6), min_size=2, max_size=30))
def test_t_interval_of_non_negative_values_never_goes_below_zero(values):
    r = mean_result(values, low=0)
    assert math.isnan(r.ci.low) or r.ci.low >= 0

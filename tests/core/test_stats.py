"""Intervals and tests of metrics_lib.core.stats against the published formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from metrics_lib.core.stats import compare_means, compare_means_from_moments


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

"""Intervals and tests shared by the metric families (thin wrappers over statsmodels / scipy)."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from metrics_lib.core.results import (
    NAN,
    ComparisonResult,
    ConfidenceInterval,
    MeanResult,
    RateResult,
    check_confidence_level,
    check_count,
    undefined,
)

__all__ = [
    "as_float_array",
    "compare_means",
    "compare_means_from_moments",
    "compare_rates",
    "mean_result",
    "rate_result",
    "t_interval",
    "wilson_interval",
]


def wilson_interval(successes: float, n: float, *, confidence_level: float = 0.95) -> ConfidenceInterval:
    """Wilson score interval for a binomial share (NaN bounds when ``n`` is 0).

    Examples
    --------
    >>> ci = wilson_interval(10, 100)
    >>> round(ci.low, 4), round(ci.high, 4)
    (0.0552, 0.1744)
    """
    level = check_confidence_level(confidence_level)
    if n <= 0:
        return ConfidenceInterval(NAN, NAN, level, "wilson")
    low, high = proportion_confint(successes, n, alpha=1 - level, method="wilson")
    # Rounding can leave the bound a hair inside the share at 0 or n successes (3.5e-18 for 0 of
    # 100); the Wilson interval always contains the observed share, so clamp to it.
    share = successes / n
    return ConfidenceInterval(min(float(low), share), max(float(high), share), level, "wilson")


def rate_result(
    numerator: float,
    denominator: float,
    *,
    numerator_name: str = "numerator",
    denominator_name: str = "denominator",
    what: str = "rate",
    confidence_level: float = 0.95,
) -> RateResult:
    """Share ``numerator / denominator`` with a Wilson interval; NaN with a reason when empty.

    Raises ValueError naming the arguments when a count is negative or the numerator exceeds
    the denominator.

    Examples
    --------
    >>> rate_result(10, 100).value
    0.1
    >>> rate_result(0, 0, what="churn rate").reason
    'churn rate is undefined: denominator is 0'
    """
    level = check_confidence_level(confidence_level)
    num = check_count(numerator_name, numerator)
    den = check_count(denominator_name, denominator)
    if num > den:
        raise ValueError(
            f"`{numerator_name}` ({numerator:g}) cannot exceed `{denominator_name}` ({denominator:g})"
        )
    if den == 0:
        reason = undefined(f"{what} is undefined: {denominator_name} is 0")
        return RateResult(NAN, num, den, ConfidenceInterval(NAN, NAN, level, "wilson"), 0, reason=reason)
    return RateResult(num / den, num, den, wilson_interval(num, den, confidence_level=level), int(den))


def as_float_array(values, name: str = "values") -> np.ndarray:
    """1-d float array from a list, array or Series; NaN entries are dropped."""
    arr = np.asarray(values, dtype=float).ravel()
    return arr[~np.isnan(arr)]


def mean_result(
    values,
    *,
    unit: str = "",
    what: str = "mean",
    confidence_level: float = 0.95,
    low: float | None = None,
    high: float | None = None,
) -> MeanResult:
    """Mean with a Student-t interval, plus median and standard deviation.

    One value gives the mean with NaN interval bounds; no values give NaN with a reason.
    ``low`` and ``high`` are the range the values can take (e.g. ``low=0`` for hours or
    amounts); the interval is truncated to it (see :func:`t_interval`).

    Examples
    --------
    >>> r = mean_result([2.0, 4.0, 6.0])
    >>> r.value, r.median, r.n
    (4.0, 4.0, 3)
    >>> r = mean_result([0.5, 3.5], low=0)
    >>> r.value, r.ci.low, round(r.ci.high, 2)
    (2.0, 0.0, 21.06)
    """
    level = check_confidence_level(confidence_level)
    arr = as_float_array(values)
    n = arr.size
    if n == 0:
        return MeanResult(
            NAN,
            0,
            ConfidenceInterval(NAN, NAN, level, "t"),
            unit=unit,
            reason=undefined(f"{what} is undefined: no values"),
        )
    mean = float(arr.mean())
    median = float(np.median(arr))
    if n == 1:
        return MeanResult(mean, 1, ConfidenceInterval(NAN, NAN, level, "t"), median, NAN, unit, reason=None)
    std = float(arr.std(ddof=1))
    ci = t_interval(mean, std, n, confidence_level=level, low=low, high=high)
    return MeanResult(mean, n, ci, median, std, unit)


def t_interval(
    mean: float,
    std: float,
    n: int,
    *,
    confidence_level: float = 0.95,
    low: float | None = None,
    high: float | None = None,
) -> ConfidenceInterval:
    """Student-t interval of a mean from its moments: ``mean ± t(n-1) · std / sqrt(n)``.

    ``std`` is the sample standard deviation (``n - 1`` in the denominator); fewer than two
    values (or a NaN ``std``) give NaN bounds, no spread gives the mean itself.

    ``low`` and ``high`` are the range the values can take: a mean of values that cannot be
    negative cannot be negative either, so with ``low=0`` a bound below 0 (small samples,
    skewed values) is truncated at 0; a bound inside the range is left as it is.

    Examples
    --------
    >>> ci = t_interval(100.0, 18.2574, 4)
    >>> round(ci.low, 2), round(ci.high, 2)
    (70.95, 129.05)
    >>> ci = t_interval(2.0, 2.1213, 2, low=0)
    >>> ci.low, round(ci.high, 2)
    (0.0, 21.06)
    """
    level = check_confidence_level(confidence_level)
    if n < 2 or math.isnan(std):
        return ConfidenceInterval(NAN, NAN, level, "t")
    if std == 0:
        return ConfidenceInterval(mean, mean, level, "t")
    lo, hi = (float(b) for b in sps.t.interval(level, n - 1, loc=mean, scale=std / math.sqrt(n)))
    if low is not None:
        lo, hi = max(lo, float(low)), max(hi, float(low))
    if high is not None:
        lo, hi = min(lo, float(high)), min(hi, float(high))
    return ConfidenceInterval(lo, hi, level, "t")


def compare_rates(current: RateResult, previous: RateResult, *, alpha: float = 0.05) -> ComparisonResult:
    """Two-proportion z-test of two shares (pooled variance).

    Examples
    --------
    >>> c = compare_rates(rate_result(60, 100), rate_result(40, 100))
    >>> round(c.value, 2), round(c.p_value, 4), c.significant
    (0.2, 0.0047, True)
    """
    diff = current.value - previous.value
    if not (current.defined and previous.defined):
        return ComparisonResult(
            diff,
            current.value,
            previous.value,
            alpha=alpha,
            test="two-proportion z",
            reason="comparison is undefined: a period has no data",
        )
    counts = np.array([current.numerator, previous.numerator])
    nobs = np.array([current.denominator, previous.denominator])
    if counts.sum() in (0, nobs.sum()):
        # Both shares 0 or both 1: no variance, no evidence of change.
        return ComparisonResult(diff, current.value, previous.value, 1.0, 0.0, alpha, "two-proportion z")
    stat, p = proportions_ztest(counts, nobs)
    return ComparisonResult(
        diff, current.value, previous.value, float(p), float(stat), alpha, "two-proportion z"
    )


def compare_means(current, previous, *, alpha: float = 0.05) -> ComparisonResult:
    """Welch's t-test between two samples (arrays of the per-unit values).

    Examples
    --------
    >>> c = compare_means([1, 2, 3, 4], [1, 2, 3, 4])
    >>> c.value, round(c.p_value, 3)
    (0.0, 1.0)
    """

    def moments(x: np.ndarray) -> tuple[float, float, int]:
        return (
            (float(x.mean()) if x.size else NAN),
            (float(x.std(ddof=1)) if x.size > 1 else NAN),
            int(x.size),
        )

    a, b = as_float_array(current), as_float_array(previous)
    return compare_means_from_moments(*moments(a), *moments(b), alpha=alpha)


def compare_means_from_moments(
    mean_current: float,
    std_current: float,
    n_current: int,
    mean_previous: float,
    std_previous: float,
    n_previous: int,
    *,
    alpha: float = 0.05,
) -> ComparisonResult:
    """Welch's t-test from each period's mean, sample standard deviation and size (what an
    engine returns without shipping the values); the same result as :func:`compare_means`.

    Examples
    --------
    >>> c = compare_means_from_moments(2.5, 1.2909944, 4, 2.5, 1.2909944, 4)
    >>> c.value, round(c.p_value, 3)
    (0.0, 1.0)
    """
    cur, prev = float(mean_current), float(mean_previous)
    if n_current < 2 or n_previous < 2:
        return ComparisonResult(
            cur - prev,
            cur,
            prev,
            alpha=alpha,
            test="Welch t",
            reason="comparison needs at least 2 values in each period",
        )
    if std_current == 0 and std_previous == 0:
        p = 1.0 if cur == prev else 0.0
        return ComparisonResult(cur - prev, cur, prev, p, NAN, alpha, "Welch t")
    res = sps.ttest_ind_from_stats(
        cur, std_current, n_current, prev, std_previous, n_previous, equal_var=False
    )
    return ComparisonResult(cur - prev, cur, prev, float(res.pvalue), float(res.statistic), alpha, "Welch t")

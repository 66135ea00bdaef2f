"""Distribution-free interval for a median, shared by the cycle-length and service-time summaries."""

from __future__ import annotations

import numpy as np
from scipy import stats as sps

from metrics_lib.core.results import NAN, ConfidenceInterval

__all__ = ["median_interval"]

MEDIAN_CI_METHOD = "order statistics (binomial)"


def median_interval(values: np.ndarray, level: float) -> ConfidenceInterval:
    """Interval for the median from two order statistics of ``values`` (NaN already dropped).

    Uses the r-th smallest and r-th largest values, with r the largest integer such that
    ``2 * P(B <= r - 1) <= 1 - level`` for ``B ~ Binomial(n, 1/2)``, so the coverage is at least
    ``level`` whatever the distribution. NaN bounds when n is too small for any pair of order
    statistics to reach that coverage (n < 6 at the 95% level).

    Examples
    --------
    >>> ci = median_interval(np.arange(1.0, 11.0), 0.95)
    >>> ci.low, ci.high
    (2.0, 9.0)
    """
    arr = np.sort(np.asarray(values, dtype=float))
    n = arr.size
    if n == 0:
        return ConfidenceInterval(NAN, NAN, level, MEDIAN_CI_METHOD)
    r = int(sps.binom.ppf((1 - level) / 2, n, 0.5))
    if r < 1:
        return ConfidenceInterval(NAN, NAN, level, MEDIAN_CI_METHOD)
    return ConfidenceInterval(float(arr[r - 1]), float(arr[n - r]), level, MEDIAN_CI_METHOD)

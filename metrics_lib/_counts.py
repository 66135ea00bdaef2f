"""Checks for whole-number counts and survey answers (satisfaction, retention and value formulas).

Each check raises ``ValueError`` naming the argument, the offending value and what is allowed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from .results import check_confidence_level, check_count

__all__ = ["check_whole_count", "check_scale", "check_scores", "check_alpha", "z_critical"]


def check_whole_count(name: str, value: Any) -> int:
    """Return ``value`` as an int if it is a whole number >= 0, else raise ValueError."""
    if isinstance(value, bool):
        raise ValueError(f"`{name}` ({value!r}) must be a whole number >= 0, not a boolean")
    if isinstance(value, (str, bytes)):
        raise ValueError(f"`{name}` ({value!r}) must be a whole number >= 0, not text")
    x = check_count(name, value)
    if not x.is_integer():
        raise ValueError(f"`{name}` ({value!r}) must be a whole number >= 0")
    return int(x)


def check_scale(name: str, scale: Any) -> tuple[int, int]:
    """Return ``scale`` as ``(low, high)`` whole numbers with ``low < high``."""
    try:
        low, high = scale
        low_f, high_f = float(low), float(high)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` ({scale!r}) must be a pair (low, high) of whole numbers, e.g. (1, 5)") from None
    if not (low_f.is_integer() and high_f.is_integer() and low_f < high_f):
        raise ValueError(f"`{name}` ({scale!r}) must be a pair (low, high) of whole numbers with low < high")
    return int(low_f), int(high_f)


def check_scores(name: str, values: Any, *, low: int, high: int) -> np.ndarray:
    """1-d float array of survey answers, missing (NaN / None / NA) entries dropped.

    Every answer must be a whole number in ``[low, high]``; the first offending value is named.
    """
    if isinstance(values, (str, bytes)) or np.ndim(values) == 0:
        raise ValueError(f"`{name}` ({values!r}) must be a sequence of answers (list, array or Series)")
    try:
        if isinstance(values, (pd.Series, pd.Index)):
            arr = values.to_numpy(dtype="float64", na_value=np.nan)
        else:
            arr = pd.array(list(np.ravel(np.asarray(values, dtype=object))), dtype="Float64").to_numpy(
                dtype="float64", na_value=np.nan)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must contain numbers only (answers on the scale {low}-{high})") from None
    arr = arr[~np.isnan(arr)]
    bad = arr[(arr < low) | (arr > high)]
    if bad.size:
        raise ValueError(f"`{name}` contains {bad[0]:g}, outside the scale {low}-{high}")
    frac = arr[arr != np.floor(arr)]
    if frac.size:
        raise ValueError(f"`{name}` contains {frac[0]:g}; answers must be whole numbers on the scale {low}-{high}")
    return arr


def check_alpha(alpha: Any) -> float:
    """Return ``alpha`` if it lies strictly in (0, 1), else raise ValueError."""
    if isinstance(alpha, bool) or not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise ValueError(f"`alpha` ({alpha!r}) must lie strictly between 0 and 1, e.g. 0.05")
    return float(alpha)


def z_critical(confidence_level: float) -> float:
    """Two-sided standard normal quantile for ``confidence_level`` (1.96 at 0.95)."""
    level = check_confidence_level(confidence_level)
    return float(sps.norm.ppf(0.5 + level / 2))

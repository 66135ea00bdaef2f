"""Input checks shared by every formula module: numbers, sequences, frames, whole counts, scales.

Each check raises ``ValueError`` naming the argument, the offending value and what is allowed,
so a bad input fails before any arithmetic.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from metrics_lib.core.results import check_confidence_level, check_count

__all__ = [
    "as_float_array",
    "check_number",
    "check_values",
    "check_row_values",
    "check_columns",
    "scalar_value",
    "check_whole_count",
    "check_scale",
    "check_scores",
    "check_alpha",
    "z_critical",
]


def check_number(
    name: str, value: Any, *, low: float | None = None, high: float | None = None, low_inclusive: bool = True
) -> float:
    """Return ``value`` as a finite float within ``[low, high]``, else raise ValueError."""
    if isinstance(value, bool):
        raise ValueError(f"`{name}` ({value!r}) must be a number, not a boolean")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` ({value!r}) must be a number") from None
    if math.isnan(x) or math.isinf(x):
        raise ValueError(f"`{name}` ({value!r}) must be a finite number")
    if low is not None and (x < low or (not low_inclusive and x == low)):
        op = ">=" if low_inclusive else ">"
        raise ValueError(f"`{name}` ({value!r}) must be {op} {low:g}")
    if high is not None and x > high:
        raise ValueError(f"`{name}` ({value!r}) must be <= {high:g}")
    return x


def as_float_array(
    name: str,
    values: Any,
    *,
    expected: str = "a sequence of numbers",
    invalid: str = "must contain numbers only",
) -> np.ndarray:
    """``values`` (list, array, Series or Index) as a 1-d float array, missing entries as NaN.

    Raises ValueError naming ``name``: a scalar or a string is not ``expected``; an entry that is
    not a number gets ``invalid``. The callers add their own rules (finite, ranges, 0/1).
    """
    if isinstance(values, (str, bytes)) or np.ndim(values) == 0:
        raise ValueError(f"`{name}` ({values!r}) must be {expected}")
    try:
        if isinstance(values, (pd.Series, pd.Index)):
            return values.to_numpy(dtype="float64", na_value=np.nan)
        return np.asarray(values, dtype="float64").ravel()
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` {invalid}") from None


def check_values(
    name: str, values: Any, *, low: float | None = None, high: float | None = None, missing: str = "drop"
) -> np.ndarray:
    """1-d float array of ``values``; NaN (missing) entries dropped, or rejected with
    ``missing="reject"`` where rows must stay aligned with another argument.

    Raises ValueError when an entry is not numeric, infinite, missing (when rejected), or outside
    ``[low, high]``.
    """
    arr = as_float_array(name, values, expected="a sequence of numbers (list, array or Series)")
    if np.isinf(arr).any():
        raise ValueError(
            f"`{name}` contains an infinite value; only finite numbers (or NaN for missing) are allowed"
        )
    if missing == "reject" and np.isnan(arr).any():
        raise ValueError(
            f"`{name}` has a missing value at position {int(np.flatnonzero(np.isnan(arr))[0])}; "
            "every row needs a number"
        )
    arr = arr[~np.isnan(arr)]
    if low is not None and arr.size and arr.min() < low:
        raise ValueError(f"`{name}` contains {arr.min():g}; values must be >= {low:g}")
    if high is not None and arr.size and arr.max() > high:
        raise ValueError(f"`{name}` contains {arr.max():g}; values must be <= {high:g}")
    return arr


def check_row_values(name: str, values: Any) -> np.ndarray:
    """1-d float array of ``values`` with NaN (missing) entries kept in place, so rows stay
    aligned with another argument.

    Raises ValueError when ``values`` is not a sequence, an entry is not numeric, or (unless
    ``values`` is a Series) an entry is infinite.
    """
    arr = as_float_array(name, values)
    if not isinstance(values, pd.Series) and np.isinf(arr).any():
        raise ValueError(f"`{name}` contains an infinite value; only finite numbers (or NaN) are allowed")
    return arr


def check_columns(name: str, frame: Any, required: list[str]) -> pd.DataFrame:
    """Return ``frame`` if it is a DataFrame holding every column of ``required``."""
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"`{name}` must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(
            f"`{name}` is missing column(s) {missing}; required columns are {required}, "
            f"found {list(frame.columns)}"
        )
    return frame


def scalar_value(x: Any) -> Any:
    """The ``.value`` of a result object, or ``x`` itself for a plain number."""
    return getattr(x, "value", x)


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
        raise ValueError(
            f"`{name}` ({scale!r}) must be a pair (low, high) of whole numbers, e.g. (1, 5)"
        ) from None
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
                dtype="float64", na_value=np.nan
            )
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must contain numbers only (answers on the scale {low}-{high})") from None
    arr = arr[~np.isnan(arr)]
    bad = arr[(arr < low) | (arr > high)]
    if bad.size:
        raise ValueError(f"`{name}` contains {bad[0]:g}, outside the scale {low}-{high}")
    frac = arr[arr != np.floor(arr)]
    if frac.size:
        raise ValueError(
            f"`{name}` contains {frac[0]:g}; answers must be whole numbers on the scale {low}-{high}"
        )
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

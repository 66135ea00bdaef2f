"""Input checks shared by the formula modules (pipeline, service, advocacy, marketing, health).

Each check raises ``ValueError`` naming the argument, the offending value and what is allowed,
so a bad input fails before any arithmetic.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["check_number", "check_values", "check_columns", "scalar_value"]


def check_number(name: str, value: Any, *, low: float | None = None, high: float | None = None,
                 low_inclusive: bool = True) -> float:
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


def check_values(name: str, values: Any, *, low: float | None = None,
                 high: float | None = None) -> np.ndarray:
    """1-d float array of ``values`` with NaN (missing) entries dropped.

    Raises ValueError when an entry is not numeric, infinite, or outside ``[low, high]``.
    """
    if isinstance(values, (str, bytes)) or np.ndim(values) == 0:
        raise ValueError(f"`{name}` ({values!r}) must be a sequence of numbers (list, array or Series)")
    try:
        if isinstance(values, (pd.Series, pd.Index)):
            arr = values.to_numpy(dtype="float64", na_value=np.nan)
        else:
            arr = np.asarray(values, dtype="float64").ravel()
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must contain numbers only") from None
    if np.isinf(arr).any():
        raise ValueError(f"`{name}` contains an infinite value; only finite numbers (or NaN for missing) are allowed")
    arr = arr[~np.isnan(arr)]
    if low is not None and arr.size and arr.min() < low:
        raise ValueError(f"`{name}` contains {arr.min():g}; values must be >= {low:g}")
    if high is not None and arr.size and arr.max() > high:
        raise ValueError(f"`{name}` contains {arr.max():g}; values must be <= {high:g}")
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

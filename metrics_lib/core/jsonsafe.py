"""JSON text that two runs write identically: the one cleaner behind ``metrics --format json`` and
the report run's ``manifest.json``.

:func:`json_ready` turns a result into plain JSON values (NaN and infinities become ``null``,
numpy scalars Python ones, floats are cut to 12 significant digits with :func:`stable` so the
last bits a parallel engine varies in do not show); anything else JSON has no type for (a path,
a date) becomes its text. :func:`dumps` writes it indented, with keys in their given order.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

__all__ = ["stable", "json_ready", "dumps"]


def stable(x: float) -> float:
    """``x`` to 12 significant digits: floating-point sums on a parallel engine differ in the last
    bits from run to run; rounding first keeps differences and the JSON identical between runs.

    >>> stable(0.1 + 0.2)
    0.3
    """
    return float(f"{x:.12g}")


def json_ready(obj: Any) -> Any:
    """``obj`` with dicts and lists walked, numpy scalars as Python ones, NaN and infinities as
    None and every float through :func:`stable`; other values are left for :func:`dumps`.

    >>> json_ready({"a": [float("nan"), np.int64(3), 0.1 + 0.2]})
    {'a': [None, 3, 0.3]}
    """
    if isinstance(obj, dict):
        return {k: json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float):
        if math.isnan(obj) or math.isinf(obj):
            return None
        return stable(obj)
    return obj


def dumps(obj: Any, *, indent: int = 2) -> str:
    """JSON text of :func:`json_ready` ``(obj)``: never NaN, values JSON has no type for (paths,
    dates) as their text.

    >>> print(dumps({"x": float("inf"), "when": __import__("datetime").date(2025, 3, 1)}, indent=0))
    {
    "x": null,
    "when": "2025-03-01"
    }
    """
    return json.dumps(json_ready(obj), indent=indent, allow_nan=False, default=str)

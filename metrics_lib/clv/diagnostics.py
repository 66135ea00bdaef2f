"""The numbers behind the pictures of a BG/NBD fit (drawn by :mod:`metrics_lib.reporting.plots`).

:func:`calibration_holdout_table` compares predicted and actual holdout purchases by calibration
frequency; :func:`probability_alive_matrix` gives P(alive) on a frequency-by-recency grid.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from metrics_lib.clv._checks import CLVInputError
from metrics_lib.clv._fitting import check_same_unit, check_summary
from metrics_lib.clv.bgnbd import BetaGeoModel

__all__ = ["calibration_holdout_table", "probability_alive_matrix"]


def calibration_holdout_table(
    model: BetaGeoModel, split: pd.DataFrame, *, max_frequency: int = 7
) -> pd.DataFrame:
    """Mean predicted and actual holdout purchases, by calibration frequency (0 .. max+).

    ``model`` should be fitted on the calibration columns of ``split`` (from
    :func:`calibration_holdout_split`). Customers with ``max_frequency`` or more calibration
    repeat purchases share the last row (labelled e.g. ``"7+"``).

    Returns
    -------
    pandas.DataFrame
        Index ``frequency`` 0 .. ``max_frequency``; columns ``label``, ``customers``, ``actual``
        (mean ``frequency_holdout``) and ``predicted`` (mean expected purchases over
        ``duration_holdout``). Rows with no customers have NaN means. Drawn by
        :func:`metrics_lib.reporting.plots.plot_calibration_holdout`.
    """
    if not isinstance(model, BetaGeoModel):
        raise CLVInputError("`model` must be a fitted BetaGeoModel")
    model.require_fit()
    if (
        isinstance(max_frequency, bool)
        or not isinstance(max_frequency, (int, np.integer))
        or max_frequency < 1
    ):
        raise CLVInputError(f"`max_frequency` ({max_frequency!r}) must be a whole number >= 1")
    check_same_unit(model.time_unit_, split)
    data = check_summary(split, ("frequency", "recency", "T", "frequency_holdout", "duration_holdout"))
    predicted = model.expected_purchases(
        data["duration_holdout"].to_numpy(),
        data["frequency"].to_numpy(),
        data["recency"].to_numpy(),
        data["T"].to_numpy(),
    )
    group = np.minimum(data["frequency"].to_numpy(), max_frequency).astype(int)
    frame = pd.DataFrame(
        {"frequency": group, "actual": data["frequency_holdout"].to_numpy(), "predicted": predicted}
    )
    agg = frame.groupby("frequency").agg(
        customers=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean")
    )
    agg = agg.reindex(pd.RangeIndex(max_frequency + 1, name="frequency"))
    agg["customers"] = agg["customers"].fillna(0).astype("int64")
    labels = [str(i) for i in range(max_frequency)] + [f"{max_frequency}+"]
    agg.insert(0, "label", labels)
    return agg


def probability_alive_matrix(
    model: BetaGeoModel,
    max_frequency: int | None = None,
    max_recency: float | None = None,
    T: float | None = None,
) -> pd.DataFrame:
    """P(alive) on a grid of frequency (rows) by recency (columns), for customers observed for ``T``.

    Defaults: ``T`` the longest ``T`` of the fitted summary, ``max_frequency`` its largest
    frequency, ``max_recency`` = ``T``; recency runs over whole time units 0 .. max_recency.
    Cells that no customer can occupy are NaN: recency > T, and recency > 0 with frequency 0.
    Drawn by :func:`metrics_lib.reporting.plots.plot_probability_alive`.
    """
    if not isinstance(model, BetaGeoModel):
        raise CLVInputError("`model` must be a fitted BetaGeoModel")
    model.require_fit()
    s = model.summary_ if getattr(model, "summary_", None) is not None else None
    if s is None and (T is None or max_frequency is None):
        raise CLVInputError("the model was built from parameters: give T and max_frequency")
    if T is None:
        assert s is not None  # checked above
        T_ = float(s["T"].max())
    else:
        T_ = float(T)
    if not (math.isfinite(T_) and T_ >= 0):
        raise CLVInputError(f"`T` ({T!r}) must be a number >= 0")
    if max_frequency is None:
        assert s is not None  # checked above
        max_f = int(s["frequency"].max())
    else:
        max_f = int(max_frequency)
    max_r = T_ if max_recency is None else float(max_recency)
    if max_f < 0 or max_r < 0:
        raise CLVInputError("`max_frequency` and `max_recency` must be >= 0")
    freq = np.arange(max_f + 1, dtype=float)
    rec = np.arange(int(math.floor(max_r)) + 1, dtype=float)
    x, tx = np.meshgrid(freq, rec, indexing="ij")
    prob = model.probability_alive(x, np.minimum(tx, T_), np.full_like(x, T_))
    prob = np.where((tx > T_) | ((x == 0) & (tx > 0)), np.nan, prob)
    out = pd.DataFrame(
        prob, index=pd.Index(freq.astype(int), name="frequency"), columns=pd.Index(rec, name="recency")
    )
    out.attrs["time_unit"] = model.time_unit_
    out.attrs["T"] = T_
    return out

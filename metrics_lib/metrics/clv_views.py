"""Probabilistic customer lifetime value for a report: the BG/NBD and Gamma-Gamma models fitted on
the purchase history up to the period's end, checked against a holdout, and each customer's
discounted CLV over a horizon.

:func:`clv_models` runs the models of :mod:`metrics_lib.clv` on a
:class:`~metrics_lib.metrics.aggregate.Scope` and returns a :class:`CLVView`; when the data is too
thin to fit, the view is empty and its ``note`` says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pandas as pd

from metrics_lib.core.results import quietly
from metrics_lib.metrics import aggregate as agg

__all__ = ["CLVView", "clv_models"]


@dataclass(frozen=True)
class CLVView:
    """The probabilistic CLV models fitted up to the period's end (BG/NBD and Gamma-Gamma).

    ``parameters``: fitted parameters with standard errors; ``calibration``: predicted vs actual
    repeat purchases in a holdout of the last ``holdout_weeks`` (models refitted on the weeks
    before it); ``alive``: probability-alive matrix; ``customers``: per customer, probability alive,
    expected purchases and discounted CLV over the horizon; ``note``: why something is missing.
    """

    parameters: pd.DataFrame
    calibration: pd.DataFrame
    alive: pd.DataFrame
    customers: pd.DataFrame
    horizon_weeks: int
    note: str = ""

    def summary(self) -> pd.DataFrame:
        """Customers, mean probability alive, expected purchases and CLV, as a small table."""
        c = self.customers
        if c.empty:
            return pd.DataFrame({"value": [self.note or "no customers"]}, index=["note"])
        rows = {
            "customers modelled": f"{len(c):,}",
            "mean probability alive": f"{100 * c['probability_alive'].mean():.1f}%",
            f"expected purchase days, next {self.horizon_weeks} weeks (mean)": f"{c['expected_purchases'].mean():.2f}",
            f"discounted CLV, next {self.horizon_weeks} weeks (mean)": f"{c['clv'].mean():,.0f}",
            "discounted CLV of the top 10% of customers (share of all)": f"{100 * c['clv'].nlargest(max(1, len(c) // 10)).sum() / c['clv'].sum():.1f}%",
        }
        return pd.DataFrame({"value": list(rows.values())}, index=list(rows))


def clv_models(
    scope: agg.Scope, *, horizon_weeks: int = 52, holdout_weeks: int = 26, annual_discount_rate: float = 0.10
) -> CLVView:
    """BG/NBD + Gamma-Gamma fitted on purchase days up to the period's end (weekly summary),
    checked against a holdout of the last ``holdout_weeks``, and each customer's discounted
    CLV over ``horizon_weeks`` at ``annual_discount_rate``."""
    from metrics_lib import clv

    empty = pd.DataFrame()
    end = scope.period.end
    orders = scope.table("orders")
    try:
        summary = clv.summarize_transactions(orders, value_col="revenue", observation_end=end)
        bg = quietly(clv.BetaGeoModel().fit, summary)
        gg = quietly(clv.GammaGammaModel().fit, summary)
        split = clv.calibration_holdout_split(
            orders,
            value_col="revenue",
            calibration_end=end - timedelta(weeks=holdout_weeks),
            observation_end=end,
        )
        bg_cal = quietly(clv.BetaGeoModel().fit, split)
    except clv.CLVInputError as exc:
        return CLVView(empty, empty, empty, empty, horizon_weeks, f"not fitted: {exc}")
    rows = []
    for name, model in (("BG/NBD", bg), ("Gamma-Gamma", gg)):
        for k, v in model.params_.items():
            rows.append(
                {"model": name, "parameter": k, "estimate": v, "standard error": model.standard_errors_[k]}
            )
    weekly = (1 + annual_discount_rate) ** (1 / 52) - 1
    customers = pd.DataFrame(
        {
            "probability_alive": bg.probability_alive(),
            "expected_purchases": bg.expected_purchases(horizon_weeks),
            "clv": gg.customer_lifetime_value(bg, summary, horizon=horizon_weeks, discount_rate=weekly),
        }
    )
    return CLVView(
        pd.DataFrame(rows).set_index(["model", "parameter"]),
        clv.calibration_holdout_table(bg_cal, split),
        clv.probability_alive_matrix(bg, max_frequency=20),
        customers,
        horizon_weeks,
    )

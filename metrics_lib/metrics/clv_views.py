"""Customer lifetime value for a report: the headline CLV step by step, and the probabilistic
models (BG/NBD and Gamma-Gamma) fitted on the purchase history up to the period's end, checked
against a holdout, with each customer's discounted CLV over a horizon.

:func:`clv_steps` lays out the headline ``clv`` of a
:class:`~metrics_lib.metrics.period_data.PeriodData` (the seeds' four steps, then the margin).
:func:`clv_models` runs the models of :mod:`metrics_lib.clv` on a
:class:`~metrics_lib.metrics.aggregate.Scope` and returns a :class:`CLVView`; when the data is too
thin to fit, the view is empty and its ``note`` says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import cast

import pandas as pd

from metrics_lib.core.results import ValueResult, quietly
from metrics_lib.formulas import value
from metrics_lib.metrics import aggregate as agg
from metrics_lib.metrics.catalogue import HEADLINE, safe_compute
from metrics_lib.metrics.period_data import PeriodData

__all__ = ["CLVView", "clv_models", "clv_steps"]


def clv_steps(d: PeriodData) -> pd.DataFrame:
    """The headline ``clv`` of the period step by step: the seeds' four-step CLV (average purchase
    value, purchase frequency, customer value, lifespan; revenue) over the twelve months ending
    with the period, then the margin CLV that the headline reports.

    One row per step (index ``step``) with its ``value``, ``unit`` and ``how`` it is computed;
    ``attrs["window"]`` names the twelve months (cut to the orders' dates). When the headline is
    undefined the frame is empty and ``attrs["note"]`` gives its reason.
    """
    r = cast(ValueResult, safe_compute(HEADLINE["clv"].compute, d))
    c = r.components
    frame = pd.DataFrame(columns=["value", "unit", "how"])
    frame.index.name = "step"
    w = d.year_window
    frame.attrs["window"] = f"{w.start:%d %b %Y} to {w.end:%d %b %Y}" if w.days else "none"
    if not r.defined:
        frame.attrs["note"] = r.reason or "CLV is undefined for the period"
        return frame
    four = quietly(
        value.clv_four_step,
        c["revenue"],
        int(c["purchases"]),
        int(c["customers"]),
        annual_churn_rate=c["annual_churn_rate"],
        years=c["share_of_year_covered"],
    )
    per_year = "purchases / customers"
    if c["share_of_year_covered"] < 1:
        per_year += f" / {c['share_of_year_covered']:.3f} (the share of the 12 months the orders cover)"
    rows = [
        ("revenue", c["revenue"], "currency", "revenue of the orders of the 12 months"),
        ("purchases", c["purchases"], "count", "purchase days: each customer's distinct order dates"),
        ("customers", c["customers"], "count", "customers who bought in the 12 months"),
        ("1. average purchase value", c["average_purchase_value"], "currency", "revenue / purchases"),
        ("2. purchase frequency (per year)", c["purchase_frequency"], "ratio", per_year),
        ("3. customer value (per year)", c["customer_value"], "currency", "purchase value x frequency"),
        ("annual churn", c["annual_churn_rate"], "share", "the period's churn rate, annualised"),
        ("4. lifespan (years)", c["lifespan_years"], "years", "1 / annual churn"),
        ("four-step CLV (revenue)", four.value, "currency", "customer value x lifespan"),
        ("gross margin", c["gross_margin"], "share", "gross profit / revenue of the 12 months"),
        ("CLV (margin, the headline)", r.value, "currency", "four-step CLV x gross margin"),
    ]
    out = pd.DataFrame(rows, columns=["step", "value", "unit", "how"]).set_index("step")
    out.attrs.update(frame.attrs)
    return out


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

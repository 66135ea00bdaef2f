"""Customer lifetime value for a report: the headline CLV step by step, and the probabilistic
models (BG/NBD and Gamma-Gamma) fitted on the purchase history up to the period's end, checked
against a holdout, with each customer's discounted CLV over a horizon.

:func:`clv_steps` lays out the headline ``clv`` of a
:class:`~metrics_lib.metrics.period_data.PeriodData` (the seeds' four steps, then the margin).
:func:`clv_models` runs the models of :mod:`metrics_lib.clv` on a
:class:`~metrics_lib.metrics.aggregate.Scope` and returns a :class:`CLVView`; when the data is too
thin to fit, or a fit fails (the optimiser does not converge, a parameter runs to the edge of its
range, the Hessian is not positive definite), the view is empty and its ``note`` says why: the
models' warnings are turned into that reason and never reach the caller.
"""

from __future__ import annotations

import hashlib
import math
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

import numpy as np
import pandas as pd

from metrics_lib.core.results import ValueResult, quietly
from metrics_lib.formulas import value
from metrics_lib.metrics import aggregate as agg
from metrics_lib.metrics.catalogue import HEADLINE, safe_compute
from metrics_lib.metrics.period_data import PeriodData
from metrics_lib.metrics.shared_results import found_call, shared_call

__all__ = [
    "CLVKeyNumbers",
    "CLVView",
    "FREQUENCY_STEP",
    "clv_models",
    "clv_steps",
    "period_clv_models",
    "found_clv_models",
    "fingerprint",
    "fit_or_load",
]

#: The step of :func:`clv_steps` that the share of the twelve months covered divides.
FREQUENCY_STEP = "2. purchase frequency (per year)"


def clv_steps(d: PeriodData) -> pd.DataFrame:
    """The headline ``clv`` of the period step by step: the seeds' four-step CLV (average purchase
    value, purchase frequency, customer value, lifespan; revenue) over the twelve months ending
    with the period, then the margin CLV that the headline reports.

    One row per step (index ``step``) with its unrounded ``value``, ``unit`` and ``how`` it is
    computed; ``attrs["window"]`` is the twelve months (a
    :class:`~metrics_lib.metrics.aggregate.DateWindow` cut to the orders' dates, None when the
    orders do not meet them) and
    ``attrs["share_of_year_covered"]`` the share of the twelve months the orders cover, which
    divides the purchase frequency (:data:`FREQUENCY_STEP`) when below 1. When the headline is
    undefined the frame is empty and ``attrs["note"]`` gives its reason.
    """
    r = cast(ValueResult, safe_compute(HEADLINE["clv"].compute, d))
    c = r.components
    frame = pd.DataFrame(columns=["value", "unit", "how"])
    frame.index.name = "step"
    w = d.year_window
    frame.attrs["window"] = w if w.days else None
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
    frame.attrs["share_of_year_covered"] = c["share_of_year_covered"]
    rows = [
        ("revenue", c["revenue"], "currency", "revenue of the orders of the 12 months"),
        ("purchases", c["purchases"], "count", "purchase days: each customer's distinct order dates"),
        ("customers", c["customers"], "count", "customers who bought in the 12 months"),
        ("1. average purchase value", c["average_purchase_value"], "currency", "revenue / purchases"),
        (FREQUENCY_STEP, c["purchase_frequency"], "ratio", "purchases / customers"),
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
    expected purchases and discounted CLV over the horizon, each with its delta-method 95% interval
    (``<column>_low``, ``<column>_high``); ``note``: why something is missing; ``fits``: the fits
    used, as ``clv_models.json`` keeps them (:func:`fit_or_load`).
    :meth:`key_numbers` sums it up in numbers; the reporting layer writes them out.
    """

    parameters: pd.DataFrame
    calibration: pd.DataFrame
    alive: pd.DataFrame
    customers: pd.DataFrame
    horizon_weeks: int
    note: str = ""
    fits: dict = field(default_factory=dict)

    def key_numbers(self) -> CLVKeyNumbers | None:
        """The customers modelled and the means over them, unrounded; None without customers
        (``note`` says why)."""
        c = self.customers
        if c.empty:
            return None
        clv = c["clv"]
        return CLVKeyNumbers(
            customers=len(c),
            mean_probability_alive=float(c["probability_alive"].mean()),
            mean_expected_purchases=float(c["expected_purchases"].mean()),
            mean_clv=float(clv.mean()),
            top_decile_clv_share=float(clv.nlargest(max(1, len(c) // 10)).sum() / clv.sum()),
            mean_clv_low=float(c["clv_low"].mean()) if "clv_low" in c else float("nan"),
            mean_clv_high=float(c["clv_high"].mean()) if "clv_high" in c else float("nan"),
        )


@dataclass(frozen=True)
class CLVKeyNumbers:
    """What :class:`CLVView` amounts to: the ``customers`` modelled, their mean probability alive,
    expected purchase days and discounted CLV over the horizon, and the share of all discounted
    CLV held by the top 10% of customers (at least one); ``mean_clv_low`` / ``mean_clv_high``: the
    means of the customers' 95% interval bounds."""

    customers: int
    mean_probability_alive: float
    mean_expected_purchases: float
    mean_clv: float
    top_decile_clv_share: float
    mean_clv_low: float = float("nan")
    mean_clv_high: float = float("nan")


def _reason(message: str, model_name: str) -> str:
    """A model's warning as a reason: without the model's name or an empty optimiser status."""
    if message.startswith(f"{model_name}: "):
        message = message[len(model_name) + 2 :]
    return re.sub(r" \([A-Z_]+: ?\)", "", message)


class FitFailed(Exception):
    """A model fit that did not succeed; the message is the reason."""


def fit_quietly(model, summary, label: str):
    """``model.fit(summary)`` with the model's warnings caught: a fit that warns (did not converge,
    ran to a bound, non-positive-definite Hessian) or has non-finite standard errors raises
    :class:`FitFailed` with the reason; other warnings pass through."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = quietly(model.fit, summary)
    problems: list[str] = []
    for w in caught:
        if issubclass(w.category, RuntimeWarning):
            text = _reason(str(w.message), type(model).__name__)
            if text not in problems:
                problems.append(text)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if not problems and not getattr(fitted, "converged_", True):
        problems.append("the optimiser did not converge")
    if not problems and not all(math.isfinite(v) for v in getattr(fitted, "standard_errors_", {}).values()):
        problems.append("the standard errors are not finite")
    if problems:
        raise FitFailed(f"{label}: {'; '.join(problems)}")
    return fitted


def fingerprint(*arrays) -> str:
    """A digest of the exact numbers a model is fitted on (shapes included)."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(np.asarray(a, dtype="float64"))
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def fit_or_load(model_cls, key: str, data, digest: str, fits: dict | None, record: dict | None, fit):
    """The saved fit under ``key`` when its fingerprint is ``digest``, else ``fit()``; the fit used
    goes into ``record`` (for saving) when given."""
    saved = (fits or {}).get(key)
    if isinstance(saved, dict) and saved.get("input") == digest:
        model = model_cls.from_dict(saved.get("fit"))
    else:
        model = fit()
    if record is not None:
        record[key] = {"input": digest, "fit": model.to_dict()}
    return model


def clv_models(
    scope: agg.Scope,
    *,
    horizon_weeks: int = 52,
    holdout_weeks: int = 26,
    annual_discount_rate: float = 0.10,
    fits: dict | None = None,
    record: dict | None = None,
) -> CLVView:
    """BG/NBD + Gamma-Gamma fitted on purchase days up to the period's end (weekly summary),
    checked against a holdout of the last ``holdout_weeks``, and each customer's discounted
    CLV over ``horizon_weeks`` at ``annual_discount_rate``, with delta-method 95% intervals
    (``<column>_low``, ``<column>_high``). Saved fits in ``fits`` are used when fitted on the same
    summaries, and the fits used go into ``record`` and the view's ``fits``
    (:func:`fit_or_load`)."""
    from metrics_lib import clv

    used: dict = {}

    def fitted(cls, key, data, columns, label):
        digest = fingerprint(*(data[c] for c in columns))
        model = fit_or_load(cls, key, data, digest, fits, used, lambda: fit_quietly(cls(), data, label))
        if record is not None:
            record[key] = used[key]
        return model

    empty = pd.DataFrame()
    end = scope.period.end
    orders = agg.customer_transactions(scope.table("orders"))  # returns net the values
    rfm = ("frequency", "recency", "T")
    try:
        summary = clv.summarize_transactions(orders, value_col="revenue", observation_end=end)
        bg = fitted(clv.BetaGeoModel, "bgnbd", summary, rfm, "BG/NBD")
        gg = fitted(
            clv.GammaGammaModel, "gamma_gamma", summary, ("frequency", "monetary_value"), "Gamma-Gamma"
        )
        split = clv.calibration_holdout_split(
            orders,
            value_col="revenue",
            calibration_end=end - timedelta(weeks=holdout_weeks),
            observation_end=end,
        )
        bg_cal = fitted(clv.BetaGeoModel, "bgnbd_holdout", split, rfm, "BG/NBD (holdout check)")
        bg.summary_, bg_cal.summary_, gg.summary_ = summary, split, summary
    except (clv.CLVInputError, FitFailed) as exc:
        return CLVView(empty, empty, empty, empty, horizon_weeks, f"not fitted: {exc}", dict(used))
    rows = []
    for name, model in (("BG/NBD", bg), ("Gamma-Gamma", gg)):
        for k, v in model.params_.items():
            rows.append(
                {"model": name, "parameter": k, "estimate": v, "standard error": model.standard_errors_[k]}
            )
    weekly = (1 + annual_discount_rate) ** (1 / 52) - 1
    predictions: dict[str, tuple[list, Callable[..., Any], str]] = {
        "probability_alive": ([bg], lambda b: b.probability_alive().to_numpy(), "logit"),
        "expected_purchases": ([bg], lambda b: b.expected_purchases(horizon_weeks).to_numpy(), "log"),
        "clv": (
            [bg, gg],
            lambda b, g: g.customer_lifetime_value(
                b, summary, horizon=horizon_weeks, discount_rate=weekly
            ).to_numpy(),
            "log",
        ),
    }
    columns = {}
    for name, (models, predict, scale) in predictions.items():
        est, low, high = clv.delta_method_interval(models, predict, scale=scale)
        columns.update({name: est, f"{name}_low": low, f"{name}_high": high})
    customers = pd.DataFrame(columns, index=summary.index)
    return CLVView(
        pd.DataFrame(rows).set_index(["model", "parameter"]),
        clv.calibration_holdout_table(bg_cal, split),
        clv.probability_alive_matrix(bg, max_frequency=20),
        customers,
        horizon_weeks,
        fits=used,
    )


def period_clv_models(
    scope: agg.Scope,
    *,
    horizon_weeks: int = 52,
    holdout_weeks: int = 26,
    annual_discount_rate: float = 0.10,
    fits: dict | None = None,
) -> CLVView:
    """:func:`clv_models`, computed once per report run and shared by the runner (the fits it
    saves, the at-risk list) and the value report
    (:func:`~metrics_lib.metrics.shared_results.shared_call`); outside a run simply computed.
    ``fits`` only spares fitting again (a saved fit is used only on the summaries it was fitted
    on), so a view computed without them is the same view."""
    settings = dict(
        horizon_weeks=horizon_weeks, holdout_weeks=holdout_weeks, annual_discount_rate=annual_discount_rate
    )
    return shared_call(scope.source, clv_models, scope, **settings, not_keyed={"fits": fits})


def found_clv_models(scope: agg.Scope) -> CLVView | None:
    """The view :func:`period_clv_models` gives with its default settings when a notebook of the
    report run has computed it already; None otherwise (nothing is fitted)."""
    settings = dict(horizon_weeks=52, holdout_weeks=26, annual_discount_rate=0.10)
    return found_call(scope.source, clv_models, scope, **settings)

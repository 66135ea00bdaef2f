"""Lifetime value when customers hold contracts: which CLV model fits the data, and the sBG model
of renewals fitted on the subscriptions' renewal cohorts.

:func:`clv_choice` says which model the value report uses and why: the shifted-beta-geometric
model (:class:`metrics_lib.clv.ShiftedBetaGeoModel`) when the data holds subscriptions that are
renewed (customers tell us when they leave: contractual), BG/NBD and Gamma-Gamma when it does
not (customers buy when they like: non-contractual). :func:`contractual_clv` fits the sBG model
on the renewal cohorts of :func:`metrics_lib.metrics.aggregate_subscriptions.renewal_cohorts` and
values each active customer's contract.

Fits can be saved and reused as for :func:`metrics_lib.metrics.clv_views.clv_models` (see
:func:`~metrics_lib.metrics.clv_views.fit_or_load`): a saved fit is used only when fitted on the
same cohorts, so a report gives the same numbers whether it fits or loads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from metrics_lib.metrics import aggregate_subscriptions
from metrics_lib.metrics.aggregate import Scope
from metrics_lib.metrics.clv_views import FitFailed, fingerprint, fit_or_load, fit_quietly
from metrics_lib.metrics.period_data import PeriodData
from metrics_lib.metrics.shared_results import shared_call

__all__ = [
    "CLVChoice",
    "ContractualCLVView",
    "FITS_SCHEMA",
    "clv_choice",
    "contractual_clv",
    "empty_view",
    "period_contractual_clv",
]

#: Version of the saved fits' layout (``clv_models.json``).
FITS_SCHEMA = 1


@dataclass(frozen=True)
class CLVChoice:
    """The CLV model for the data: ``model`` is ``"sBG"`` or ``"BG/NBD"``; ``basis`` why:
    ``"renewals"`` (subscriptions renewed: contractual), ``"no renewals"`` (subscriptions but none
    renewed, so no renewal can be counted) or ``"no subscriptions"`` (buying without contracts);
    ``renewals``: subscriptions in the data that renew another."""

    model: str
    basis: str
    renewals: int = 0


def clv_choice(scope: Scope) -> CLVChoice:
    """sBG when the source has subscriptions with renewals (``renewed_from`` set), else BG/NBD."""
    if not scope.contractual:
        return CLVChoice("BG/NBD", "no subscriptions")
    s = scope.table("subscriptions")
    n = int(s.filter(s.renewed_from.notnull() & (s.start_date <= scope.last_day)).count().execute())
    if n == 0:
        return CLVChoice("BG/NBD", "no renewals")
    return CLVChoice("sBG", "renewals", n)


@dataclass(frozen=True)
class ContractualCLVView:
    """The sBG model of renewals fitted up to the period's end, and each active contract's value.

    ``parameters``: alpha and beta with standard errors and 95% intervals. ``survival``: by
    renewal period ``t``, the customers the observed share rests on (``at_risk``), the
    ``observed`` share of a cohort still active (the cohorts pooled period by period), the
    ``fitted`` S(t) with its interval and the fitted ``retention`` r(t). ``customers``: per
    active customer, ``renewals`` made, ``margin_per_period`` (MRR x months per term x gross
    margin) and the discounted ``clv`` still to come (margin x DERL) with ``clv_low`` /
    ``clv_high``. ``new_customer_clv``: the discounted margin of a customer just acquired at the
    active customers' mean margin per period, with its interval. ``note``: why something is missing.
    """

    parameters: pd.DataFrame
    survival: pd.DataFrame
    customers: pd.DataFrame
    term_months: int
    annual_discount_rate: float
    gross_margin: float = float("nan")
    new_customer_clv: tuple[float, float, float] = (float("nan"),) * 3
    cohorts: int = 0
    note: str = ""
    model: object = field(default=None, compare=False, repr=False)
    fits: dict = field(default_factory=dict, compare=False, repr=False)  # as clv_models.json keeps it


def _pooled_survival(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Share still active at each t, chaining each period's renewals over the cohorts seen at it."""
    width = m.shape[1]
    observed, at_risk = np.ones(width), np.zeros(width)
    at_risk[0] = np.nansum(m[:, 0])
    for t in range(1, width):
        seen = ~np.isnan(m[:, t])
        before = m[seen, t - 1].sum()
        at_risk[t] = before
        observed[t] = observed[t - 1] * (m[seen, t].sum() / before if before else np.nan)
    return observed, at_risk


def _noted(note: str) -> pd.DataFrame:
    e = pd.DataFrame()
    e.attrs["note"] = note
    return e


def empty_view(term: int, rate: float, note: str) -> ContractualCLVView:
    return ContractualCLVView(_noted(note), _noted(note), _noted(note), term, rate, note=note)


def contractual_clv(
    d: PeriodData,
    *,
    annual_discount_rate: float = 0.10,
    horizon_periods: int = 10,
    fits: dict | None = None,
    record: dict | None = None,
) -> ContractualCLVView:
    """The sBG model on the renewal cohorts up to the period's end and the value of each active
    contract, discounted at ``annual_discount_rate``; ``survival`` runs to ``horizon_periods``.
    A saved fit in ``fits`` is used when fitted on the same cohorts; the fit used goes into
    ``record`` and the view's ``fits`` (:func:`~metrics_lib.metrics.clv_views.fit_or_load`)."""
    from metrics_lib import clv

    cohorts = aggregate_subscriptions.renewal_cohorts(d.scope)
    term = cohorts.term_months
    m = cohorts.survivors.to_numpy(dtype="float64")
    if m.size == 0:
        why = d.scope.subscriptions_missing or "no cohort has reached a renewal yet"
        return empty_view(term, annual_discount_rate, f"not fitted: {why}")
    used: dict = {}
    try:
        model = fit_or_load(
            clv.ShiftedBetaGeoModel,
            "sbg",
            m,
            fingerprint(m),
            fits,
            used,
            lambda: fit_quietly(clv.ShiftedBetaGeoModel(), m, "sBG"),
        )
    except (clv.CLVInputError, FitFailed) as exc:
        return empty_view(term, annual_discount_rate, f"not fitted: {exc}")
    if record is not None:
        record.update(used)
    params = pd.DataFrame(
        {
            "estimate": model.params_,
            "standard error": model.standard_errors_,
            "ci_low": {k: ci.low for k, ci in model.confidence_intervals_.items()},
            "ci_high": {k: ci.high for k, ci in model.confidence_intervals_.items()},
        }
    )
    params.index.name = "parameter"
    observed, at_risk = _pooled_survival(m)
    t = np.arange(max(horizon_periods, m.shape[1] - 1) + 1, dtype=float)
    fitted, low, high = clv.delta_method_interval([model], lambda s: s.survival(t), scale="logit")
    fitted, low, high = (np.where(t == 0, 1.0, v) for v in (fitted, low, high))
    survival = pd.DataFrame(
        {
            "at_risk": np.r_[at_risk, np.full(len(t) - len(at_risk), np.nan)],
            "observed": np.r_[observed, np.full(len(t) - len(observed), np.nan)],
            "fitted": fitted,
            "fitted_low": low,
            "fitted_high": high,
            "retention": np.r_[np.nan, model.retention_rate(t[1:])],
        },
        index=pd.Index(t.astype(int), name="t"),
    )
    y = d.year_orders
    margin = (y.revenue - y.cost) / y.revenue if y.revenue and not np.isnan(y.cost) else float("nan")
    rate = (1 + annual_discount_rate) ** (term / 12) - 1
    c = cohorts.customers
    per_period = c["mrr"].astype(float) * term * margin
    renewals = c["renewals"].to_numpy(dtype=float)
    kinds, codes = np.unique(renewals, return_inverse=True)
    derl, derl_low, derl_high = clv.delta_method_interval(
        [model], lambda s: s.discounted_expected_residual_lifetime(rate, kinds)
    )
    customers = pd.DataFrame(
        {
            "renewals": c["renewals"].astype(int),
            "margin_per_period": per_period,
            "clv": per_period.to_numpy() * derl[codes],
            "clv_low": per_period.to_numpy() * derl_low[codes],
            "clv_high": per_period.to_numpy() * derl_high[codes],
        },
        index=c.index,
    )
    mean_margin = float(per_period.mean()) if len(per_period) else float("nan")
    new = clv.delta_method_interval([model], lambda s: s.discounted_expected_lifetime(rate))
    return ContractualCLVView(
        params,
        survival,
        customers,
        term,
        annual_discount_rate,
        margin,
        (mean_margin * new[0], mean_margin * new[1], mean_margin * new[2]),
        len(m),
        model=model,
        fits=used,
    )


def period_contractual_clv(
    scope: Scope, *, annual_discount_rate: float = 0.10, fits: dict | None = None
) -> ContractualCLVView:
    """:func:`contractual_clv` of ``scope``'s period, computed once per report run and shared by
    the value report and the runner's ``clv_models.json``
    (:func:`~metrics_lib.metrics.shared_results.shared_call`); outside a run simply computed.
    ``fits`` only spares fitting again."""
    return shared_call(
        scope.source,
        _contractual_of,
        scope,
        annual_discount_rate=annual_discount_rate,
        not_keyed={"fits": fits},
    )


def _contractual_of(
    scope: Scope, *, annual_discount_rate: float, fits: dict | None = None
) -> ContractualCLVView:
    d = PeriodData(scope.source, scope.period, scope.segment)
    return contractual_clv(d, annual_discount_rate=annual_discount_rate, fits=fits)

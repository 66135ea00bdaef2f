"""The Gamma-Gamma model of spend per purchase (Colombo & Jiang 1999; Fader, Hardie & Lee 2005b).

:class:`GammaGammaModel` adds how much each purchase is worth to the BG/NBD model
(:class:`metrics_lib.clv.BetaGeoModel`): expected spend per future purchase and, with a fitted
BG/NBD model, a discounted CLV per customer.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import special

from metrics_lib.clv._checks import CLVInputError
from metrics_lib.clv._fitting import (
    LOG_BOUND,
    MIN_CUSTOMERS,
    MLModel,
    arrays,
    check_same_unit,
    check_summary,
    grouped,
    shape_like,
)
from metrics_lib.clv.bgnbd import BetaGeoModel

__all__ = ["GammaGammaModel"]


class GammaGammaModel(MLModel):
    r"""Gamma-Gamma model of spend per purchase (Colombo & Jiang 1999; Fader, Hardie & Lee 2005b).

    A customer's purchase values are Gamma(p, ν) around their own mean p/ν, with ν ~ Gamma(q, γ)
    across customers; spend is assumed independent of how often they buy. The mean
    :math:`m_x` of a customer's ``x`` repeat purchase values then has density

    .. math::

        f(m_x \mid x) = \frac{\Gamma(p x + q)}{\Gamma(p x)\,\Gamma(q)}
        \frac{\gamma^q\, m_x^{p x - 1}\, x^{p x}}{(\gamma + m_x x)^{p x + q}}

    The fit uses customers with ``frequency`` > 0 and ``monetary_value`` > 0.

    Parameters
    ----------
    penalizer : float
        L2 penalty: ``-mean log-likelihood + penalizer * (p² + q² + γ²)`` is minimised.

    Attributes
    ----------
    params_ : dict
        ``p``, ``q``, ``gamma`` (γ, written v in some texts), in the summary's currency.
    standard_errors_, confidence_intervals_, log_likelihood_, n_customers_, summary_, time_unit_
        As for :class:`BetaGeoModel`; ``n_customers_`` counts the customers fitted on.
    """

    _names = ("p", "q", "gamma")

    def fit(self, summary: pd.DataFrame) -> GammaGammaModel:
        """Fit on a summary with ``frequency`` and ``monetary_value``; returns ``self``."""
        data = check_summary(summary, ("frequency", "monetary_value"))
        used = data[(data["frequency"] > 0) & (data["monetary_value"] > 0)]
        n = len(used)
        if n == 0:
            raise CLVInputError(
                f"no customer of the {len(data)} in the summary has a repeat purchase with a "
                "positive `monetary_value`, so the Gamma-Gamma model has nothing to fit: give "
                "summarize_transactions a value_col, and check that order values are positive"
            )
        if n < MIN_CUSTOMERS:
            raise CLVInputError(
                f"only {n} customers have a repeat purchase with a positive `monetary_value`; the "
                f"Gamma-Gamma model needs at least {MIN_CUSTOMERS} (in practice hundreds): widen "
                "the period or the segment"
            )
        (x, m), w = grouped(used, ["frequency", "monetary_value"])
        mean_m = float(np.average(m, weights=w))
        start = np.clip(np.log([1.0, 2.0, mean_m]), -LOG_BOUND + 1, LOG_BOUND - 1)
        self._optimise(start, (x, m, w), n)
        self.n_customers_ = n
        self.summary_ = summary
        self.time_unit_ = summary.attrs.get("time_unit")
        return self

    @staticmethod
    def _loglik(log_params, x, m, w=None, gradient: bool = False):
        p, q, g = np.exp(log_params)
        px = p * x
        log_m, log_x, log_gxm = np.log(m), np.log(x), np.log(g + m * x)
        ll = (
            special.gammaln(px + q)
            - special.gammaln(px)
            - special.gammaln(q)
            + q * np.log(g)
            + (px - 1) * log_m
            + px * log_x
            - (px + q) * log_gxm
        )
        w = np.ones_like(x) if w is None else w
        total = float(np.dot(w, ll))
        if not gradient:
            return total, None
        psi_pq = special.digamma(px + q)
        dp = x * (psi_pq - special.digamma(px) + log_m + log_x - log_gxm)
        dq = psi_pq - special.digamma(q) + np.log(g) - log_gxm
        dg = q / g - (px + q) / (g + m * x)
        grad = np.array([np.dot(w, d) for d in (dp, dq, dg)]) * np.array([p, q, g])
        return total, grad

    def expected_spend(self, frequency=None, monetary_value=None):
        r"""Expected value of a customer's future purchases, given their history.

        .. math:: E[M \mid x, m_x] = \frac{(\gamma + m_x x)\,p}{p x + q - 1}
                  = \frac{q - 1}{p x + q - 1}\frac{p\gamma}{q - 1} + \frac{p x}{p x + q - 1} m_x

        a weighted mean of the population mean :math:`p\gamma/(q-1)` and the customer's own mean,
        the customer's weight growing with their purchases. Customers with no repeat purchase get
        the population mean. NaN where :math:`p x + q \le 1` (the mean does not exist).
        All None means the fitted summary (a Series by customer).
        """
        self.require_fit()
        index = None
        if frequency is None and monetary_value is None:
            s = self._fitted_summary()
            frequency, monetary_value, index = s["frequency"], s["monetary_value"], s.index
        elif frequency is None or monetary_value is None:
            raise CLVInputError("give both frequency and monetary_value, or neither (the fitted summary)")
        (x, m), scalar = arrays(frequency, monetary_value)
        p, q, g = self.params_["p"], self.params_["q"], self.params_["gamma"]
        m = np.where(x > 0, m, 0.0)
        denom = p * x + q - 1
        with np.errstate(divide="ignore", invalid="ignore"):
            result = np.where(denom > 0, (g + m * x) * p / denom, np.nan)
        if index is not None:
            return pd.Series(result, index=index, name="expected_spend")
        return shape_like(result, scalar)

    def customer_lifetime_value(
        self,
        bgnbd_model: BetaGeoModel,
        summary: pd.DataFrame,
        *,
        horizon: int = 12,
        discount_rate: float = 0.01,
    ) -> pd.Series:
        r"""Discounted expected revenue of each customer over the next ``horizon`` time units.

        .. math:: \text{CLV} = E[M \mid x, m_x] \sum_{k=1}^{H}
                  \frac{E[Y(k)] - E[Y(k - 1)]}{(1 + d)^k}

        with :math:`E[Y(k)]` the BG/NBD expected purchases in the next ``k`` units and ``d`` the
        discount rate per unit. Both are in the summary's time unit: with a weekly summary
        ``horizon=52`` is a year and ``discount_rate`` is per week (an annual 10% is about
        0.0018 per week, 0.008 per month). Revenue, not profit: multiply by the gross margin for
        profit.

        Parameters
        ----------
        bgnbd_model : BetaGeoModel
            Fitted on a summary in the same time unit.
        summary : pandas.DataFrame
            ``frequency``, ``recency``, ``T`` and ``monetary_value`` per customer.
        horizon : int
            Number of time units ahead (default 12).
        discount_rate : float
            Per time unit, >= 0 (default 0.01).

        Returns
        -------
        pandas.Series
            ``clv`` by customer, in the currency of ``monetary_value``.
        """
        self.require_fit()
        if not isinstance(bgnbd_model, BetaGeoModel):
            raise CLVInputError("`bgnbd_model` must be a fitted BetaGeoModel")
        bgnbd_model.require_fit()
        if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
            raise CLVInputError(f"`horizon` ({horizon!r}) must be a whole number of time units >= 1")
        if not (
            isinstance(discount_rate, (int, float)) and math.isfinite(discount_rate) and discount_rate >= 0
        ):
            raise CLVInputError(f"`discount_rate` ({discount_rate!r}) must be a number >= 0 per time unit")
        check_same_unit(bgnbd_model.time_unit_, summary)
        check_same_unit(self.time_unit_, summary)
        data = check_summary(summary, ("frequency", "recency", "T", "monetary_value"))
        spend = self.expected_spend(data["frequency"].to_numpy(), data["monetary_value"].to_numpy())
        # E[Y(k)] = (purchases if alive, by x and T) x P(alive | x, recency, T): the sum over the
        # steps is worked out once per distinct (frequency, T), far fewer than the customers.
        # Group numbers follow first appearance, as the rows drop_duplicates keeps.
        keys = data[["frequency", "T"]]
        codes = keys.groupby(list(keys.columns), sort=False, dropna=False).ngroup().to_numpy()
        ux, uT = keys.drop_duplicates().to_numpy(dtype=float).T
        steps = np.arange(1, int(horizon) + 1, dtype=float)
        cum = bgnbd_model.purchases_if_alive(steps[:, None], ux[None, :], uT[None, :])
        per_step = np.diff(np.vstack([np.zeros((1, len(ux))), cum]), axis=0)
        discounted = (per_step / (1 + discount_rate) ** steps[:, None]).sum(axis=0)
        x, tx, T = (data[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
        alive = bgnbd_model.alive(x, tx, T)
        return pd.Series(spend * alive * discounted[codes], index=summary.index, name="clv")

"""The shifted-beta-geometric model of contract renewals (Fader & Hardie 2007):
:class:`ShiftedBetaGeoModel`.

In a contractual business customers tell us when they leave: at the end of each contract period
a customer renews or not. The sBG model lets each customer have their own churn probability per
period, beta-distributed across customers, so the survivors of a cohort thin out quickly at first
(the likely leavers go) and more slowly later; the retention rate rises with tenure although no
customer's own probability changes. It is fitted on how many customers of each cohort are still
active at the start of each period, and gives the survival curve, the retention rate by tenure
and the discounted expected (residual) lifetime, hence CLV per customer.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from metrics_lib.clv._checks import CLVInputError
from metrics_lib.clv._fitting import MIN_CUSTOMERS, MLModel, arrays, shape_like

__all__ = ["ShiftedBetaGeoModel", "survivor_counts"]


def survivor_counts(survivors) -> np.ndarray:
    """Survivors per cohort (rows) and period t = 0, 1, ... (columns) as a float matrix, checked.

    A sequence is one cohort; a 2-D array holds several, each padded on the right with NaN after
    its last observed period.
    """
    try:
        m = np.array(survivors, dtype="float64")
    except (TypeError, ValueError):
        raise CLVInputError(
            "`survivors` must hold numbers: customers still active at the start of each period"
        ) from None
    if m.ndim == 1:
        m = m[None, :]
    if m.ndim != 2 or m.shape[0] == 0:
        raise CLVInputError(
            f"`survivors` must be one cohort (a sequence) or a 2-D array of cohorts, got shape {m.shape}"
        )
    for i, row in enumerate(m):
        name = f"cohort {i} " if len(m) > 1 else ""
        known = ~np.isnan(row)
        n_known = int(known.sum())
        if n_known and not known[:n_known].all():
            raise CLVInputError(
                f"{name}`survivors` has a gap: NaN may only pad a cohort after its last observed "
                f"period, got {row.tolist()}"
            )
        values = row[:n_known]
        if n_known < 2:
            raise CLVInputError(
                f"{name}`survivors` needs at least 2 periods (t = 0 and t = 1), got {n_known}: a "
                "cohort must be observed at one renewal at least"
            )
        if np.isinf(values).any() or (values < 0).any() or (values != np.round(values)).any():
            raise CLVInputError(
                f"{name}`survivors` must be whole numbers of customers >= 0, got {values.tolist()}"
            )
        rises = np.flatnonzero(np.diff(values) > 0)
        if rises.size:
            t = int(rises[0]) + 1
            raise CLVInputError(
                f"{name}`survivors` increases from {values[t - 1]:g} at t={t - 1} to {values[t]:g} "
                f"at t={t}: survivors of a cohort can only fall (count returning customers as a new "
                "cohort)"
            )
        if values[0] == 0:
            raise CLVInputError(f"{name}`survivors` starts with 0 customers at t=0")
    return m


class ShiftedBetaGeoModel(MLModel):
    r"""Shifted-beta-geometric model of contract renewals (Fader & Hardie 2007).

    Each customer leaves at the end of a period with their own probability
    :math:`\theta \sim \text{Beta}(\alpha, \beta)`, so the period they leave in is
    shifted-geometric given :math:`\theta`. Across customers:

    .. math::

        P(T = t) = \frac{B(\alpha + 1, \beta + t - 1)}{B(\alpha, \beta)}, \qquad
        S(t) = P(T > t) = \frac{B(\alpha, \beta + t)}{B(\alpha, \beta)}, \qquad
        r(t) = \frac{S(t)}{S(t - 1)} = \frac{\beta + t - 1}{\alpha + \beta + t - 1}

    A cohort with :math:`n_0, n_1, \ldots, n_T` customers active at the start of periods
    :math:`0..T` contributes :math:`\sum_{t=1}^{T} (n_{t-1} - n_t) \log P(T = t) + n_T \log S(T)`
    to the log-likelihood; cohorts observed for different numbers of periods add up.

    Parameters
    ----------
    penalizer : float
        L2 penalty: the fit minimises ``-mean log-likelihood + penalizer * (α² + β²)``.

    Attributes
    ----------
    params_ : dict
        ``alpha`` and ``beta``.
    standard_errors_, confidence_intervals_, covariance_log_, log_likelihood_
        As for :class:`~metrics_lib.clv.BetaGeoModel` (Wald, from the numerical Hessian on the
        log scale).
    n_customers_ : int
        Customers at t = 0, over all cohorts.
    survivors_ : numpy.ndarray
        The survivors fitted, one row per cohort (NaN after a cohort's last period).

    References
    ----------
    .. [1] Fader, P. S. and Hardie, B. G. S. (2007). How to project customer retention. *Journal
       of Interactive Marketing* 21(1), 76-90.
    .. [2] Fader, P. S. and Hardie, B. G. S. (2010). Customer-base valuation in a contractual
       setting: the perils of ignoring heterogeneity. *Marketing Science* 29(1), 85-93.

    Examples
    --------
    The "regular" cohort of Fader & Hardie (2007), seven years of renewals:

    >>> m = ShiftedBetaGeoModel().fit([1000, 631, 468, 382, 326, 289, 262, 241])
    >>> round(m.params_["alpha"], 3), round(m.params_["beta"], 3)
    (0.704, 1.182)
    >>> round(m.retention_rate(1), 3)  # beta / (alpha + beta)
    0.627
    >>> round(m.survival(12), 3)
    0.17
    """

    _names = ("alpha", "beta")

    def fit(self, survivors) -> ShiftedBetaGeoModel:
        """Fit on survivors per period of one cohort (a sequence) or several (a 2-D array padded
        with NaN); returns ``self``."""
        m = survivor_counts(survivors)
        n = int(np.nansum(m[:, 0]))
        if n < MIN_CUSTOMERS:
            raise CLVInputError(
                f"the cohorts hold {n} customers at t=0; the sBG model needs at least "
                f"{MIN_CUSTOMERS} (in practice hundreds): widen the period or the segment"
            )
        lost_t, lost_w, alive_t, alive_w = _events(m)
        if lost_w.sum() == 0:
            raise CLVInputError(
                "no customer of the cohorts left in the periods observed, so there is no churn to "
                "fit: observe the cohorts over more renewals"
            )
        kept = float(np.nansum(m[:, 1])) / float(np.nansum(np.where(np.isnan(m[:, 1]), np.nan, m[:, 0])))
        kept = min(max(kept, 0.05), 0.95)
        start = np.log([1.0, kept / (1 - kept)])  # beta / (alpha + beta) = first-renewal retention
        self._optimise(start, (lost_t, lost_w, alive_t, alive_w), n)
        self.n_customers_ = n
        self.survivors_ = m
        self.time_unit_ = "period"
        return self

    def _extra_state(self) -> dict:
        m = getattr(self, "survivors_", None)
        if m is None:
            return {}
        return {"survivors": [[None if np.isnan(v) else float(v) for v in row] for row in m]}

    def _load_extra_state(self, data: dict) -> None:
        if data.get("survivors") is not None:
            self.survivors_ = np.array(
                [[np.nan if v is None else float(v) for v in row] for row in data["survivors"]]
            )

    @staticmethod
    def _loglik(log_params, lost_t, lost_w, alive_t, alive_w, gradient: bool = False):
        a, b = np.exp(log_params)
        base = special.betaln(a, b)
        lp = special.betaln(a + 1, b + lost_t - 1) - base
        ls = special.betaln(a, b + alive_t) - base
        total = float(np.dot(lost_w, lp) + np.dot(alive_w, ls))
        if not gradient:
            return total, None
        d_ab = special.digamma(a + b)
        da_p = special.digamma(a + 1) - special.digamma(a + b + lost_t) - special.digamma(a) + d_ab
        db_p = special.digamma(b + lost_t - 1) - special.digamma(a + b + lost_t) - special.digamma(b) + d_ab
        da_s = d_ab - special.digamma(a + b + alive_t)
        db_s = special.digamma(b + alive_t) - special.digamma(a + b + alive_t) - special.digamma(b) + d_ab
        grad = np.array(
            [np.dot(lost_w, da_p) + np.dot(alive_w, da_s), np.dot(lost_w, db_p) + np.dot(alive_w, db_s)]
        )
        return total, grad * np.array([a, b])

    def _ab(self) -> tuple[float, float]:
        self.require_fit()
        return self.params_["alpha"], self.params_["beta"]

    def survival(self, t):
        r"""Share of a cohort still active at the start of period ``t`` (t = 0 gives 1):
        :math:`S(t) = B(\alpha, \beta + t) / B(\alpha, \beta)`. Broadcasts over arrays."""
        a, b = self._ab()
        (tt,), scalar = arrays(t)
        if np.any(tt < 0):
            raise CLVInputError(f"`t` must be >= 0 periods, got {np.min(tt)!r}")
        return shape_like(np.exp(special.betaln(a, b + tt) - special.betaln(a, b)), scalar)

    def retention_rate(self, t):
        r"""Share of the customers active in period ``t - 1`` who renew into period ``t`` (t >= 1):
        :math:`r(t) = (\beta + t - 1) / (\alpha + \beta + t - 1)`, rising with tenure."""
        a, b = self._ab()
        (tt,), scalar = arrays(t)
        if np.any(tt < 1):
            raise CLVInputError(f"`t` must be >= 1 (the first renewal), got {np.min(tt)!r}")
        return shape_like((b + tt - 1) / (a + b + tt - 1), scalar)

    def discounted_expected_residual_lifetime(self, discount_rate: float, renewals=0):
        r"""Expected discounted number of payments still to come from a customer who has renewed
        ``renewals`` times, valued at their next renewal decision (Fader & Hardie 2010):

        .. math::

            \text{DERL}(d \mid n - 1 \text{ renewals}) = \frac{\beta + n - 1}{\alpha + \beta + n - 1}
            \; {}_2F_1\!\left(1, \beta + n; \alpha + \beta + n; \frac{1}{1 + d}\right)

        The payment of the next period, if they renew, is received at once (not discounted), the
        one after a period later, and so on. ``discount_rate`` is per period, > 0. Broadcasts
        over ``renewals``.
        """
        a, b = self._ab()
        d = _check_rate(discount_rate)
        (k,), scalar = arrays(renewals)
        if np.any(k < 0) or np.any(k != np.round(k)):
            raise CLVInputError(f"`renewals` must be whole numbers >= 0, got {k.tolist()!r}")
        n = k + 1
        hyp = special.hyp2f1(1.0, b + n, a + b + n, 1.0 / (1.0 + d))
        return shape_like((b + n - 1) / (a + b + n - 1) * hyp, scalar)

    def discounted_expected_lifetime(self, discount_rate: float) -> float:
        r"""Expected discounted number of payments from a customer just acquired, the first payment
        included and not discounted: :math:`{}_2F_1(1, \beta; \alpha + \beta; 1 / (1 + d))`."""
        a, b = self._ab()
        d = _check_rate(discount_rate)
        return float(special.hyp2f1(1.0, b, a + b, 1.0 / (1.0 + d)))

    def customer_lifetime_value(self, margin_per_period, discount_rate: float, renewals=None):
        """Discounted margin per customer: ``margin_per_period`` x the discounted expected
        lifetime of a new customer (``renewals`` None), or x the DERL of a customer who has
        renewed ``renewals`` times (their value still to come). Broadcasts."""
        (margin,), scalar = arrays(margin_per_period)
        if not np.all(np.isfinite(margin)):
            raise CLVInputError("`margin_per_period` must be finite numbers (currency per period)")
        if renewals is None:
            life = self.discounted_expected_lifetime(discount_rate)
            return shape_like(margin * life, scalar)
        life = self.discounted_expected_residual_lifetime(discount_rate, renewals)
        return margin * life if not (scalar and np.ndim(life) == 0) else float(margin * life)

    def expected_survivors(self, survivors=None) -> np.ndarray:
        """Expected customers active per cohort and period: each cohort's t = 0 count x S(t), NaN
        where the cohort was not observed (default: the survivors fitted)."""
        m = self.survivors_ if survivors is None else survivor_counts(survivors)
        t = np.arange(m.shape[1], dtype=float)
        return np.where(np.isnan(m), np.nan, m[:, :1] * self.survival(t)[None, :])


def _check_rate(discount_rate) -> float:
    if not (
        isinstance(discount_rate, (int, float))
        and not isinstance(discount_rate, bool)
        and math.isfinite(discount_rate)
        and discount_rate > 0
    ):
        raise CLVInputError(
            f"`discount_rate` ({discount_rate!r}) must be a number > 0 per period (the sum of "
            "undiscounted payments can be infinite)"
        )
    return float(discount_rate)


def _events(m: np.ndarray):
    """Leavers by period and survivors at each cohort's last period, summed over cohorts."""
    last = (~np.isnan(m)).sum(axis=1) - 1
    width = m.shape[1]
    lost = np.zeros(width)
    alive = np.zeros(width)
    for row, T in zip(m, last):
        lost[1 : T + 1] += row[:T] - row[1 : T + 1]
        alive[T] += row[T]
    t = np.arange(width, dtype=float)
    keep_l, keep_a = lost > 0, alive > 0
    return t[keep_l], lost[keep_l], t[keep_a], alive[keep_a]

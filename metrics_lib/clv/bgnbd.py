"""The BG/NBD model of repeat buying (Fader, Hardie & Lee 2005a): :class:`BetaGeoModel`.

It reads each customer's purchase history (``frequency``, ``recency``, ``T`` from
:func:`metrics_lib.clv.summarize_transactions`) as a Poisson buying process that stops,
unannounced, after some purchase, and gives expected future purchases and the probability that a
customer is still "alive".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from metrics_lib.clv._checks import CLVInputError
from metrics_lib.clv._fitting import (
    LOG_BOUND,
    MIN_CUSTOMERS,
    MLModel,
    arrays,
    check_summary,
    grouped,
    shape_like,
)

__all__ = ["BetaGeoModel"]


class BetaGeoModel(MLModel):
    r"""BG/NBD model of repeat buying (Fader, Hardie & Lee 2005a), fitted by maximum likelihood.

    While alive, a customer buys as a Poisson process with rate :math:`\lambda \sim
    \text{Gamma}(r, \alpha)`; after each repeat purchase they drop out for good with probability
    :math:`p \sim \text{Beta}(a, b)`. For a customer with ``x`` repeat purchases, the last at
    ``t_x``, observed for ``T``:

    .. math::

        L = \frac{B(a, b + x)}{B(a, b)} \frac{\Gamma(r + x)\,\alpha^r}{\Gamma(r)\,(\alpha + T)^{r+x}}
          + \delta_{x>0}\,\frac{B(a + 1, b + x - 1)}{B(a, b)}
            \frac{\Gamma(r + x)\,\alpha^r}{\Gamma(r)\,(\alpha + t_x)^{r+x}}

    evaluated in log space (``gammaln`` and ``logaddexp``), so frequencies in the hundreds and
    long histories stay finite.

    Parameters
    ----------
    penalizer : float
        L2 penalty: the fit minimises ``-mean log-likelihood + penalizer * (r² + α² + a² + b²)``.
        0 (the default) is plain maximum likelihood; a small value (0.001-0.1) keeps parameters
        finite on data that cannot identify them.

    Attributes
    ----------
    params_ : dict
        ``r``, ``alpha``, ``a``, ``b`` (alpha in the summary's time unit).
    standard_errors_ : dict
        From the inverse numerical Hessian of the objective on the log scale, carried to the
        natural scale by the delta method (SE(θ) = θ · SE(log θ)).
    confidence_intervals_ : dict of ConfidenceInterval
        95% Wald intervals on the log scale, exponentiated (always positive).
    log_likelihood_ : float
        Total log-likelihood at the estimate.
    n_customers_ : int
    summary_ : pandas.DataFrame
        The summary fitted; the default input of the prediction methods.
    time_unit_ : str or None
        The summary's ``attrs["time_unit"]``.

    Notes
    -----
    Identical ``(frequency, recency, T)`` rows are grouped and weighted, and the gradient is
    analytic, so a million customers fit in seconds. The optimiser is L-BFGS-B over the
    log-parameters within [-15, 15].

    Examples
    --------
    >>> from metrics_lib.clv import simulate_bgnbd
    >>> rng = np.random.default_rng(0)
    >>> summary = simulate_bgnbd(2_000, r=0.5, alpha=5.0, a=0.8, b=3.0, T=52, rng=rng)
    >>> model = BetaGeoModel().fit(summary)
    >>> sorted(model.params_)
    ['a', 'alpha', 'b', 'r']
    >>> model.probability_alive(0, 0, 52)
    1.0
    """

    _names = ("r", "alpha", "a", "b")

    def fit(self, summary: pd.DataFrame) -> BetaGeoModel:
        """Fit on a summary with ``frequency``, ``recency`` and ``T``; returns ``self``."""
        data = check_summary(summary, ("frequency", "recency", "T"))
        n = len(data)
        if n < MIN_CUSTOMERS:
            raise CLVInputError(
                f"the summary has {n} customers; the BG/NBD model needs at least {MIN_CUSTOMERS} "
                "(in practice hundreds) to estimate its four parameters: widen the period or the "
                "segment"
            )
        if not (data["frequency"] > 0).any():
            raise CLVInputError(
                f"no customer of the {n} in the summary has a repeat purchase (column `frequency` "
                "is 0 everywhere), so there is nothing to fit: the model learns from repeat "
                "buying. Use a longer observation period, or check that customer ids are stable "
                "across orders"
            )
        (x, tx, T), w = grouped(data, ["frequency", "recency", "T"])
        mean_x = float(np.average(x, weights=w))
        mean_T = float(np.average(T, weights=w))
        start = np.log([1.0, max(mean_T, 1e-3) / max(mean_x, 1e-3), 1.0, 1.0])
        start = np.clip(start, -LOG_BOUND + 1, LOG_BOUND - 1)
        self._optimise(start, (x, tx, T, w), n)
        self.n_customers_ = n
        self.summary_ = summary
        self.time_unit_ = summary.attrs.get("time_unit")
        return self

    @staticmethod
    def _loglik(log_params, x, tx, T, w=None, gradient: bool = False, rows: bool = False):
        r, alpha, a, b = np.exp(log_params)
        pos = x > 0
        xs = np.where(pos, x, 1.0)  # keeps b + x - 1 > 0 where the second term is absent
        common = (
            special.gammaln(r + x)
            - special.gammaln(r)
            + r * np.log(alpha)
            + special.gammaln(b + x)
            - special.gammaln(a + b + x)
            - special.gammaln(b)
            + special.gammaln(a + b)
        )
        log_aT, log_atx = np.log(alpha + T), np.log(alpha + tx)
        l1 = -(r + x) * log_aT
        l2 = np.where(pos, np.log(a) - np.log(b + xs - 1) - (r + x) * log_atx, -np.inf)
        m = np.logaddexp(l1, l2)
        ll = common + m
        if rows:
            return ll, None
        w = np.ones_like(x) if w is None else w
        total = float(np.dot(w, ll))
        if not gradient:
            return total, None
        w1, w2 = np.exp(l1 - m), np.exp(l2 - m)
        dr = special.digamma(r + x) - special.digamma(r) + np.log(alpha) - w1 * log_aT - w2 * log_atx
        dalpha = r / alpha - (r + x) * (w1 / (alpha + T) + w2 / (alpha + tx))
        da = special.digamma(a + b) - special.digamma(a + b + x) + w2 / a
        db = (
            special.digamma(b + x)
            - special.digamma(a + b + x)
            - special.digamma(b)
            + special.digamma(a + b)
            - w2 / (b + xs - 1)
        )
        grad = np.array([np.dot(w, g) for g in (dr, dalpha, da, db)]) * np.array([r, alpha, a, b])
        return total, grad

    def log_likelihood(self, frequency, recency, T, params: dict | None = None) -> np.ndarray:
        """Per-customer log-likelihood at ``params`` (default: the fitted ones)."""
        (x, tx, T_), scalar = arrays(frequency, recency, T)
        p = params if params is not None else self._fitted()
        lp = np.log([p["r"], p["alpha"], p["a"], p["b"]])
        return shape_like(self._loglik(lp, x, tx, T_, rows=True)[0], scalar)

    def _fitted(self) -> dict:
        self.require_fit()
        return self.params_

    def _inputs(self, frequency, recency, T):
        if frequency is None and recency is None and T is None:
            s = self._fitted_summary()
            return (
                s["frequency"].to_numpy(float),
                s["recency"].to_numpy(float),
                s["T"].to_numpy(float),
            ), s.index
        if frequency is None or recency is None or T is None:
            raise CLVInputError("give all of frequency, recency and T, or none (the fitted summary)")
        return (frequency, recency, T), None

    def _alive_logit(self, x, tx, T):
        """log of a/(b+x-1) ((α+T)/(α+t_x))^(r+x): P(alive) = 1 / (1 + exp(this)); -inf at x=0."""
        p = self._fitted()
        r, alpha, a, b = p["r"], p["alpha"], p["a"], p["b"]
        pos = x > 0
        xs = np.where(pos, x, 1.0)
        d = np.log(a) - np.log(b + xs - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        return np.where(pos, d, -np.inf)

    def probability_alive(self, frequency=None, recency=None, T=None):
        r"""Probability that a customer is still alive at the end of their observation.

        .. math:: P(\text{alive}) = \left(1 + \delta_{x>0}\frac{a}{b + x - 1}
                  \left(\frac{\alpha + T}{\alpha + t_x}\right)^{r+x}\right)^{-1}

        1 for a customer with no repeat purchase (in the model nobody drops out at the first
        purchase). Arguments broadcast; all None means the fitted summary (a Series by customer).
        """
        (f, rec, T_), index = self._inputs(frequency, recency, T)
        (x, tx, TT), scalar = arrays(f, rec, T_)
        result = special.expit(-self._alive_logit(x, tx, TT))
        if index is not None:
            return pd.Series(result, index=index, name="probability_alive")
        return shape_like(result, scalar)

    def expected_purchases(self, t, frequency=None, recency=None, T=None):
        r"""Expected repeat purchases in the next ``t`` time units, given each customer's history.

        .. math::

            E[Y(t) \mid x, t_x, T] = \frac{a + b + x - 1}{a - 1}
            \frac{1 - \left(\frac{\alpha + T}{\alpha + T + t}\right)^{r+x}
                  {}_2F_1\!\left(r + x, b + x; a + b + x - 1; \frac{t}{\alpha + T + t}\right)}
                 {1 + \delta_{x>0} \frac{a}{b + x - 1}
                  \left(\frac{\alpha + T}{\alpha + t_x}\right)^{r+x}}

        (Fader, Hardie & Lee 2005a, eq. 10). The hypergeometric term is evaluated after Euler's
        transformation, :math:`(1-z)^{a-1}\,{}_2F_1(a - 1, a + b - 1 - r; a + b + x - 1; z)`,
        whose parameters do not grow with ``x``, so large frequencies stay finite.
        Arguments broadcast; with frequency, recency and T all None the fitted summary is used
        and a Series by customer comes back.
        """
        (f, rec, T_), index = self._inputs(frequency, recency, T)
        (tt, x, tx, TT), scalar = arrays(t, f, rec, T_)
        if np.any(tt < 0):
            raise CLVInputError(f"`t` must be >= 0 time units, got {np.min(tt)!r}")
        result = self.conditional_expected_purchases(tt, x, tx, TT)
        if index is not None:
            return pd.Series(result, index=index, name="expected_purchases")
        return shape_like(result, scalar)

    def conditional_expected_purchases(self, t, x, tx, T):
        """:meth:`expected_purchases` on float arrays that broadcast, without checking them."""
        return self.purchases_if_alive(t, x, T) * self.alive(x, tx, T)

    def purchases_if_alive(self, t, x, T):
        """The expected purchases in the next ``t`` time units of a customer with ``x`` repeat
        purchases over ``T`` who is still alive, on float arrays that broadcast: the factor of
        :meth:`conditional_expected_purchases` that does not depend on the recency (so it can be
        worked out once per distinct ``x`` and ``T``)."""
        p = self._fitted()
        r, alpha, a, b = p["r"], p["alpha"], p["a"], p["b"]
        if abs(a - 1) < 1e-8:  # removable singularity of the closed form
            a = 1 + 1e-8
        z = t / (alpha + T + t)
        hyp = special.hyp2f1(a - 1, a + b - 1 - r, a + b + x - 1, z)
        tail = np.exp((a - 1) * np.log1p(-z)) * hyp
        return (a + b + x - 1) / (a - 1) * (1 - tail)

    def alive(self, x, tx, T):
        """The probability of being alive, on float arrays that broadcast, without checking them."""
        return special.expit(-self._alive_logit(x, tx, T))

    def expected_purchases_new_customer(self, t):
        r"""Expected repeat purchases in ``t`` time units after a new customer's first purchase.

        .. math:: E[X(t)] = \frac{a + b - 1}{a - 1}\left[1 - \left(\frac{\alpha}{\alpha + t}
                  \right)^r {}_2F_1\!\left(r, b; a + b - 1; \frac{t}{\alpha + t}\right)\right]
        """
        (tt,), scalar = arrays(t)
        if np.any(tt < 0):
            raise CLVInputError(f"`t` must be >= 0 time units, got {np.min(tt)!r}")
        zero = np.zeros_like(tt)
        return shape_like(self.conditional_expected_purchases(tt, zero, zero, zero), scalar)

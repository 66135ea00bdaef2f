"""How well a churn risk ranks and predicts who churns, and the logistic model that gives one.

Pure functions of per-customer arrays (a risk, where higher means more likely to churn, and the
0/1 outcome, 1 = churned): :func:`auc` (ranking, Mann-Whitney with ties counting one half),
:func:`top_decile_lift` (how much more the riskiest tenth churns than everyone), and
:func:`calibration_table` (predicted against observed churn by group of predicted risk); and
:func:`fit_logistic`, a logistic regression whose coefficients come with intervals and odds
ratios, or a reason when it cannot be fitted. No database access and no I/O.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from metrics_lib.core.inputs import as_float_array, check_number, z_critical
from metrics_lib.core.results import (
    NAN,
    ConfidenceInterval,
    ValueResult,
    check_confidence_level,
    undefined,
)
from metrics_lib.core.stats import wilson_interval

__all__ = [
    "LogisticFit",
    "MIN_EVENTS",
    "auc",
    "calibration_table",
    "fit_logistic",
    "outcome_array",
    "ranked_auc",
    "top_decile_lift",
]

#: The fewest churners (and the fewest customers who stayed) a logistic fit needs.
MIN_EVENTS = 20

#: A coefficient this large (in log-odds per unit) means the outcome is (almost) separated.
_SEPARATED = 15.0


def outcome_array(outcomes: Any) -> np.ndarray:
    """``outcomes`` as a float array of 0 (stayed) and 1 (churned), NaN kept; ValueError otherwise."""
    arr = as_float_array(
        "outcomes",
        outcomes,
        expected="a sequence of 0/1 or booleans",
        invalid="must hold 0/1 or booleans (1 = churned)",
    )
    bad = arr[~np.isnan(arr) & (arr != 0) & (arr != 1)]
    if bad.size:
        raise ValueError(
            f"`outcomes` contains {bad[0]:g}; only 0/False (stayed) and 1/True (churned) are allowed"
        )
    return arr


def _risk_and_outcomes(risk: Any, outcomes: Any, name: str = "risk") -> tuple[np.ndarray, np.ndarray]:
    """Checked, aligned arrays with pairs holding a NaN dropped."""
    r = as_float_array(name, risk)
    y = outcome_array(outcomes)
    if r.size != y.size:
        raise ValueError(
            f"`{name}` ({r.size} values) and `outcomes` ({y.size} values) must have the same length"
        )
    if np.isinf(r).any():
        raise ValueError(f"`{name}` contains an infinite value; only finite numbers (or NaN) are allowed")
    keep = ~(np.isnan(r) | np.isnan(y))
    return r[keep], y[keep]


def ranked_auc(risk: np.ndarray, churned: np.ndarray, confidence_level: float = 0.95) -> ValueResult:
    """The AUC of checked arrays without NaN (see :func:`auc`); shared with
    :func:`metrics_lib.formulas.health.auc`, which ranks the negated health score."""
    level = check_confidence_level(confidence_level)
    n_churned = int((churned == 1).sum())
    stayed = int((churned == 0).sum())
    counts = {"stayed": float(stayed), "churned": float(n_churned)}
    pairs = float(stayed * n_churned)
    if n_churned == 0 or stayed == 0:
        reason = undefined(
            f"AUC is undefined: it needs customers who stayed and who churned "
            f"(got {stayed} stayed, {n_churned} churned)"
        )
        return ValueResult(
            NAN,
            NAN,
            pairs,
            n=int(risk.size),
            ci=ConfidenceInterval(NAN, NAN, level, "Hanley-McNeil"),
            unit="probability",
            components=counts,
            reason=reason,
        )
    ranks = sps.rankdata(risk)
    u = float(ranks[churned == 1].sum()) - n_churned * (n_churned + 1) / 2
    a = u / pairs
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    var = (a * (1 - a) + (n_churned - 1) * (q1 - a * a) + (stayed - 1) * (q2 - a * a)) / pairs
    se = math.sqrt(max(var, 0.0))
    z = z_critical(level)
    ci = ConfidenceInterval(max(0.0, a - z * se), min(1.0, a + z * se), level, "Hanley-McNeil")
    return ValueResult(a, u, pairs, n=int(risk.size), ci=ci, unit="probability", components=counts)


def auc(risk, outcomes, *, confidence_level: float = 0.95) -> ValueResult:
    r"""How well a churn risk ranks churners above customers who stayed (area under the ROC curve).

    The probability that a randomly chosen churner has a higher risk than a randomly chosen
    customer who stayed, ties counting one half: the Mann-Whitney U of the churners over the
    number of churner-stayer pairs,

    .. math:: \text{AUC} = \frac{R_{\text{churned}} - n_c(n_c+1)/2}{n_c\, n_s}

    with :math:`R_{\text{churned}}` the sum of the churners' ranks among all risks (average ranks
    for ties), :math:`n_c` churners and :math:`n_s` customers who stayed.

    Parameters
    ----------
    risk : array-like of float
        Churn risk per customer (any scale; only the order matters), higher = more likely to churn.
    outcomes : array-like of {0, 1} or bool
        1 / True if the customer churned, 0 / False if they stayed.
    confidence_level : float, default 0.95
        Level of the Hanley-McNeil interval.

    Returns
    -------
    ValueResult
        ``value`` in [0, 1] (0.5 = no better than chance), ``numerator`` the churners' U,
        ``denominator`` the pairs, ``n`` the customers, ``components`` the stayed and churned counts.

    Raises
    ------
    ValueError
        If lengths differ, a risk is infinite, or an outcome is not 0/1.

    Notes
    -----
    Pairs with a NaN are dropped. With only one class the AUC is undefined: NaN with a reason.
    The interval uses the Hanley-McNeil (1982) standard error, clipped to [0, 1].

    References
    ----------
    Hanley, J. A. and McNeil, B. J. (1982). The meaning and use of the area under a receiver
    operating characteristic (ROC) curve. Radiology 143(1), 29-36.

    Examples
    --------
    Churners at risks 3 and 2, stayers at 3, 1 and 1: of the 6 pairs the churner is above in 4
    and tied in 1, so AUC = (4 + 0.5) / 6.

    >>> auc([3, 2, 3, 1, 1], [1, 1, 0, 0, 0]).value
    0.75
    """
    level = check_confidence_level(confidence_level)
    r, y = _risk_and_outcomes(risk, outcomes)
    return ranked_auc(r, y, level)


def top_decile_lift(risk, outcomes, *, share: float = 0.1) -> ValueResult:
    r"""How many times the overall churn rate the riskiest ``share`` of customers churned.

    .. math:: \text{lift} = \frac{\text{churn rate of the top } q \text{ by risk}}
              {\text{churn rate of all}}

    Parameters
    ----------
    risk : array-like of float
        Churn risk per customer, higher = more likely to churn.
    outcomes : array-like of {0, 1} or bool
        1 / True if the customer churned.
    share : float, default 0.1
        The top share of customers by risk (0.1: the top decile), 0 < share <= 1.

    Returns
    -------
    ValueResult
        ``value`` the lift (1 = no better than picking at random), ``numerator`` the top's churn
        rate, ``denominator`` the overall churn rate, ``n`` the customers; ``components`` the
        customers in the top (``share`` x n, possibly fractional) and its expected churners.

    Raises
    ------
    ValueError
        If lengths differ, a risk is infinite, an outcome is not 0/1 or ``share`` is outside (0, 1].

    Notes
    -----
    The top holds exactly ``share`` x n customers. Where customers tied on risk straddle its edge,
    each of them counts for the part of the group that fits, i.e. their group's churn rate times
    the places left: the lift a random order of the ties would give on average, so the result
    does not depend on the order of the rows. Pairs with a NaN are dropped. Undefined (NaN with
    a reason) when nobody churned or there are no customers.

    Examples
    --------
    Ten customers, three churned (30%); the riskiest one churned, so the top decile churned at
    100%: a lift of 1 / 0.3.

    >>> round(top_decile_lift([10, 9, 8, 7, 6, 5, 4, 3, 2, 1], [1, 0, 1, 0, 0, 0, 0, 0, 0, 1]).value, 4)
    3.3333
    """
    q = check_number("share", share, low=0.0, high=1.0, low_inclusive=False)
    r, y = _risk_and_outcomes(risk, outcomes)
    n = r.size
    churned = float(y.sum())
    if n == 0 or churned == 0:
        reason = undefined(
            f"lift is undefined: it needs customers and churners (got {n} customers, {churned:g} churned)"
        )
        return ValueResult(NAN, NAN, NAN, n=n, unit="ratio", reason=reason)
    top = q * n
    order = np.argsort(-r, kind="stable")
    rs, ys = r[order], y[order]
    # groups of tied risks, highest first; each takes the places left up to `top`
    starts = np.flatnonzero(np.r_[True, rs[1:] != rs[:-1]])
    ends = np.r_[starts[1:], n]
    expected = 0.0
    for s, e in zip(starts, ends):
        if s >= top:
            break
        taken = min(e, top) - s
        expected += float(taken * ys[s:e].mean())
    top_rate = float(expected / top)
    overall = churned / n
    return ValueResult(
        top_rate / overall,
        top_rate,
        overall,
        n=n,
        unit="ratio",
        components={"customers_in_top": top, "churned_in_top": expected},
    )


def calibration_table(predicted, outcomes, *, bins: int = 10, confidence_level: float = 0.95) -> pd.DataFrame:
    r"""Predicted against observed churn in groups of customers of similar predicted probability.

    Customers are sorted by predicted probability and cut into ``bins`` groups of (nearly) equal
    size; customers with the same prediction always share a group. For each group: its customers,
    the mean predicted probability, the churners and the observed churn rate with a Wilson
    interval. A well-calibrated model has the observed rates close to the predicted ones.

    Parameters
    ----------
    predicted : array-like of float
        Predicted churn probability per customer, in [0, 1].
    outcomes : array-like of {0, 1} or bool
        1 / True if the customer churned.
    bins : int, default 10
        Number of groups (at least 1); fewer appear when ties or few customers leave some empty.
    confidence_level : float, default 0.95
        Level of the Wilson intervals.

    Returns
    -------
    DataFrame
        Indexed by ``group`` (1 = lowest predictions), columns ``customers``, ``mean_predicted``,
        ``churned``, ``observed``, ``ci_low``, ``ci_high``. Empty with no customers.

    Raises
    ------
    ValueError
        If lengths differ, a prediction is outside [0, 1], an outcome is not 0/1, or ``bins`` < 1.

    Notes
    -----
    A customer's group is ``floor((average rank - 1/2) x bins / n) + 1``, so the grouping does
    not depend on the order of the rows. Pairs with a NaN are dropped.

    Examples
    --------
    >>> t = calibration_table([0.1, 0.1, 0.2, 0.8], [0, 0, 1, 1], bins=2)
    >>> t[["customers", "mean_predicted", "observed"]].to_dict("list")
    {'customers': [2, 2], 'mean_predicted': [0.1, 0.5], 'observed': [0.0, 1.0]}
    """
    level = check_confidence_level(confidence_level)
    k = check_number("bins", bins, low=1.0)
    if k != int(k):
        raise ValueError(f"`bins` ({bins!r}) must be a whole number >= 1")
    p, y = _risk_and_outcomes(predicted, outcomes, "predicted")
    if ((p < 0) | (p > 1)).any():
        raise ValueError("`predicted` must hold probabilities in [0, 1]")
    cols = ["customers", "mean_predicted", "churned", "observed", "ci_low", "ci_high"]
    if p.size == 0:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="group"))
    ranks = sps.rankdata(p)
    group = np.floor((ranks - 0.5) * int(k) / p.size).astype(int) + 1
    rows = {}
    for g in np.unique(group):
        part = group == g
        n, c = int(part.sum()), int(y[part].sum())
        ci = wilson_interval(c, n, confidence_level=level)
        rows[int(g)] = [n, float(p[part].mean()), c, c / n, ci.low, ci.high]
    out = pd.DataFrame.from_dict(rows, orient="index", columns=cols)
    out.index.name = "group"
    return out


@dataclass(frozen=True)
class LogisticFit:
    """A logistic regression of churn (1) on per-customer features (:func:`fit_logistic`).

    ``coefficients``: one row per feature (``intercept`` first) with ``coef`` (log-odds per unit),
    ``std_error``, ``ci_low`` / ``ci_high``, ``p_value``, and ``odds_ratio`` with
    ``odds_ratio_low`` / ``odds_ratio_high`` (exp of the coefficient and its interval);
    ``means``: each feature's mean over the customers fitted; ``customers`` and ``churned``:
    the rows fitted and their churners; ``dropped``: features left out because they did not
    vary; ``reason``: why nothing was fitted (empty when fitted).
    """

    coefficients: pd.DataFrame
    means: pd.Series
    customers: int
    churned: int
    dropped: tuple[str, ...] = ()
    reason: str = ""
    confidence_level: float = 0.95
    features: tuple[str, ...] = field(default=())

    @property
    def fitted(self) -> bool:
        return not self.reason

    def _matrix(self, features: pd.DataFrame) -> np.ndarray:
        missing = [c for c in self.features if c not in features.columns]
        if missing:
            raise ValueError(f"`features` lacks the fitted column(s) {missing}")
        return _numeric(features[list(self.features)])

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """The churn probability of each row of ``features`` (the fitted columns; others ignored);
        NaN everywhere when the model was not fitted."""
        if not self.fitted:
            return np.full(len(features), NAN)
        b = self.coefficients["coef"].to_numpy()
        return 1 / (1 + np.exp(-(b[0] + self._matrix(features) @ b[1:])))

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """How much each feature moves each row's log-odds of churning away from the customers
        fitted on average: coefficient x (value - mean over the fitted rows). Positive values
        raise the risk. Same index as ``features``; empty when not fitted."""
        if not self.fitted:
            return pd.DataFrame(index=features.index)
        b = self.coefficients["coef"].to_numpy()[1:]
        x = self._matrix(features) - self.means[list(self.features)].to_numpy()
        return pd.DataFrame(x * b, index=features.index, columns=list(self.features))


def _numeric(frame: pd.DataFrame, *, intercept: bool = False) -> np.ndarray:
    """The columns of ``frame`` as one float matrix (after a column of ones with ``intercept``),
    filled column by column: a fit on millions of rows holds one copy of its features, not two."""
    x = np.empty((len(frame), frame.shape[1] + intercept), dtype="float64")
    if intercept:
        x[:, 0] = 1.0
    bad = []
    for j, c in enumerate(frame.columns, start=intercept):
        try:
            x[:, j] = frame.iloc[:, j - intercept].to_numpy(dtype="float64", na_value=np.nan)
        except (TypeError, ValueError):
            raise ValueError("`features` must hold numbers only (code categories as 0/1 columns)") from None
        if not np.isfinite(x[:, j]).all():
            bad.append(c)
    if bad:
        raise ValueError(
            f"`features` column(s) {bad} hold missing or infinite values; fill them (and say how) first"
        )
    return x


def _not_fitted(reason: str, features: pd.DataFrame, n: int, churned: int, level: float) -> LogisticFit:
    cols = [
        "coef",
        "std_error",
        "ci_low",
        "ci_high",
        "p_value",
        "odds_ratio",
        "odds_ratio_low",
        "odds_ratio_high",
    ]
    empty = pd.DataFrame(columns=cols, index=pd.Index([], name="feature"), dtype=float)
    return LogisticFit(empty, features.mean() if n else pd.Series(dtype=float), n, churned, (), reason, level)


def fit_logistic(
    features: pd.DataFrame, outcomes, *, min_events: int = MIN_EVENTS, confidence_level: float = 0.95
) -> LogisticFit:
    r"""Logistic regression of churn on per-customer features, by maximum likelihood.

    .. math:: \Pr(\text{churn}_i = 1) = \frac{1}{1 + e^{-(\beta_0 + \sum_j \beta_j x_{ij})}}

    Parameters
    ----------
    features : DataFrame
        One row per customer, one numeric column per feature (categories as 0/1 columns), no
        missing values: how missing inputs are filled is the caller's decision to state.
    outcomes : array-like of {0, 1} or bool
        1 / True if the customer churned, aligned with the rows of ``features``.
    min_events : int, default 20
        The fewest churners, and the fewest customers who stayed, to fit on.
    confidence_level : float, default 0.95
        Level of the Wald intervals of the coefficients and odds ratios.

    Returns
    -------
    LogisticFit
        Coefficients with standard errors, Wald intervals, p-values and odds ratios
        (:math:`e^{\beta_j}`: how the odds of churning multiply per unit of the feature). Not
        fitted (``reason`` says why, no coefficients) with fewer than ``min_events`` churners or
        stayers, when the optimiser does not converge, when the features separate churners from
        the others (a coefficient beyond 15 log-odds per unit, or the model's own separation
        warning), or when the information matrix cannot be inverted (features that are linear
        combinations of each other).

    Raises
    ------
    ValueError
        If ``features`` is not a frame of finite numbers, lengths differ or an outcome is not 0/1.

    Notes
    -----
    Features that do not vary are left out (``dropped``): with the intercept they carry no
    information. The fit is Newton-Raphson from zero (statsmodels ``Logit``), so it is
    deterministic. The model's warnings never reach the caller: they become the ``reason``.

    Examples
    --------
    One 0/1 feature: the fitted odds ratio is the 2 x 2 table's. Without the feature 6 of 30
    churned (odds 6/24 = 0.25), with it 15 of 30 (odds 1), so the odds ratio is 1 / 0.25 = 4.

    >>> x = pd.DataFrame({"detractor": [0] * 30 + [1] * 30})
    >>> y = [1] * 6 + [0] * 24 + [1] * 15 + [0] * 15
    >>> fit = fit_logistic(x, y)
    >>> round(float(fit.coefficients.loc["detractor", "odds_ratio"]), 6)
    4.0
    >>> fit_logistic(x, y, min_events=25).reason
    'too few churners to fit a model: 21 churned and 39 stayed, at least 25 of each are needed'
    """
    import statsmodels.api as sm
    from statsmodels.tools import sm_exceptions

    level = check_confidence_level(confidence_level)
    least = check_number("min_events", min_events, low=1.0)
    if not isinstance(features, pd.DataFrame):
        raise ValueError(f"`features` must be a pandas DataFrame, got {type(features).__name__}")
    x = _numeric(features, intercept=True)  # the design: the intercept, then the features
    y = outcome_array(outcomes)
    if y.size != len(features):
        raise ValueError(
            f"`features` ({len(features)} rows) and `outcomes` ({y.size} values) must have the same length"
        )
    if np.isnan(y).any():
        raise ValueError("`outcomes` holds missing values; every customer fitted needs an outcome")
    n, churned = int(y.size), int(y.sum())
    stayed = n - churned
    if churned < least or stayed < least:
        return _not_fitted(
            f"too few churners to fit a model: {churned} churned and {stayed} stayed, "
            f"at least {least:g} of each are needed",
            features,
            n,
            churned,
            level,
        )
    varies = np.array([n > 0 and bool(x[:, j].std() > 0) for j in range(1, x.shape[1])], dtype=bool)
    kept = [str(c) for c, v in zip(features.columns, varies) if v]
    dropped = tuple(str(c) for c, v in zip(features.columns, varies) if not v)
    design = x if varies.all() else x[:, np.r_[True, varies]]
    del x
    problems: list[str] = []
    result = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with np.errstate(all="ignore"):
                result = sm.Logit(y, design).fit(method="newton", maxiter=100, disp=0)
        except (np.linalg.LinAlgError, sm_exceptions.PerfectSeparationError) as exc:
            problems.append(_problem(exc))
    for w in caught:
        text = _problem(w.message, w.category)
        if text and text not in problems:
            problems.append(text)
    if result is not None:
        params, bse = np.asarray(result.params), np.asarray(result.bse)
        if np.isfinite(params).all() and (np.abs(params[1:]) > _SEPARATED).any():
            # the cause of a failed convergence too: say it instead
            worst = kept[int(np.argmax(np.abs(params[1:])))]
            problems = [f"`{worst}` (almost) separates churners from the others"]
        elif not problems and not result.mle_retvals.get("converged", True):
            problems.append("the optimiser did not converge")
        elif not problems and not (np.isfinite(bse).all() and np.isfinite(params).all()):
            problems.append("the standard errors are not finite (features that duplicate each other?)")
    if problems or result is None:
        return _not_fitted(
            "the model could not be fitted: " + "; ".join(problems), features, n, churned, level
        )
    z = z_critical(level)
    coef, se = np.asarray(result.params), np.asarray(result.bse)
    low, high = coef - z * se, coef + z * se
    table = pd.DataFrame(
        {
            "coef": coef,
            "std_error": se,
            "ci_low": low,
            "ci_high": high,
            "p_value": np.asarray(result.pvalues),
            "odds_ratio": np.exp(coef),
            "odds_ratio_low": np.exp(low),
            "odds_ratio_high": np.exp(high),
        },
        index=pd.Index(["intercept", *kept], name="feature"),
    )
    means = pd.Series(design[:, 1:].mean(axis=0), index=kept)
    return LogisticFit(table, means, n, churned, dropped, "", level, tuple(kept))


def _problem(message: Any, category: type | None = None) -> str:
    """A fitting warning or error as a short reason; empty for warnings that do not matter."""
    from statsmodels.tools import sm_exceptions

    text = str(message).strip().split("\n")[0]
    if isinstance(message, sm_exceptions.PerfectSeparationError) or (
        category is not None and issubclass(category, sm_exceptions.PerfectSeparationWarning)
    ):
        return "the features separate churners from the others perfectly"
    if isinstance(message, np.linalg.LinAlgError) or (
        category is not None and issubclass(category, sm_exceptions.HessianInversionWarning)
    ):
        return "the information matrix cannot be inverted (features that duplicate each other?)"
    if category is not None and issubclass(category, sm_exceptions.ConvergenceWarning):
        return "the optimiser did not converge"
    if category is not None and issubclass(category, (RuntimeWarning, sm_exceptions.ModelWarning)):
        return text
    return text if category is None else ""

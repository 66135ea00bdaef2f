"""Customer health and relationship-group formulas.

A 1-10 health score blended from components already scaled to [0, 1], its bands, the AUC that
checks whether the score predicts churn, and the profit x loyalty relationship groups with their
summary and period-to-period transitions. No database access and no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from metrics_lib.core.inputs import check_columns, check_number, check_values
from metrics_lib.core.results import (
    NAN,
    ConfidenceInterval,
    RateResult,
    ValueResult,
    check_confidence_level,
    undefined,
)
from metrics_lib.core.stats import rate_result

__all__ = [
    "DEFAULT_HEALTH_WEIGHTS",
    "GroupTransitions",
    "HEALTH_BANDS",
    "HEALTHY_FROM",
    "MIN_CALIBRATION_CUSTOMERS",
    "RELATIONSHIP_ACTIONS",
    "RELATIONSHIP_GROUPS",
    "RISK_BANDS",
    "assign_relationship_group",
    "auc",
    "band_cut_points",
    "effective_weights",
    "group_transition_matrix",
    "health_band",
    "health_score",
    "healthy_share",
    "relationship_group_summary",
]

#: Default weight of each health component (they sum to 1). Each component is a column of the
#: frame given to :func:`health_score`, already scaled to [0, 1] with 1 the healthy end:
#:
#: - ``recency``: how recently the customer bought or used the product (1 = just now, 0 = at or
#:   beyond the inactivity window);
#: - ``nps``: the customer's latest likelihood-to-recommend answer / 10;
#: - ``support_load``: 1 - the customer's ticket volume relative to a high reference volume
#:   (1 = no tickets);
#: - ``resolution``: share of the customer's tickets resolved (or resolved in one contact);
#: - ``renewal``: share of the customer's subscription terms that came due recently and were
#:   renewed (1 = every term renewed, 0 = none: not renewed or cancelled).
DEFAULT_HEALTH_WEIGHTS: dict[str, float] = {
    "recency": 0.25,
    "nps": 0.20,
    "support_load": 0.15,
    "resolution": 0.15,
    "renewal": 0.25,
}

#: Band labels from worst to best, as ordered categories of :func:`health_band`.
HEALTH_BANDS: tuple[str, ...] = ("at risk", "neutral", "healthy")

#: Labels of the bands calibrated on a score distribution (:func:`band_cut_points`), from the
#: lowest scores to the highest: relative churn risk, not a fixed point of the 1-10 scale.
RISK_BANDS: tuple[str, ...] = ("higher risk", "middle", "lower risk")

#: A score of 7 or more is healthy on the 1-10 scale (:func:`healthy_share`).
HEALTHY_FROM = 7.0

#: The fewest scores a calibration period needs before its quantiles set the bands' cut points.
MIN_CALIBRATION_CUSTOMERS = 30

#: Relationship groups in the order used by every table of this module.
RELATIONSHIP_GROUPS: tuple[str, ...] = ("stranger", "butterfly", "barnacle", "true friend")

#: What to do with each relationship group (profit x loyalty).
RELATIONSHIP_ACTIONS: dict[str, str] = {
    "stranger": "Low profit and low loyalty: spend nothing extra on them; serve them at the lowest cost.",
    "butterfly": "High profit but low loyalty: earn what you can while they buy, and stop "
    "spending on them as soon as they stop buying.",
    "barnacle": "Loyal but not profitable: grow their spend with upsell and cross-sell, or "
    "move them to cheaper ways of being served.",
    "true friend": "Profitable and loyal: invest in the relationship - reward, listen to and keep them.",
}


# --- health score ---------------------------------------------------------------------------


def _check_weights(weights: Any, columns: list[str]) -> dict[str, float]:
    if weights is None:
        unknown = [c for c in columns if c not in DEFAULT_HEALTH_WEIGHTS]
        if unknown:
            raise ValueError(
                f"`components` has unknown column(s) {unknown}; the default components are "
                f"{list(DEFAULT_HEALTH_WEIGHTS)} (put customer ids in the index, or pass "
                "`weights` naming every column)"
            )
        return {c: DEFAULT_HEALTH_WEIGHTS[c] for c in columns}
    if not isinstance(weights, Mapping) or not weights:
        raise ValueError(f"`weights` ({weights!r}) must be a non-empty mapping of component name to weight")
    unknown = [k for k in weights if k not in columns]
    if unknown:
        raise ValueError(
            f"`weights` names unknown component(s) {unknown}; the columns of `components` are {columns}"
        )
    unweighted = [c for c in columns if c not in weights]
    if unweighted:
        raise ValueError(
            f"`components` column(s) {unweighted} have no entry in `weights` ({dict(weights)!r})"
        )
    out = {}
    for k, w in weights.items():
        out[k] = check_number(f"weights['{k}']", w, low=0.0)
    return out


def health_score(components: pd.DataFrame, *, weights: Mapping[str, float] | None = None) -> pd.Series:
    r"""Client health score from 1 to 10: a weighted mean of components scaled to [0, 1].

    .. math:: \text{health}_i = 1 + 9\,\frac{\sum_{k \in K_i} w_k x_{ik}}{\sum_{k \in K_i} w_k}

    where :math:`K_i` are the components present (not NaN) for customer :math:`i`.

    Parameters
    ----------
    components : DataFrame
        One row per customer (ids in the index), one column per component, each scaled to
        [0, 1] with 1 the healthy end. Default components and their meaning are listed at
        :data:`DEFAULT_HEALTH_WEIGHTS`: ``recency``, ``nps``, ``support_load``, ``resolution``,
        ``renewal``; a frame may hold any subset of them.
    weights : mapping of str to float, optional
        Weight per component (>= 0). Default :data:`DEFAULT_HEALTH_WEIGHTS` (0.25, 0.20, 0.15,
        0.15, 0.25). When given, it must name exactly the columns of ``components``. Weights need
        not sum to 1: they are renormalised.

    Returns
    -------
    Series
        ``health_score`` per customer in [1, 10], with the index of ``components``.

    Raises
    ------
    ValueError
        If a column is unknown (no weight for it), a weight names a missing column, a weight is
        negative or not finite, all weights are 0, or a component lies outside [0, 1].

    Notes
    -----
    Weights are renormalised over the components present, per customer: a customer without an
    NPS answer is scored on the other components, not given 0 for NPS. A customer with no
    component (or only zero-weight ones) gets NaN. 7 or more is healthy (see
    :func:`health_band`).

    Examples
    --------
    >>> frame = pd.DataFrame({"recency": [1.0, 0.0], "nps": [0.8, 0.2], "renewal": [1.0, np.nan]},
    ...                      index=pd.Index(["a", "b"], name="customer_id"))
    >>> health_score(frame).round(4).tolist()
    [9.4857, 1.8]
    """
    if not isinstance(components, pd.DataFrame):
        raise ValueError(f"`components` must be a pandas DataFrame, got {type(components).__name__}")
    columns = [str(c) for c in components.columns]
    if not columns:
        raise ValueError("`components` has no columns; give at least one health component")
    w = _check_weights(weights, columns)
    if sum(w.values()) <= 0:
        raise ValueError(f"`weights` ({w!r}) are all 0; at least one weight must be positive")
    values = np.column_stack(
        [_component_values(f"components['{c}']", components[c]) for c in components.columns]
    )
    wvec = np.array([w[c] for c in columns])
    present = ~np.isnan(values)
    weight_present = present @ wvec
    weighted = np.where(present, values, 0.0) @ wvec
    with np.errstate(invalid="ignore", divide="ignore"):
        blend = np.where(
            weight_present > 0, weighted / np.where(weight_present > 0, weight_present, 1), np.nan
        )
    return pd.Series(1 + 9 * blend, index=components.index, name="health_score", dtype=float)


def effective_weights(components, *, weights: Mapping[str, float] | None = None) -> dict[str, float]:
    r"""The weight each component carries in :func:`health_score` when the data has only these
    components: the weights renormalised to sum to 1 over them.

    .. math:: w'_k = \frac{w_k}{\sum_{j \in K} w_j}, \qquad k \in K

    Parameters
    ----------
    components : DataFrame or sequence of str
        The components the data has: a frame as given to :func:`health_score` (its columns), or
        their names.
    weights : mapping of str to float, optional
        As for :func:`health_score`; default :data:`DEFAULT_HEALTH_WEIGHTS`.

    Returns
    -------
    dict of str to float
        Effective weight per component, in the order given, summing to 1.

    Raises
    ------
    ValueError
        As :func:`health_score` does for unknown components, bad weights or all weights 0.

    Notes
    -----
    A customer who lacks a component (NaN) is scored on the others, so their own weights are
    renormalised again over what they have.

    Examples
    --------
    >>> w = effective_weights(["recency", "nps", "support_load", "resolution"])
    >>> {k: round(v, 4) for k, v in w.items()}
    {'recency': 0.3333, 'nps': 0.2667, 'support_load': 0.2, 'resolution': 0.2}
    """
    if isinstance(components, pd.DataFrame):
        columns = [str(c) for c in components.columns]
    elif isinstance(components, (str, bytes)) or np.ndim(components) != 1:
        raise ValueError(
            f"`components` ({components!r}) must be a DataFrame or a sequence of component names"
        )
    else:
        columns = [str(c) for c in components]
    if not columns:
        raise ValueError("`components` has no columns; give at least one health component")
    w = _check_weights(weights, columns)
    total = sum(w.values())
    if total <= 0:
        raise ValueError(f"`weights` ({w!r}) are all 0; at least one weight must be positive")
    return {c: w[c] / total for c in columns}


def _component_values(name: str, column: pd.Series) -> np.ndarray:
    """Column of component values as floats, NaN kept, each in [0, 1]."""
    try:
        arr = column.to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must contain numbers in [0, 1]") from None
    bad = arr[~np.isnan(arr) & ((arr < 0) | (arr > 1))]
    if bad.size:
        raise ValueError(f"`{name}` contains {bad[0]:g}; components must be scaled to [0, 1]")
    return arr


def health_band(
    score,
    *,
    at_risk_below: float = 4.0,
    healthy_from: float = HEALTHY_FROM,
    labels: tuple[str, ...] = HEALTH_BANDS,
):
    r"""Band of a health score: "at risk", "neutral" or "healthy".

    .. math:: \text{band}(s) = \begin{cases} \text{at risk} & s < 4 \\
              \text{neutral} & 4 \le s < 7 \\ \text{healthy} & s \ge 7 \end{cases}

    Parameters
    ----------
    score : float or array-like of float
        Health score(s) in [1, 10]; NaN allowed.
    at_risk_below : float, default 4.0
        Scores below this are "at risk".
    healthy_from : float, default 7.0
        Scores at or above this are "healthy" (7 or more is healthy, see docs/metrics.md).
    labels : tuple of three str, default :data:`HEALTH_BANDS`
        The bands' names from the lowest scores to the highest, e.g. :data:`RISK_BANDS` for
        cut points calibrated by :func:`band_cut_points`.

    Returns
    -------
    str or None, or Series
        For one number, the band (None for NaN). For an array or Series, a Series of ordered
        categoricals (``labels``), NaN where the score is NaN, keeping a Series' index.

    Raises
    ------
    ValueError
        If a score lies outside [1, 10], the cut points are not 1 <= at_risk_below <=
        healthy_from <= 10, or ``labels`` are not three different names.

    Notes
    -----
    The lower cut point belongs to the upper band: 4.0 is "neutral" and 7.0 is "healthy".

    Examples
    --------
    >>> health_band(7.0), health_band(6.99), health_band(3.5)
    ('healthy', 'neutral', 'at risk')
    """
    lo = check_number("at_risk_below", at_risk_below, low=1.0, high=10.0)
    hi = check_number("healthy_from", healthy_from, low=1.0, high=10.0)
    if lo > hi:
        raise ValueError(
            f"`at_risk_below` ({at_risk_below!r}) cannot exceed `healthy_from` ({healthy_from!r})"
        )
    names = tuple(labels) if not isinstance(labels, (str, bytes)) else ()
    if len(names) != 3 or len(set(names)) != 3 or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"`labels` ({labels!r}) must be three different band names, lowest scores first")
    if isinstance(score, (str, bytes)):
        raise ValueError(f"`score` ({score!r}) must be a number or numbers in [1, 10]")
    scalar = np.ndim(score) == 0
    raw = _numbers("score", [score] if scalar else score)
    check_values("score", raw, low=1.0, high=10.0)
    codes = np.where(np.isnan(raw), -1, np.where(raw < lo, 0, np.where(raw < hi, 1, 2))).astype(int)
    if scalar:
        return None if codes[0] < 0 else names[codes[0]]
    cat = pd.Categorical.from_codes(codes, categories=pd.Index(names), ordered=True)
    index = score.index if isinstance(score, pd.Series) else None
    return pd.Series(cat, index=index, name="health_band")


def band_cut_points(
    calibration_scores,
    *,
    quantiles: tuple[float, float] = (1 / 3, 2 / 3),
    min_customers: int = MIN_CALIBRATION_CUSTOMERS,
) -> tuple[float, float]:
    r"""Cut points of three health bands set by the score distribution of a calibration period.

    .. math:: (c_1, c_2) = (Q(q_1), Q(q_2)) \text{ of the calibration scores}

    (``numpy.quantile``, linear interpolation). Give the cut points to :func:`health_band`
    (``at_risk_below=c1, healthy_from=c2, labels=RISK_BANDS``): scores below :math:`c_1` are the
    higher-risk band, scores from :math:`c_2` the lower-risk band. By default the terciles.

    Parameters
    ----------
    calibration_scores : array-like of float
        Health scores of a period EARLIER than the one banded, so the cut points are fixed before
        the banded scores (and the churn they are checked against) are seen; NaN ignored.
    quantiles : (float, float), default (1/3, 2/3)
        The quantiles that become the cut points, 0 < q1 <= q2 < 1.
    min_customers : int, default 30
        The fewest scores that can calibrate the bands.

    Returns
    -------
    (float, float)
        The cut points :math:`c_1 \le c_2`; (NaN, NaN) when there are fewer than
        ``min_customers`` scores (the caller then says which cut points it uses instead).

    Raises
    ------
    ValueError
        If a score lies outside [1, 10] or the quantiles are not 0 < q1 <= q2 < 1.

    Notes
    -----
    Cut points from an earlier period keep the bands stable: the share of customers in each
    band then moves when health moves, instead of being a third by construction. With many tied
    scores a band can hold more or less than its quantile's share.

    Examples
    --------
    >>> band_cut_points([2, 3, 4, 5, 6, 7, 8], min_customers=5)
    (4.0, 6.0)
    """
    if isinstance(quantiles, (str, bytes)) or np.ndim(quantiles) != 1 or len(quantiles) != 2:
        raise ValueError(f"`quantiles` ({quantiles!r}) must be two numbers 0 < q1 <= q2 < 1")
    q1 = check_number("quantiles[0]", quantiles[0], low=0.0, low_inclusive=False)
    q2 = check_number("quantiles[1]", quantiles[1], low=0.0, low_inclusive=False)
    if not q1 <= q2 < 1:
        raise ValueError(f"`quantiles` ({quantiles!r}) must be two numbers 0 < q1 <= q2 < 1")
    least = check_number("min_customers", min_customers, low=1.0)
    finite = check_values("calibration_scores", calibration_scores, low=1.0, high=10.0)
    if finite.size < least:
        return NAN, NAN
    lo, hi = np.quantile(finite, [q1, q2])
    return float(lo), float(hi)


def healthy_share(
    scores, *, healthy_from: float = HEALTHY_FROM, confidence_level: float = 0.95
) -> RateResult:
    r"""Share of the scored customers whose health score is ``healthy_from`` (7) or more.

    .. math:: \text{healthy share} = \frac{\#\{i : s_i \ge 7\}}{\#\{i : s_i \text{ defined}\}}

    Parameters
    ----------
    scores : array-like of float
        Health score per customer, in [1, 10]; NaN (no component) is left out of both counts.
    healthy_from : float, default 7.0
        The score from which a customer counts as healthy.
    confidence_level : float, default 0.95
        Level of the Wilson interval.

    Returns
    -------
    RateResult
        ``numerator`` = healthy customers, ``denominator`` = ``n`` = scored customers.

    Raises
    ------
    ValueError
        If a score lies outside [1, 10] or ``healthy_from`` outside [1, 10].

    Notes
    -----
    A score of exactly 7 is healthy. With no scored customer the share is undefined: NaN with
    a reason.

    Examples
    --------
    >>> r = healthy_share([9.1, 7.0, 6.99, 4.2, float("nan")])
    >>> r.value, r.numerator, r.denominator
    (0.5, 2.0, 4.0)
    >>> healthy_share([]).reason
    'healthy customer share is undefined: scored customers is 0'
    """
    cut = check_number("healthy_from", healthy_from, low=1.0, high=10.0)
    finite = check_values("scores", scores, low=1.0, high=10.0)
    return rate_result(
        int((finite >= cut).sum()),
        int(finite.size),
        numerator_name="healthy customers",
        denominator_name="scored customers",
        what="healthy customer share",
        confidence_level=confidence_level,
    )


# --- does the score predict churn? ----------------------------------------------------------


def _outcome_array(outcomes: Any) -> np.ndarray:
    if isinstance(outcomes, (str, bytes)) or np.ndim(outcomes) == 0:
        raise ValueError(f"`outcomes` ({outcomes!r}) must be a sequence of 0/1 or booleans")
    if isinstance(outcomes, pd.Series):
        arr = outcomes.to_numpy(dtype="float64", na_value=np.nan)
    else:
        try:
            arr = np.asarray(outcomes, dtype="float64").ravel()
        except (TypeError, ValueError):
            raise ValueError("`outcomes` must hold 0/1 or booleans (1 = churned)") from None
    bad = arr[~np.isnan(arr) & (arr != 0) & (arr != 1)]
    if bad.size:
        raise ValueError(
            f"`outcomes` contains {bad[0]:g}; only 0/False (stayed) and 1/True (churned) are allowed"
        )
    return arr


def auc(scores, outcomes, *, confidence_level: float = 0.95) -> ValueResult:
    r"""How well a health score separates customers who stayed from those who churned (AUC).

    The probability that a randomly chosen customer who stayed has a higher score than a
    randomly chosen customer who churned, ties counting one half. It is the area under the ROC
    curve of the score as a predictor of *not* churning (equivalently, of ``-score`` as a
    predictor of churn), from the Mann-Whitney rank sum:

    .. math:: \text{AUC} = \frac{R_{\text{stayed}} - n_s(n_s+1)/2}{n_s\, n_c}

    with :math:`R_{\text{stayed}}` the sum of the stayers' ranks among all scores (average ranks
    for ties), :math:`n_s` stayers and :math:`n_c` churners.

    Parameters
    ----------
    scores : array-like of float
        Health score per customer at the start of the period.
    outcomes : array-like of {0, 1} or bool
        1 / True if the customer churned in the following period, 0 / False if they stayed.
    confidence_level : float, default 0.95
        Level of the Hanley-McNeil interval.

    Returns
    -------
    ValueResult
        ``value`` in [0, 1]: 1 = every stayer scored above every churner, 0.5 = no signal,
        below 0.5 = the score points the wrong way. ``numerator`` is the Mann-Whitney U of the
        stayers, ``denominator`` the number of stayer-churner pairs, ``n`` the customers, and
        ``components`` the counts of stayers and churners.

    Raises
    ------
    ValueError
        If lengths differ, a score is infinite, or an outcome is not 0/1.

    Notes
    -----
    Pairs with a missing score or outcome (NaN) are dropped. With only one class (nobody
    churned, or everybody did) the AUC is undefined: NaN with a reason. The interval uses the
    Hanley-McNeil (1982) standard error and is clipped to [0, 1]; at an AUC of exactly 0 or 1 it
    collapses to a point, which overstates certainty for small samples.

    References
    ----------
    Hanley, J. A. and McNeil, B. J. (1982). The meaning and use of the area under a receiver
    operating characteristic (ROC) curve. Radiology 143(1), 29-36.

    Examples
    --------
    >>> auc([9, 8, 7, 3, 2], [0, 0, 1, 0, 1]).value
    0.8333333333333334
    """
    level = check_confidence_level(confidence_level)
    if isinstance(scores, (str, bytes)) or np.ndim(scores) == 0:
        raise ValueError(f"`scores` ({scores!r}) must be a sequence of numbers")
    if isinstance(scores, pd.Series):
        s = scores.to_numpy(dtype="float64", na_value=np.nan)
    else:
        try:
            s = np.asarray(scores, dtype="float64").ravel()
        except (TypeError, ValueError):
            raise ValueError("`scores` must contain numbers only") from None
    y = _outcome_array(outcomes)
    if s.size != y.size:
        raise ValueError(
            f"`scores` ({s.size} values) and `outcomes` ({y.size} values) must have the same length"
        )
    if np.isinf(s).any():
        raise ValueError("`scores` contains an infinite value; only finite numbers (or NaN) are allowed")
    keep = ~(np.isnan(s) | np.isnan(y))
    s, y = s[keep], y[keep]
    churned = int((y == 1).sum())
    stayed = int((y == 0).sum())
    counts = {"stayed": float(stayed), "churned": float(churned)}
    if churned == 0 or stayed == 0:
        reason = undefined(
            f"AUC is undefined: it needs customers who stayed and who churned "
            f"(got {stayed} stayed, {churned} churned)"
        )
        return ValueResult(
            NAN,
            NAN,
            float(stayed * churned),
            n=int(s.size),
            ci=ConfidenceInterval(NAN, NAN, level, "Hanley-McNeil"),
            unit="probability",
            components=counts,
            reason=reason,
        )
    ranks = sps.rankdata(s)
    u = float(ranks[y == 0].sum()) - stayed * (stayed + 1) / 2
    pairs = float(stayed * churned)
    a = u / pairs
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    var = (a * (1 - a) + (stayed - 1) * (q1 - a * a) + (churned - 1) * (q2 - a * a)) / pairs
    se = math.sqrt(max(var, 0.0))
    z = float(sps.norm.ppf(1 - (1 - level) / 2))
    ci = ConfidenceInterval(max(0.0, a - z * se), min(1.0, a + z * se), level, "Hanley-McNeil")
    return ValueResult(a, u, pairs, n=int(s.size), ci=ci, unit="probability", components=counts)


# --- relationship groups --------------------------------------------------------------------


def _split(name: str, arr: np.ndarray, split: Any) -> float:
    if split is not None:
        return check_number(name, split)
    finite = arr[~np.isnan(arr)]
    return float(np.median(finite)) if finite.size else NAN


def _numbers(name: str, values: Any) -> np.ndarray:
    """Per-row floats with NaN kept in place (for row-aligned inputs)."""
    if isinstance(values, (str, bytes)) or np.ndim(values) == 0:
        raise ValueError(f"`{name}` ({values!r}) must be a sequence of numbers")
    if isinstance(values, pd.Series):
        return values.to_numpy(dtype="float64", na_value=np.nan)
    try:
        arr = np.asarray(values, dtype="float64").ravel()
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must contain numbers only") from None
    if np.isinf(arr).any():
        raise ValueError(f"`{name}` contains an infinite value; only finite numbers (or NaN) are allowed")
    return arr


def assign_relationship_group(
    profit, loyalty, *, profit_split: float | None = None, loyalty_split: float | None = None
) -> pd.Series:
    r"""Place each customer in a profit x loyalty relationship group.

    .. math:: \text{group}_i = \begin{cases}
              \text{stranger} & \pi_i \le \pi^*,\ \ell_i \le \ell^* \\
              \text{butterfly} & \pi_i > \pi^*,\ \ell_i \le \ell^* \\
              \text{barnacle} & \pi_i \le \pi^*,\ \ell_i > \ell^* \\
              \text{true friend} & \pi_i > \pi^*,\ \ell_i > \ell^* \end{cases}

    Parameters
    ----------
    profit : array-like of float
        Gross profit per customer over the period.
    loyalty : array-like of float
        Loyalty per customer, e.g. tenure in months or purchases per year.
    profit_split, loyalty_split : float, optional
        Cut points :math:`\pi^*` and :math:`\ell^*`; by default the medians of ``profit`` and
        ``loyalty`` (NaN ignored).

    Returns
    -------
    Series
        Categorical with categories :data:`RELATIONSHIP_GROUPS` in the order stranger,
        butterfly, barnacle, true friend, named ``relationship_group``; it keeps the index of
        ``profit`` (or ``loyalty``) when given as a Series.

    Raises
    ------
    ValueError
        If the lengths differ, two Series have different indexes, or a value is infinite.

    Notes
    -----
    "High" means strictly above the split, so a value equal to the split (the median, by
    default) is "low". With many ties at the median the high half can hold fewer than half of
    the customers. A customer with a missing profit or loyalty gets no group (NaN). Customers
    are matched by position; when both inputs are Series they must share one index.

    Examples
    --------
    >>> assign_relationship_group([10, 50, 20, 80], [1, 2, 9, 7]).tolist()
    ['stranger', 'butterfly', 'barnacle', 'true friend']
    """
    if (
        isinstance(profit, pd.Series)
        and isinstance(loyalty, pd.Series)
        and not profit.index.equals(loyalty.index)
    ):
        raise ValueError("`profit` and `loyalty` are Series with different indexes; align them first")
    p = _numbers("profit", profit)
    lo = _numbers("loyalty", loyalty)
    if p.size != lo.size:
        raise ValueError(
            f"`profit` ({p.size} values) and `loyalty` ({lo.size} values) must have the same length"
        )
    ps = _split("profit_split", p, profit_split)
    ls = _split("loyalty_split", lo, loyalty_split)
    codes = np.where(np.isnan(p) | np.isnan(lo), -1, (p > ps).astype(int) + 2 * (lo > ls).astype(int))
    index = (
        profit.index
        if isinstance(profit, pd.Series)
        else (loyalty.index if isinstance(loyalty, pd.Series) else None)
    )
    cat = pd.Categorical.from_codes(codes, categories=pd.Index(RELATIONSHIP_GROUPS))
    return pd.Series(cat, index=index, name="relationship_group")


def _check_groups(name: str, labels: pd.Series) -> None:
    bad = sorted({str(v) for v in labels.dropna().unique() if v not in RELATIONSHIP_GROUPS})
    if bad:
        raise ValueError(f"`{name}` has unknown group(s) {bad}; allowed are {list(RELATIONSHIP_GROUPS)}")


def relationship_group_summary(
    frame: pd.DataFrame, *, group: str = "group", revenue: str = "revenue", profit: str = "profit"
) -> pd.DataFrame:
    r"""Customers, revenue and profit per relationship group, with each group's share.

    .. math:: \text{revenue share}_g = \frac{\sum_{i \in g} \text{revenue}_i}{\sum_i \text{revenue}_i}

    (likewise for customers and profit).

    Parameters
    ----------
    frame : DataFrame
        One row per customer with a group column (as from :func:`assign_relationship_group`),
        a revenue column and a gross-profit column.
    group, revenue, profit : str
        Column names.

    Returns
    -------
    DataFrame
        Indexed by ``group`` (all four groups, in :data:`RELATIONSHIP_GROUPS` order) with
        ``customers``, ``customer_share``, ``revenue``, ``revenue_share``, ``profit`` and
        ``profit_share``.

    Raises
    ------
    ValueError
        If a column is missing, a group label is unknown, or revenue or profit is not numeric.

    Notes
    -----
    Rows without a group are left out, of the totals too. A group with no customers has zeros.
    Shares are of the grouped total; when the total revenue is 0, or the total profit is 0 or
    negative, that share column is NaN (a share of a loss has no meaning). Loss-making groups
    have a negative profit share, and the others then add up to more than 1.

    Examples
    --------
    >>> frame = pd.DataFrame({"group": ["stranger", "true friend", "true friend", "barnacle"],
    ...                       "revenue": [100.0, 500.0, 300.0, 100.0],
    ...                       "profit": [10.0, 200.0, 150.0, 40.0]})
    >>> relationship_group_summary(frame)["profit_share"].tolist()
    [0.025, 0.0, 0.1, 0.875]
    """
    check_columns("frame", frame, [group, revenue, profit])
    _check_groups(f"frame['{group}']", frame[group])
    grouped = frame[frame[group].notna()]
    rev = _numbers(f"frame['{revenue}']", grouped[revenue])
    prof = _numbers(f"frame['{profit}']", grouped[profit])
    labels = pd.Categorical(grouped[group].astype(object), categories=list(RELATIONSHIP_GROUPS))
    data = pd.DataFrame({"group": labels, "revenue": rev, "profit": prof})
    agg = data.groupby("group", observed=False).agg(
        customers=("revenue", "size"), revenue=("revenue", "sum"), profit=("profit", "sum")
    )
    agg = agg.reindex(list(RELATIONSHIP_GROUPS)).fillna(0)
    n = agg["customers"].sum()
    total_rev = agg["revenue"].sum()
    total_profit = agg["profit"].sum()
    out = pd.DataFrame(
        {
            "customers": agg["customers"].astype(int),
            "customer_share": agg["customers"] / n if n > 0 else np.nan,
            "revenue": agg["revenue"].astype(float),
            "revenue_share": agg["revenue"] / total_rev if total_rev != 0 else np.nan,
            "profit": agg["profit"].astype(float),
            "profit_share": agg["profit"] / total_profit if total_profit > 0 else np.nan,
        },
        index=pd.Index(list(RELATIONSHIP_GROUPS), name="group"),
    )
    return out


@dataclass(frozen=True)
class GroupTransitions:
    """How customers moved between relationship groups from one period to the next.

    ``counts`` and ``row_shares`` are 4 x 4 tables: rows the previous group, columns the
    current group. ``n`` customers had a group in both periods; ``only_previous`` had one only
    in the previous period (e.g. lost), ``only_current`` only in the current one (e.g. new).
    """

    counts: pd.DataFrame
    row_shares: pd.DataFrame
    n: int
    only_previous: int
    only_current: int

    @property
    def stayed_share(self) -> float:
        """Share of the matched customers who stayed in the same group (NaN when none)."""
        return float(np.trace(self.counts.to_numpy()) / self.n) if self.n else NAN


def _group_labels(name: str, x: Any) -> pd.Series:
    if isinstance(x, (str, bytes)) or np.ndim(x) == 0:
        raise ValueError(f"`{name}` ({x!r}) must be a sequence or Series of group labels")
    s = x if isinstance(x, pd.Series) else pd.Series(list(x), dtype=object)
    s = s.astype(object).where(s.notna(), None)
    _check_groups(name, s)
    return s


def group_transition_matrix(previous, current) -> GroupTransitions:
    r"""Cross-table of each customer's relationship group in the previous vs the current period.

    .. math:: C_{gh} = \#\{i : \text{group}_{i}^{\text{prev}} = g,\ \text{group}_{i}^{\text{cur}} = h\},
              \qquad S_{gh} = \frac{C_{gh}}{\sum_{h'} C_{gh'}}

    Parameters
    ----------
    previous, current : Series or array-like of str
        Group label per customer. Two Series are matched on their index (customer id); two
        plain sequences are matched by position and must have the same length.

    Returns
    -------
    GroupTransitions
        ``counts`` (int) and ``row_shares`` (each row sums to 1, or is NaN for a group nobody
        was in), both with all four groups on each axis, plus ``n``, ``only_previous`` and
        ``only_current``.

    Raises
    ------
    ValueError
        If a label is not a relationship group, a Series index repeats a customer, or
        sequences have different lengths.

    Notes
    -----
    Only customers with a group in both periods enter the table; the others are counted in
    ``only_previous`` and ``only_current``. A row of shares reads as: of the customers who were
    in group g, the share now in each group.

    Examples
    --------
    >>> prev = pd.Series(["stranger", "barnacle", "barnacle"], index=["a", "b", "c"])
    >>> cur = pd.Series(["butterfly", "barnacle", "true friend"], index=["a", "b", "c"])
    >>> t = group_transition_matrix(prev, cur)
    >>> float(t.row_shares.loc["barnacle", "true friend"]), t.n
    (0.5, 3)
    """
    both_series = isinstance(previous, pd.Series) and isinstance(current, pd.Series)
    prev = _group_labels("previous", previous)
    cur = _group_labels("current", current)
    if both_series:
        for name, s in (("previous", prev), ("current", cur)):
            if s.index.has_duplicates:
                dup = s.index[s.index.duplicated()][0]
                raise ValueError(f"`{name}` lists customer {dup!r} more than once; one group per customer")
        joined = pd.concat([prev.rename("previous"), cur.rename("current")], axis=1, join="outer")
    else:
        if len(prev) != len(cur):
            raise ValueError(
                f"`previous` ({len(prev)} values) and `current` ({len(cur)} values) must have the "
                "same length when not given as Series"
            )
        joined = pd.DataFrame({"previous": prev.to_numpy(), "current": cur.to_numpy()})
    has_prev = joined["previous"].notna()
    has_cur = joined["current"].notna()
    matched = joined[has_prev & has_cur]
    groups = list(RELATIONSHIP_GROUPS)
    counts = (
        pd.crosstab(
            pd.Categorical(matched["previous"], categories=groups),
            pd.Categorical(matched["current"], categories=groups),
            dropna=False,
        )
        .reindex(index=groups, columns=groups, fill_value=0)
        .astype(int)
    )
    counts.index.name, counts.columns.name = "previous", "current"
    totals = counts.sum(axis=1).astype(float)
    shares = counts.astype(float).div(totals.where(totals > 0), axis=0)
    return GroupTransitions(
        counts, shares, int(len(matched)), int((has_prev & ~has_cur).sum()), int((~has_prev & has_cur).sum())
    )

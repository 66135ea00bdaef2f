"""Customer health formulas.

A 1-10 health score blended from components already scaled to [0, 1], its bands (fixed or
calibrated on an earlier period), the healthy share, and the AUC that checks whether the score
predicts churn. The profit x loyalty relationship groups are in
:mod:`metrics_lib.formulas.relationships`. No database access and no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from metrics_lib.core.inputs import as_float_array, check_number, check_row_values, check_values
from metrics_lib.core.results import (
    NAN,
    RateResult,
    ValueResult,
    check_confidence_level,
)
from metrics_lib.core.stats import rate_result
from metrics_lib.formulas.classification import outcome_array, ranked_auc

__all__ = [
    "DEFAULT_HEALTH_WEIGHTS",
    "HEALTH_BANDS",
    "HEALTHY_FROM",
    "MIN_CALIBRATION_CUSTOMERS",
    "RISK_BANDS",
    "auc",
    "band_cut_points",
    "effective_weights",
    "health_band",
    "health_score",
    "healthy_share",
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
    raw = check_row_values("score", [score] if scalar else score)
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
    s = as_float_array("scores", scores)
    y = outcome_array(outcomes)
    if s.size != y.size:
        raise ValueError(
            f"`scores` ({s.size} values) and `outcomes` ({y.size} values) must have the same length"
        )
    if np.isinf(s).any():
        raise ValueError("`scores` contains an infinite value; only finite numbers (or NaN) are allowed")
    keep = ~(np.isnan(s) | np.isnan(y))
    # a stayer scoring above a churner is a churner ranked above a stayer on -score
    return ranked_auc(-s[keep], y[keep], level)

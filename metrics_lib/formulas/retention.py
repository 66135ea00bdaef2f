"""Retention and churn formulas.

Pure functions on counts, money amounts and one small activity frame: churn and retention of a
cohort, churn converted between period lengths, repeat-customer and renewal rates, gross and net
revenue retention, and the cohort-by-month retention matrix. Deciding who was "lost" (contractual
or inactivity window) happens upstream; these functions take the resulting counts. No database
access and no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from metrics_lib.core.inputs import check_columns, check_number, check_whole_count
from metrics_lib.core.results import (
    NAN,
    NO_CI,
    ConfidenceInterval,
    RateResult,
    ValueResult,
    check_count,
    undefined,
)
from metrics_lib.core.stats import rate_result

__all__ = [
    "CohortRetention",
    "churn_rate",
    "cohort_retention",
    "convert_churn_rate",
    "gross_revenue_retention",
    "net_revenue_retention",
    "renewal_rate",
    "repeat_customer_rate",
    "retention_rate",
]


def churn_rate(active_at_start, lost, *, confidence_level: float = 0.95) -> RateResult:
    r"""Share of the customers active at the start of a period who were lost during it.

    .. math:: \text{churn} = \frac{\text{lost}}{\text{active at start}}

    Parameters
    ----------
    active_at_start : int
        Customers active at the first instant of the period.
    lost : int
        Customers of ``active_at_start`` lost in the period; joiners who left are not counted.
    confidence_level : float, default 0.95
        Level of the Wilson interval.

    Returns
    -------
    RateResult
        ``value`` in [0, 1] with ``numerator`` = lost, ``denominator`` = active at start and a
        Wilson ``ci``.

    Raises
    ------
    ValueError
        If a count is negative or not whole, or ``lost`` exceeds ``active_at_start``.

    Notes
    -----
    Customers who joined and left inside the period are in neither count (report them apart).
    With nobody active at the start churn is undefined: ``value`` is NaN and ``reason`` says why.

    Examples
    --------
    >>> churn_rate(100, 10).value
    0.1
    >>> r = churn_rate(100, 10)
    >>> r.numerator, r.denominator, round(r.ci.low, 4), round(r.ci.high, 4)
    (10.0, 100.0, 0.0552, 0.1744)
    """
    active = check_whole_count("active_at_start", active_at_start)
    n_lost = check_whole_count("lost", lost)
    return rate_result(
        n_lost,
        active,
        numerator_name="lost",
        denominator_name="active_at_start",
        what="churn rate",
        confidence_level=confidence_level,
    )


def retention_rate(active_at_start, retained, *, confidence_level: float = 0.95) -> RateResult:
    r"""Share of the customers active at the start of a period still active at its end.

    .. math:: \text{retention} = \frac{\text{retained}}{\text{active at start}} = 1 - \text{churn}

    Parameters
    ----------
    active_at_start : int
        Customers active at the first instant of the period.
    retained : int
        Customers of ``active_at_start`` not lost during the period (``active_at_start - lost``).
    confidence_level : float, default 0.95
        Level of the Wilson interval.

    Returns
    -------
    RateResult
        ``value`` in [0, 1] with ``numerator``, ``denominator`` and a Wilson ``ci``.

    Raises
    ------
    ValueError
        If a count is negative or not whole, or ``retained`` exceeds ``active_at_start``.

    Notes
    -----
    Same cohort as :func:`churn_rate`: ``retention_rate(a, a - lost)`` is ``1 - churn_rate(a,
    lost)`` and its Wilson interval is the mirror image. Nobody active at the start: NaN with a
    reason.

    Examples
    --------
    >>> retention_rate(100, 90).value
    0.9
    """
    active = check_whole_count("active_at_start", active_at_start)
    kept = check_whole_count("retained", retained)
    return rate_result(
        kept,
        active,
        numerator_name="retained",
        denominator_name="active_at_start",
        what="retention rate",
        confidence_level=confidence_level,
    )


def convert_churn_rate(churn, *, days_measured, days_target) -> ValueResult:
    r"""Churn measured over one period length, converted to another (e.g. monthly to quarterly).

    .. math:: c_\text{target} = 1 - (1 - c)^{\,d_\text{target} / d_\text{measured}}

    Parameters
    ----------
    churn : float in [0, 1] or RateResult
        Churn rate over ``days_measured`` days. A :class:`RateResult` (from :func:`churn_rate`)
        has its interval converted too.
    days_measured : float > 0
        Length in days of the period ``churn`` was measured over.
    days_target : float > 0
        Length in days of the period to express it for.

    Returns
    -------
    ValueResult
        ``value`` in [0, 1] (``unit`` "share"); ``ci`` the converted interval when ``churn`` had
        one; ``components`` the inputs.

    Raises
    ------
    ValueError
        If ``churn`` is outside [0, 1] or a day count is not a positive finite number.

    Notes
    -----
    Assumes a constant hazard: each day's survival is the same, so survival over ``k`` periods
    is the per-period survival to the power ``k``. The mapping is increasing, so the bounds of
    an interval convert as they are. An undefined churn (NaN) gives NaN with a reason.

    Examples
    --------
    Monthly churn of 5% is 14.26% a quarter, and back:

    >>> round(convert_churn_rate(0.05, days_measured=30, days_target=90).value, 6)
    0.142625
    >>> round(convert_churn_rate(0.142625, days_measured=90, days_target=30).value, 6)
    0.05
    """
    measured = check_number("days_measured", days_measured, low=0, low_inclusive=False)
    target = check_number("days_target", days_target, low=0, low_inclusive=False)
    ci_in = getattr(churn, "ci", None)
    c = getattr(churn, "value", churn)
    components = {"days_measured": measured, "days_target": target}
    if isinstance(c, float) and np.isnan(c):
        reason = undefined(
            "converted churn is undefined: the churn rate given is NaN"
            + (f" ({churn.reason})" if getattr(churn, "reason", None) else "")
        )
        return ValueResult(NAN, unit="share", components={"churn": NAN, **components}, reason=reason)
    c = check_number("churn", c, low=0, high=1)
    exponent = target / measured
    value = _convert(c, exponent)
    ci = NO_CI
    if isinstance(ci_in, ConfidenceInterval) and np.isfinite([ci_in.low, ci_in.high]).all():
        ci = ConfidenceInterval(
            _convert(ci_in.low, exponent),
            _convert(ci_in.high, exponent),
            ci_in.level,
            f"{ci_in.method}, converted",
        )
    return ValueResult(
        value, n=getattr(churn, "n", None), ci=ci, unit="share", components={"churn": c, **components}
    )


def _convert(c: float, exponent: float) -> float:
    return float(1.0 - (1.0 - c) ** exponent)


def repeat_customer_rate(repeat_customers, customers, *, confidence_level: float = 0.95) -> RateResult:
    r"""Share of buying customers who bought on two or more distinct days.

    .. math:: \text{repeat rate} = \frac{\#\{\text{customers with} \ge 2 \text{ purchases}\}}
              {\#\{\text{customers with} \ge 1 \text{ purchase}\}}

    Parameters
    ----------
    repeat_customers : int
        Customers with two or more purchases (same-day purchases counted once).
    customers : int
        Customers with at least one purchase.
    confidence_level : float, default 0.95
        Level of the Wilson interval.

    Returns
    -------
    RateResult
        ``value`` in [0, 1] with ``numerator``, ``denominator`` and a Wilson ``ci``.

    Raises
    ------
    ValueError
        If a count is negative or not whole, or ``repeat_customers`` exceeds ``customers``.

    Notes
    -----
    No buying customers: NaN with a reason.

    Examples
    --------
    >>> repeat_customer_rate(30, 120).value
    0.25
    """
    rep = check_whole_count("repeat_customers", repeat_customers)
    cust = check_whole_count("customers", customers)
    return rate_result(
        rep,
        cust,
        numerator_name="repeat_customers",
        denominator_name="customers",
        what="repeat customer rate",
        confidence_level=confidence_level,
    )


def renewal_rate(renewed, due, *, confidence_level: float = 0.95) -> RateResult:
    r"""Share of the contracts whose term ended in the period that were renewed.

    .. math:: \text{renewal rate} = \frac{\text{renewed}}{\text{due}}

    Parameters
    ----------
    renewed : int
        Contracts of ``due`` that were renewed.
    due : int
        Contracts whose term ends in the period.
    confidence_level : float, default 0.95
        Level of the Wilson interval.

    Returns
    -------
    RateResult
        ``value`` in [0, 1] with ``numerator``, ``denominator`` and a Wilson ``ci``.

    Raises
    ------
    ValueError
        If a count is negative or not whole, or ``renewed`` exceeds ``due``.

    Notes
    -----
    No contracts due: NaN with a reason.

    Examples
    --------
    >>> renewal_rate(45, 50).value
    0.9
    """
    ren = check_whole_count("renewed", renewed)
    n_due = check_whole_count("due", due)
    return rate_result(
        ren,
        n_due,
        numerator_name="renewed",
        denominator_name="due",
        what="renewal rate",
        confidence_level=confidence_level,
    )


def gross_revenue_retention(start_mrr, churned_mrr, contraction_mrr) -> ValueResult:
    r"""Share of the starting recurring revenue kept, counting losses but not expansion.

    .. math:: \text{GRR} = \frac{\text{MRR}_\text{start} - \text{churned} - \text{contraction}}
              {\text{MRR}_\text{start}}

    Parameters
    ----------
    start_mrr : float
        MRR of the customers active at the start of the period.
    churned_mrr : float
        MRR of those customers who cancelled during the period.
    contraction_mrr : float
        MRR lost to downgrades by those customers (a positive amount).

    Returns
    -------
    ValueResult
        ``value`` in [0, 1] (``unit`` "share"), ``numerator`` the retained MRR, ``denominator``
        the starting MRR, ``components`` the inputs.

    Raises
    ------
    ValueError
        If an amount is negative or not finite, or churned plus contraction exceeds the start.

    Notes
    -----
    Never above 1: expansion is left out by definition. Zero starting MRR: NaN with a reason.

    Examples
    --------
    >>> gross_revenue_retention(10_000, 500, 300).value
    0.92
    """
    start = check_count("start_mrr", start_mrr)
    churned = check_count("churned_mrr", churned_mrr)
    contraction = check_count("contraction_mrr", contraction_mrr)
    _check_losses(start, churned, contraction)
    components = {"start_mrr": start, "churned_mrr": churned, "contraction_mrr": contraction}
    # Validated churned + contraction <= start, so a negative is rounding (1 - 1 - 1e-75).
    kept = max(0.0, start - churned - contraction)
    if start == 0:
        reason = undefined("gross revenue retention is undefined: start_mrr is 0")
        return ValueResult(NAN, kept, start, unit="share", components=components, reason=reason)
    return ValueResult(min(1.0, kept / start), kept, start, unit="share", components=components)


def net_revenue_retention(start_mrr, expansion_mrr, contraction_mrr, churned_mrr) -> ValueResult:
    r"""Recurring revenue of the starting customers at the end, as a share of the start.

    .. math:: \text{NRR} = \frac{\text{MRR}_\text{start} + \text{expansion} - \text{contraction}
              - \text{churned}}{\text{MRR}_\text{start}}

    Parameters
    ----------
    start_mrr : float
        MRR of the customers active at the start of the period.
    expansion_mrr : float
        MRR added by upgrades and add-ons of those customers.
    contraction_mrr : float
        MRR lost to downgrades by those customers.
    churned_mrr : float
        MRR of those customers who cancelled.

    Returns
    -------
    ValueResult
        ``value`` >= 0 (``unit`` "share"; above 1 when expansion outweighs losses),
        ``numerator`` the end MRR of the cohort, ``denominator`` the starting MRR.

    Raises
    ------
    ValueError
        If an amount is negative or not finite, or churned plus contraction exceeds the start.

    Notes
    -----
    Only customers active at the start count; new customers' MRR is not expansion. Zero
    starting MRR: NaN with a reason.

    Examples
    --------
    >>> net_revenue_retention(10_000, 1_500, 300, 500).value
    1.07
    """
    start = check_count("start_mrr", start_mrr)
    expansion = check_count("expansion_mrr", expansion_mrr)
    contraction = check_count("contraction_mrr", contraction_mrr)
    churned = check_count("churned_mrr", churned_mrr)
    _check_losses(start, churned, contraction)
    components = {
        "start_mrr": start,
        "expansion_mrr": expansion,
        "contraction_mrr": contraction,
        "churned_mrr": churned,
    }
    end = max(0.0, start + expansion - contraction - churned)
    if start == 0:
        reason = undefined("net revenue retention is undefined: start_mrr is 0")
        return ValueResult(NAN, end, start, unit="share", components=components, reason=reason)
    return ValueResult(end / start, end, start, unit="share", components=components)


def _check_losses(start: float, churned: float, contraction: float) -> None:
    if churned + contraction > start:
        raise ValueError(
            f"`churned_mrr` ({churned:g}) plus `contraction_mrr` ({contraction:g}) cannot "
            f"exceed `start_mrr` ({start:g}): the cohort cannot lose more than it had"
        )


@dataclass(frozen=True)
class CohortRetention:
    """Cohort-by-period retention shares with the counts behind them.

    ``matrix``: rows are cohorts (sorted), columns ``period_index`` k = 0, 1, ...; each cell the
    share of the cohort active k periods after its start (k = 0 is 1.0), NaN where the period is
    not observed. ``active``: the same shape with counts of active customers. ``sizes``: customers
    per cohort.
    """

    matrix: pd.DataFrame
    active: pd.DataFrame
    sizes: pd.Series
    reason: str | None = None
    columns: dict[str, str] = field(default_factory=dict)

    @property
    def defined(self) -> bool:
        return not self.matrix.empty


def cohort_retention(
    activity: pd.DataFrame,
    *,
    customer_col: str = "customer_id",
    cohort_col: str = "cohort",
    period_col: str = "period_index",
    last_period: Any = None,
) -> CohortRetention:
    r"""Share of each cohort active k periods (months) after the cohort's start.

    .. math:: r_{c,k} = \frac{\#\{\text{customers of cohort } c \text{ active in period } k\}}
              {\#\{\text{customers of cohort } c\}}

    Parameters
    ----------
    activity : pandas.DataFrame
        Long frame, one row per customer and period in which the customer was active:

        - ``customer_id``: any hashable id;
        - ``cohort``: the customer's cohort, e.g. the month of first purchase or signup as a
          ``pandas.Period`` (``2025-01``), a Timestamp of the first day of the month, or a label;
          one cohort per customer;
        - ``period_index``: whole number k >= 0, periods since the cohort's start.

        Duplicate rows (several purchases in one month) count once. Build it upstream from
        orders or subscriptions.
    customer_col, cohort_col, period_col : str
        Column names, if they differ from the defaults.
    last_period : pandas.Period, Timestamp or "YYYY-MM" str, optional
        The last month observed. When given (and cohorts are months), cells after it are NaN,
        not 0, so young cohorts are not mistaken for churned ones.

    Returns
    -------
    CohortRetention
        ``matrix`` (cohort x k shares in [0, 1]), ``active`` (counts) and ``sizes``.

    Raises
    ------
    ValueError
        If ``activity`` is not a DataFrame or lacks a column, a period index is missing,
        negative or not whole, a cohort is missing, a customer is in more than one cohort, or
        ``last_period`` is given but a cohort is not a month.

    Notes
    -----
    - Every customer counts as active at k = 0 (that is what puts them in the cohort), whether
      or not the frame has a k = 0 row, so column 0 is always 1.0.
    - Without ``last_period``, cells after a cohort's last observed activity are NaN: the frame
      cannot tell a cohort that stopped buying from one not yet observed. Within that range a
      period with nobody active is 0.
    - An empty frame gives an empty matrix with a reason.

    Examples
    --------
    >>> activity = pd.DataFrame({
    ...     "customer_id": ["a", "a", "a", "b", "b", "c", "d", "d"],
    ...     "cohort": ["2025-01"] * 6 + ["2025-02"] * 2,
    ...     "period_index": [0, 1, 2, 0, 2, 0, 0, 1],
    ... })
    >>> r = cohort_retention(activity)
    >>> r.matrix.round(3).to_dict("index")
    {'2025-01': {0: 1.0, 1: 0.333, 2: 0.667}, '2025-02': {0: 1.0, 1: 1.0, 2: nan}}
    >>> r.sizes.to_dict()
    {'2025-01': 3, '2025-02': 1}
    """
    frame = check_columns("activity", activity, [customer_col, cohort_col, period_col])
    names = {"customer": customer_col, "cohort": cohort_col, "period": period_col}
    frame = frame[[customer_col, cohort_col, period_col]]
    if frame.empty:
        reason = undefined("cohort retention is undefined: `activity` has no rows")
        empty = pd.DataFrame(dtype=float)
        return CohortRetention(empty, empty.copy(), pd.Series(dtype="int64"), reason, names)
    periods = _check_period_index(frame[period_col], period_col)
    if frame[cohort_col].isna().any():
        raise ValueError(f"`activity` column `{cohort_col}` has missing cohorts; every row needs one")
    if frame[customer_col].isna().any():
        raise ValueError(f"`activity` column `{customer_col}` has missing customer ids")
    cohorts_per_customer = frame.groupby(customer_col, sort=True)[cohort_col].nunique()
    split = cohorts_per_customer[cohorts_per_customer > 1]
    if not split.empty:
        who = split.index[0]
        seen = sorted(map(str, frame.loc[frame[customer_col] == who, cohort_col].unique()))
        raise ValueError(
            f"`activity`: customer {who!r} is in {len(seen)} cohorts ({', '.join(seen)}); "
            "each customer belongs to exactly one cohort"
        )
    rows = pd.DataFrame(
        {"customer": frame[customer_col].to_numpy(), "cohort": frame[cohort_col].to_numpy(), "k": periods}
    )
    sizes = rows.groupby("cohort", sort=True)["customer"].nunique()
    # Every customer is active at k = 0 by definition of the cohort.
    starts = rows.drop_duplicates("customer").assign(k=0)
    rows = pd.concat([rows, starts], ignore_index=True).drop_duplicates(["customer", "k"])
    active = rows.groupby(["cohort", "k"], sort=True)["customer"].nunique().unstack("k", fill_value=0)
    horizon = _observed_horizon(rows, sizes.index, last_period, cohort_col)
    latest = rows.groupby("cohort", sort=True)["k"].max().reindex(sizes.index)
    beyond = latest[latest > horizon]
    if not beyond.empty:
        raise ValueError(
            f"`activity`: cohort {beyond.index[0]!r} has activity at period index {beyond.iloc[0]}, "
            f"after `last_period` ({last_period!r}); drop later activity or move `last_period`"
        )
    active = active.reindex(columns=range(int(horizon.max()) + 1), fill_value=0)
    unobserved = np.asarray(active.columns)[None, :] > horizon.to_numpy()[:, None]
    matrix = active.div(sizes, axis=0).astype(float).mask(unobserved)
    active = active.astype(float).mask(unobserved)
    for table in (matrix, active):
        table.index.name, table.columns.name = cohort_col, period_col
    sizes = sizes.astype("int64").rename("customers")
    sizes.index.name = cohort_col
    return CohortRetention(matrix, active, sizes, None, names)


def _check_period_index(values: pd.Series, name: str) -> np.ndarray:
    try:
        arr = values.to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError):
        raise ValueError(
            f"`activity` column `{name}` must hold whole numbers >= 0 (periods since the cohort start)"
        ) from None
    bad = arr[np.isnan(arr) | (arr < 0) | (arr != np.floor(arr)) | np.isinf(arr)]
    if bad.size:
        raise ValueError(
            f"`activity` column `{name}` contains {float(bad[0])!r}; period indexes must be "
            "whole numbers >= 0"
        )
    return arr.astype("int64")


def _observed_horizon(rows: pd.DataFrame, cohorts: pd.Index, last_period: Any, cohort_col: str) -> pd.Series:
    """Largest period index observed for each cohort."""
    if last_period is None:
        return rows.groupby("cohort", sort=True)["k"].max().reindex(cohorts)
    end = _as_month(last_period, "last_period")
    horizon = {}
    for cohort in cohorts:
        start = _as_month(cohort, f"a `{cohort_col}` value")
        horizon[cohort] = (end.year - start.year) * 12 + (end.month - start.month)
    return pd.Series(horizon).reindex(cohorts)


def _as_month(value: Any, name: str) -> pd.Period:
    try:
        if isinstance(value, pd.Period):
            return value.asfreq("M")
        return pd.Period(value, freq="M")
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} ({value!r}) must be a month (pandas Period, Timestamp or 'YYYY-MM') "
            "when `last_period` is given"
        ) from None

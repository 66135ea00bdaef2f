"""Sales pipeline and performance formulas.

Pure functions on counts, small arrays and the stage-history frame: close rate, win rate,
average deal size, sales cycle length, sales velocity, upsell rate, time in stage with its
bottleneck, and the stage-to-stage funnel. No database access and no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from metrics_lib.core.inputs import check_columns, check_number, check_values, scalar_value
from metrics_lib.core.quantiles import median_interval
from metrics_lib.core.results import (
    NAN,
    NO_CI,
    ConfidenceInterval,
    MeanResult,
    RateResult,
    ValueResult,
    check_confidence_level,
    check_count,
    undefined,
)
from metrics_lib.core.stats import mean_result, rate_result

__all__ = [
    "BottleneckResult",
    "CycleLengthResult",
    "average_deal_size",
    "bottleneck_stage",
    "close_rate",
    "sales_cycle_length",
    "sales_velocity",
    "stage_funnel",
    "time_in_stage",
    "upsell_rate",
    "win_rate",
]


def close_rate(won, leads, *, confidence_level: float = 0.95) -> RateResult:
    r"""Share of the leads (deals created) in a period that were won.

    .. math:: \text{close rate} = \frac{\text{won}}{\text{leads}}

    Parameters
    ----------
    won : int
        Deals won among the ``leads``.
    leads : int
        Leads (deals created) in the period.
    confidence_level : float, default 0.95
        Level of the Wilson interval.

    Returns
    -------
    RateResult
        ``value`` in [0, 1] with ``numerator`` = won, ``denominator`` = leads and a Wilson ``ci``.

    Raises
    ------
    ValueError
        If a count is negative or not finite, or ``won`` exceeds ``leads``.

    Notes
    -----
    With no leads the close rate is undefined: ``value`` is NaN and ``reason`` says why.

    Examples
    --------
    >>> close_rate(10, 100).value
    0.1
    >>> close_rate(0, 0).reason
    'close rate is undefined: leads is 0'
    """
    return rate_result(
        won,
        leads,
        numerator_name="won",
        denominator_name="leads",
        what="close rate",
        confidence_level=confidence_level,
    )


def win_rate(won, lost, *, confidence_level: float = 0.95) -> RateResult:
    r"""Share of the deals closed in a period that were won.

    .. math:: \text{win rate} = \frac{\text{won}}{\text{won} + \text{lost}}

    Parameters
    ----------
    won, lost : int
        Deals closed in the period as won and as lost. Open deals are in neither.
    confidence_level : float, default 0.95
        Level of the Wilson interval.

    Returns
    -------
    RateResult
        ``value`` in [0, 1], ``numerator`` = won, ``denominator`` = won + lost, Wilson ``ci``.

    Raises
    ------
    ValueError
        If a count is negative or not finite.

    Notes
    -----
    With no closed deals (``won + lost == 0``) the win rate is NaN with a reason. Unlike the
    close rate, the win rate ignores deals still open, so it is never below the close rate of
    the same deals.

    Examples
    --------
    >>> win_rate(30, 70).value
    0.3
    >>> win_rate(0, 0).reason
    'win rate is undefined: won + lost is 0'
    """
    w = check_count("won", won)
    lo = check_count("lost", lost)
    return rate_result(
        w,
        w + lo,
        numerator_name="won",
        denominator_name="won + lost",
        what="win rate",
        confidence_level=confidence_level,
    )


def upsell_rate(upsell_customers, active_customers, *, confidence_level: float = 0.95) -> RateResult:
    r"""Share of the active customers who bought an upsell or cross-sell in the period.

    .. math:: \text{upsell rate} = \frac{\text{customers with an upsell or cross-sell}}{\text{active customers}}

    Parameters
    ----------
    upsell_customers : int
        Distinct active customers with at least one upsell or cross-sell order in the period.
    active_customers : int
        Customers active in the period.
    confidence_level : float, default 0.95
        Level of the Wilson interval.

    Returns
    -------
    RateResult

    Raises
    ------
    ValueError
        If a count is negative or ``upsell_customers`` exceeds ``active_customers``.

    Notes
    -----
    Customers are counted once however many upsells they bought. No active customers gives NaN
    with a reason.

    Examples
    --------
    >>> upsell_rate(15, 200).value
    0.075
    """
    return rate_result(
        upsell_customers,
        active_customers,
        numerator_name="upsell_customers",
        denominator_name="active_customers",
        what="upsell rate",
        confidence_level=confidence_level,
    )


def average_deal_size(won_amounts, *, confidence_level: float = 0.95) -> MeanResult:
    r"""Mean amount of the deals won, with a Student-t interval.

    .. math:: \text{average deal size} = \frac{\sum \text{won amount}}{\text{deals won}}

    Parameters
    ----------
    won_amounts : array-like of float
        The amount of each deal won in the period (one entry per deal, >= 0).
    confidence_level : float, default 0.95
        Level of the t interval for the mean.

    Returns
    -------
    MeanResult
        ``value`` = the mean amount, ``n`` = deals won, ``ci`` (t), ``median`` and ``std``.

    Raises
    ------
    ValueError
        If an amount is negative or infinite.

    Notes
    -----
    Missing amounts (NaN) are dropped and do not count as deals. No deals gives NaN with a
    reason; a single deal gives its amount with NaN interval bounds.

    Examples
    --------
    >>> r = average_deal_size([1000.0, 3000.0, 2000.0])
    >>> r.value, r.n
    (2000.0, 3)
    """
    amounts = check_values("won_amounts", won_amounts, low=0.0)
    return mean_result(
        amounts, unit="currency", what="average deal size", confidence_level=confidence_level, low=0.0
    )


@dataclass(frozen=True)
class CycleLengthResult(MeanResult):
    """Sales cycle length: ``value`` (the headline) is the median; the mean travels beside it.

    ``ci`` is the distribution-free interval for the median; ``mean_ci`` the t interval for
    the mean.
    """

    mean: float = NAN
    mean_ci: ConfidenceInterval = NO_CI


def sales_cycle_length(days, *, confidence_level: float = 0.95) -> CycleLengthResult:
    r"""Days from creation to close of the deals won, summarised by the median (and the mean).

    .. math:: \text{cycle}_i = \text{closed date}_i - \text{created date}_i, \qquad
              \text{sales cycle length} = \operatorname{median}_i \text{cycle}_i

    Parameters
    ----------
    days : array-like of float
        Cycle length in days of each deal won in the period (>= 0).
    confidence_level : float, default 0.95
        Level of both intervals.

    Returns
    -------
    CycleLengthResult
        A :class:`MeanResult` whose ``value`` and ``median`` are the median cycle, ``ci`` the
        interval for the median, plus ``mean``, ``mean_ci`` (Student t) and ``std``.

    Raises
    ------
    ValueError
        If a cycle is negative or infinite.

    Notes
    -----
    The headline is the median because cycle lengths are right-skewed: a few deals that drag on
    for months move the mean a lot and the median little. The median's interval uses order
    statistics (no distribution assumed); it needs at least 6 deals at the 95% level and has NaN
    bounds below that. Missing cycles (NaN, e.g. deals not yet closed) are dropped. No deals
    gives NaN with a reason.

    Examples
    --------
    >>> r = sales_cycle_length([10, 20, 30, 40, 200])
    >>> r.value, r.mean
    (30.0, 60.0)
    """
    level = check_confidence_level(confidence_level)
    arr = np.sort(check_values("days", days, low=0.0))
    m = mean_result(arr, unit="days", what="sales cycle length", confidence_level=level, low=0.0)
    return CycleLengthResult(
        value=m.median,
        n=m.n,
        ci=median_interval(arr, level),
        median=m.median,
        std=m.std,
        unit="days",
        reason=m.reason,
        mean=m.value,
        mean_ci=m.ci,
    )


def _factor(name: str, x: Any, *, high: float | None = None) -> float:
    """A velocity factor as a float; NaN passes through (an undefined upstream metric)."""
    v = scalar_value(x)
    if isinstance(v, (float, np.floating)) and math.isnan(v):
        return NAN
    return check_number(name, v, low=0.0, high=high)


def sales_velocity(open_opportunities, win_rate, average_deal_size, cycle_days) -> ValueResult:
    r"""Expected revenue per day flowing out of the open pipeline.

    .. math:: \text{velocity} = \frac{\text{open opportunities} \times \text{win rate}
              \times \text{average deal size}}{\text{sales cycle length (days)}}

    Parameters
    ----------
    open_opportunities : int
        Deals open now.
    win_rate : float or RateResult
        Share in [0, 1], e.g. the result of :func:`win_rate`.
    average_deal_size : float or MeanResult
        Currency per deal won, e.g. the result of :func:`average_deal_size`.
    cycle_days : float or MeanResult
        Sales cycle length in days, e.g. the result of :func:`sales_cycle_length`.

    Returns
    -------
    ValueResult
        ``value`` in currency per day; ``numerator`` = the expected won value of the open
        pipeline, ``denominator`` = cycle days; ``components`` holds the four factors.

    Raises
    ------
    ValueError
        If a factor is negative or infinite, or the win rate is above 1.

    Notes
    -----
    A factor that is itself undefined (NaN, e.g. a win rate with no closed deals) or a cycle of
    0 days makes the velocity NaN with a reason. Result objects are read through their
    ``value``; for :func:`sales_cycle_length` that is the median cycle.

    Examples
    --------
    >>> v = sales_velocity(50, 0.2, 10_000, 40)
    >>> v.value
    2500.0
    >>> v.components["win_rate"]
    0.2
    """
    opp = check_count("open_opportunities", open_opportunities)
    wr = _factor("win_rate", win_rate, high=1.0)
    size = _factor("average_deal_size", average_deal_size)
    cycle = _factor("cycle_days", cycle_days)
    components = {"open_opportunities": opp, "win_rate": wr, "average_deal_size": size, "cycle_days": cycle}
    pipeline_value = opp * wr * size
    missing = [k for k, v in components.items() if math.isnan(v)]
    if missing:
        reason = undefined(f"sales velocity is undefined: {', '.join(missing)} is undefined (NaN)")
        return ValueResult(
            NAN, pipeline_value, cycle, unit="currency per day", components=components, reason=reason
        )
    if cycle == 0:
        reason = undefined("sales velocity is undefined: cycle_days is 0")
        return ValueResult(
            NAN, pipeline_value, cycle, unit="currency per day", components=components, reason=reason
        )
    return ValueResult(
        pipeline_value / cycle, pipeline_value, cycle, unit="currency per day", components=components
    )


# --- stage history -------------------------------------------------------------------------

_STAGE_COLUMNS = ["deal_id", "stage", "entered_at"]


def _check_stage_order(stage_order: Any, *, required: bool) -> list | None:
    if stage_order is None:
        if required:
            raise ValueError("`stage_order` (None) is required: list the pipeline stages in order")
        return None
    if isinstance(stage_order, str) or not isinstance(stage_order, Iterable):
        raise ValueError(f"`stage_order` ({stage_order!r}) must be a list of stage names in order")
    order = list(stage_order)
    if not order:
        raise ValueError("`stage_order` ([]) must name at least one stage")
    dupes = sorted({str(s) for s in order if order.count(s) > 1})
    if dupes:
        raise ValueError(f"`stage_order` ({order!r}) lists stage(s) {dupes} more than once")
    return order


def _prepared_history(stage_history: Any, order: list | None) -> pd.DataFrame:
    """Validated copy of the history sorted by deal, time and (for ties) stage order."""
    hist = check_columns("stage_history", stage_history, _STAGE_COLUMNS)
    try:
        entered = pd.to_datetime(hist["entered_at"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"`stage_history['entered_at']` must hold dates or timestamps: {exc}") from None
    if entered.isna().any():
        raise ValueError(
            f"`stage_history['entered_at']` has {int(entered.isna().sum())} missing value(s); "
            "every stage entry needs a timestamp"
        )
    if hist["stage"].isna().any() or hist["deal_id"].isna().any():
        raise ValueError("`stage_history` has missing `deal_id` or `stage` values; both are required")
    df = pd.DataFrame(
        {
            "deal_id": hist["deal_id"].to_numpy(),
            "stage": hist["stage"].to_numpy(),
            "entered_at": entered.to_numpy(),
            "row": np.arange(len(hist)),
        }
    )
    rank = {s: i for i, s in enumerate(order)} if order is not None else {}
    codes, stages = pd.factorize(df["stage"])  # a few stages: rank each once, not each row
    df["rank"] = np.array([rank.get(s, len(rank)) for s in stages], dtype=int)[codes]
    # by deal, time, stage order, then row: one lexsort over whole numbers (the deals numbered in
    # their sorted order) is many times faster than sorting the columns themselves
    deal = pd.factorize(df["deal_id"], sort=True)[0]
    rows = np.lexsort((df["row"].to_numpy(), df["rank"].to_numpy(), df["entered_at"].to_numpy(), deal))
    return df.take(rows).reset_index(drop=True)


def time_in_stage(stage_history, *, as_of=None, stage_order=None) -> pd.DataFrame:
    r"""Mean and median days the deals spend in each pipeline stage.

    .. math:: t_{d,s} = \sum_{\text{visits of deal } d \text{ to stage } s}
              \left(\text{next entry of } d - \text{entry into } s\right), \qquad
              \text{mean days}_s = \frac{1}{|D_s|} \sum_{d \in D_s} t_{d,s}

    Parameters
    ----------
    stage_history : DataFrame
        One row per stage entry with columns ``deal_id``, ``stage`` and ``entered_at``
        (dates or timestamps).
    as_of : date-like, optional
        The observation time. When given, the stage a deal is in at the end of its history
        runs until ``as_of``. When None (default), that last stage is left out.
    stage_order : list, optional
        Stages to report, in order. Stages of the history outside this list still end the
        stage before them but get no row. Also breaks ties between entries of one deal with
        the same timestamp.

    Returns
    -------
    DataFrame
        Indexed by ``stage``, with columns ``deals`` (deals with a measured time in the stage),
        ``mean_days``, ``median_days`` and ``open_deals`` (of ``deals``, those still in the stage
        at ``as_of``, whose time is running).

    Raises
    ------
    ValueError
        If a column is missing, a timestamp is missing or unparseable, ``as_of`` is earlier than
        an entry, or ``stage_order`` repeats a stage.

    Notes
    -----
    The time in a stage runs from its entry to the deal's next stage entry, whatever that next
    stage is (backwards moves included). A deal that enters a stage twice contributes the sum of
    its visits, so each deal counts once per stage. The history carries no outcome, so the last
    stage of a closed deal (e.g. ``won``) also "runs" to ``as_of``: pass ``stage_order`` with the
    working stages only to keep the terminal ones out of the table. With ``as_of`` None the
    last stage of every deal is unmeasured (a deal with one entry adds nothing). A stage with no
    measured time has ``deals`` 0 and NaN days. Days are fractional (timestamps differ by
    hours too).

    Examples
    --------
    >>> history = pd.DataFrame({
    ...     "deal_id": [1, 1, 1, 2, 2],
    ...     "stage": ["lead", "proposal", "won", "lead", "proposal"],
    ...     "entered_at": pd.to_datetime(["2025-01-01", "2025-01-11", "2025-01-15",
    ...                                   "2025-01-05", "2025-01-25"]),
    ... })
    >>> time_in_stage(history, stage_order=["lead", "proposal"])  # doctest: +NORMALIZE_WHITESPACE
              deals  mean_days  median_days  open_deals
    stage
    lead          2       15.0         15.0           0
    proposal      1        4.0          4.0           0
    """
    order = _check_stage_order(stage_order, required=False)
    df = _prepared_history(stage_history, order)
    running_end = None
    if as_of is not None:
        try:
            running_end = pd.Timestamp(as_of)
        except (TypeError, ValueError):
            raise ValueError(f"`as_of` ({as_of!r}) must be a date or timestamp") from None
        if pd.isna(running_end):
            raise ValueError(f"`as_of` ({as_of!r}) must be a date or timestamp, not missing")
        latest = df["entered_at"].max() if len(df) else None
        try:
            too_early = latest is not None and running_end < latest
        except TypeError:
            raise ValueError(
                f"`as_of` ({as_of!r}) and `stage_history['entered_at']` must both carry a time "
                "zone or both not"
            ) from None
        if too_early:
            raise ValueError(
                f"`as_of` ({running_end}) is earlier than the latest stage entry ({latest}); "
                "it must be on or after every entry"
            )

    nxt = df.groupby("deal_id", sort=False)["entered_at"].shift(-1)
    df["open"] = nxt.isna() & (running_end is not None)
    end = nxt.fillna(running_end) if running_end is not None else nxt
    elapsed: pd.Series[pd.Timedelta] = end - df["entered_at"]
    df["days"] = elapsed / pd.Timedelta(days=1)
    measured = df.dropna(subset=["days"])

    per_deal = measured.groupby(["stage", "deal_id"], sort=False).agg(
        days=("days", "sum"), open=("open", "any")
    )
    table = per_deal.groupby(level="stage", sort=False).agg(
        deals=("days", "size"),
        mean_days=("days", "mean"),
        median_days=("days", "median"),
        open_deals=("open", "sum"),
    )

    if order is not None:
        stages = order
    else:
        stages = list(df.sort_values(["entered_at", "rank", "row"], kind="stable")["stage"].unique())
    table = table.reindex(stages)
    table["deals"] = table["deals"].fillna(0).astype(int)
    table["open_deals"] = table["open_deals"].fillna(0).astype(int)
    table["mean_days"] = table["mean_days"].astype(float)
    table["median_days"] = table["median_days"].astype(float)
    table.index.name = "stage"
    return table


@dataclass(frozen=True)
class BottleneckResult:
    """The stage where deals spend longest; ``value`` is its time in days."""

    stage: Any
    value: float
    statistic: str
    reason: str | None = None

    @property
    def defined(self) -> bool:
        return not math.isnan(self.value)


def bottleneck_stage(table: pd.DataFrame, *, by: str = "mean_days") -> BottleneckResult:
    r"""The stage with the longest time in stage, from a :func:`time_in_stage` table.

    .. math:: \text{bottleneck} = \arg\max_s \ \text{days}_s

    Parameters
    ----------
    table : DataFrame
        The output of :func:`time_in_stage` (indexed by stage).
    by : {"mean_days", "median_days"}, default "mean_days"
        Which statistic to rank stages by; the bottleneck is defined on the average (docs/metrics.md).

    Returns
    -------
    BottleneckResult
        ``stage`` (the label), ``value`` (its days) and ``statistic`` (= ``by``).

    Raises
    ------
    ValueError
        If ``by`` is not one of the allowed columns or the table lacks it.

    Notes
    -----
    Stages without a measured time (NaN) are skipped. A tie goes to the stage listed first
    (the earlier stage in the pipeline). A table with no measured stage gives ``stage`` None and
    NaN with a reason.

    Examples
    --------
    >>> table = pd.DataFrame({"mean_days": [15.0, 4.0], "median_days": [15.0, 4.0]},
    ...                      index=pd.Index(["lead", "proposal"], name="stage"))
    >>> b = bottleneck_stage(table)
    >>> b.stage, b.value
    ('lead', 15.0)
    """
    allowed = ("mean_days", "median_days")
    if by not in allowed:
        raise ValueError(f"`by` ({by!r}) must be one of {allowed}")
    check_columns("table", table, [by])
    days = table[by].astype(float).dropna()
    if days.empty:
        reason = undefined("bottleneck is undefined: no stage has a measured time")
        return BottleneckResult(None, NAN, by, reason)
    stage: Any = days.idxmax()
    return BottleneckResult(stage, float(days.loc[stage]), by)


def stage_funnel(stage_history, stage_order) -> pd.DataFrame:
    r"""Deals reaching each stage of the pipeline and the conversion from stage to stage.

    .. math:: \text{reached}_k = \#\{d : d \text{ entered stage } k \text{ or a later one}\},
              \qquad \text{conversion}_k = \frac{\text{reached}_k}{\text{reached}_{k-1}}

    Parameters
    ----------
    stage_history : DataFrame
        One row per stage entry with columns ``deal_id``, ``stage`` and ``entered_at``.
    stage_order : list
        The funnel's stages, first to last (e.g. ``["lead", "qualified", "proposal", "won"]``).

    Returns
    -------
    DataFrame
        Indexed by ``stage`` in funnel order, with columns ``deals`` (deals that reached the
        stage), ``entered`` (deals with an entry for exactly this stage), ``conversion``
        (``deals`` over the previous stage's ``deals``) and ``share_of_first`` (``deals`` over the
        first stage's ``deals``).

    Raises
    ------
    ValueError
        If a column is missing, ``stage_order`` is empty or repeats a stage.

    Notes
    -----
    A deal "reaches" a stage when it entered it or any later stage, so a deal that skipped a
    stage still counts as having passed it; this keeps ``deals`` non-increasing and every
    conversion in [0, 1]. Stages outside ``stage_order`` (e.g. ``lost``) are ignored, and a deal
    with only such stages is not in the funnel. The first stage's ``conversion`` is NaN (there
    is no previous stage), as is any conversion from a stage no deal reached.

    Examples
    --------
    >>> history = pd.DataFrame({
    ...     "deal_id": [1, 1, 1, 2, 2, 3],
    ...     "stage": ["lead", "proposal", "won", "lead", "lost", "lead"],
    ...     "entered_at": pd.to_datetime(["2025-01-01", "2025-01-11", "2025-01-15",
    ...                                   "2025-01-05", "2025-01-25", "2025-02-01"]),
    ... })
    >>> stage_funnel(history, ["lead", "proposal", "won"])  # doctest: +NORMALIZE_WHITESPACE
              deals  entered  conversion  share_of_first
    stage
    lead          3        3         NaN        1.000000
    proposal      1        1    0.333333        0.333333
    won           1        1    1.000000        0.333333
    """
    order = _check_stage_order(stage_order, required=True)
    assert order is not None  # required=True raises rather than return None
    df = _prepared_history(stage_history, order)
    pos = {s: i for i, s in enumerate(order)}
    df = df[df["stage"].isin(order)].copy()
    df["pos"] = df["stage"].map(pos).astype(int)
    furthest = df.groupby("deal_id")["pos"].max().to_numpy()
    entered = df.drop_duplicates(["deal_id", "stage"])["pos"].value_counts()
    reached = np.array([(furthest >= k).sum() for k in range(len(order))], dtype=np.int_)
    with np.errstate(divide="ignore", invalid="ignore"):
        prev = np.concatenate([[np.nan], reached[:-1]]).astype(float)
        conversion = np.where(prev > 0, reached / prev, np.nan)
        first = float(reached[0])
        share = reached / first if first > 0 else np.full(len(order), np.nan)
    table = pd.DataFrame(
        {
            "deals": reached,
            "entered": [int(entered.get(k, 0)) for k in range(len(order))],
            "conversion": conversion,
            "share_of_first": share,
        },
        index=pd.Index(order, name="stage"),
    )
    return table

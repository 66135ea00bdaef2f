"""Customers followed over time: who was lost in a period, signup cohorts, relationship groups.

* :func:`churn_outcomes`: the customers active at a period's start and whether they were lost in
  it (the churn definition of :mod:`~metrics_lib.metrics.aggregate`); :func:`churn_by_group` turns
  such outcomes into churn rates per group. NPS against churn
  (:func:`metrics_lib.metrics.analyses.nps_vs_churn`) and the health score's validation
  (:mod:`metrics_lib.metrics.health_views`) both start from them.
* :func:`cohort_retention`: the share of each monthly signup cohort still active k months on.
* :func:`relationship_groups`: strangers, butterflies, barnacles and true friends (profit x
  loyalty) among the customers active at the period's end, and how they moved since the
  previous period.

Every function takes a :class:`~metrics_lib.metrics.aggregate.Scope` (source, period, segment)
and returns unrounded numbers; rounding for display is the reader's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import ibis
import pandas as pd

from metrics_lib.core.engine import count_true
from metrics_lib.core.errors import WorkbookError
from metrics_lib.core.results import NAN, RateResult, quietly
from metrics_lib.core.stats import rate_result
from metrics_lib.formulas import relationships, retention
from metrics_lib.metrics import aggregate as agg
from metrics_lib.metrics.clv_views import FitFailed, fit_quietly, found_clv_models

__all__ = [
    "CohortView",
    "RelationshipGroups",
    "churn_outcomes",
    "churn_by_group",
    "check_months",
    "cohort_retention",
    "relationship_customers",
    "relationship_groups",
]


def churn_outcomes(scope: agg.Scope) -> pd.DataFrame:
    """The customers active at the start of the period (``customer_id``) and whether they were
    lost in it (``churned``: not active on the period's last day)."""
    flags, _ = agg.active_flags(scope, scope.start - timedelta(days=1), scope.last_day)
    frame = flags.filter(flags.at_a).select("customer_id", "at_b").execute()
    frame["churned"] = ~frame.pop("at_b").astype(bool)
    return frame


def churn_by_group(
    frame: pd.DataFrame, by: str, order, *, what: str = "churn of {}", confidence_level: float = 0.95
) -> tuple[pd.DataFrame, dict[str, RateResult]]:
    """Churn per group of :func:`churn_outcomes` rows labelled in column ``by``, in ``order``.

    Returns the table (one row per group: ``customers``, ``churned``, ``churn_rate`` with its
    Wilson interval ``ci_low`` / ``ci_high``; indexed by ``by``) and each group's rate result
    (``what`` names it, ``{}`` standing for the group).
    """
    rows, rates = {}, {}
    for label in order:
        part = frame[frame[by] == label]
        lost = int(part["churned"].sum())
        r = quietly(rate_result, lost, len(part), what=what.format(label), confidence_level=confidence_level)
        rates[label] = r
        rows[label] = {
            "customers": len(part),
            "churned": lost,
            "churn_rate": r.value,
            "ci_low": r.ci.low,
            "ci_high": r.ci.high,
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = by
    return out, rates


@dataclass(frozen=True)
class CohortView:
    """Monthly signup cohorts: ``matrix`` (cohort x months since signup, shares in [0, 1], NaN
    where not yet observed), ``sizes`` (customers per cohort), ``basis`` (how activity was
    defined) and ``note`` (why it is empty, when it is)."""

    matrix: pd.DataFrame
    sizes: pd.Series
    basis: str = ""
    note: str = ""


def check_months(months: int) -> None:
    """Raise WorkbookError unless ``months`` (the cohorts followed) is at least one."""
    if months < 1:
        raise WorkbookError(f"months ({months!r}) must be >= 1")


def cohort_retention(scope: agg.Scope, months: int = 12) -> CohortView:
    """Share of each monthly signup cohort still active k months after signing up.

    Cohorts are the customers who signed up in each of the ``months`` months ending with the
    period. A customer is active at the end of month k when, on its last day, they hold an
    active subscription (when the data has subscriptions) or bought within the inactivity
    window (``inactivity_days`` of source.yml, default 180) - the definition behind churn
    everywhere in the workbook. Months after the period are not observed (NaN).
    """
    check_months(months)
    contractual = scope.contractual
    last = pd.Period(scope.period.end, "M")
    first = last - (months - 1)
    month_ends = [m.end_time.normalize().to_pydatetime() for m in pd.period_range(first, last, freq="M")]
    c = scope.customers()
    cohort = c.filter(
        (c.signup_date >= first.start_time.to_pydatetime()) & (c.signup_date < scope.next_start)
    )
    customers = cohort.select("customer_id", "signup_date").execute()
    if customers.empty:
        empty = pd.DataFrame()
        return CohortView(
            empty, pd.Series(dtype="int64", name="customers"), "", "no customer signed up in the window"
        )

    window = timedelta(days=scope.inactivity_days - 1)
    ends = ibis.memtable(
        pd.DataFrame({"month_end": month_ends, "window_start": [m - window for m in month_ends]})
    )
    if contractual:
        s = scope.table("subscriptions").semi_join(cohort.select("customer_id"), "customer_id")
        j = s.cross_join(ends)
        on = (
            (j.start_date <= j.month_end)
            & (j.end_date > j.month_end)
            & (j.cancelled_date.isnull() | (j.cancelled_date > j.month_end))
        )
        basis = "an active subscription on the month's last day"
    else:
        o = agg.customer_purchases(scope.table("orders")).semi_join(
            cohort.select("customer_id"), "customer_id"
        )
        j = o.cross_join(ends)
        on = (j.order_date >= j.window_start) & (j.order_date <= j.month_end)
        basis = f"a purchase within {scope.inactivity_days} days up to the month's last day"
    active = j.filter(on).select("customer_id", "month_end").distinct().execute()
    signup = pd.to_datetime(customers["signup_date"])
    cohort_of = pd.Series(signup.dt.to_period("M").to_numpy(), index=customers["customer_id"].to_numpy())
    active["cohort"] = active["customer_id"].map(cohort_of)
    # months since the cohort's month, as whole numbers of months (year x 12 + month)
    signup_month = pd.Series((signup.dt.year * 12 + signup.dt.month).to_numpy(), index=cohort_of.index)
    month = pd.to_datetime(active["month_end"])
    active["period_index"] = (month.dt.year * 12 + month.dt.month) - active["customer_id"].map(signup_month)
    active = active[active["period_index"] >= 0]
    starts = pd.DataFrame({"customer_id": cohort_of.index, "cohort": cohort_of.to_numpy(), "period_index": 0})
    activity = pd.concat([starts, active[["customer_id", "cohort", "period_index"]]], ignore_index=True)
    activity["cohort"] = activity["cohort"].astype(str)
    result = quietly(retention.cohort_retention, activity, last_period=str(last))
    return CohortView(result.matrix, result.sizes, basis, result.reason or "")


@dataclass(frozen=True)
class RelationshipGroups:
    """Profit x loyalty groups of the customers active at the period's end.

    ``customers``: one row per customer (``revenue``, ``profit`` over the last 12 months,
    ``tenure_months``, ``group``); ``summary``: customers, revenue and profit (with shares) and
    the recommended action per group; ``transitions``: row shares of the previous period's group
    (rows) into this period's (columns); ``stayed_share``: share of customers grouped in both
    periods who kept their group.
    """

    customers: pd.DataFrame
    summary: pd.DataFrame
    transitions: pd.DataFrame
    transition_counts: pd.DataFrame
    stayed_share: float
    profit_split: float
    loyalty_split: float
    note: str = ""


def relationship_customers(scope: agg.Scope, loyalty: str = "tenure") -> pd.DataFrame:
    """Customers active at the end of the period with revenue, gross profit (last 12 months up to
    its end), loyalty and relationship group. Loyalty is tenure in months, or with
    ``loyalty="probability_alive"`` the BG/NBD probability that the customer is still buying,
    fitted on the purchase history up to the end of the period."""
    p = scope.period
    flags, _ = agg.active_flags(scope, scope.last_day, scope.last_day)
    active = flags.filter(flags.at_b).select("customer_id")
    start = (pd.Timestamp(p.next_start) - pd.DateOffset(months=12)).to_pydatetime()
    o = scope.table("orders")
    w = o.filter((o.order_date >= start) & (o.order_date < scope.next_start))
    sums = w.group_by("customer_id").aggregate(
        revenue=w.revenue.sum(), cost=w.cost.sum(), cost_missing=count_true(w.cost.isnull())
    )
    c = scope.customers().select("customer_id", "signup_date")
    j = active.inner_join(c, "customer_id").left_join(sums, "customer_id")
    frame = j.select("customer_id", "signup_date", "revenue", "cost", "cost_missing").execute()
    frame = frame.set_index("customer_id").sort_index()
    revenue = frame["revenue"].astype(float).fillna(0.0)
    cost = frame["cost"].astype(float).fillna(0.0)
    profit = (revenue - cost).where(frame["cost_missing"].fillna(0) == 0)
    tenure = (pd.Timestamp(scope.last_day) - pd.to_datetime(frame["signup_date"])).dt.days / (365.25 / 12)
    out = pd.DataFrame({"revenue": revenue, "profit": profit, "tenure_months": tenure.round(1)})
    if loyalty == "probability_alive":
        from metrics_lib import clv

        # the value report's BG/NBD fit is the same fit on the same summary: taken from it when
        # a report of the run has fitted it already, else fitted here
        view = found_clv_models(scope)
        if view is not None and not view.customers.empty:
            alive = view.customers["probability_alive"]
        else:
            try:
                summary = clv.summarize_transactions(
                    agg.customer_transactions(o), value_col="revenue", observation_end=p.end
                )
            except clv.CLVInputError as e:
                raise LoyaltyUnavailable(f"no purchases to fit on: {e}") from None
            try:
                alive = fit_quietly(clv.BetaGeoModel(), summary, "BG/NBD").probability_alive()
            except FitFailed as e:
                raise LoyaltyUnavailable(f"not fitted: {e}") from None
        out["probability_alive"] = alive.reindex(out.index)
    elif loyalty != "tenure":
        raise WorkbookError(f"loyalty ({loyalty!r}) must be 'tenure' or 'probability_alive'")
    measure = _LOYALTY[loyalty]
    out["group"] = relationships.assign_relationship_group(out["profit"], out[measure])
    return out


#: The column of each loyalty measure.
_LOYALTY = {"tenure": "tenure_months", "probability_alive": "probability_alive"}


class LoyaltyUnavailable(Exception):
    """The BG/NBD model could not give the customers' probability of still buying (the reason)."""


def relationship_groups(scope: agg.Scope, *, loyalty: str = "tenure") -> RelationshipGroups:
    """Strangers, butterflies, barnacles and true friends among the customers active at the
    period's end: gross profit over the last 12 months x loyalty (tenure in months, or the
    BG/NBD probability of still buying with ``loyalty="probability_alive"``), split at
    the medians; what each group holds, what to do with it, and how customers moved between
    groups since the previous period."""
    try:
        cur = relationship_customers(scope, loyalty)
    except LoyaltyUnavailable as e:  # the BG/NBD model cannot rank these customers' loyalty
        empty = pd.DataFrame()
        empty.attrs["note"] = f"probability of still buying {e}"
        return RelationshipGroups(empty, empty, empty, empty, NAN, NAN, NAN, empty.attrs["note"])
    try:
        prev = relationship_customers(
            agg.Scope.of(scope.source, scope.period.previous(), scope.segment), loyalty
        )
    except LoyaltyUnavailable:  # no groups to come from: every customer is new to the grouping
        prev = cur.iloc[0:0]
    summary = relationships.relationship_group_summary(cur, group="group", revenue="revenue", profit="profit")
    summary["action"] = [relationships.RELATIONSHIP_ACTIONS[g] for g in summary.index]
    moves = relationships.group_transition_matrix(prev["group"].astype(object), cur["group"].astype(object))
    profit_split = float(cur["profit"].median()) if len(cur) else float("nan")
    loyalty_split = float(cur[_LOYALTY[loyalty]].median()) if len(cur) else float("nan")
    customers = cur.reset_index()
    customers.attrs.update(profit_split=profit_split, loyalty_split=loyalty_split)
    return RelationshipGroups(
        customers,
        summary,
        moves.row_shares,
        moves.counts,
        moves.stayed_share,
        profit_split,
        loyalty_split,
        "",
    )

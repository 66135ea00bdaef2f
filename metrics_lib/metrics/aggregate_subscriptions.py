"""The subscriptions' period-level aggregations: the MRR movements of the period (start MRR, new,
expansion, reactivation, contraction, churned, end MRR and the accounts paying at the end:
:func:`revenue_retention`), and the subscription terms ending in the period with those renewed
(:func:`renewal_counts`).
They take a :class:`~metrics_lib.metrics.aggregate.Scope` and use the contractual definition of
activity of :mod:`metrics_lib.metrics.aggregate`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import pandas as pd

from metrics_lib.core.engine import count_true
from metrics_lib.metrics.aggregate import Scope, amount, count

__all__ = [
    "RevenueRetention",
    "RenewalCounts",
    "RenewalCohorts",
    "revenue_retention",
    "renewal_counts",
    "renewal_cohorts",
]


@dataclass(frozen=True)
class RevenueRetention:
    """MRR movements of the period (:func:`revenue_retention`). ``start_mrr``, ``churned``,
    ``expansion``, ``contraction`` and ``customers`` concern the customers paying at the period's
    start (revenue retention); ``new`` and ``reactivation`` the customers paying at its end but
    not at its start; ``end_mrr``, ``end_accounts`` and ``end_mrr_std`` every account paying at
    its end. ``start_mrr + new + expansion + reactivation - contraction - churned == end_mrr``."""

    start_mrr: float
    churned: float
    expansion: float
    contraction: float
    customers: int
    new: float = 0.0
    reactivation: float = 0.0
    end_mrr: float = 0.0
    end_accounts: int = 0
    end_mrr_std: float = float("nan")


@dataclass(frozen=True)
class RenewalCounts:
    """Subscription terms ending in the period, and those renewed (:func:`renewal_counts`)."""

    due: int
    renewed: int


def revenue_retention(scope: Scope) -> RevenueRetention:
    """The period's MRR movements from two snapshots, the day before the period and its last day.

    A customer's MRR on a day is the sum of ``mrr`` over their subscriptions active that day
    (contractual activity). Each customer paying at either snapshot makes one movement
    (:func:`metrics_lib.formulas.subscriptions.mrr_movements` defines them): churned, expansion or
    contraction when paying at the start; new or reactivation (MRR above 0 on some earlier day)
    when paying at the end only.
    """
    s = scope.table("subscriptions")
    day_before = scope.start - timedelta(days=1)
    end = scope.last_day

    def mrr_on(d):
        active = (s.start_date <= d) & (s.end_date > d) & (s.cancelled_date.isnull() | (s.cancelled_date > d))
        return active.ifelse(s.mrr, 0.0)

    # paid on at least one day before the period: active on its own start date, which was before
    paid_once = (
        (s.mrr > 0)
        & (s.start_date <= day_before)
        & (s.end_date > s.start_date)
        & (s.cancelled_date.isnull() | (s.cancelled_date > s.start_date))
    )
    per = s.group_by("customer_id").aggregate(
        m0=mrr_on(day_before).sum(), m1=mrr_on(end).sum(), before=paid_once.ifelse(1, 0).max()
    )
    per = per.filter((per.m0 > 0) | (per.m1 > 0))
    delta = per.m1 - per.m0
    kept = (per.m0 > 0) & (per.m1 > 0)
    joined = per.m0 == 0
    agg = (
        per.aggregate(
            start_mrr=per.m0.sum(),
            churned=(per.m1 == 0).ifelse(per.m0, 0.0).sum(),
            expansion=(kept & (delta > 0)).ifelse(delta, 0.0).sum(),
            contraction=(kept & (delta < 0)).ifelse(-delta, 0.0).sum(),
            customers=count_true(per.m0 > 0),
            new=(joined & (per.before == 0)).ifelse(per.m1, 0.0).sum(),
            reactivation=(joined & (per.before == 1)).ifelse(per.m1, 0.0).sum(),
            end_mrr=per.m1.sum(),
            end_accounts=count_true(per.m1 > 0),
            end_mrr_sq=(per.m1 * per.m1).sum(),
        )
        .execute()
        .iloc[0]
    )
    end_mrr, accounts = amount(agg["end_mrr"]), count(agg["end_accounts"])
    return RevenueRetention(
        start_mrr=amount(agg["start_mrr"]),
        churned=amount(agg["churned"]),
        expansion=amount(agg["expansion"]),
        contraction=amount(agg["contraction"]),
        customers=count(agg["customers"]),
        new=amount(agg["new"]),
        reactivation=amount(agg["reactivation"]),
        end_mrr=end_mrr,
        end_accounts=accounts,
        end_mrr_std=_sample_std(amount(agg["end_mrr_sq"]), end_mrr, accounts),
    )


def _sample_std(sum_sq: float, total: float, n: int) -> float:
    """Sample standard deviation (n - 1) from the sum of squares and the sum of n values."""
    if n < 2:
        return float("nan")
    return math.sqrt(max(0.0, (sum_sq - total * total / n) / (n - 1)))


def renewal_counts(scope: Scope) -> RenewalCounts:
    """Subscription terms ending in the period, and those renewed (a later term names them)."""
    s = scope.table("subscriptions")
    due = s.filter(scope.during(s.end_date))
    successors = s.filter(s.renewed_from.notnull()).select(sid=s.renewed_from).distinct()
    flagged = due.left_join(successors, due.subscription_id == successors.sid)
    counts = flagged.aggregate(due=flagged.count(), renewed=count_true(flagged.sid.notnull())).execute()
    row = counts.iloc[0]
    return RenewalCounts(due=count(row["due"]), renewed=count(row["renewed"]))


@dataclass(frozen=True)
class RenewalCohorts:
    """Customers by start month still active at the start of each renewal period
    (:func:`renewal_cohorts`).

    ``survivors``: one row per cohort (index ``cohort``, the month of the customers' first
    subscription), one column per period t = 0, 1, ... (t = 0 is the cohort's size), NaN after
    the last period every member of the cohort has reached by the end of the scope; cohorts seen
    at t = 0 only are left out. ``term_months``: the renewal period, the contracts' usual term.
    ``customers``: the customers active on the scope's last day, by ``customer_id``, with the
    ``renewals`` they have made and their ``mrr`` that day. ``renewals``: subscriptions in the
    data that renew another (``renewed_from`` set), started by the scope's last day.
    """

    survivors: pd.DataFrame
    term_months: int
    customers: pd.DataFrame
    renewals: int


def _add_months(days: pd.Series, months: int) -> pd.Series:
    """Each date ``months`` calendar months later, on the same day or the month's last day."""
    return days + pd.DateOffset(months=months) if months else days


def renewal_cohorts(scope: Scope) -> RenewalCohorts:
    """Renewal cohorts of the subscriptions started by the scope's last day (a customer's renewal
    period k starts ``k x term_months`` months after their first subscription; they count at t = k
    when subscribed, not cancelled, on the first day of every period up to k)."""
    s = scope.table("subscriptions")
    end = scope.last_day
    started = s.filter(s.start_date <= end)
    df = started.select(
        "customer_id", "start_date", "end_date", "cancelled_date", "mrr", "renewed_from"
    ).execute()
    empty = pd.DataFrame(columns=["renewals", "mrr"])
    empty.index.name = "customer_id"
    if df.empty:
        return RenewalCohorts(pd.DataFrame(), 12, empty, 0)
    for col in ("start_date", "end_date", "cancelled_date"):
        df[col] = pd.to_datetime(df[col]).dt.normalize()
    end_ts = pd.Timestamp(end).normalize()
    term = int(max(1, round(float(((df["end_date"] - df["start_date"]).dt.days / 30.4375).median()))))
    first = df.groupby("customer_id")["start_date"].min()
    df["first"] = df["customer_id"].map(first)

    def active_on(day: pd.Series) -> pd.Series:
        ok = (df["start_date"] <= day) & (df["end_date"] > day)
        ok &= df["cancelled_date"].isna() | (df["cancelled_date"] > day)
        return ok.groupby(df["customer_id"]).any().reindex(first.index, fill_value=False)

    cohort = first.dt.to_period("M")
    cohort_end = cohort.dt.end_time.dt.normalize()
    still = pd.Series(True, index=first.index)
    columns = {0: pd.Series(1, index=first.index)}
    k = 1
    while True:
        reached = _add_months(cohort_end, k * term) <= end_ts  # every member of the cohort reached k
        if not reached.any():
            break
        day_k = _add_months(df["first"], k * term)
        still &= active_on(day_k)
        columns[k] = still.astype(int).where(reached)
        k += 1
    per = pd.DataFrame(columns)
    survivors = per.groupby(cohort.astype(str)).sum(min_count=1)
    survivors = survivors[survivors.notna().sum(axis=1) >= 2] if k > 1 else survivors.iloc[0:0]
    survivors.index.name = "cohort"
    now = active_on(pd.Series(end_ts, index=df.index))
    mrr_now = (
        df["mrr"]
        .where((df["start_date"] <= end_ts) & (df["end_date"] > end_ts))
        .where(df["cancelled_date"].isna() | (df["cancelled_date"] > end_ts))
        .groupby(df["customer_id"])
        .sum()
    )
    renewals = pd.Series(0, index=first.index)
    for j in range(1, k + 1):  # anniversaries passed by the last day (each needs every one before)
        renewals += (_add_months(first, j * term) <= end_ts).astype(int)
    customers = pd.DataFrame({"renewals": renewals, "mrr": mrr_now.reindex(first.index)})[now]
    customers.index.name = "customer_id"
    return RenewalCohorts(survivors, term, customers, int(df["renewed_from"].notna().sum()))

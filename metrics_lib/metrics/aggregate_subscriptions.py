"""The subscriptions' period-level aggregations: the MRR movements (start MRR, expansion,
contraction, churned) of the customers active at the period's start (:func:`revenue_retention`),
and the subscription terms ending in the period with those renewed (:func:`renewal_counts`).
They take a :class:`~metrics_lib.metrics.aggregate.Scope` and use the contractual definition of
activity of :mod:`metrics_lib.metrics.aggregate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from metrics_lib.core.engine import count_true
from metrics_lib.metrics.aggregate import Scope, amount, count

__all__ = [
    "RevenueRetention",
    "RenewalCounts",
    "revenue_retention",
    "renewal_counts",
]


@dataclass(frozen=True)
class RevenueRetention:
    """MRR movements of the customers active at the period's start (:func:`revenue_retention`)."""

    start_mrr: float
    churned: float
    expansion: float
    contraction: float
    customers: int


@dataclass(frozen=True)
class RenewalCounts:
    """Subscription terms ending in the period, and those renewed (:func:`renewal_counts`)."""

    due: int
    renewed: int


def revenue_retention(scope: Scope) -> RevenueRetention:
    """MRR movements of the customers active at the start: start MRR, expansion, contraction, churned."""
    s = scope.table("subscriptions")
    day_before = scope.start - timedelta(days=1)
    end = scope.last_day

    def mrr_on(d):
        active = (s.start_date <= d) & (s.end_date > d) & (s.cancelled_date.isnull() | (s.cancelled_date > d))
        return active.ifelse(s.mrr, 0.0)

    per = s.group_by("customer_id").aggregate(m0=mrr_on(day_before).sum(), m1=mrr_on(end).sum())
    per = per.filter(per.m0 > 0)
    delta = per.m1 - per.m0
    agg = (
        per.aggregate(
            start_mrr=per.m0.sum(),
            churned=(per.m1 == 0).ifelse(per.m0, 0.0).sum(),
            expansion=((per.m1 > 0) & (delta > 0)).ifelse(delta, 0.0).sum(),
            contraction=((per.m1 > 0) & (delta < 0)).ifelse(-delta, 0.0).sum(),
            customers=per.count(),
        )
        .execute()
        .iloc[0]
    )
    return RevenueRetention(
        start_mrr=amount(agg["start_mrr"]),
        churned=amount(agg["churned"]),
        expansion=amount(agg["expansion"]),
        contraction=amount(agg["contraction"]),
        customers=count(agg["customers"]),
    )


def renewal_counts(scope: Scope) -> RenewalCounts:
    """Subscription terms ending in the period, and those renewed (a later term names them)."""
    s = scope.table("subscriptions")
    due = s.filter(scope.during(s.end_date))
    successors = s.filter(s.renewed_from.notnull()).select(sid=s.renewed_from).distinct()
    flagged = due.left_join(successors, due.subscription_id == successors.sid)
    counts = flagged.aggregate(due=flagged.count(), renewed=count_true(flagged.sid.notnull())).execute()
    row = counts.iloc[0]
    return RenewalCounts(due=count(row["due"]), renewed=count(row["renewed"]))

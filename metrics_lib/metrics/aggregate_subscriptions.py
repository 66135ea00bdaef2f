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

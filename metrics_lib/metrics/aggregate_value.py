"""The value part's aggregation beyond the orders summary: the spread of gross profit across the
buying customers (:func:`buyer_profit_spread`), which the headline CLV's interval rests on. It
takes a :class:`~metrics_lib.metrics.aggregate.Scope` like the other aggregations.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from metrics_lib.metrics.aggregate import Scope, count, customer_orders

__all__ = ["BuyerProfit", "buyer_profit_spread"]


@dataclass(frozen=True)
class BuyerProfit:
    """Gross profit per buying customer over a window (:func:`buyer_profit_spread`): its mean and
    sample standard deviation (NaN with fewer than two buyers or a missing cost), and the buyers."""

    mean: float
    std: float
    buyers: int


def buyer_profit_spread(scope: Scope) -> BuyerProfit:
    """Each buyer's revenue - cost over the scope's window; mean and standard deviation over buyers.

    Only customers' orders count (guest orders have no buyer to spread over). A return with an
    empty cost gives nothing back at cost, so its cost counts as 0 and is not missing."""
    o = customer_orders(scope.table("orders"))
    p = o.filter(scope.during(o.order_date))
    is_return = p.order_type.notnull() & (p.order_type == "return")
    cost = is_return.ifelse(p.cost.cast("float64").fill_null(0.0), p.cost.cast("float64"))
    per = p.group_by("customer_id").aggregate(
        profit=(p.revenue.cast("float64") - cost).sum(),
        missing=(p.cost.isnull() & ~is_return).any(),
    )
    row = (
        per.aggregate(
            buyers=per.count(),
            mean=per.profit.mean(),
            std=per.profit.std(),
            missing=per.missing.any(),
        )
        .execute()
        .iloc[0]
    )
    n = count(row["buyers"])
    if n < 2 or bool(row["missing"]) or pd.isna(row["std"]):
        return BuyerProfit(float("nan"), float("nan"), n)
    return BuyerProfit(float(row["mean"]), float(row["std"]), n)

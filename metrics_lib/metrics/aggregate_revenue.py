"""Where the period's revenue comes from: by order type (new, repeat, upsell, cross-sell,
return: :func:`revenue_by_order_type`) and by how long the buyer has been a customer
(:func:`revenue_by_customer_age`), whose first-year part is the headline ``new_revenue``
(:func:`new_revenue`). Ibis queries on a :class:`~metrics_lib.metrics.aggregate.Scope`; results
are unrounded.
"""

from __future__ import annotations

import pandas as pd

from metrics_lib.core.engine import count_true
from metrics_lib.metrics.aggregate import Scope, amount, count

__all__ = ["AGE_GROUPS", "FIRST_YEAR_DAYS", "revenue_by_order_type", "revenue_by_customer_age", "new_revenue"]

#: A customer's first year: orders placed less than this many days after the signup date.
FIRST_YEAR_DAYS = 365

#: The groups of :func:`revenue_by_customer_age`, in order: the first two make the new revenue.
AGE_GROUPS = (
    "acquired in the period",
    "first year, acquired earlier",
    "beyond the first year",
    "no customer (guest orders)",
)


#: The order types in the order a reader follows a customer's purchases.
ORDER_TYPES = ("new", "repeat", "upsell", "cross_sell", "return")


def _type_rank(order_type) -> tuple[int, str]:
    known = order_type in ORDER_TYPES
    return (ORDER_TYPES.index(order_type) if known else len(ORDER_TYPES), str(order_type))


def _share(part: float, whole: float) -> float:
    return part / whole if whole else float("nan")


def revenue_by_order_type(scope: Scope) -> pd.DataFrame:
    """Per ``order_type`` of the period's orders (in the order of :data:`ORDER_TYPES`, others
    after them, an empty type last with the label None) and ``all``: orders and buyers (of
    purchases: a return is neither, it counts in ``returns``), returns, revenue (net of returns),
    its share of the period's revenue, gross profit (NaN when a purchase of the group has no cost;
    a return's empty cost is none) and revenue per buyer. Cross-sell and upsell are separate rows."""
    o = scope.table("orders")
    p = o.filter(scope.during(o.order_date))
    is_return = (p.order_type == "return").fill_null(False)
    sums = {
        "orders": count_true(~is_return),
        "buyers": p.customer_id.nunique(where=~is_return),
        "returns": count_true(is_return),
        "revenue": p.revenue.sum(),
        "cost": p.cost.sum(),
        "cost_missing": count_true(p.cost.isnull() & ~is_return),
    }
    df = p.group_by("order_type").aggregate(**sums).execute()
    df = df.iloc[sorted(range(len(df)), key=lambda i: _type_rank(df["order_type"].iloc[i]))]
    total = p.aggregate(**sums).execute().assign(order_type="all")
    rows = count(total["orders"].iloc[0]) + count(total["returns"].iloc[0])
    df = pd.concat([df, total], ignore_index=True) if rows else df
    whole = amount(total["revenue"].iloc[0])
    out = pd.DataFrame(
        {
            "orders": [count(v) for v in df["orders"]],
            "buyers": [count(v) for v in df["buyers"]],
            "returns": [count(v) for v in df["returns"]],
            "revenue": [amount(v) for v in df["revenue"]],
            "share_of_revenue": [_share(amount(v), whole) for v in df["revenue"]],
            "gross_profit": [
                amount(r) - amount(c) if count(m) == 0 else float("nan")
                for r, c, m in zip(df["revenue"], df["cost"], df["cost_missing"])
            ],
            "revenue_per_buyer": [
                _share(amount(r), count(b)) if count(b) else float("nan")
                for r, b in zip(df["revenue"], df["buyers"])
            ],
        },
        index=pd.Index(
            [None if pd.isna(t) else str(t) for t in df["order_type"]], name="order_type", dtype=object
        ),
    )
    return out


def revenue_by_customer_age(scope: Scope) -> pd.DataFrame:
    """The period's revenue by the buyer's age as a customer at each order (:data:`AGE_GROUPS`):
    signed up in the period; in the first year (an order less than :data:`FIRST_YEAR_DAYS` days
    after the signup date) but signed up before the period; beyond the first year; and orders
    without a customer. Per group: revenue (net of returns: every row, a return in the group of
    its customer's age on the day of the return) and its share, orders and buyers (of purchases: a
    return is neither, it counts in ``returns``; guest orders are orders of no buyer), returns,
    revenue per buyer (NaN without a buyer)."""
    o = scope.table("orders")
    p = o.filter(scope.during(o.order_date))
    c = scope.source.table("customers").select("customer_id", "signup_date")
    j = p.left_join(c, p.customer_id == c.customer_id)
    age = j.order_date.date().delta(j.signup_date.date(), unit="day")
    group = (
        j.signup_date.isnull()
        .ifelse(
            3,
            scope.during(j.signup_date).ifelse(0, (age < FIRST_YEAR_DAYS).ifelse(1, 2)),
        )
        .name("group")
    )
    j = j.mutate(group=group)
    is_return = (j.order_type == "return").fill_null(False)
    df = (
        j.group_by("group")
        .aggregate(
            revenue=j.revenue.sum(),
            orders=count_true(~is_return),
            buyers=j.customer_id.nunique(where=~is_return),
            returns=count_true(is_return),
        )
        .execute()
        .set_index("group")
    )
    whole = float(df["revenue"].sum()) if len(df) else 0.0
    rows = {}
    for i, name in enumerate(AGE_GROUPS):
        rev = amount(df["revenue"].get(i)) if i in df.index else 0.0
        buyers = count(df["buyers"].get(i)) if i in df.index and i != 3 else 0
        rows[name] = {
            "revenue": rev,
            "share_of_revenue": _share(rev, whole),
            "orders": count(df["orders"].get(i)) if i in df.index else 0,
            "buyers": buyers,
            "returns": count(df["returns"].get(i)) if i in df.index else 0,
            "revenue_per_buyer": rev / buyers if buyers else float("nan"),
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "customers"
    return out


def new_revenue(scope: Scope) -> float:
    """Revenue of the period from customers in their first year (the first two
    :data:`AGE_GROUPS`)."""
    t = revenue_by_customer_age(scope)
    return float(t["revenue"].iloc[:2].sum())

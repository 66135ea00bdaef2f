"""The period-level aggregation layer: Ibis expressions that turn the contract's tables into the
counts, sums and small samples that the formula functions take.

Everything here runs on the engine (DuckDB by default) and returns plain Python numbers or small
pandas frames, so the same definitions run unchanged on another Ibis backend. Ratios are never
computed here from two integer columns (PostgreSQL would divide them as integers): formulas do
that in Python.

Definitions fixed for every part of the workbook
------------------------------------------------
* A period is ``start <= t < next_start`` (:class:`metrics_lib.core.periods.Period`).
* Active (non-contractual) on day D: a purchase on a day in ``[D - (inactivity_days - 1), D]``.
* Active (contractual) on day D: a subscription with ``start_date <= D < end_date`` that was not
  cancelled on or before D. When the source has subscriptions they define activity and churn,
  otherwise orders do.
* Active at the start of a period = active on the day before it; lost = active at the start and
  not active on the period's last day.

This module holds the shared plumbing (:class:`DateWindow`, :class:`Scope`, :func:`active_flags`,
the scalar helpers) and the core per-period aggregations: activity, orders, monthly revenue, new
customers and survey scores. The aggregations of one part of the workbook live beside it, on the
same :class:`Scope`: :mod:`~metrics_lib.metrics.aggregate_pipeline` (leads and deals),
:mod:`~metrics_lib.metrics.aggregate_service` (tickets),
:mod:`~metrics_lib.metrics.aggregate_subscriptions` (MRR and renewals),
:mod:`~metrics_lib.metrics.aggregate_marketing` (spend, web, campaigns) and
:mod:`~metrics_lib.metrics.aggregate_health` (the health score's components).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any

import pandas as pd

from metrics_lib.core.engine import count_true
from metrics_lib.core.periods import Period, parse_period

__all__ = [
    "DateWindow",
    "Scope",
    "deals_table",
    "ActivityCounts",
    "OrdersSummary",
    "NewCustomers",
    "active_flags",
    "purchases",
    "customer_orders",
    "customer_purchases",
    "customer_transactions",
    "activity_counts",
    "orders_summary",
    "new_customers_summary",
    "survey_scores",
    "monthly_revenue",
]


@dataclass(frozen=True)
class DateWindow:
    """Any run of days ``[start, next_start)``, usable wherever a calendar period is (before/after
    comparisons around a date)."""

    start: date
    next_start: date

    @property
    def end(self) -> date:
        return self.next_start - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.next_start - self.start).days

    @property
    def months(self) -> int:
        return max(1, round(self.days / 30.4375))

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}"

    def contains(self, d) -> bool:
        d = pd.Timestamp(d).date()
        return self.start <= d < self.next_start

    def previous(self) -> DateWindow:
        return DateWindow(self.start - timedelta(days=self.days), self.start)


def _ts(d) -> datetime:
    return datetime(d.year, d.month, d.day)


@dataclass(frozen=True)
class Scope:
    """What an aggregation looks at: a data source, a period and an optional segment."""

    source: Any  # a DataSource: has(), table(), config
    period: Period | DateWindow
    segment: str | None = None

    @classmethod
    def of(cls, source, period, segment=None) -> Scope:
        """The scope of an aggregation, on a source checked whole against the contract, foreign
        keys included (:meth:`~metrics_lib.data.DataSource.check_all`: strict stops, quarantine
        sets the rows aside), and with a segment the data has."""
        window = period if isinstance(period, DateWindow) else parse_period(period)
        source.check_all()
        if segment:
            source.check_segment(segment)
        return cls(source, window, segment or None)

    @property
    def start(self) -> datetime:
        return _ts(self.period.start)

    @property
    def next_start(self) -> datetime:
        return _ts(self.period.next_start)

    @property
    def last_day(self) -> datetime:
        return _ts(self.period.end)

    @property
    def inactivity_days(self) -> int:
        return int(getattr(self.source.config, "inactivity_days", 180))

    @property
    def close_window_days(self) -> int:
        """Days after a lead's creation within which its win counts for the close rate."""
        return int(getattr(self.source.config, "close_window_days", 90))

    def has(self, table: str) -> bool:
        return self.source.has(table)

    @property
    def contractual(self) -> bool:
        """Whether activity is contractual here (docs/metrics.md, "Active customers"): the data
        has subscriptions and, with a segment, the segment's customers hold some. A segment
        whose customers only buy follows the order rule, like a source without subscriptions."""
        if not self.has("subscriptions"):
            return False
        return not self.segment or self.subscriptions_missing is None

    @cached_property
    def subscriptions_missing(self) -> str | None:
        """Why the scope has no subscriptions to measure although the data has some (a segment
        whose customers hold none), or None."""
        if not self.segment or not self.has("subscriptions"):
            return None
        s = self.table("subscriptions")
        return None if count(s.count().execute()) else f"segment {self.segment} has no subscriptions"

    def table(self, name: str):
        """The table, restricted to the segment's customers when a segment is set; deals with
        stale deals closed as lost (:func:`deals_table`)."""
        t = deals_table(self.source) if name == "deals" else self.source.table(name)
        if self.segment and "customer_id" in t.columns and name != "customers":
            customers = self.customers()
            t = t.semi_join(customers.select("customer_id"), "customer_id")
        return t

    def customers(self):
        c = self.source.table("customers")
        if self.segment:
            c = c.filter(c.segment == self.segment)
        return c

    def during(self, col):
        return (col >= self.start) & (col < self.next_start)


def deals_table(source):
    """The whole deals table as every pipeline metric counts it. With ``open_deal_max_age_days``
    (N, ``source.yml``) set, a deal not closed by created + N days (still open, or won or lost
    later than that) is lost on created + N, when that day is on or before the deals' last date
    (their latest created or closed date): its ``outcome`` becomes ``lost``, its ``closed_date``
    that day, and ``closed_as_stale`` is True (False for every other deal, and for every deal
    when N is not set). A deal whose N days have not passed by then is still open. How the deal
    ends after its N days is never read, so a past period's numbers do not change when a newer
    export closes it."""
    import ibis

    t = source.table("deals")
    days = getattr(source.config, "open_deal_max_age_days", None)
    if not days:
        return t.mutate(closed_as_stale=ibis.literal(False))
    last = ibis.greatest(t.created_date.max(), t.closed_date.max())  # over the whole table
    stale_on = (t.created_date + ibis.interval(days=int(days))).cast(t.closed_date.type())
    not_closed_by_then = t.closed_date.isnull() | (t.closed_date > stale_on)
    stale = not_closed_by_then & (stale_on <= last)
    return t.mutate(
        outcome=ibis.ifelse(stale, ibis.literal("lost"), t.outcome),
        closed_date=ibis.ifelse(stale, stale_on, t.closed_date),
        closed_as_stale=stale,
    )


@dataclass(frozen=True)
class ActivityCounts:
    """Customers active at a period's start and end (:func:`activity_counts`).

    ``basis`` is ``"contractual"`` (subscriptions define activity) or ``"non-contractual"``
    (orders within the inactivity window do)."""

    active_at_start: int
    lost: int
    active_at_end: int
    retained: int
    joined_and_left: int
    basis: str


@dataclass(frozen=True)
class OrdersSummary:
    """The period's orders (:func:`orders_summary`). ``cost`` is NaN when a cost is missing,
    ``revenue_std`` (sample standard deviation of the order values) with fewer than two orders.
    ``purchases`` counts purchase days: each buyer's distinct order dates, summed over buyers.

    ``revenue`` is net of returns (every row summed); ``orders``, ``revenue_std`` and the buyer
    counts leave returns out, and the buyer counts and ``purchases`` guest orders too.
    ``gross_sales`` is the revenue of the orders that are not returns, ``returned`` the value
    given back (positive), ``guest_orders`` the orders without a customer and
    ``customer_revenue`` the net revenue of the orders with one (what per-customer values use)."""

    revenue: float
    cost: float
    orders: int
    buyers: int
    repeat_buyers: int
    upsell_buyers: int
    revenue_std: float
    purchases: int
    gross_sales: float = 0.0
    returned: float = 0.0
    returns: int = 0
    guest_orders: int = 0
    customer_revenue: float = 0.0
    typed_orders: int = 0  # orders (not returns) with an order_type


@dataclass(frozen=True)
class NewCustomers:
    """Customers who signed up in the period (:func:`new_customers_summary`); ``by_channel`` has
    one row per ``acquisition_channel`` with its ``new_customers``."""

    new_customers: int
    referred: int
    referrers: int
    by_channel: pd.DataFrame = field(compare=False, repr=False)


def purchases(orders):
    """The orders that are purchases: every row of ``orders`` but returns (``order_type`` return,
    whose negative revenue is a refund). Revenue sums take every row (net of returns); counts of
    orders and purchases take these."""
    return orders.filter(orders.order_type.isnull() | (orders.order_type != "return"))


def customer_orders(orders):
    """The rows of ``orders`` that belong to a customer (guest orders, with an empty
    ``customer_id``, count in revenue and orders, never in a customer metric)."""
    return orders.filter(orders.customer_id.notnull())


def customer_purchases(orders):
    """A customer's purchases: :func:`purchases` of :func:`customer_orders`. Activity, repeat
    buying, cohorts, churn and the CLV models look at these."""
    return purchases(customer_orders(orders))


def customer_transactions(orders):
    """What the CLV summaries take (:func:`metrics_lib.clv.summarize_transactions`): a customer's
    purchases and returns, a return being a row with negative revenue (a return of 0 gave nothing
    back and is left out, so that it makes no purchase day)."""
    o = customer_orders(orders)
    return o.filter((o.order_type != "return").fill_null(True) | (o.revenue < 0))


def _scalar(expr) -> float:
    value = expr.execute()
    return 0.0 if value is None or pd.isna(value) else float(value)


def count(value) -> int:
    """An engine's count as an int (0 when the engine answers NULL)."""
    return int(0 if pd.isna(value) else value)


def amount(value) -> float:
    """An engine's sum as a float (0.0 when the engine answers NULL)."""
    return float(0.0 if pd.isna(value) else value)


def active_flags(scope: Scope, day_a: datetime, day_b: datetime):
    """Per customer: active on day_a, active on day_b (contractual when the scope's customers hold
    subscriptions: :attr:`Scope.contractual`).

    Returns ``(table, basis)``: an Ibis table with columns ``customer_id``, ``at_a`` and ``at_b``
    (booleans), and ``"contractual"`` when subscriptions define activity, else
    ``"non-contractual"`` (a purchase within the inactivity window).

    Only customers who could be active on one of the days get a row (the rest are active on
    neither): the table is filtered to the span the two days can see before it is grouped, so
    the engine groups a quarter's rows rather than the whole history.
    """
    first_day, last_day = min(day_a, day_b), max(day_a, day_b)
    if scope.contractual:
        s = scope.table("subscriptions")
        s = s.filter((s.start_date <= last_day) & (s.end_date > first_day))

        def subscribed_on(d):
            return (
                (s.start_date <= d) & (s.end_date > d) & (s.cancelled_date.isnull() | (s.cancelled_date > d))
            )

        return s.group_by("customer_id").aggregate(
            at_a=subscribed_on(day_a).any(), at_b=subscribed_on(day_b).any()
        ), "contractual"
    o = customer_purchases(scope.table("orders"))
    w = timedelta(days=scope.inactivity_days - 1)
    o = o.filter((o.order_date >= first_day - w) & (o.order_date <= last_day))

    def active_on(d):
        return (o.order_date >= d - w) & (o.order_date <= d)

    return o.group_by("customer_id").aggregate(
        at_a=active_on(day_a).any(), at_b=active_on(day_b).any()
    ), "non-contractual"


def activity_counts(scope: Scope) -> ActivityCounts:
    """Customers active at the start, lost in the period, active at its end, and joiners lost.

    ``joined_and_left``: customers not active at the start whose first activity falls in the
    period and who are not active on its last day (reported apart, never in the churn rate).
    """
    day_before = scope.start - timedelta(days=1)
    flags, basis = active_flags(scope, day_before, scope.last_day)
    agg = (
        flags.aggregate(
            active_at_start=count_true(flags.at_a),
            lost=count_true(flags.at_a & ~flags.at_b),
            active_at_end=count_true(flags.at_b),
            retained=count_true(flags.at_a & flags.at_b),
        )
        .execute()
        .iloc[0]
    )
    if basis == "contractual":
        s = scope.table("subscriptions")
        first = s.group_by("customer_id").aggregate(first=s.start_date.min())
    else:
        o = customer_purchases(scope.table("orders"))
        first = o.group_by("customer_id").aggregate(first=o.order_date.min())
    joined = first.filter(scope.during(first.first)).select("customer_id")
    j = joined.left_join(flags, "customer_id")
    joined_and_left = _scalar(j.filter(~j.at_b.fill_null(False)).count())
    return ActivityCounts(
        active_at_start=count(agg["active_at_start"]),
        lost=count(agg["lost"]),
        active_at_end=count(agg["active_at_end"]),
        retained=count(agg["retained"]),
        joined_and_left=int(joined_and_left),
        basis=basis,
    )


def orders_summary(scope: Scope) -> OrdersSummary:
    """Revenue, cost, orders and buyers of the period; order value moments for the AOV interval."""
    o = scope.table("orders")
    every = o.filter(scope.during(o.order_date))
    is_return = (every.order_type == "return").fill_null(False)
    agg = (
        every.aggregate(
            revenue=every.revenue.sum(),
            cost=every.cost.sum(),
            cost_missing=count_true(every.cost.isnull() & ~is_return),  # a return may leave it empty
            orders=count_true(~is_return),
            returns=count_true(is_return),
            returned=-every.revenue.sum(where=is_return),
            buyers=every.customer_id.nunique(where=~is_return),
            guests=count_true(~is_return & every.customer_id.isnull()),
            typed=count_true(~is_return & every.order_type.notnull()),
            customer_revenue=every.revenue.sum(where=every.customer_id.notnull()),
            revenue_std=every.revenue.std(where=~is_return),  # of purchases: the AOV's interval
        )
        .execute()
        .iloc[0]
    )
    std = agg["revenue_std"]
    c = customer_orders(purchases(every))
    per = c.group_by("customer_id").aggregate(
        days=c.order_date.date().nunique(), upsell=c.order_type.isin(["upsell", "cross_sell"]).any()
    )
    buyers = (
        per.aggregate(
            repeat=count_true(per.days >= 2), upsell=count_true(per.upsell), purchases=per.days.sum()
        )
        .execute()
        .iloc[0]
    )
    repeat = 0 if pd.isna(buyers["repeat"]) else buyers["repeat"]
    upsell_buyers = 0 if pd.isna(buyers["upsell"]) else buyers["upsell"]
    n = count(agg["orders"])
    rows = n + count(agg["returns"])
    returned = amount(agg["returned"])
    return OrdersSummary(
        revenue=amount(agg["revenue"]) if rows else 0.0,
        cost=float(agg["cost"])
        if rows and agg["cost_missing"] == 0 and not pd.isna(agg["cost"])
        else float("nan"),
        orders=n,
        buyers=count(agg["buyers"]),
        repeat_buyers=int(repeat),
        upsell_buyers=int(upsell_buyers),
        revenue_std=float(std) if n > 1 and not pd.isna(std) else float("nan"),
        purchases=count(buyers["purchases"]),
        gross_sales=amount(agg["revenue"]) + returned if rows else 0.0,
        returned=returned + 0.0,  # -0.0 when nothing was returned
        returns=count(agg["returns"]),
        guest_orders=count(agg["guests"]),
        customer_revenue=amount(agg["customer_revenue"]),
        typed_orders=count(agg["typed"]),
    )


def monthly_revenue(scope: Scope, months: int = 12) -> pd.DataFrame:
    """Revenue, gross profit, orders and buyers per month for the ``months`` ending with the period
    (revenue net of returns; returns are not orders, guests not buyers).

    The last month is the one holding the period's last day, so a :class:`DateWindow` that ends
    mid-month gets that month's days up to its end; a calendar period ends on a month's last day.
    """
    o = scope.table("orders")
    end = scope.next_start
    last = scope.period.end
    total = last.year * 12 + last.month - 1 - (months - 1)
    start = datetime(total // 12, total % 12 + 1, 1)
    p = o.filter((o.order_date >= start) & (o.order_date < end))
    m = p.mutate(month=p.order_date.truncate("M"), sale=(p.order_type != "return").fill_null(True))
    df = (
        m.group_by("month")
        .aggregate(
            revenue=m.revenue.sum(),
            cost=m.cost.sum(),
            orders=count_true(m.sale),
            buyers=m.customer_id.nunique(where=m.sale),
        )
        .order_by("month")
        .execute()
    )
    df["gross_profit"] = df["revenue"] - df["cost"]
    return df


def new_customers_summary(scope: Scope) -> NewCustomers:
    """New customers (signup_date in the period), how many came through a referral, and by channel."""
    c = scope.customers()
    new = c.filter(scope.during(c.signup_date))
    counts = (
        new.aggregate(
            n=new.count(), referred=count_true(new.referred_by.notnull()), referrers=new.referred_by.nunique()
        )
        .execute()
        .iloc[0]
    )
    n, referred, referrers = (0 if pd.isna(counts[k]) else counts[k] for k in ("n", "referred", "referrers"))
    by_channel = new.group_by("acquisition_channel").aggregate(new_customers=new.count()).execute()
    return NewCustomers(
        new_customers=int(n), referred=int(referred), referrers=int(referrers), by_channel=by_channel
    )


def survey_scores(scope: Scope, survey: str) -> pd.Series:
    """The scores of one survey (``nps``, ``csat`` or ``ces``) answered in the period."""
    s = scope.table("surveys")
    p = s.filter(scope.during(s.response_date) & (s.survey == survey))
    return p.select("score").execute()["score"].astype(float)

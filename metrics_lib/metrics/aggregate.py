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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

import pandas as pd

from metrics_lib.core.engine import count_true
from metrics_lib.core.periods import Period, parse_period

__all__ = [
    "DateWindow",
    "Scope",
    "ActivityCounts",
    "OrdersSummary",
    "NewCustomers",
    "PipelineSummary",
    "ResolvedTickets",
    "RevenueRetention",
    "RenewalCounts",
    "SpendSummary",
    "WebSummary",
    "active_flags",
    "activity_counts",
    "orders_summary",
    "new_customers_summary",
    "survey_scores",
    "pipeline_summary",
    "won_deals",
    "ticket_times",
    "tickets_as_of",
    "revenue_retention",
    "renewal_counts",
    "spend_summary",
    "acquisition_spend_by_channel",
    "web_summary",
    "campaign_groups",
    "campaign_summary",
    "latest_nps_scores",
    "monthly_revenue",
    "health_components",
    "renewal_record",
    "resolved_tickets",
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

    def table(self, name: str):
        """The table, restricted to the segment's customers when a segment is set."""
        t = self.source.table(name)
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
    ``purchases`` counts purchase days: each buyer's distinct order dates, summed over buyers."""

    revenue: float
    cost: float
    orders: int
    buyers: int
    repeat_buyers: int
    upsell_buyers: int
    revenue_std: float
    purchases: int


@dataclass(frozen=True)
class NewCustomers:
    """Customers who signed up in the period (:func:`new_customers_summary`); ``by_channel`` has
    one row per ``acquisition_channel`` with its ``new_customers``."""

    new_customers: int
    referred: int
    referrers: int
    by_channel: pd.DataFrame = field(compare=False, repr=False)


@dataclass(frozen=True)
class PipelineSummary:
    """Leads and deals of the period (:func:`pipeline_summary`). ``leads_won`` counts the leads
    won within ``close_window_days`` of their creation; ``last_date`` is the deals' latest
    created or closed date (None without deals), by which the close window may not yet have
    passed for every lead (:attr:`close_window_open`)."""

    leads: int
    leads_won: int
    won: int
    lost: int
    open_at_end: int
    close_window_days: int = 90
    last_date: date | None = None
    period_end: date | None = None

    @property
    def close_window_open(self) -> bool:
        """Whether some lead of the period has not had the whole close window by ``last_date``:
        its close rate can still rise as those leads close."""
        if self.last_date is None or self.period_end is None:
            return False
        return self.period_end + timedelta(days=self.close_window_days) > self.last_date


@dataclass(frozen=True)
class ResolvedTickets:
    """Tickets resolved in the period, and those resolved in one contact (:func:`resolved_tickets`)."""

    resolved: int
    resolved_first_contact: int


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


@dataclass(frozen=True)
class SpendSummary:
    """Marketing spend of the period's months by purpose (:func:`spend_summary`). With a segment,
    ``acquisition`` is the segment's share of the acquisition spend
    (:func:`acquisition_spend_by_channel`) and ``company_acquisition`` the whole company's;
    ``retention`` is the company's."""

    acquisition: float
    retention: float
    company_acquisition: float


@dataclass(frozen=True)
class WebSummary:
    """Web engagement totals of the period (:func:`web_summary`); ``days`` counts its rows."""

    sessions: float
    page_views: float
    bounces: float
    total_time_on_page_s: float
    days: int


def _scalar(expr) -> float:
    value = expr.execute()
    return 0.0 if value is None or pd.isna(value) else float(value)


def _count(value) -> int:
    """An engine's count as an int (0 when the engine answers NULL)."""
    return int(0 if pd.isna(value) else value)


def _amount(value) -> float:
    """An engine's sum as a float (0.0 when the engine answers NULL)."""
    return float(0.0 if pd.isna(value) else value)


def active_flags(scope: Scope, day_a: datetime, day_b: datetime):
    """Per customer: active on day_a, active on day_b (contractual when subscriptions exist).

    Returns ``(table, basis)``: an Ibis table with columns ``customer_id``, ``at_a`` and ``at_b``
    (booleans), and ``"contractual"`` when subscriptions define activity, else
    ``"non-contractual"`` (a purchase within the inactivity window).

    Only customers who could be active on one of the days get a row (the rest are active on
    neither): the table is filtered to the span the two days can see before it is grouped, so
    the engine groups a quarter's rows rather than the whole history.
    """
    first_day, last_day = min(day_a, day_b), max(day_a, day_b)
    if scope.has("subscriptions"):
        s = scope.table("subscriptions")
        s = s.filter((s.start_date <= last_day) & (s.end_date > first_day))

        def subscribed_on(d):
            return (
                (s.start_date <= d) & (s.end_date > d) & (s.cancelled_date.isnull() | (s.cancelled_date > d))
            )

        return s.group_by("customer_id").aggregate(
            at_a=subscribed_on(day_a).any(), at_b=subscribed_on(day_b).any()
        ), "contractual"
    o = scope.table("orders")
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
        o = scope.table("orders")
        first = o.group_by("customer_id").aggregate(first=o.order_date.min())
    joined = first.filter(scope.during(first.first)).select("customer_id")
    j = joined.left_join(flags, "customer_id")
    joined_and_left = _scalar(j.filter(~j.at_b.fill_null(False)).count())
    return ActivityCounts(
        active_at_start=_count(agg["active_at_start"]),
        lost=_count(agg["lost"]),
        active_at_end=_count(agg["active_at_end"]),
        retained=_count(agg["retained"]),
        joined_and_left=int(joined_and_left),
        basis=basis,
    )


def orders_summary(scope: Scope) -> OrdersSummary:
    """Revenue, cost, orders and buyers of the period; order value moments for the AOV interval."""
    o = scope.table("orders")
    p = o.filter(scope.during(o.order_date))
    agg = (
        p.aggregate(
            revenue=p.revenue.sum(),
            cost=p.cost.sum(),
            cost_missing=count_true(p.cost.isnull()),
            orders=p.count(),
            buyers=p.customer_id.nunique(),
            revenue_std=p.revenue.std(),
        )
        .execute()
        .iloc[0]
    )
    per = p.group_by("customer_id").aggregate(
        days=p.order_date.date().nunique(), upsell=p.order_type.isin(["upsell", "cross_sell"]).any()
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
    n = int(agg["orders"])
    return OrdersSummary(
        revenue=float(agg["revenue"] or 0.0) if n else 0.0,
        cost=float(agg["cost"])
        if n and agg["cost_missing"] == 0 and not pd.isna(agg["cost"])
        else float("nan"),
        orders=n,
        buyers=int(agg["buyers"] or 0),
        repeat_buyers=int(repeat),
        upsell_buyers=int(upsell_buyers),
        revenue_std=float(agg["revenue_std"]) if n > 1 and not pd.isna(agg["revenue_std"]) else float("nan"),
        purchases=_count(buyers["purchases"]),
    )


def monthly_revenue(scope: Scope, months: int = 12) -> pd.DataFrame:
    """Revenue, gross profit, orders and buyers per month for the ``months`` ending with the period.

    The last month is the one holding the period's last day, so a :class:`DateWindow` that ends
    mid-month gets that month's days up to its end; a calendar period ends on a month's last day.
    """
    o = scope.table("orders")
    end = scope.next_start
    last = scope.period.end
    total = last.year * 12 + last.month - 1 - (months - 1)
    start = datetime(total // 12, total % 12 + 1, 1)
    p = o.filter((o.order_date >= start) & (o.order_date < end))
    m = p.mutate(month=p.order_date.truncate("M"))
    df = (
        m.group_by("month")
        .aggregate(
            revenue=m.revenue.sum(), cost=m.cost.sum(), orders=m.count(), buyers=m.customer_id.nunique()
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


def pipeline_summary(scope: Scope) -> PipelineSummary:
    """Leads created and won, deals closed won / lost, and open opportunities at the period's end.

    ``leads_won`` counts the deals created in the period that were won within
    ``close_window_days`` (``source.yml``, default 90) of their creation: the cohort of the close
    rate. Wins later than that never count, so a past period's close rate does not grow as newer
    data arrives; a period whose last leads have not had the whole window by the deals' latest
    date is still open (:attr:`PipelineSummary.close_window_open`)."""
    d = scope.table("deals")
    created = scope.during(d.created_date)
    closed = scope.during(d.closed_date)
    end = scope.last_day
    window = scope.close_window_days
    open_at_end = (d.created_date <= end) & (d.closed_date.isnull() | (d.closed_date > end))
    cycle = d.closed_date.date().delta(d.created_date.date(), unit="day")
    # the window's end is taken on the whole table, not the segment's: it is the data's as-of date
    whole = scope.source.table("deals")
    dates = whole.aggregate(created=whole.created_date.max(), closed=whole.closed_date.max())
    counts = (
        d.aggregate(  # one pass over the table: one query on a remote engine, not five
            leads=count_true(created),
            leads_won=count_true(created & (d.outcome == "won") & (cycle <= window)),
            won=count_true(closed & (d.outcome == "won")),
            lost=count_true(closed & (d.outcome == "lost")),
            open_at_end=count_true(open_at_end),
        )
        .cross_join(dates)
        .execute()
        .iloc[0]
    )
    stamps = [pd.Timestamp(counts[k]).date() for k in ("created", "closed") if not pd.isna(counts[k])]
    return PipelineSummary(
        leads=_count(counts["leads"]),
        leads_won=_count(counts["leads_won"]),
        won=_count(counts["won"]),
        lost=_count(counts["lost"]),
        open_at_end=_count(counts["open_at_end"]),
        close_window_days=window,
        last_date=max(stamps) if stamps else None,
        period_end=scope.period.end,
    )


def won_deals(scope: Scope) -> pd.DataFrame:
    """Deals won in the period with amount and cycle days (created to closed)."""
    d = scope.table("deals")
    w = d.filter(scope.during(d.closed_date) & (d.outcome == "won"))
    w = w.mutate(cycle_days=w.closed_date.date().delta(w.created_date.date(), unit="day").cast("float64"))
    return w.select("deal_id", "amount", "cycle_days", "owner", "team").execute()


def tickets_as_of(scope: Scope) -> pd.Timestamp | None:
    """The data's last ticket timestamp: the latest ``opened_at``, ``first_response_at`` or
    ``resolved_at`` of the whole tickets table (whatever the segment); None when it has none."""
    t = scope.source.table("tickets")
    row = (
        t.aggregate(
            opened=t.opened_at.max(), responded=t.first_response_at.max(), resolved=t.resolved_at.max()
        )
        .execute()
        .iloc[0]
    )
    stamps = [pd.Timestamp(v) for v in row if not pd.isna(v)]
    return max(stamps) if stamps else None


def ticket_times(scope: Scope) -> pd.DataFrame:
    """Tickets opened in the period: hours to first response and to resolution, contacts, channel,
    and ``unanswered_hours``: for a ticket with no first response, the hours it has waited as of
    the data's last ticket timestamp (:func:`tickets_as_of`); NaN for answered tickets."""
    t = scope.table("tickets")
    p = t.filter(scope.during(t.opened_at))
    df = p.select(
        "ticket_id", "opened_at", "first_response_at", "resolved_at", "contacts_to_resolve", "channel"
    ).execute()
    # the differences are taken here, on the period's rows: engines disagree on sub-second parts
    # (Spark's epoch seconds are whole seconds, DuckDB's and PostgreSQL's are not)
    opened = pd.to_datetime(df.pop("opened_at"))
    for col, out in (("first_response_at", "first_response_hours"), ("resolved_at", "resolution_hours")):
        df[out] = (pd.to_datetime(df.pop(col)) - opened).dt.total_seconds() / 3600.0
    unanswered = df["first_response_hours"].isna()
    as_of = tickets_as_of(scope) if unanswered.any() else None
    waited = (as_of - opened).dt.total_seconds() / 3600.0 if as_of is not None else float("nan")
    df["unanswered_hours"] = pd.Series(waited, index=df.index, dtype="float64").where(unanswered)
    return df[
        [
            "ticket_id",
            "first_response_hours",
            "resolution_hours",
            "contacts_to_resolve",
            "channel",
            "unanswered_hours",
        ]
    ]


def resolved_tickets(scope: Scope) -> ResolvedTickets:
    """Tickets resolved in the period, and those resolved in one contact."""
    t = scope.table("tickets")
    r = t.filter(scope.during(t.resolved_at))
    counts = r.aggregate(
        resolved=r.count(), resolved_first_contact=count_true(r.contacts_to_resolve == 1)
    ).execute()
    row = counts.iloc[0]
    return ResolvedTickets(
        resolved=_count(row["resolved"]), resolved_first_contact=_count(row["resolved_first_contact"])
    )


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
        start_mrr=_amount(agg["start_mrr"]),
        churned=_amount(agg["churned"]),
        expansion=_amount(agg["expansion"]),
        contraction=_amount(agg["contraction"]),
        customers=_count(agg["customers"]),
    )


def renewal_counts(scope: Scope) -> RenewalCounts:
    """Subscription terms ending in the period, and those renewed (a later term names them)."""
    s = scope.table("subscriptions")
    due = s.filter(scope.during(s.end_date))
    successors = s.filter(s.renewed_from.notnull()).select(sid=s.renewed_from).distinct()
    flagged = due.left_join(successors, due.subscription_id == successors.sid)
    counts = flagged.aggregate(due=flagged.count(), renewed=count_true(flagged.sid.notnull())).execute()
    row = counts.iloc[0]
    return RenewalCounts(due=_count(row["due"]), renewed=_count(row["renewed"]))


def spend_summary(scope: Scope) -> SpendSummary:
    """Acquisition and retention spend of the period's months; with a segment, the acquisition
    spend is the segment's share (:func:`acquisition_spend_by_channel`)."""
    m = scope.source.table("marketing_spend")
    p = m.filter(scope.during(m.month))
    df = p.group_by("purpose").aggregate(spend=p.spend.sum()).execute()
    by = dict(zip(df["purpose"], df["spend"]))
    company = float(by.get("acquisition", 0.0))
    acquisition = float(acquisition_spend_by_channel(scope).sum()) if scope.segment else company
    return SpendSummary(
        acquisition=acquisition, retention=float(by.get("retention", 0.0)), company_acquisition=company
    )


def acquisition_spend_by_channel(scope: Scope) -> pd.Series:
    """Acquisition spend of the period's months per ``marketing_spend.channel`` (named ``spend``).

    Spend names no customer, so with a segment each channel's spend is shared by the new customers
    it brought: the segment gets spend x its new customers acquired through the channel
    (``customers.acquisition_channel``) / all new customers acquired through it. The spend of a
    channel through which nobody signed up in the period is shared by the segment's share of all
    new customers. The segments' shares add up to the spend (customers without a segment hold
    the rest), so segment CAC x segment new customers adds up to the company's acquisition spend.
    """
    m = scope.source.table("marketing_spend")
    p = m.filter(scope.during(m.month) & (m.purpose == "acquisition"))
    spend = p.group_by("channel").aggregate(spend=p.spend.sum()).execute().set_index("channel")["spend"]
    if not scope.segment:
        return spend
    c = scope.source.table("customers")
    new = c.filter(scope.during(c.signup_date))
    counts = (
        new.group_by("acquisition_channel")
        .aggregate(everyone=new.count(), segment=count_true(new.segment == scope.segment))
        .execute()
    )
    everyone, segment = _count(counts["everyone"].sum()), _count(counts["segment"].sum())
    overall = segment / everyone if everyone else 0.0
    by = counts.dropna(subset=["acquisition_channel"]).set_index("acquisition_channel")
    shares = [
        _count(by.at[ch, "segment"]) / _count(by.at[ch, "everyone"]) if ch in by.index else overall
        for ch in spend.index
    ]
    return (spend * shares).rename("spend")


def web_summary(scope: Scope) -> WebSummary:
    """Sessions, page views, bounces and time on page summed over the period."""
    w = scope.source.table("web_engagement")
    p = w.filter(scope.during(w.date))
    agg = (
        p.aggregate(
            sessions=p.sessions.sum(),
            page_views=p.page_views.sum(),
            bounces=p.bounces.sum(),
            total_time_on_page_s=p.total_time_on_page_s.sum(),
            days=p.count(),
        )
        .execute()
        .iloc[0]
    )
    return WebSummary(
        sessions=_amount(agg["sessions"]),
        page_views=_amount(agg["page_views"]),
        bounces=_amount(agg["bounces"]),
        total_time_on_page_s=_amount(agg["total_time_on_page_s"]),
        days=_count(agg["days"]),
    )


def campaign_groups(scope: Scope) -> pd.DataFrame:
    """Per campaign starting in the period (or date window) and per group (``treatment``,
    ``control``): the campaign's name, channel, start date and cost, and the group's members,
    conversions, revenue and ``revenue_std``, the sample standard deviation of the members'
    revenue (a member without revenue counts as 0; NaN with one member). A campaign without
    members has one row whose group is missing.

    The one query behind the scorecard's campaign ROI (:func:`campaign_summary`) and the
    campaign lift (:func:`metrics_lib.metrics.campaigns.campaign_lift`).
    """
    c = scope.source.table("campaigns")
    m = scope.table("campaign_members")
    camp = c.filter(scope.during(c.start_date))
    g = m.group_by(["campaign_id", "group"]).aggregate(
        members=m.count(),
        converted=count_true(m.converted),
        revenue=m.revenue.sum(),
        revenue_std=m.revenue.fill_null(0.0).std(),
    )
    df = (
        camp.select("campaign_id", "name", "channel", "start_date", "cost")
        .left_join(g, "campaign_id")
        .execute()
    )
    return df.drop(columns=[c for c in df.columns if c.endswith("_right")])


def campaign_summary(scope: Scope) -> pd.DataFrame:
    """Per campaign starting in the period: cost, and members / conversions / revenue per group,
    with the standard deviation of the members' revenue (``<group>_revenue_std``, NaN where the
    group has fewer than two members)."""
    df = campaign_groups(scope)
    if df.empty:
        return pd.DataFrame(
            columns=[
                "campaign_id",
                "name",
                "channel",
                "start_date",
                "cost",
                "treatment_members",
                "treatment_converted",
                "treatment_revenue",
                "control_members",
                "control_converted",
                "control_revenue",
                "treatment_revenue_std",
                "control_revenue_std",
            ]
        )
    # pivot on the id alone: a campaign without a channel or without members keeps its row (and
    # its cost); a pivot on every detail would drop the rows with an empty one
    details = df[["campaign_id", "name", "channel", "start_date", "cost"]].drop_duplicates("campaign_id")
    groups = df.dropna(subset=["group"]).pivot_table(
        index="campaign_id",
        columns="group",
        values=["members", "converted", "revenue"],
        aggfunc="sum",
        fill_value=0,
    )
    groups.columns = [f"{grp}_{val}" for val, grp in cast(pd.MultiIndex, groups.columns)]
    # a standard deviation is not summed, and a missing one (one member) stays missing, not 0
    stds = df.dropna(subset=["group"]).set_index(["campaign_id", "group"])["revenue_std"].unstack("group")
    groups = groups.join(stds.rename(columns=lambda grp: f"{grp}_revenue_std"))
    wide = details.merge(groups, left_on="campaign_id", right_index=True, how="left")
    wide = wide.sort_values("campaign_id", kind="stable").reset_index(drop=True)
    for grp in ("treatment", "control"):
        for val in ("members", "converted", "revenue"):
            wide[f"{grp}_{val}"] = wide[f"{grp}_{val}"].fillna(0) if f"{grp}_{val}" in wide.columns else 0
        if f"{grp}_revenue_std" not in wide.columns:
            wide[f"{grp}_revenue_std"] = float("nan")
    return wide


def latest_nps_scores(scope: Scope, day: datetime, *, inclusive: bool = True):
    """Per customer, the score of their latest NPS answer on or before ``day`` (strictly before it
    with ``inclusive=False``); answers given on the same latest day are averaged.

    Returns an Ibis table with columns ``customer_id`` and ``score`` (float64); customers who never
    answered by then have no row.
    """
    s = scope.table("surveys")
    n = s.filter((s.survey == "nps") & ((s.response_date <= day) if inclusive else (s.response_date < day)))
    latest = n.group_by("customer_id").aggregate(last=n.response_date.max())
    nl = n.join(latest, [n.customer_id == latest.customer_id, n.response_date == latest.last])
    return nl.group_by(nl.customer_id).aggregate(score=nl.score.cast("float64").mean())


def renewal_record(scope: Scope, day: datetime, *, window_days: int = 365):
    """Per customer, the subscription terms that came due in the ``window_days`` up to ``day``
    and those of them renewed by ``day``.

    A term comes due when its ``end_date`` or its ``cancelled_date`` falls in
    ``(day - window_days, day]``; it is renewed when a later term names it in ``renewed_from``
    and started on or before ``day`` (nothing after ``day`` is looked at). Returns an Ibis table
    with ``customer_id``, ``terms_due`` and ``terms_renewed`` (float64); customers with no term
    due have no row.
    """
    s = scope.table("subscriptions")
    since = day - timedelta(days=window_days)

    def within(col):
        return ((col > since) & (col <= day)).fill_null(False)

    due = s.filter(within(s.end_date) | within(s.cancelled_date))
    successors = (
        s.filter(s.renewed_from.notnull() & (s.start_date <= day)).select(sid=s.renewed_from).distinct()
    )
    flagged = due.left_join(successors, due.subscription_id == successors.sid)
    return flagged.group_by("customer_id").aggregate(
        terms_due=flagged.count().cast("float64"),
        terms_renewed=count_true(flagged.sid.notnull()).cast("float64"),
    )


def health_components(
    scope: Scope, *, support_window_days: int = 90, renewal_window_days: int = 365
) -> pd.DataFrame:
    """Per customer active at the period's end, the health components scaled to [0, 1] (1 = healthy).

    * ``recency``: 1 - days since the last order / inactivity_days (clipped at 0);
    * ``nps``: the latest NPS answer up to the period's end / 10 (0.5, neutral, when never asked);
    * ``support_load``: 1 - tickets opened in the last ``support_window_days`` / 5 (clipped at 0);
    * ``resolution``: share of those tickets resolved in one contact (1 when there were none);
    * ``renewal``: share of the customer's subscription terms due in the last
      ``renewal_window_days`` that were renewed (:func:`renewal_record`); NaN (scored on the
      other components) when none came due.

    A component the data cannot give is not a column: ``nps`` needs surveys, ``support_load`` and
    ``resolution`` tickets, ``renewal`` subscriptions with ``renewed_from``.
    """
    end = scope.last_day
    flags, _ = active_flags(scope, end, end)
    joined = flags.filter(flags.at_b).select("customer_id")
    o = scope.table("orders")
    # an order inactivity_days or more before the end scores 0, as no order does: skip them
    o = o.filter((o.order_date <= end) & (o.order_date > end - timedelta(days=scope.inactivity_days)))
    parts = [o.group_by("customer_id").aggregate(last_order=o.order_date.max())]
    if scope.has("surveys"):
        parts.append(latest_nps_scores(scope, end))
    if scope.has("tickets"):
        t = scope.table("tickets")
        recent = t.filter(
            (t.opened_at > end - timedelta(days=support_window_days)) & (t.opened_at < scope.next_start)
        )
        parts.append(
            recent.group_by("customer_id").aggregate(
                tickets=recent.count().cast("float64"),
                first=count_true(recent.contacts_to_resolve == 1).cast("float64"),
                resolved=count_true(recent.contacts_to_resolve.notnull()).cast("float64"),
            )
        )
    renewals = scope.has("subscriptions") and scope.source.has_values("subscriptions", "renewed_from")
    if renewals:
        parts.append(renewal_record(scope, end, window_days=renewal_window_days))
    for part in parts:  # one query: the engine joins, pandas gets one row per active customer
        joined = joined.left_join(part, "customer_id").drop("customer_id_right")
    frame = joined.execute()
    if frame.empty:
        names = (
            ["recency"]
            + ["nps"] * scope.has("surveys")
            + ["support_load", "resolution"] * scope.has("tickets")
        )
        return pd.DataFrame(columns=["customer_id", *names, *["renewal"] * renewals])
    frame = frame.sort_values("customer_id", kind="stable").reset_index(drop=True)
    days = (pd.Timestamp(end) - pd.to_datetime(frame.pop("last_order"))).dt.days
    out = frame[["customer_id"]].copy()
    out["recency"] = (1 - days / scope.inactivity_days).clip(lower=0, upper=1).fillna(0.0)
    if scope.has("surveys"):
        out["nps"] = (frame["score"] / 10.0).fillna(0.5)
    if scope.has("tickets"):
        tickets = frame["tickets"].fillna(0)
        first, resolved = frame["first"].fillna(0), frame["resolved"].fillna(0)
        out["support_load"] = (1 - tickets / 5.0).clip(lower=0)
        out["resolution"] = (first / resolved.where(resolved > 0)).fillna(1.0)
    if renewals:
        due = frame["terms_due"]
        out["renewal"] = frame["terms_renewed"].fillna(0) / due.where(due > 0)
    return out

"""The catalogue of headline metrics: what each one is, what it needs and how it is computed.

:data:`HEADLINE` maps each metric id to a :class:`Headline` (family, unit, better direction, the
tables it needs, its compute function on a :class:`~metrics_lib.metrics.period_data.PeriodData`,
and the per-unit sample or moments that its change is tested with, when not a rate).
:func:`compare` runs the test of a metric's change between two periods and :func:`safe_compute`
computes a metric with its "undefined" warnings silenced.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

import pandas as pd

from metrics_lib.core.results import (
    NAN,
    ComparisonResult,
    MetricUndefinedWarning,
    NPSResult,
    RateResult,
    ValueResult,
)
from metrics_lib.core.stats import (
    compare_means,
    compare_means_from_moments,
    compare_rates,
    mean_result,
    rate_result,
)
from metrics_lib.formulas import (
    advocacy,
    marketing,
    pipeline,
    retention,
    satisfaction,
    service,
    subscriptions,
    value,
)
from metrics_lib.metrics import aggregate_marketing, aggregate_revenue, aggregate_subscriptions
from metrics_lib.metrics.period_data import PeriodData

__all__ = ["Headline", "HEADLINE", "compare", "safe_compute", "unmet_needs"]


@dataclass(frozen=True)
class Headline:
    """One headline metric. ``needs`` names the tables it reads (``"orders"``) and the optional
    columns it cannot do without (``"orders.order_type"``): when one is missing, empty, or every
    row of a table was set aside, :attr:`compute` gives NaN with that reason
    (:func:`unmet_needs`), never a number made of zeros."""

    id: str
    family: str
    unit: str
    direction: str
    needs: tuple[str, ...]
    compute: Callable[[PeriodData], object]
    sample: Callable[[PeriodData], object] | None = None  # per-unit values for a t-test of the change
    label: str = ""
    moments: Callable[[PeriodData], tuple[float, float, int]] | None = (
        None  # (mean, std, n) for the same test
    )
    # why the period's value is not final yet (it can still change as newer data arrives), or None
    maturity: Callable[[PeriodData], str | None] | None = None
    # the sets of deals it counts (keys of _DEAL_SETS): with a segment, it is undefined when one of
    # them holds deals without a customer (_segment_deals)
    deals: tuple[str, ...] = ()


def _gross_margin(d: PeriodData):
    o = d.orders
    if math.isnan(o.cost):
        return ValueResult(NAN, unit="share", reason="gross margin needs the orders' `cost` column")
    return value.gross_margin(o.revenue, o.cost)


def _undefined_input(unit: str, **inputs) -> ValueResult | None:
    """A NaN result naming the undefined inputs of a composite metric, or None when all are defined."""
    bad = [name for name, x in inputs.items() if x is None or (isinstance(x, float) and math.isnan(x))]
    if not bad:
        return None
    return ValueResult(
        NAN, unit=unit, reason=f"undefined because {', '.join(bad)} is undefined for the period"
    )


def _clv(d: PeriodData):
    """Margin CLV from the twelve months ending with the period, whatever the period's length:
    the seeds' four steps (revenue per purchase x purchases per customer per year = customer
    value; x lifespan 1 / annual churn) x the gross margin of those months. Purchases are purchase
    days (each customer's distinct order dates, as for repeat buyers), customers those who bought
    in the twelve months; the period gives the churn (docs/metrics.md). Revenue is the customers'
    net of their returns: guest orders belong to no customer, so they are left out of CLV."""
    y = d.year_orders
    if y.orders == 0:
        return ValueResult(
            NAN,
            unit="currency",
            reason="no orders in the 12 months ending with the period, so no purchase value or frequency",
        )
    if y.buyers == 0:
        return ValueResult(
            NAN,
            unit="currency",
            reason="the orders of the 12 months ending with the period are all guest orders, so no "
            "customer's purchase value or frequency",
        )
    margin = (
        value.gross_margin(y.revenue, y.cost)
        if not math.isnan(y.cost)
        else ValueResult(NAN, unit="share", reason="an order of the 12 months has no cost")
    )
    missing = _undefined_input("currency", annual_churn_rate=d.annual_churn, gross_margin=margin.value)
    if missing:
        return missing
    if d.annual_churn == 0:
        return ValueResult(
            NAN, unit="currency", reason="no customer was lost, so the lifespan 1 / churn is unbounded"
        )
    if y.customer_revenue < 0:
        return ValueResult(
            NAN,
            unit="currency",
            reason="customers gave back more than they bought in the 12 months, so no purchase value",
        )
    r = value.clv_four_step(
        y.customer_revenue,
        y.purchases,
        y.buyers,
        annual_churn_rate=d.annual_churn,
        gross_margin=margin.value,
        years=d.year_covered,
    )
    components = {
        **r.components,
        "annual_churn_rate": d.annual_churn,
        "revenue": y.customer_revenue,
        "purchases": float(y.purchases),
        "customers": float(y.buyers),
        "orders": float(y.orders),
        "share_of_year_covered": d.year_covered,
    }
    spread = d.year_buyer_profit
    ci = value.margin_clv_interval(
        r.value,
        spread.std,
        spread.buyers,
        d.activity.lost / d.activity.active_at_start,
        d.activity.active_at_start,
        days_measured=d.scope.period.days,
    )
    return ValueResult(r.value, unit="currency", n=y.buyers, ci=ci, components=components)


def _new_revenue(d: PeriodData):
    """Revenue of the period from customers in their first year (docs/metrics.md, `new_revenue`)."""
    if d.orders.orders and d.orders.guest_orders == d.orders.orders:
        return ValueResult(
            NAN,
            unit="currency",
            reason="every order of the period is a guest order (empty customer_id), so no order is known "
            "to come from a customer in their first year",
        )
    new = aggregate_revenue.new_revenue(d.scope)
    total = d.orders.revenue
    return ValueResult(
        new,
        unit="currency",
        components={"revenue": total, "share_of_revenue": new / total if total else NAN},
    )


def _retention_cost(d: PeriodData):
    """Retention spend of the period's months / customers retained (active at the start and at
    the end). The spend is the company's, so a segment has no share of it to divide."""
    if d.scope.segment:
        return ValueResult(
            NAN,
            unit="currency",
            reason="retention spend is not split by segment in `marketing_spend`, so a segment's retention "
            "cost per client is undefined; it is given for all customers only",
        )
    if math.isnan(d.spend.retention):
        return ValueResult(NAN, unit="currency", reason=aggregate_marketing.NO_RETENTION_SPEND)
    return value.retention_cost_per_client(d.spend.retention, d.activity.retained)


def _cac(d: PeriodData):
    if math.isnan(d.spend.acquisition):  # the data records no acquisition spend at all
        return ValueResult(NAN, unit="currency", reason=aggregate_marketing.NO_ACQUISITION_SPEND)
    return value.cac(d.spend.acquisition, d.new.new_customers)


def _ltv_cac(d: PeriodData):
    if math.isnan(d.spend.acquisition):
        return ValueResult(NAN, unit="ratio", reason=aggregate_marketing.NO_ACQUISITION_SPEND)
    ltv, cac = _clv(d).value, _cac(d).value
    return _undefined_input("ratio", clv=ltv, cac=cac) or value.ltv_cac_ratio(ltv, cac)


def _velocity(d: PeriodData):
    w = win_rate(d)
    size = pipeline.average_deal_size(d.won["amount"])
    cycle = pipeline.sales_cycle_length(d.won["cycle_days"])
    missing = _undefined_input(
        "currency per day", win_rate=w.value, average_deal_size=size.value, sales_cycle_days=cycle.value
    )
    if missing:
        return missing
    return pipeline.sales_velocity(d.pipeline.open_at_end, w.value, size.value, cycle.value)


def win_rate(d: PeriodData):
    return pipeline.win_rate(d.pipeline.won, d.pipeline.lost)


def _first_response(d: PeriodData):
    return service.response_time_summary(d.tickets["first_response_hours"].dropna(), target_hours=2.0)


def _first_contact_resolution(d: PeriodData):
    """Resolved in one contact / resolved; undefined when a ticket resolved in the period does not
    say how many contacts it took (its `contacts_to_resolve` is empty): leaving it out would
    measure a subset, counting it either way would make a number up."""
    r = d.resolved
    if r.contacts_unknown:
        return ValueResult(
            NAN,
            unit="share",
            reason=f"{r.contacts_unknown:,} of the {r.resolved:,} tickets resolved in the period leave "
            "`contacts_to_resolve` empty, so whether they were resolved in one contact is unknown; "
            "fill the column for resolved tickets",
        )
    return service.first_contact_resolution(r.resolved_first_contact, r.resolved)


def _no_responses(d: PeriodData) -> ValueResult | None:
    """NaN with the reason when no ticket of the data has a first response: the data then lacks
    response times rather than showing that no ticket was ever answered (None otherwise)."""
    if d.source.has_values("tickets", "first_response_at"):
        return None
    return ValueResult(
        NAN,
        unit="share",
        reason="the tickets' `first_response_at` is empty in every row, so the data has no response times "
        "to tell answered tickets from unanswered ones",
    )


def _renewal_rate(d: PeriodData):
    c = aggregate_subscriptions.renewal_counts(d.scope)
    return retention.renewal_rate(renewed=c.renewed, due=c.due)


def _active_denominator(d: PeriodData) -> int:
    # customers active at the start plus those who bought in the period without being active then
    return max(d.activity.active_at_start + d.new.new_customers, d.orders.buyers)


def _upsell_rate(d: PeriodData):
    o = d.orders
    if o.orders and o.guest_orders == o.orders:  # nobody's upsell can be known
        return RateResult(
            NAN, 0, 0, reason="every order of the period is a guest order, so no customer's upsell is known"
        )
    if o.orders and not o.typed_orders:  # only returns have a type (a mapping's `returns:` rule)
        return RateResult(
            NAN,
            0,
            0,
            reason="no order of the period has an order_type (only returns do), so no upsell is known",
        )
    return pipeline.upsell_rate(o.upsell_buyers, _active_denominator(d))


def unmet_needs(h: Headline, source) -> str | None:
    """Why metric ``h`` cannot be computed from ``source`` at all, or None when it can: a table it
    needs is missing, every row of one was set aside (quarantine), or an optional column it needs
    is missing or empty in the whole table."""
    tables = list(dict.fromkeys(n.partition(".")[0] for n in h.needs))
    missing = [t for t in tables if not source.has(t)]
    if missing:
        return f"needs table(s) {', '.join(missing)}, not in the data source"
    source.check_all()  # rows set aside are known once the source is checked whole
    for t in tables:
        if source.rows(t) == 0 and len(source.rejected.get(t, ())):
            return (
                f"every row of table `{t}` was set aside (quarantine), so there is nothing to compute "
                f"{h.label} from; correct the rows listed as set aside"
            )
    for need in h.needs:
        table, _, column = need.partition(".")
        if column and not source.has_values(table, column):
            whose = f"{table}'" if table.endswith("s") else f"{table}'s"
            return (
                f"{h.label} needs the {whose} `{column}` column ({need}), which the data source lacks "
                "or leaves empty in every row"
            )
    return None


def unmet_in_scope(h: Headline, scope) -> str | None:
    """Why metric ``h`` cannot be computed for the scope's segment although the data can give it:
    it needs subscriptions and the segment's customers hold none (their activity follows the
    order rule, and there is no MRR to measure), or None."""
    if any(n.partition(".")[0] == "subscriptions" for n in h.needs):
        return scope.subscriptions_missing
    return None


#: The sets of deals a pipeline metric counts: the count of them without a customer
#: (:class:`~metrics_lib.metrics.aggregate_pipeline.PipelineSummary`) and what they are.
_DEAL_SETS = {
    "leads": ("no_customer_leads", "deals created in the period (its leads)"),
    "closed": ("no_customer_closed", "deals closed won or lost in the period"),
    "won": ("no_customer_won", "deals won in the period"),
    "open": ("no_customer_open", "deals open at the period's end"),
}


def _segment_deals(h: Headline, d: PeriodData) -> ValueResult | None:
    """NaN with the reason when a segment is set and some deal that metric ``h`` counts has no
    customer (None otherwise): a prospect belongs to no segment, so the segment's value would keep
    the deals that made a customer and drop the prospects lost or still open (on the demo, a
    close rate of 94% for a segment of a company at 38%)."""
    if not h.deals or not d.scope.segment:
        return None
    p = d.pipeline
    counts = [(getattr(p, _DEAL_SETS[k][0]), _DEAL_SETS[k][1]) for k in h.deals]
    found = [(n, what) for n, what in counts if n]
    if not found:
        return None
    which = " and ".join(f"{n:,} of the {what}" for n, what in found)
    verb = "has" if [n for n, _ in found] == [1] else "have"
    return ValueResult(
        NAN,
        unit=h.unit,
        reason=f"deals without a customer (prospects) cannot be assigned to a segment: {which} {verb} no "
        f"`customer_id`, so the {h.label} of segment {d.scope.segment!r} would leave them out; it is given "
        "for all customers only",
    )


def _needs_met(h: Headline):
    """``h.compute`` giving NaN with the reason when the metric's needs are unmet, or when, with
    a segment, deals it counts cannot be assigned to the segment."""

    def run(d: PeriodData):
        reason = unmet_needs(h, d.source)
        if reason is not None:
            return ValueResult(NAN, unit=h.unit, reason=reason)
        return _segment_deals(h, d) or h.compute(d)

    return run


def _h(
    id, family, unit, direction, needs, compute, sample=None, label="", moments=None, maturity=None, deals=()
):
    h = Headline(
        id,
        family,
        unit,
        direction,
        tuple(needs),
        compute,
        sample,
        label or id.replace("_", " "),
        moments,
        maturity,
        tuple(deals),
    )
    return replace(h, compute=_needs_met(h))


def _order_value_moments(d: PeriodData) -> tuple[float, float, int]:
    """Mean, sample standard deviation and number of the period's order values."""
    o = d.orders
    return (o.revenue / o.orders if o.orders else NAN), o.revenue_std, o.orders


# the catalogue reads as a table: one metric, its needs and its computation per entry
# fmt: off
HEADLINE: dict[str, Headline] = {h.id: h for h in [
    _h("revenue", "value", "currency", "higher", ["orders"],
       lambda d: ValueResult(d.orders.revenue, n=d.orders.orders, unit="currency")),
    _h("gross_profit", "value", "currency", "higher", ["orders", "orders.cost"],
       lambda d: value.gross_profit(d.orders.revenue, d.orders.cost) if not math.isnan(d.orders.cost)
       else ValueResult(NAN, unit="currency", reason="gross profit needs the orders' `cost` column")),
    _h("gross_margin", "value", "share", "higher", ["orders", "orders.cost"], _gross_margin),
    _h("orders", "value", "count", "higher", ["orders"],
       lambda d: ValueResult(float(d.orders.orders), n=d.orders.orders, unit="count")),
    _h("average_order_value", "value", "currency", "higher", ["orders"],
       lambda d: value.average_order_value(d.orders.revenue, d.orders.orders,
                                           order_value_std=d.orders.revenue_std),
       moments=_order_value_moments),
    _h("return_rate", "value", "share", "lower", ["orders", "orders.order_type"],
       lambda d: value.return_rate(d.orders.returned, d.orders.gross_sales)),
    _h("active_customers", "retention", "count", "higher", ["customers", "orders"],
       lambda d: ValueResult(float(d.activity.active_at_end), unit="count")),
    _h("new_customers", "retention", "count", "higher", ["customers"],
       lambda d: ValueResult(float(d.new.new_customers), unit="count")),
    _h("repeat_customer_rate", "retention", "share", "higher", ["orders"],
       lambda d: retention.repeat_customer_rate(d.orders.repeat_buyers, d.orders.buyers)),
    _h("churn_rate", "retention", "share", "lower", ["customers", "orders"],
       lambda d: retention.churn_rate(d.activity.active_at_start, d.activity.lost)),
    _h("retention_rate", "retention", "share", "higher", ["customers", "orders"],
       lambda d: retention.retention_rate(d.activity.active_at_start, d.activity.retained)),
    _h("renewal_rate", "retention", "share", "higher", ["subscriptions", "subscriptions.renewed_from"],
       _renewal_rate),
    _h("net_revenue_retention", "retention", "share", "higher", ["subscriptions"],
       lambda d: _nrr(d)),
    _h("gross_revenue_retention", "retention", "share", "higher", ["subscriptions"],
       lambda d: _grr(d)),
    _h("mrr_new", "retention", "currency", "higher", ["subscriptions"], lambda d: _movement(d, "new"),
       label="new MRR"),
    _h("mrr_expansion", "retention", "currency", "higher", ["subscriptions"],
       lambda d: _movement(d, "expansion"), label="expansion MRR"),
    _h("mrr_reactivation", "retention", "currency", "higher", ["subscriptions"],
       lambda d: _movement(d, "reactivation"), label="reactivation MRR"),
    _h("mrr_contraction", "retention", "currency", "lower", ["subscriptions"],
       lambda d: _movement(d, "contraction"), label="contraction MRR"),
    _h("mrr_churned", "retention", "currency", "lower", ["subscriptions"],
       lambda d: _movement(d, "churned"), label="churned MRR"),
    _h("quick_ratio", "retention", "ratio", "higher", ["subscriptions"], lambda d: _quick_ratio(d)),
    _h("arpa", "retention", "currency", "higher", ["subscriptions"], lambda d: _arpa(d),
       label="ARPA (MRR per paying account)",
       moments=lambda d: (_arpa(d).value, d.mrr.end_mrr_std, d.mrr.end_accounts)),
    _h("new_revenue", "value", "currency", "higher", ["customers", "orders"], lambda d: _new_revenue(d),
       label="new revenue (customers in their first year)"),
    _h("retention_cost_per_client", "value", "currency", "lower", ["customers", "orders", "marketing_spend"],
       lambda d: _retention_cost(d)),
    _h("clv", "value", "currency", "higher", ["customers", "orders", "orders.cost"], _clv,
       label="CLV (margin)"),
    _h("cac", "value", "currency", "lower", ["customers", "marketing_spend"], _cac, label="CAC"),
    _h("ltv_cac_ratio", "value", "ratio", "higher", ["customers", "orders", "orders.cost", "marketing_spend"],
       _ltv_cac, label="LTV:CAC ratio"),
    _h("csat", "satisfaction", "share", "higher", ["surveys"],
       lambda d: satisfaction.csat(d.scores("csat"), scale=d.source.config.options.csat_scale), label="CSAT"),
    _h("nps", "satisfaction", "score", "higher", ["surveys"], lambda d: satisfaction.nps(d.scores("nps")),
       label="NPS"),
    _h("ces", "satisfaction", "score", "higher", ["surveys"],
       lambda d: satisfaction.ces(d.scores("ces"), scale=d.source.config.options.ces_scale),
       sample=lambda d: d.scores("ces"), label="CES (customer effort)"),
    _h("close_rate", "pipeline", "share", "higher", ["deals"],
       lambda d: pipeline.close_rate(d.pipeline.leads_won, d.pipeline.leads), maturity=lambda d: _close_window(d),
       deals=["leads"]),
    _h("win_rate", "pipeline", "share", "higher", ["deals"], win_rate, deals=["closed"]),
    _h("average_deal_size", "pipeline", "currency", "higher", ["deals"],
       lambda d: pipeline.average_deal_size(d.won["amount"]), sample=lambda d: d.won["amount"], deals=["won"]),
    _h("sales_cycle_days", "pipeline", "days", "lower", ["deals"],
       lambda d: pipeline.sales_cycle_length(d.won["cycle_days"]), sample=lambda d: d.won["cycle_days"],
       deals=["won"], label="sales cycle (days)"),
    _h("sales_velocity", "pipeline", "currency per day", "higher", ["deals"], _velocity,
       deals=["open", "closed", "won"]),
    _h("upsell_rate", "pipeline", "share", "higher", ["customers", "orders", "orders.order_type"],
       _upsell_rate),
    _h("first_contact_resolution", "service", "share", "higher", ["tickets", "tickets.contacts_to_resolve"],
       _first_contact_resolution),
    _h("first_response_hours_median", "service", "hours", "lower", ["tickets"],
       _first_response,
       sample=lambda d: d.tickets["first_response_hours"].dropna(), label="first response, median (hours)"),
    _h("first_response_hours_mean", "service", "hours", "lower", ["tickets"],
       lambda d: mean_result(d.tickets["first_response_hours"].dropna(), unit="hours",
                             what="mean first response time", low=0.0),
       sample=lambda d: d.tickets["first_response_hours"].dropna(), label="first response, mean (hours)"),
    _h("first_response_within_target", "service", "share", "higher", ["tickets"],
       lambda d: _no_responses(d) or service.response_within_target(
           d.tickets["first_response_hours"], d.tickets["unanswered_hours"], target_hours=2.0),
       label="answered within 2 h"),
    _h("unanswered_ticket_share", "service", "share", "lower", ["tickets"],
       lambda d: _no_responses(d) or service.unanswered_share(
           int(d.tickets["first_response_hours"].isna().sum()), len(d.tickets))),
    _h("referral_rate", "advocacy", "share", "higher", ["customers", "customers.referred_by"],
       lambda d: advocacy.referral_rate(d.new.referred, d.new.new_customers)),
    _h("bounce_rate", "advocacy", "share", "lower", ["web_engagement"],
       lambda d: _bounce(d)),
    _h("campaign_roi", "marketing", "ratio", "higher",
       ["campaigns", "campaign_members", "campaign_members.revenue", "orders", "orders.cost"],
       lambda d: _campaign_roi(d), label="campaign ROI (incremental)"),
    _h("health_score_mean", "health", "score", "higher", ["customers", "orders"], lambda d: _health_mean(d),
       sample=lambda d: _health_scores(d), label="health score, mean"),
    _h("healthy_customer_share", "health", "share", "higher", ["customers", "orders"],
       lambda d: _healthy_share(d), label="healthy customers"),
]}
# fmt: on


def _mrr(d: PeriodData) -> aggregate_subscriptions.RevenueRetention:
    return d.mrr


def _nrr(d):
    m = _mrr(d)
    return retention.net_revenue_retention(m.start_mrr, m.expansion, m.contraction, m.churned)


def _grr(d):
    m = _mrr(d)
    return retention.gross_revenue_retention(m.start_mrr, m.churned, m.contraction)


def _movement(d, which: str) -> ValueResult:
    """One MRR movement of the period (an amount, 0 when nothing moved that way)."""
    m = _mrr(d)
    return ValueResult(getattr(m, which), unit="currency", components={"start_mrr": m.start_mrr})


def _quick_ratio(d):
    m = _mrr(d)
    return subscriptions.quick_ratio(m.new, m.expansion, m.reactivation, m.contraction, m.churned)


def _arpa(d):
    m = _mrr(d)
    return subscriptions.arpa(m.end_mrr, m.end_accounts, mrr_std=m.end_mrr_std)


def _bounce(d):
    w = aggregate_marketing.web_summary(d.scope)
    return advocacy.bounce_rate(int(w.bounces), int(w.sessions))


def _campaign_roi(d):
    """Incremental ROI of the campaigns started in the period: what each treated group earned per
    member beyond its control group, x treated members x gross margin, net of the cost, over the
    cost, with a normal-approximation interval (:func:`marketing.incremental_campaign_roi`)."""
    camps = aggregate_marketing.campaign_summary(d.scope)
    if camps.empty:
        return ValueResult(NAN, unit="ratio", reason="no campaign started in the period")
    margin = _gross_margin(d)
    if not margin.defined:  # revenue is not profit: no ROI rather than one on another definition
        return ValueResult(NAN, unit="ratio", reason=f"campaign ROI needs the gross margin: {margin.reason}")
    blind = camps[(camps["treatment_members"] > 0) & (camps["control_members"] == 0)]
    if len(blind):
        names = ", ".join(f"{n!r}" for n in blind["name"].head(3))
        return ValueResult(
            NAN,
            unit="ratio",
            reason=f"campaign {names} has treated members but no control group, so what it added cannot "
            "be measured; hold out a control group (campaign_members.group = control)",
        )
    return marketing.incremental_campaign_roi(
        camps["treatment_members"],
        camps["treatment_revenue"],
        camps["treatment_revenue_std"],
        camps["control_members"],
        camps["control_revenue"],
        camps["control_revenue_std"],
        float(camps["cost"].sum()),
        gross_margin=margin.value,
    )


def _close_window(d: PeriodData) -> str | None:
    """Why the period's close rate is not final: its last leads have not had the whole close
    window by the deals' latest date (None when every lead has)."""
    p = d.pipeline
    if not p.close_window_open or p.leads == 0 or p.last_date is None:
        return None
    since = p.last_date - timedelta(days=p.close_window_days - 1)
    which = (
        "none of its leads has"
        if since <= d.scope.period.start
        else f"its leads created from {since} on have not"
    )
    return (
        f"the close rate of {d.scope.period.label} is incomplete: {which} had the {p.close_window_days}-day "
        f"close window (close_window_days in source.yml) by the deals' last date, {p.last_date}, so it "
        "can still rise as they close"
    )


def _health_scores(d: PeriodData) -> pd.Series:
    from metrics_lib.formulas import health

    comps = d.health_components
    if comps.empty:
        return pd.Series(dtype=float)
    return health.health_score(comps.drop(columns=["customer_id"]))


def _health_mean(d):
    from metrics_lib.core.stats import mean_result

    return mean_result(_health_scores(d), unit="score", what="health score mean")


def _healthy_share(d):
    from metrics_lib.formulas import health

    return health.healthy_share(_health_scores(d))


def compare(h: Headline, cur, prev, dcur: PeriodData, dprev: PeriodData) -> ComparisonResult | None:
    """The test of the change of metric ``h`` from ``prev`` (computed on ``dprev``) to ``cur`` (on
    ``dcur``), or None when the metric has no test.

    NPS results get the NPS test, rates (and shares with their own counts, such as CSAT) the
    two-proportion test; otherwise the headline's ``sample`` (per-unit values) gives Welch's t-test
    and its ``moments`` (mean, standard deviation, n) the same test from summary statistics.
    """
    if isinstance(cur, NPSResult) and isinstance(prev, NPSResult):
        return satisfaction.compare_nps(cur, prev)
    if isinstance(cur, RateResult) and isinstance(prev, RateResult):
        return compare_rates(cur, prev)
    counted = all(hasattr(r, "numerator") and not isinstance(r, ValueResult) for r in (cur, prev))
    if h.unit == "share" and counted:
        # shares with their own result type (e.g. CSAT): the same two-proportion test
        if cur.denominator > 0 and prev.denominator > 0:
            return compare_rates(
                rate_result(cur.numerator, cur.denominator), rate_result(prev.numerator, prev.denominator)
            )
    if h.sample is not None:
        return compare_means(h.sample(dcur), h.sample(dprev))
    if h.moments is not None:
        return compare_means_from_moments(*h.moments(dcur), *h.moments(dprev))
    return None


def safe_compute(fn, d) -> object:
    """``fn(d)`` (a headline's ``compute`` on a :class:`PeriodData`) with the formulas' "undefined"
    warnings silenced, as the result carries the reason; a division by zero gives a NaN result
    with the reason instead of an exception."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MetricUndefinedWarning)
            return fn(d)
    except ZeroDivisionError as exc:  # pragma: no cover - formulas return NaN instead
        return ValueResult(NAN, reason=f"undefined: {exc}")

"""Demo data: a fictional B2B subscription company with every table of the data contract.

The company sells annual subscriptions billed quarterly, plus one-off add-ons (more seats,
extra modules) and services. It has a sales team working a pipeline, a support desk, customer
surveys, retention campaigns with held-out control groups, referrals, public reviews and web and
social engagement, from 2022-01-01 to 2025-12-31.

On a known date (1 July 2024 by default) the company rolled out a CRM and started a
customer-success programme. The data carries that story, and a few more, as planted effects
(see :class:`DemoEffects`), so that every metric in the workbook has something true to find.

Everything is drawn with vectorised numpy from one ``numpy.random.default_rng(seed)``: the same
seed gives the same tables. Writing one million customers (about ten million orders and twenty
million deal stages) to Parquet takes well under a minute and about 4 GB of memory.

Examples
--------
>>> data = generate_demo_data(300, seed=1)
>>> sorted(data)[:3]
['campaign_members', 'campaigns', 'customers']
>>> len(data["customers"])
300
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from metrics_lib.data.contract import TABLES, arrow_schema

__all__ = ["DemoEffects", "generate_demo_data", "write_demo_data"]

DAY_US = 86_400_000_000
HOUR_US = 3_600_000_000
NEVER = np.iinfo(np.int64).max // 4  # a churn day far beyond any data

SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
REGIONS = ("North America", "EMEA", "APAC", "LATAM")
REGION_SHARES = (0.45, 0.30, 0.15, 0.10)
CHANNELS = ("organic", "paid_search", "events", "outbound", "partner", "referral")
REFERRAL = CHANNELS.index("referral")
CHANNEL_SHARES = (  # rows: SMB, Mid-Market, Enterprise
    (0.30, 0.28, 0.05, 0.10, 0.12, 0.15),
    (0.20, 0.20, 0.12, 0.22, 0.14, 0.12),
    (0.08, 0.07, 0.25, 0.35, 0.15, 0.10),
)
# Acquisition cost per new SMB customer, by channel; larger segments cost more to win.
CHANNEL_CAC = (600.0, 4500.0, 10000.0, 7500.0, 5000.0, 1000.0)
SEGMENT_CAC_FACTOR = (1.0, 2.5, 6.0)

PLANS = ("Starter", "Team", "Business", "Enterprise")
PLAN_MRR_FLOORS = (400.0, 1500.0, 5000.0)  # MRR at which the next plan starts

ORDER_TYPES = ("new", "repeat", "upsell", "cross_sell")
ORDER_COST_FACTOR = (1.0, 1.0, 0.9, 1.25)  # services (cross-sell) cost more to deliver

TEAMS = ("SMB Sales", "Mid-Market Sales", "Enterprise Sales", "Account Management")
TEAM_REPS = (8, 5, 4, 5)
ACCOUNT_MANAGEMENT = 3
DEAL_OUTCOMES = ("won", "lost", "open")
DEAL_TYPES = ("new_business", "upsell", "cross_sell", "renewal")
DEAL_SOURCES = CHANNELS + ("account_management",)
STAGES = ("lead", "qualified", "proposal", "negotiation", "closed")
STAGE_GAP_ALPHA = np.array([1.0, 1.4, 2.4, 1.2])  # proposal is the slow stage
LOST_STAGE_SHARES = (0.35, 0.30, 0.22, 0.13)  # last stage a lost deal reached

SURVEYS = ("nps", "csat", "ces")
TOUCHPOINTS = ("onboarding", "support", "renewal", "relationship")
TICKET_CHANNELS = ("email", "phone", "chat", "portal")
TICKET_CHANNEL_SHARES = (0.40, 0.20, 0.25, 0.15)
REVIEW_PLATFORMS = ("G2", "Capterra", "Trustpilot")
REVIEW_PLATFORM_SHARES = (0.45, 0.35, 0.20)
REVIEW_RATING_SHARES = (  # ratings 1-5 by NPS group: detractor, passive, promoter
    (0.25, 0.30, 0.30, 0.12, 0.03),
    (0.03, 0.07, 0.30, 0.45, 0.15),
    (0.00, 0.02, 0.08, 0.35, 0.55),
)
NPS_SCORE_SHARES = (  # scores 0-10 by NPS group
    (0.03, 0.03, 0.06, 0.10, 0.15, 0.25, 0.38, 0, 0, 0, 0),
    (0, 0, 0, 0, 0, 0, 0, 0.55, 0.45, 0, 0),
    (0, 0, 0, 0, 0, 0, 0, 0, 0, 0.50, 0.50),
)
SOCIAL_PLATFORMS = ("linkedin", "x", "youtube")
SOCIAL_WEIGHTS = (1.0, 0.6, 0.3)

COMMENTS = (  # negative, neutral, positive
    (
        "Took far too long to get an answer.",
        "I had to explain the problem three times.",
        "The last update broke our reports.",
        "Too expensive for what we use.",
        "Nobody seemed to own our problem.",
        "Hard to find anything in the settings.",
    ),
    (
        "Does the job, nothing special.",
        "Fine overall, a few rough edges.",
        "Good product, billing could be clearer.",
        "Okay, but onboarding was slow.",
        "Works for us, would like more integrations.",
        "Average experience this time.",
    ),
    (
        "Quick and friendly help, thank you!",
        "Sorted out on the first try.",
        "Our account manager is great.",
        "Saves our team hours every week.",
        "Easy to set up and easy to use.",
        "Best tool we have bought this year.",
    ),
)
REVIEW_TEXTS = (  # negative, neutral, positive
    (
        "Slow support and frequent outages.",
        "Pricing went up and the features did not.",
        "Onboarding was painful and poorly documented.",
        "Reporting is clunky and exports often fail.",
    ),
    (
        "Solid core product with a learning curve.",
        "Does what it says; the interface feels dated.",
        "Good value for small teams, limited for larger ones.",
        "Decent tool, support is hit and miss.",
    ),
    (
        "Great product and a responsive support team.",
        "Our customer success manager made the roll-out easy.",
        "Reliable, fast and easy for the whole team.",
        "Worth every cent; the integrations are excellent.",
    ),
)

CAMPAIGN_SCHEDULE = (  # month, day, length in days, label
    (3, 1, 45, "Spring upgrade offer"),
    (6, 1, 30, "Mid-year check-in"),
    (10, 15, 60, "Year-end bundle"),
)
CAMPAIGN_CHANNELS = ("email", "webinar", "events", "paid_social")
CAMPAIGN_MEMBER_SHARE = 0.2

#: The Arrow schema of each table, from the data contract (the one place tables are declared).
SCHEMAS: dict[str, pa.Schema] = {name: arrow_schema(spec) for name, spec in TABLES.items()}


# --------------------------------------------------------------------------------------------
# Planted effects
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoEffects:
    """Every effect planted in the demo data, so a reader knows what the metrics should find.

    Fields named ``*_before`` / ``*_after`` switch on ``strategy_change_date``; three-element
    tuples are in the order (SMB, Mid-Market, Enterprise) or (detractor, passive, promoter) as
    named.

    Attributes
    ----------
    strategy_change_date : str
        ISO date on which the company rolled out a CRM and started a customer-success programme.
        Event-level effects (surveys, tickets, deals) switch on the event's own date; monthly
        processes (churn, retention spend) switch in the first month starting on or after it.
    csat_satisfied_before, csat_satisfied_after : float
        Share of CSAT answers (1-5) that are 4 or 5. Default 0.70 -> 0.84: CSAT % rises by about
        14 points.
    ces_mean_before, ces_mean_after : float
        Mean customer-effort answer on 1-7 (7 = very easy) for a ticket solved in one contact;
        every extra contact costs half a point. Default 4.6 -> 5.5.
    nps_promoters_before, nps_detractors_before, nps_promoters_after, nps_detractors_after : float
        Share of customers whose latent sentiment makes them promoters / detractors before and
        after. Each customer has a sentiment ``u ~ U(0, 1)``; below the detractor share they are
        a detractor, above ``1 - promoter share`` a promoter. Their NPS answers are drawn within
        that group. Defaults 0.32 / 0.35 before and 0.47 / 0.18 after: a population NPS of -3
        and +29; because detractors churn first, the NPS measured on surveyed (active) customers
        comes out at about +5 before and +35 after.
    first_response_hours_before, first_response_hours_after : float
        Median hours from a ticket being opened to the first answer (lognormal). Default 6.0 ->
        1.5: the share answered within 2 hours jumps.
    first_contact_resolution_before, first_contact_resolution_after : float
        Probability that a ticket is solved in one contact. Default 0.62 -> 0.78.
    churn_multiplier_after : float
        Multiplier on every customer's monthly churn hazard after the change. Default 0.6.
    nps_churn_multipliers : tuple of 3 floats
        Multiplier on the monthly churn hazard by the customer's current NPS group (detractor,
        passive, promoter). Default (2.5, 1.0, 0.5): detractors churn five times as often as
        promoters.
    segment_monthly_churn : tuple of 3 floats
        Base monthly churn hazard of a passive customer before the change, by segment. Default
        (0.028, 0.016, 0.009). Churn happens either as a mid-term cancellation or as a
        non-renewal at the end of the annual term (see ``mid_term_cancel_share``).
    mid_term_cancel_share : float
        Part of the hazard realised as mid-term cancellations; the rest accumulates over the
        term into the probability of not renewing. Default 0.5.
    sales_cycle_days_before, sales_cycle_days_after : float
        Median days from deal creation to close for new business (lognormal); renewal and
        expansion deals move in proportion. Default 60 -> 40.
    win_probability_before, win_probability_after : float
        Share of closed new-business deals that are won (lost prospects are drawn around each
        won deal at the odds ``(1 - p) / p``). Default 0.22 -> 0.32.
    seasonality : tuple of 12 floats
        Multiplier by calendar month (January first) on signups, add-on purchases and web
        traffic. Default: Q4 high (1.1-1.25), July and August low (0.8).
    annual_signup_growth : float
        Yearly growth of the signup rate. Default 0.35.
    segment_shares : tuple of 3 floats
        Share of customers in each segment. Default (0.70, 0.22, 0.08).
    segment_median_mrr : tuple of 3 floats
        Median monthly recurring revenue at signup by segment (lognormal). Default (250, 1200,
        5000).
    mrr_sigma : float
        Log-scale spread of MRR within a segment. Default 0.7.
    segment_monthly_tickets : tuple of 3 floats
        Support tickets per active customer-month for a passive customer, by segment. Default
        (0.15, 0.4, 1.0).
    nps_ticket_multipliers : tuple of 3 floats
        Multiplier on the ticket rate by NPS group. Default (1.4, 1.0, 0.8).
    segment_monthly_addons : tuple of 3 floats
        Add-on purchases (upsells and cross-sells) per active customer-month in an average
        month, by segment, before seasonality. Default (0.22, 0.4, 0.7).
    renewal_mrr_change : tuple of 3 floats
        Median log change of MRR at renewal by NPS group: detractors contract, promoters expand.
        Default (-0.06, 0.02, 0.08).
    cost_ratio_beta : tuple of 2 floats
        Beta(a, b) parameters of each customer's cost-to-revenue ratio (services cost a quarter
        more, upsells a tenth less). The wide default (1.2, 1.8), mean 0.4, spreads gross
        margins from near zero to above 90 %. With the MRR spread it keeps all four profit x
        loyalty groups well populated (split at the medians of gross profit and tenure, the two
        off-diagonal groups each hold about 15 % of customers: gross profit grows with tenure,
        so they can never reach 25 %).
    campaign_conversion_treatment, campaign_conversion_control : float
        Conversion probability of campaign members who got the campaign and of the held-out
        control group. Default 0.10 vs 0.06: a 4-point lift.
    campaign_control_share : float
        Share of campaign members held out as control. Default 0.10.
    retention_spend_per_customer_before, retention_spend_per_customer_after : float
        Monthly customer-success spend per active customer. Default 10 -> 25: retention spend
        rises after the change.
    referrer_weights : tuple of 3 floats
        Relative chance of being named as referrer by NPS group. Default (0.3, 1.0, 3.0):
        promoters refer most.
    """

    strategy_change_date: str = "2024-07-01"
    csat_satisfied_before: float = 0.70
    csat_satisfied_after: float = 0.84
    ces_mean_before: float = 4.6
    ces_mean_after: float = 5.5
    nps_promoters_before: float = 0.32
    nps_detractors_before: float = 0.35
    nps_promoters_after: float = 0.47
    nps_detractors_after: float = 0.18
    first_response_hours_before: float = 6.0
    first_response_hours_after: float = 1.5
    first_contact_resolution_before: float = 0.62
    first_contact_resolution_after: float = 0.78
    churn_multiplier_after: float = 0.6
    nps_churn_multipliers: tuple[float, float, float] = (2.5, 1.0, 0.5)
    segment_monthly_churn: tuple[float, float, float] = (0.028, 0.016, 0.009)
    mid_term_cancel_share: float = 0.5
    sales_cycle_days_before: float = 60.0
    sales_cycle_days_after: float = 40.0
    win_probability_before: float = 0.22
    win_probability_after: float = 0.32
    seasonality: tuple[float, ...] = (0.95, 0.95, 1.0, 1.0, 1.0, 0.95, 0.8, 0.8, 1.0, 1.1, 1.2, 1.25)
    annual_signup_growth: float = 0.35
    segment_shares: tuple[float, float, float] = (0.70, 0.22, 0.08)
    segment_median_mrr: tuple[float, float, float] = (250.0, 1200.0, 5000.0)
    mrr_sigma: float = 0.7
    segment_monthly_tickets: tuple[float, float, float] = (0.15, 0.4, 1.0)
    nps_ticket_multipliers: tuple[float, float, float] = (1.4, 1.0, 0.8)
    segment_monthly_addons: tuple[float, float, float] = (0.22, 0.4, 0.7)
    renewal_mrr_change: tuple[float, float, float] = (-0.06, 0.02, 0.08)
    cost_ratio_beta: tuple[float, float] = (1.2, 1.8)
    campaign_conversion_treatment: float = 0.10
    campaign_conversion_control: float = 0.06
    campaign_control_share: float = 0.10
    retention_spend_per_customer_before: float = 10.0
    retention_spend_per_customer_after: float = 25.0
    referrer_weights: tuple[float, float, float] = (0.3, 1.0, 3.0)

    def __post_init__(self) -> None:
        try:
            dt.date.fromisoformat(str(self.strategy_change_date))
        except ValueError:
            raise ValueError(
                f"`strategy_change_date` ({self.strategy_change_date!r}) must be an ISO date "
                "such as '2024-07-01'"
            ) from None
        for name, (low, high) in _SCALAR_RANGES.items():
            _check_range(name, getattr(self, name), low, high)
        for era in ("before", "after"):
            total = getattr(self, f"nps_promoters_{era}") + getattr(self, f"nps_detractors_{era}")
            if total > 1:
                raise ValueError(
                    f"`nps_promoters_{era}` + `nps_detractors_{era}` ({total:g}) cannot exceed 1"
                )
        for name, size in _TUPLE_SIZES.items():
            values = tuple(float(v) for v in getattr(self, name))
            if len(values) != size:
                raise ValueError(f"`{name}` needs {size} values, got {len(values)}")
            if name != "renewal_mrr_change" and min(values) < 0:
                raise ValueError(f"`{name}` ({values}) cannot hold negative values")
            object.__setattr__(self, name, values)  # lists become tuples, numbers floats
        if min(self.cost_ratio_beta) <= 0:
            raise ValueError(f"`cost_ratio_beta` ({self.cost_ratio_beta}) must be positive")
        if not np.isclose(sum(self.segment_shares), 1.0):
            raise ValueError(f"`segment_shares` ({self.segment_shares}) must sum to 1")
        if max(self.segment_monthly_churn) * max(self.nps_churn_multipliers) >= 1:
            raise ValueError(
                "`segment_monthly_churn` x `nps_churn_multipliers` must stay below 1 (a monthly hazard)"
            )

    def to_dict(self) -> dict[str, object]:
        """Plain Python values (tuples as lists) for YAML or JSON."""
        return {
            key: list(val) if isinstance(val, tuple) else val
            for key, val in dataclasses.asdict(self).items()
        }


_PROBABILITY = (0.0, 1.0)
_POSITIVE = (1e-9, np.inf)
_SCALAR_RANGES = {
    "csat_satisfied_before": _PROBABILITY,
    "csat_satisfied_after": _PROBABILITY,
    "ces_mean_before": (1.0, 7.0),
    "ces_mean_after": (1.0, 7.0),
    "nps_promoters_before": _PROBABILITY,
    "nps_detractors_before": _PROBABILITY,
    "nps_promoters_after": _PROBABILITY,
    "nps_detractors_after": _PROBABILITY,
    "first_response_hours_before": _POSITIVE,
    "first_response_hours_after": _POSITIVE,
    "first_contact_resolution_before": _PROBABILITY,
    "first_contact_resolution_after": _PROBABILITY,
    "churn_multiplier_after": (0.0, np.inf),
    "mid_term_cancel_share": _PROBABILITY,
    "sales_cycle_days_before": _POSITIVE,
    "sales_cycle_days_after": _POSITIVE,
    "win_probability_before": (0.01, 1.0),
    "win_probability_after": (0.01, 1.0),
    "annual_signup_growth": (-0.99, np.inf),
    "mrr_sigma": (0.0, np.inf),
    "campaign_conversion_treatment": _PROBABILITY,
    "campaign_conversion_control": _PROBABILITY,
    "campaign_control_share": _PROBABILITY,
    "retention_spend_per_customer_before": (0.0, np.inf),
    "retention_spend_per_customer_after": (0.0, np.inf),
}
_TUPLE_SIZES = {
    "nps_churn_multipliers": 3,
    "segment_monthly_churn": 3,
    "seasonality": 12,
    "segment_shares": 3,
    "segment_median_mrr": 3,
    "segment_monthly_tickets": 3,
    "nps_ticket_multipliers": 3,
    "segment_monthly_addons": 3,
    "renewal_mrr_change": 3,
    "cost_ratio_beta": 2,
    "referrer_weights": 3,
}


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not low <= float(value) <= high:
        raise ValueError(f"`{name}` ({value}) must be between {low:g} and {high:g}")


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def generate_demo_data(
    customers: int = 4000,
    *,
    seed: int = 7,
    effects: DemoEffects | None = None,
    start: str = "2022-01-01",
    end: str = "2025-12-31",
) -> dict[str, pd.DataFrame]:
    """Generate every table of the data contract for the fictional company.

    Parameters
    ----------
    customers : int, default 4000
        Number of customers signing up between ``start`` and ``end``. Per customer there come
        about 10 orders, 5.5 deals, 21 deal stages, 4.5 survey answers and 4.3 tickets.
    seed : int, default 7
        Seed of the one random generator; the same seed gives identical tables.
    effects : DemoEffects, optional
        The planted effects; ``DemoEffects()`` when omitted.
    start, end : str
        First and last day of the data (ISO dates, inclusive).

    Returns
    -------
    dict of str to pandas.DataFrame
        One frame per table, keyed by table name, columns in the data-contract order. Dates are
        ``datetime64[ms]`` at midnight, ``*_at`` columns ``datetime64[us]``, ids and labels
        ``str`` with real missing values, ``contacts_to_resolve`` nullable ``Int64``.

    Raises
    ------
    ValueError
        If ``customers`` is not a positive integer or ``end`` is not after ``start``.

    See Also
    --------
    DemoEffects : what the data should show.
    write_demo_data : the same tables written to Parquet.

    Examples
    --------
    >>> data = generate_demo_data(200, seed=3)
    >>> list(data["orders"].columns)
    ['order_id', 'customer_id', 'order_date', 'revenue', 'cost', 'order_type']
    >>> bool((data["orders"]["revenue"] >= 0).all())
    True
    """
    tables = dict(_iter_tables(customers, seed=seed, effects=effects, start=start, end=end))
    return {name: _to_pandas(tables[name]) for name in SCHEMAS}


def write_demo_data(
    out_dir: str | os.PathLike[str],
    *,
    customers: int = 4000,
    seed: int = 7,
    effects: DemoEffects | None = None,
    progress: Callable[[str], object] | None = None,
) -> dict[str, int]:
    """Generate the demo tables and write them as Parquet files plus a ``source.yml``.

    Each table goes to ``<out_dir>/<table>.parquet`` with an explicit Arrow schema (dates as
    ``date32``, ``*_at`` columns as ``timestamp[us]``), written as soon as it is complete so
    large runs stay within memory. ``source.yml`` names the source, the strategy change date, the
    default period (``"2025-Q4"``) and every generator setting, so the data can be rebuilt.

    Parameters
    ----------
    out_dir : path
        Folder for the files; created if missing. Existing files of the same names are replaced.
    customers, seed, effects
        As for :func:`generate_demo_data`.
    progress : callable, optional
        Called with a short message at each step (for a command line to print).

    Returns
    -------
    dict of str to int
        Rows written per table, in data-contract order.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     rows = write_demo_data(folder, customers=100, seed=2)
    >>> rows["customers"]
    100
    """
    effects = effects if effects is not None else DemoEffects()
    say = progress if progress is not None else (lambda message: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}
    for name, table in _iter_tables(customers, seed=seed, effects=effects, progress=say):
        say(f"writing {name}.parquet ({table.num_rows:,} rows)")
        pq.write_table(table, out / f"{name}.parquet")
        rows[name] = table.num_rows
        del table
    source = _source_description(customers, seed, effects)
    (out / "source.yml").write_text(yaml.safe_dump(source, sort_keys=False), encoding="utf-8")
    say(f"wrote {len(rows)} tables and source.yml to {out}")
    return {name: rows[name] for name in SCHEMAS}


def _source_description(customers: int, seed: int, effects: DemoEffects) -> dict[str, object]:
    return {
        "name": "demo",
        "description": (
            "Fictional B2B software company selling annual subscriptions billed quarterly, "
            "add-ons and services, 2022-01-01 to 2025-12-31. A CRM roll-out and a "
            f"customer-success programme start on {effects.strategy_change_date}; generated by "
            "metrics_lib.demo with the settings below."
        ),
        "strategy_change_date": str(effects.strategy_change_date),
        "default_period": "2025-Q4",
        "generator": {"customers": int(customers), "seed": int(seed), **effects.to_dict()},
    }


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    frame = table.to_pandas(date_as_object=False)
    for field in table.schema:
        if pa.types.is_integer(field.type) and field.nullable:
            frame[field.name] = frame[field.name].astype("Int64")
    return frame


# --------------------------------------------------------------------------------------------
# The simulation, step by step
# --------------------------------------------------------------------------------------------


def _iter_tables(
    customers: int,
    *,
    seed: int,
    effects: DemoEffects | None,
    start: str = "2022-01-01",
    end: str = "2025-12-31",
    progress: Callable[[str], object] | None = None,
) -> Iterator[tuple[str, pa.Table]]:
    """Yield ``(name, arrow table)`` as each table is finished (shared state stays in arrays)."""
    if isinstance(customers, bool) or not isinstance(customers, (int, np.integer)) or customers < 1:
        raise ValueError(f"`customers` ({customers!r}) must be a positive integer")
    fx = effects if effects is not None else DemoEffects()
    say = progress if progress is not None else (lambda message: None)
    cal = _Calendar.build(start, end, fx.strategy_change_date)
    rng = np.random.default_rng(seed)

    say(f"drawing {customers:,} customers")
    cust = _draw_customers(rng, int(customers), cal, fx)
    say("simulating subscriptions and churn month by month")
    subs = _simulate_lifetimes(rng, cal, fx, cust)
    _assign_referrers(rng, cust, fx)
    yield "customers", _customers_table(cust)
    yield "subscriptions", _subscriptions_table(cust, subs)

    say("drawing campaigns")
    camp = _draw_campaigns(rng, cal, fx, cust)
    yield "campaigns", _campaigns_table(camp)
    yield "campaign_members", _campaign_members_table(camp, cust)

    say("drawing orders")
    orders = _draw_orders(rng, cal, fx, cust, subs, camp)
    yield "marketing_spend", _marketing_spend_table(rng, cal, fx, cust, subs, camp)
    del camp

    say("drawing the sales pipeline")
    deals = _draw_deals(rng, cal, fx, cust, subs, orders)
    renewed = subs.previous >= 0
    renewals = (subs.customer[renewed], subs.start[renewed])
    del subs
    yield "orders", _orders_table(orders, cust)
    del orders
    yield "deals", _deals_table(deals, cust)
    say("drawing deal stages")
    yield "deal_stages", _deal_stages_table(rng, cal, deals)
    del deals

    say("drawing support tickets")
    tickets = _draw_tickets(rng, cal, fx, cust)
    say("drawing surveys")
    surveys = _draw_surveys(rng, cal, fx, cust, tickets, renewals)
    yield "tickets", _tickets_table(tickets, cust)
    del tickets
    yield "surveys", _surveys_table(surveys, cust)
    del surveys

    say("drawing reviews, web and social engagement")
    yield "reviews", _reviews_table(rng, cal, fx, cust)
    activity = _daily_activity(cal, cust)
    yield "web_engagement", _web_table(rng, cal, fx, activity, cust.n)
    yield "social", _social_table(rng, cal, activity, cust.n)


@dataclass(frozen=True)
class _Calendar:
    """Day numbers (days since 1970-01-01) of the data window and of the strategy change."""

    start: int
    end: int  # inclusive
    change: int
    month0: np.datetime64
    n_months: int

    @classmethod
    def build(cls, start: str, end: str, change: str) -> _Calendar:
        try:
            first = np.datetime64(str(start), "D")
            last = np.datetime64(str(end), "D")
        except ValueError:
            raise ValueError(f"`start` ({start!r}) and `end` ({end!r}) must be ISO dates") from None
        if last <= first:
            raise ValueError(f"`end` ({end}) must be after `start` ({start})")
        month0 = first.astype("datetime64[M]")
        n_months = int((last.astype("datetime64[M]") - month0).astype(int)) + 1
        change_day = int(np.datetime64(str(change), "D").astype(np.int64))
        return cls(int(first.astype(np.int64)), int(last.astype(np.int64)), change_day, month0, n_months)

    @property
    def stop(self) -> int:
        """First day after the data."""
        return self.end + 1

    @property
    def days(self) -> np.ndarray:
        return np.arange(self.start, self.stop, dtype=np.int64)

    def month_start(self, month: np.ndarray | int) -> np.ndarray:
        """First day of month index ``month`` (0 = the month of ``start``)."""
        return (self.month0 + np.asarray(month)).astype("datetime64[D]").astype(np.int64)

    def month_index(self, day: np.ndarray) -> np.ndarray:
        months = np.asarray(day).astype("datetime64[D]").astype("datetime64[M]")
        return (months - self.month0).astype(np.int64)

    def anniversary(self, month: np.ndarray | int, day_of_month: np.ndarray) -> np.ndarray:
        """The day in month index ``month`` with the given day of month, clipped to its end."""
        first = self.month_start(month)
        length = self.month_start(np.asarray(month) + 1) - first
        return first + np.minimum(day_of_month, length) - 1


def _month_of_year(day: np.ndarray) -> np.ndarray:
    """Calendar month 0-11 (0 = January) of day numbers."""
    return np.asarray(day).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12


def _choice_by_group(rng: np.random.Generator, group: np.ndarray, shares) -> np.ndarray:
    """One category per row, drawn from the row of ``shares`` picked by ``group``."""
    cumulative = np.cumsum(np.asarray(shares, dtype=float), axis=1)
    cumulative /= cumulative[:, -1:]
    draw = rng.random(group.size)
    picked = np.zeros(group.size, dtype=np.int64)
    for column in range(cumulative.shape[1] - 1):
        picked += draw >= cumulative[group, column]
    return picked


def _nps_group(sentiment: np.ndarray, after, fx: DemoEffects) -> np.ndarray:
    """0 detractor, 1 passive, 2 promoter, from the latent sentiment and the era."""
    detractors = np.where(after, fx.nps_detractors_after, fx.nps_detractors_before)
    promoters = np.where(after, fx.nps_promoters_after, fx.nps_promoters_before)
    group = np.ones(np.shape(sentiment), dtype=np.int64)
    group[sentiment < detractors] = 0
    group[sentiment >= 1.0 - promoters] = 2
    return group


def _era_value(after: np.ndarray, before_value: float, after_value: float) -> np.ndarray:
    return np.where(after, after_value, before_value)


def _lognormal(rng: np.random.Generator, median, sigma: float, size: int) -> np.ndarray:
    return np.asarray(median) * np.exp(sigma * rng.standard_normal(size))


def _poisson_days(
    rng: np.random.Generator,
    cal: _Calendar,
    begin: np.ndarray,
    until: np.ndarray,
    monthly_rate: np.ndarray,
    month_factor: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson event days for each customer while active, ``begin <= day < until``.

    ``monthly_rate`` is the expected count per full month of activity; ``begin`` must be sorted
    (customers are in signup order), which lets each month look only at those already signed up.
    Returns (customer index, day), ordered by month.
    """
    who, when = [], []
    for month in range(cal.n_months):
        first, after_last = (int(x) for x in cal.month_start(np.array([month, month + 1])))
        low_bound, high_bound = max(first, cal.start), min(after_last, cal.stop)
        signed = int(np.searchsorted(begin, high_bound))
        if signed == 0:
            continue
        low = np.maximum(begin[:signed], low_bound)
        exposure = np.minimum(until[:signed], high_bound) - low
        np.maximum(exposure, 0, out=exposure)
        factor = 1.0 if month_factor is None else month_factor[month]
        count = rng.poisson(monthly_rate[:signed] * exposure * (factor / (after_last - first)))
        unit = np.repeat(np.arange(signed), count)
        who.append(unit)
        when.append(low[unit] + (rng.random(unit.size) * exposure[unit]).astype(np.int64))
    if not who:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(who), np.concatenate(when)


# --- customers ------------------------------------------------------------------------------


@dataclass
class _Customers:
    signup: np.ndarray  # day number, sorted
    day_of_month: np.ndarray
    segment: np.ndarray
    region: np.ndarray
    channel: np.ndarray
    sentiment: np.ndarray
    mrr: np.ndarray  # at signup
    cost_ratio: np.ndarray
    until: np.ndarray | None = None  # churn day (exclusive end of activity), or NEVER
    referrer: np.ndarray | None = None  # index of the referring customer, -1 for none

    @property
    def n(self) -> int:
        return self.signup.size

    def active_until(self, cal: _Calendar) -> np.ndarray:
        return np.minimum(self.until, cal.stop)


def _draw_customers(rng: np.random.Generator, n: int, cal: _Calendar, fx: DemoEffects) -> _Customers:
    days = cal.days
    season = np.asarray(fx.seasonality)[_month_of_year(days)]
    weight = (1.0 + fx.annual_signup_growth) ** ((days - cal.start) / 365.25) * season
    signup = np.sort(days[rng.choice(days.size, size=n, p=weight / weight.sum())])
    segment = rng.choice(len(SEGMENTS), size=n, p=np.asarray(fx.segment_shares) / sum(fx.segment_shares))
    region = rng.choice(len(REGIONS), size=n, p=REGION_SHARES)
    channel = _choice_by_group(rng, segment, CHANNEL_SHARES)
    sentiment = rng.random(n)
    mrr = np.round(_lognormal(rng, np.asarray(fx.segment_median_mrr)[segment], fx.mrr_sigma, n), 2)
    cost_ratio = rng.beta(*fx.cost_ratio_beta, size=n)
    day_of_month = signup.astype("datetime64[D]") - signup.astype("datetime64[D]").astype("datetime64[M]")
    return _Customers(
        signup=signup,
        day_of_month=day_of_month.astype(np.int64) + 1,
        segment=segment,
        region=region,
        channel=channel,
        sentiment=sentiment,
        mrr=mrr,
        cost_ratio=cost_ratio,
    )


def _assign_referrers(rng: np.random.Generator, cust: _Customers, fx: DemoEffects) -> None:
    """Name an earlier customer as referrer of each referral signup, favouring promoters.

    A referrer must have signed up strictly earlier; a few redraws prefer one still active on
    the referral's signup day. Referral signups with no earlier customer become organic.
    """
    referrer = np.full(cust.n, -1, dtype=np.int64)
    earlier = np.searchsorted(cust.signup, cust.signup, side="left")
    orphan = (cust.channel == REFERRAL) & (earlier == 0)
    cust.channel[orphan] = CHANNELS.index("organic")
    weight = np.asarray(fx.referrer_weights)[_nps_group(cust.sentiment, False, fx)] + 1e-12
    cumulative = np.cumsum(weight)
    pending = np.flatnonzero(cust.channel == REFERRAL)
    for attempt in range(8):
        if pending.size == 0:
            break
        pool = earlier[pending]
        pick = np.searchsorted(cumulative, rng.random(pending.size) * cumulative[pool - 1], side="right")
        pick = np.minimum(pick, pool - 1)
        ok = cust.until[pick] > cust.signup[pending]
        if attempt == 7:
            ok[:] = True
        referrer[pending[ok]] = pick[ok]
        pending = pending[~ok]
    cust.referrer = referrer


# --- subscriptions and churn -----------------------------------------------------------------


@dataclass
class _Subscriptions:
    customer: np.ndarray
    start: np.ndarray
    start_month: np.ndarray
    end: np.ndarray
    cancelled: np.ndarray  # day, -1 when not cancelled
    mrr: np.ndarray
    previous: np.ndarray  # row of the renewed subscription, -1 for a first term
    active_at_month_start: np.ndarray  # customers active at the start of each month


def _simulate_lifetimes(
    rng: np.random.Generator, cal: _Calendar, fx: DemoEffects, cust: _Customers
) -> _Subscriptions:
    """Month by month: new terms at signup, renew-or-leave at each anniversary, cancellations.

    The monthly hazard is ``segment base x NPS-group multiplier x after-change multiplier``.
    A share ``mid_term_cancel_share`` of it is a mid-term cancellation in any month that is not
    an anniversary; the rest, accumulated over twelve months, is the chance of not renewing.
    """
    n = cust.n
    first_month = cal.month_index(cust.signup)
    bounds = np.searchsorted(first_month, np.arange(cal.n_months + 1))
    active = np.zeros(n, dtype=bool)
    until = np.full(n, NEVER, dtype=np.int64)
    current = np.full(n, -1, dtype=np.int64)
    current_mrr = cust.mrr.copy()
    base = np.asarray(fx.segment_monthly_churn)[cust.segment]
    group_factor = np.asarray(fx.nps_churn_multipliers)
    mid_share = fx.mid_term_cancel_share
    rows: list[tuple[np.ndarray, ...]] = []
    cancel_rows: list[np.ndarray] = []
    cancel_days: list[np.ndarray] = []
    active_at_start = np.zeros(cal.n_months, dtype=np.int64)
    n_rows = 0

    def open_terms(who, start_day, month, mrr, previous):
        nonlocal n_rows
        rows.append((who, start_day, np.full(who.size, month), mrr, previous))
        current[who] = np.arange(n_rows, n_rows + who.size)
        current_mrr[who] = mrr
        n_rows += who.size

    for month in range(cal.n_months):
        first, after_last = (int(x) for x in cal.month_start(np.array([month, month + 1])))
        after = first >= cal.change
        active_at_start[month] = np.count_nonzero(active)
        joiners = np.arange(bounds[month], bounds[month + 1])
        active[joiners] = True
        open_terms(joiners, cust.signup[joiners], month, cust.mrr[joiners], np.full(joiners.size, -1))

        idx = np.flatnonzero(active)
        age = month - first_month[idx]
        group = _nps_group(cust.sentiment[idx], after, fx)
        hazard = base[idx] * group_factor[group] * (fx.churn_multiplier_after if after else 1.0)

        due = (age > 0) & (age % 12 == 0)
        renewal_day = cal.anniversary(month, cust.day_of_month[idx[due]])
        decided = renewal_day <= cal.end
        who = idx[due][decided]
        renewal_day = renewal_day[decided]
        leave_p = 1.0 - (1.0 - hazard[due][decided] * (1.0 - mid_share)) ** 12
        leave = rng.random(who.size) < leave_p
        until[who[leave]] = renewal_day[leave]
        active[who[leave]] = False
        stay = who[~leave]
        change = np.exp(
            np.asarray(fx.renewal_mrr_change)[group[due][decided][~leave]]
            + 0.12 * rng.standard_normal(stay.size)
        )
        open_terms(stay, renewal_day[~leave], month, np.round(current_mrr[stay] * change, 2), current[stay])

        mid = age % 12 != 0
        quit_ = rng.random(np.count_nonzero(mid)) < hazard[mid] * mid_share
        who = idx[mid][quit_]
        last = min(after_last, cal.stop)
        day = first + (rng.random(who.size) * (last - first)).astype(np.int64)
        until[who] = day
        active[who] = False
        cancel_rows.append(current[who])
        cancel_days.append(day)

    cust.until = until
    who, start, start_month, mrr, previous = (np.concatenate(part) for part in zip(*rows))
    cancelled = np.full(who.size, -1, dtype=np.int64)
    cancelled[np.concatenate(cancel_rows)] = np.concatenate(cancel_days)
    return _sorted_subscriptions(
        cal, cust, who, start, start_month, mrr, previous, cancelled, active_at_start
    )


def _sorted_subscriptions(cal, cust, who, start, start_month, mrr, previous, cancelled, active_at_start):
    """Order terms by start day then customer, renumbering the ``previous`` links."""
    order = np.lexsort((who, start))
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    previous = previous[order]
    previous = np.where(previous >= 0, rank[np.maximum(previous, 0)], -1)
    start_month = start_month[order]
    who = who[order]
    return _Subscriptions(
        customer=who,
        start=start[order],
        start_month=start_month,
        end=cal.anniversary(start_month + 12, cust.day_of_month[who]),
        cancelled=cancelled[order],
        mrr=mrr[order],
        previous=previous,
        active_at_month_start=active_at_start,
    )


# --- campaigns --------------------------------------------------------------------------------


@dataclass
class _Campaigns:
    start: np.ndarray
    end: np.ndarray
    name: list[str]
    channel: np.ndarray
    cost: np.ndarray
    member_campaign: np.ndarray
    member_customer: np.ndarray
    member_control: np.ndarray
    converted: np.ndarray
    conversion_day: np.ndarray
    revenue: np.ndarray


def _draw_campaigns(
    rng: np.random.Generator, cal: _Calendar, fx: DemoEffects, cust: _Customers
) -> _Campaigns:
    """A few retention campaigns a year, each to a random fifth of the customers active at its start.

    A share ``campaign_control_share`` of members is held out. Members convert (buy an upgrade)
    with the treatment or control probability, on a day inside the campaign while still active.
    """
    starts, ends, names = [], [], []
    first_year = int(str(np.datetime64(cal.start, "D"))[:4])
    last_year = int(str(np.datetime64(cal.end, "D"))[:4])
    for year in range(first_year, last_year + 1):
        for month, day, length, label in CAMPAIGN_SCHEDULE:
            begin = int(np.datetime64(f"{year}-{month:02d}-{day:02d}", "D").astype(np.int64))
            if begin >= cal.start and begin + length - 1 <= cal.end:
                starts.append(begin)
                ends.append(begin + length - 1)
                names.append(f"{year} {label}")
    start, end = np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)
    channel = np.arange(start.size) % len(CAMPAIGN_CHANNELS)
    until = cust.active_until(cal)
    parts: list[tuple[np.ndarray, ...]] = []
    cost = np.zeros(start.size)
    for k in range(start.size):
        eligible = np.flatnonzero((cust.signup <= start[k]) & (until > start[k]))
        members = eligible[rng.random(eligible.size) < CAMPAIGN_MEMBER_SHARE]
        control = rng.random(members.size) < fx.campaign_control_share
        p = np.where(control, fx.campaign_conversion_control, fx.campaign_conversion_treatment)
        day = start[k] + rng.integers(0, end[k] - start[k] + 1, size=members.size)
        converted = (rng.random(members.size) < p) & (day < until[members])
        revenue = np.round(_lognormal(rng, 0.8 * cust.mrr[members], 0.5, members.size), 2)
        revenue[~converted] = 0.0
        cost[k] = round(members.size * rng.uniform(8.0, 20.0), 2)
        parts.append((np.full(members.size, k), members, control, converted, day, revenue))
    if parts:
        columns = [np.concatenate(part) for part in zip(*parts)]
    else:
        columns = [np.zeros(0, dtype=np.int64)] * 2 + [np.zeros(0, dtype=bool)] * 2 + [
            np.zeros(0, dtype=np.int64),
            np.zeros(0),
        ]
    return _Campaigns(start, end, names, channel, cost, *columns)


# --- orders -----------------------------------------------------------------------------------


@dataclass
class _Orders:
    customer: np.ndarray
    day: np.ndarray
    revenue: np.ndarray
    cost: np.ndarray
    kind: np.ndarray  # index into ORDER_TYPES
    addon: np.ndarray  # bool: an add-on bought outside campaigns (may get a deal)


def _draw_orders(
    rng: np.random.Generator,
    cal: _Calendar,
    fx: DemoEffects,
    cust: _Customers,
    subs: _Subscriptions,
    camp: _Campaigns,
) -> _Orders:
    """Quarterly invoices of every term, seasonal add-ons, and campaign upgrades, by date."""
    inv_customer, inv_day, inv_revenue, inv_kind = _invoices(cal, cust, subs)
    season = np.asarray(fx.seasonality)[(cal.month0.astype(np.int64) + np.arange(cal.n_months)) % 12]
    rate = np.asarray(fx.segment_monthly_addons)[cust.segment]
    add_customer, add_day = _poisson_days(rng, cal, cust.signup, cust.active_until(cal), rate, season)
    cross = rng.random(add_customer.size) < 0.45
    add_kind = np.where(cross, ORDER_TYPES.index("cross_sell"), ORDER_TYPES.index("upsell"))
    scale = np.where(cross, 0.6, 1.0) * cust.mrr[add_customer]
    add_revenue = np.round(_lognormal(rng, scale, 0.55, add_customer.size), 2)
    won = camp.converted
    customer = np.concatenate([inv_customer, add_customer, camp.member_customer[won]])
    day = np.concatenate([inv_day, add_day, camp.conversion_day[won]])
    revenue = np.concatenate([inv_revenue, add_revenue, camp.revenue[won]])
    kind = np.concatenate([inv_kind, add_kind, np.full(np.count_nonzero(won), ORDER_TYPES.index("upsell"))])
    addon = np.zeros(customer.size, dtype=bool)
    addon[inv_customer.size : inv_customer.size + add_customer.size] = True
    ratio = cust.cost_ratio[customer] * np.asarray(ORDER_COST_FACTOR)[kind]
    ratio *= np.exp(0.08 * rng.standard_normal(customer.size))
    cost = np.round(revenue * np.minimum(ratio, 1.5), 2)
    order = np.lexsort((customer, day))
    return _Orders(
        customer[order], day[order], revenue[order], cost[order], kind[order].astype(np.int8), addon[order]
    )


def _invoices(cal: _Calendar, cust: _Customers, subs: _Subscriptions):
    """Four quarterly invoices per term (3 x MRR each), stopping at a cancellation or the data end."""
    term = np.repeat(np.arange(subs.customer.size), 4)
    quarter = np.tile(np.arange(4), subs.customer.size)
    who = subs.customer[term]
    day = cal.anniversary(subs.start_month[term] + 3 * quarter, cust.day_of_month[who])
    cancelled = subs.cancelled[term]
    keep = (day <= cal.end) & ((cancelled < 0) | (day < cancelled))
    term, quarter, who, day = term[keep], quarter[keep], who[keep], day[keep]
    first = (quarter == 0) & (subs.previous[term] < 0)
    kind = np.where(first, ORDER_TYPES.index("new"), ORDER_TYPES.index("repeat"))
    return who, day, np.round(3.0 * subs.mrr[term], 2), kind


# --- deals ------------------------------------------------------------------------------------


@dataclass
class _Deals:
    customer: np.ndarray  # -1 for prospects
    team: np.ndarray
    owner: np.ndarray  # rep number, 1-based
    source: np.ndarray
    created: np.ndarray
    closed: np.ndarray  # -1 when open
    outcome: np.ndarray
    amount: np.ndarray
    kind: np.ndarray
    stages_reached: np.ndarray  # stages before "closed" the deal went through, 1-4


def _draw_deals(
    rng: np.random.Generator,
    cal: _Calendar,
    fx: DemoEffects,
    cust: _Customers,
    subs: _Subscriptions,
    orders: _Orders,
) -> _Deals:
    """New-business wins (one per customer), lost and open prospects, expansion and renewal deals."""
    skill = np.exp(0.35 * rng.standard_normal(sum(TEAM_REPS)))
    parts = [
        _won_new_business(rng, cal, fx, cust),
        *_prospects(rng, cal, fx, cust),
        *_expansion_deals(rng, cal, fx, cust, orders),
        _renewal_deals(rng, cal, fx, cust, subs),
    ]
    merged = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    merged["owner"] = _assign_owners(rng, merged["team"], merged["outcome"], skill)
    order = np.lexsort((merged["closed"], merged["created"]))
    return _Deals(**{key: value[order] for key, value in merged.items()})


def _cycle_days(rng, cal, fx, close_day, scale: float, size: int) -> np.ndarray:
    """Days from creation to close: lognormal around the era's median, at least one day."""
    median = _era_value(close_day >= cal.change, fx.sales_cycle_days_before, fx.sales_cycle_days_after)
    return np.maximum(1, np.round(_lognormal(rng, scale * median, 0.5, size))).astype(np.int64)


def _deal_part(customer, team, source, created, closed, outcome, amount, kind, reached) -> dict:
    size = np.asarray(created).size

    def full(value):
        return np.broadcast_to(np.asarray(value, dtype=np.int64), (size,)).copy()

    return {
        "customer": full(customer),
        "team": full(team),
        "owner": np.zeros(size, dtype=np.int64),
        "source": full(source),
        "created": full(created),
        "closed": full(closed),
        "outcome": full(outcome),
        "amount": np.round(np.broadcast_to(np.asarray(amount, dtype=float), (size,)), 2),
        "kind": full(kind),
        "stages_reached": full(reached),
    }


def _won_new_business(rng, cal, fx, cust: _Customers) -> dict:
    cycle = _cycle_days(rng, cal, fx, cust.signup, 1.0, cust.n)
    return _deal_part(
        np.arange(cust.n), cust.segment, cust.channel, cust.signup - cycle, cust.signup,
        0, 12.0 * cust.mrr, 0, 4,
    )


def _win_odds(cal, fx, day) -> np.ndarray:
    p = _era_value(day >= cal.change, fx.win_probability_before, fx.win_probability_after)
    return (1.0 - p) / p


def _prospect_amount(rng, fx, segment) -> np.ndarray:
    return 12.0 * _lognormal(rng, np.asarray(fx.segment_median_mrr)[segment], fx.mrr_sigma, segment.size)


def _prospects(rng, cal, fx, cust: _Customers) -> list[dict]:
    """Lost new-business deals around each win, at the era's odds, and the open pipeline at the end.

    Open deals are the ones that would close after the data ends (continuing the last quarter's
    pace for a year) but were already created by then.
    """
    spawn = rng.poisson(_win_odds(cal, fx, cust.signup))
    parent = np.repeat(np.arange(cust.n), spawn)
    closed = cust.signup[parent] + rng.integers(-20, 21, size=parent.size)
    keep = (closed >= cal.start) & (closed <= cal.end)
    parent, closed = parent[keep], closed[keep]
    lost = _lost_prospects(rng, cal, fx, cust, parent, closed)

    recent = np.count_nonzero(cust.signup > cal.end - 90) / 90.0
    horizon = 365
    n_future = rng.poisson(recent * horizon)
    won_close = cal.end + 1 + rng.integers(0, horizon, size=n_future)
    spawn = rng.poisson(_win_odds(cal, fx, won_close))
    lost_close = np.repeat(won_close, spawn) + rng.integers(-20, 21, size=int(spawn.sum()))
    close = np.concatenate([won_close, np.maximum(lost_close, cal.end + 1)])
    would_win = np.arange(close.size) < n_future
    cycle = np.where(would_win, 1.0, 0.8) * _cycle_days(rng, cal, fx, close, 1.0, close.size)
    cycle = np.maximum(1, np.round(cycle)).astype(np.int64)
    created = close - cycle
    keep = created <= cal.end
    created, cycle = created[keep], cycle[keep]
    segment = rng.choice(len(SEGMENTS), size=created.size, p=fx.segment_shares)
    reached = np.clip(1 + (4 * (cal.end - created) // cycle), 1, 4)
    open_ = _deal_part(
        -1, segment, _choice_by_group(rng, segment, CHANNEL_SHARES), created, -1, 2,
        _prospect_amount(rng, fx, segment), 0, reached,
    )
    return [lost, open_]


def _lost_prospects(rng, cal, fx, cust, parent, closed) -> dict:
    segment = cust.segment[parent]
    created = closed - _cycle_days(rng, cal, fx, closed, 0.8, closed.size)
    reached = 1 + rng.choice(4, size=closed.size, p=LOST_STAGE_SHARES)
    return _deal_part(
        -1, segment, _choice_by_group(rng, segment, CHANNEL_SHARES), created, closed, 1,
        _prospect_amount(rng, fx, segment), 0, reached,
    )


def _expansion_deals(rng, cal, fx, cust: _Customers, orders: _Orders) -> list[dict]:
    """A won deal for a fifth of the add-on orders, and a lost attempt before some of them."""
    pick = np.flatnonzero(orders.addon & (rng.random(orders.day.size) < 0.2))
    who, closed = orders.customer[pick], orders.day[pick]
    kind = np.where(orders.kind[pick] == ORDER_TYPES.index("cross_sell"), 2, 1)
    created = np.maximum(closed - _cycle_days(rng, cal, fx, closed, 0.35, pick.size), cust.signup[who])
    won = _deal_part(
        who, ACCOUNT_MANAGEMENT, len(CHANNELS), created, closed, 0, orders.revenue[pick], kind, 4
    )
    tried = rng.random(pick.size) < 0.4
    who, kind = who[tried], kind[tried]
    lost_close = closed[tried] - rng.integers(20, 121, size=who.size)
    keep = lost_close >= np.maximum(cust.signup[who], cal.start)
    who, kind, lost_close = who[keep], kind[keep], lost_close[keep]
    created = np.maximum(lost_close - _cycle_days(rng, cal, fx, lost_close, 0.35, who.size), cust.signup[who])
    lost = _deal_part(
        who, ACCOUNT_MANAGEMENT, len(CHANNELS), created, lost_close, 1,
        _lognormal(rng, cust.mrr[who], 0.5, who.size), kind,
        1 + rng.choice(4, size=who.size, p=LOST_STAGE_SHARES),
    )
    return [won, lost]


def _renewal_deals(rng, cal, fx, cust: _Customers, subs: _Subscriptions) -> dict:
    """Account managers work the renewals of Mid-Market and Enterprise terms.

    Won when the term was renewed, lost when it ran out, open when it ends after the data.
    Terms cancelled mid-way get no renewal deal.
    """
    successor = np.full(subs.customer.size, -1, dtype=np.int64)
    has_previous = subs.previous >= 0
    successor[subs.previous[has_previous]] = np.flatnonzero(has_previous)
    managed = (cust.segment[subs.customer] > 0) & (subs.cancelled < 0)
    lead = _cycle_days(rng, cal, fx, subs.end, 1.0, subs.end.size) + 14
    created = subs.end - lead
    candidate = np.flatnonzero(managed & (created <= cal.end) & (created >= subs.start))
    ended = subs.end[candidate] <= cal.end
    renewed = successor[candidate] >= 0
    outcome = np.where(ended, np.where(renewed, 0, 1), 2)
    amount = 12.0 * np.where(renewed, subs.mrr[np.maximum(successor[candidate], 0)], subs.mrr[candidate])
    reached = np.where(outcome == 0, 4, 1 + rng.choice(4, size=candidate.size, p=LOST_STAGE_SHARES))
    span = np.maximum(cal.end - created[candidate], 0)
    reached = np.where(outcome == 2, np.clip(1 + 4 * span // lead[candidate], 1, 4), reached)
    return _deal_part(
        subs.customer[candidate], ACCOUNT_MANAGEMENT, len(CHANNELS), created[candidate],
        np.where(outcome == 2, -1, subs.end[candidate]), outcome, amount, 3, reached,
    )


def _assign_owners(rng, team: np.ndarray, outcome: np.ndarray, skill: np.ndarray) -> np.ndarray:
    """Reps within each team: wins spread evenly, losses more often to the less skilled reps."""
    first_rep = np.concatenate([[0], np.cumsum(TEAM_REPS)[:-1]])
    shares = np.zeros((2 * len(TEAMS), max(TEAM_REPS)))
    for t, size in enumerate(TEAM_REPS):
        shares[2 * t, :size] = 1.0
        shares[2 * t + 1, :size] = 1.0 / skill[first_rep[t] : first_rep[t] + size]
    row = 2 * team + (outcome == 1)
    return 1 + first_rep[team] + _choice_by_group(rng, row, shares)


# --- support ----------------------------------------------------------------------------------


@dataclass
class _Tickets:
    customer: np.ndarray
    opened: np.ndarray  # microseconds
    first_response: np.ndarray
    resolved: np.ndarray  # -1 when unresolved at the end of the data
    contacts: np.ndarray  # 0 when unresolved
    channel: np.ndarray


def _draw_tickets(rng: np.random.Generator, cal: _Calendar, fx: DemoEffects, cust: _Customers) -> _Tickets:
    """Tickets while active, more for larger segments and for detractors; faster after the change.

    First response and resolution times are lognormal; a ticket needs one contact with the
    era's first-contact-resolution probability, otherwise two or more, each adding time.
    Tickets still unresolved at the end of the data have no resolution.
    """
    boost = np.asarray(fx.nps_ticket_multipliers)
    rate = np.asarray(fx.segment_monthly_tickets)[cust.segment] * boost.max()
    who, day = _poisson_days(rng, cal, cust.signup, cust.active_until(cal), rate)
    group = _nps_group(cust.sentiment[who], day >= cal.change, fx)
    keep = rng.random(who.size) < boost[group] / boost.max()
    who, day = who[keep], day[keep]
    hour = np.clip(rng.normal(13.0, 3.5, size=who.size), 0.0, 23.99)
    opened = day * DAY_US + (hour * HOUR_US).astype(np.int64)
    after = opened >= cal.change * DAY_US
    median = _era_value(after, fx.first_response_hours_before, fx.first_response_hours_after)
    wait = np.clip(_lognormal(rng, median, 0.9, who.size), 1 / 60, 72.0)
    first_response = opened + (wait * HOUR_US).astype(np.int64)
    one_contact = rng.random(who.size) < _era_value(
        after, fx.first_contact_resolution_before, fx.first_contact_resolution_after
    )
    contacts = np.where(one_contact, 1, 1 + rng.geometric(0.55, size=who.size))
    work = np.clip(_lognormal(rng, 2.5 * contacts**1.3, 1.0, who.size), 0.05, 480.0)
    resolved = first_response + (work * HOUR_US).astype(np.int64)
    data_end = cal.stop * DAY_US - 1
    answered = first_response <= data_end
    channel = rng.choice(len(TICKET_CHANNELS), size=who.size, p=TICKET_CHANNEL_SHARES)
    open_ = resolved > data_end
    resolved[open_], contacts[open_] = -1, 0
    order = np.lexsort((who, opened))
    order = order[answered[order]]
    return _Tickets(
        who[order], opened[order], first_response[order], resolved[order], contacts[order], channel[order]
    )


# --- surveys ----------------------------------------------------------------------------------


@dataclass
class _Surveys:
    customer: np.ndarray
    day: np.ndarray
    survey: np.ndarray
    score: np.ndarray
    touchpoint: np.ndarray
    comment: np.ndarray  # index into the flat comment list, -1 for none


def _draw_surveys(
    rng: np.random.Generator,
    cal: _Calendar,
    fx: DemoEffects,
    cust: _Customers,
    tickets: _Tickets,
    renewals: tuple[np.ndarray, np.ndarray],
) -> _Surveys:
    """NPS (relationship, onboarding, renewal), CSAT (support, onboarding) and CES (support).

    Only customers active on the response day answer. NPS answers fall in the customer's
    current group; CSAT is satisfied (4-5) with the era's probability; CES is centred on the
    era's mean, half a point lower per extra contact.
    """
    until = cust.active_until(cal)
    nps_who, nps_day, nps_touch = _nps_occasions(rng, cal, cust, until, renewals)
    group = _nps_group(cust.sentiment[nps_who], nps_day >= cal.change, fx)
    nps_score = _choice_by_group(rng, group, NPS_SCORE_SHARES)

    resolved = np.flatnonzero(tickets.resolved >= 0)
    csat_t = resolved[rng.random(resolved.size) < 0.35]
    ces_t = resolved[rng.random(resolved.size) < 0.2]
    onboard = np.flatnonzero(rng.random(cust.n) < 0.25)
    csat_who = np.concatenate([tickets.customer[csat_t], onboard])
    onboard_day = cust.signup[onboard] + rng.integers(7, 22, size=onboard.size)
    csat_day = np.concatenate([_after_ticket(rng, tickets, csat_t), onboard_day])
    csat_touch = np.concatenate([np.full(csat_t.size, 1), np.full(onboard.size, 0)])
    happy = rng.random(csat_who.size) < _era_value(
        csat_day >= cal.change, fx.csat_satisfied_before, fx.csat_satisfied_after
    )
    csat_score = np.where(
        happy,
        4 + (rng.random(csat_who.size) < 0.5),
        1 + rng.choice(3, size=csat_who.size, p=(0.15, 0.30, 0.55)),
    )

    ces_who, ces_day = tickets.customer[ces_t], _after_ticket(rng, tickets, ces_t)
    mean = _era_value(ces_day >= cal.change, fx.ces_mean_before, fx.ces_mean_after)
    mean = mean - 0.5 * (tickets.contacts[ces_t] - 1)
    ces_score = np.clip(np.round(rng.normal(mean, 1.2)), 1, 7).astype(np.int64)

    who = np.concatenate([nps_who, csat_who, ces_who])
    day = np.concatenate([nps_day, csat_day, ces_day])
    survey = np.repeat([0, 1, 2], [nps_who.size, csat_who.size, ces_who.size])
    score = np.concatenate([nps_score, csat_score, ces_score]).astype(np.int64)
    touch = np.concatenate([nps_touch, csat_touch, np.full(ces_who.size, 1)])
    keep = (day >= cust.signup[who]) & (day < until[who])
    who, day, survey, score, touch = who[keep], day[keep], survey[keep], score[keep], touch[keep]
    comment = _comments(rng, survey, score)
    order = np.lexsort((survey, who, day))
    return _Surveys(who[order], day[order], survey[order], score[order], touch[order], comment[order])


def _nps_occasions(rng, cal, cust: _Customers, until, renewals):
    """Relationship surveys about yearly, onboarding after 30-60 days, and after a third of renewals."""
    rel_who, rel_day = _poisson_days(rng, cal, cust.signup, until, np.full(cust.n, 0.09))
    onboard = np.flatnonzero(rng.random(cust.n) < 0.35)
    on_day = cust.signup[onboard] + rng.integers(30, 61, size=onboard.size)
    asked = rng.random(renewals[0].size) < 0.3
    renewed = renewals[0][asked]
    anniversary = renewals[1][asked] + rng.integers(0, 15, size=renewed.size)
    who = np.concatenate([rel_who, onboard, renewed])
    day = np.concatenate([rel_day, on_day, anniversary])
    touch = np.repeat([3, 0, 2], [rel_who.size, onboard.size, renewed.size])
    return who, day, touch


def _after_ticket(rng, tickets: _Tickets, rows: np.ndarray) -> np.ndarray:
    """Survey day: up to three days after the ticket was resolved."""
    at = tickets.resolved[rows] + (rng.random(rows.size) * 3 * DAY_US).astype(np.int64)
    return at // DAY_US


def _comments(rng, survey: np.ndarray, score: np.ndarray) -> np.ndarray:
    """About one answer in eight carries a short comment matching its tone."""
    neutral_from = np.array([7, 3, 4])[survey]
    positive_from = np.array([9, 4, 6])[survey]
    tone = (score >= neutral_from).astype(np.int64) + (score >= positive_from)
    per_tone = len(COMMENTS[0])
    pick = tone * per_tone + rng.integers(0, per_tone, size=score.size)
    return np.where(rng.random(score.size) < 0.12, pick, -1)


# --- marketing spend ----------------------------------------------------------------------------


def _marketing_spend_table(
    rng: np.random.Generator,
    cal: _Calendar,
    fx: DemoEffects,
    cust: _Customers,
    subs: _Subscriptions,
    camp: _Campaigns,
) -> pa.Table:
    """Acquisition spend per channel and month (cost per signup x signups, with noise),
    monthly retention spend per active customer (higher after the change), and campaign costs.
    """
    n_ch, n_m = len(CHANNELS), cal.n_months
    cac = np.asarray(CHANNEL_CAC)[cust.channel] * np.asarray(SEGMENT_CAC_FACTOR)[cust.segment]
    key = cal.month_index(cust.signup) * n_ch + cust.channel
    acquisition = np.bincount(key, weights=cac, minlength=n_m * n_ch)
    acquisition *= np.exp(0.1 * rng.standard_normal(acquisition.size))
    month = cal.month_start(np.arange(n_m))
    after = month >= cal.change
    per_customer = _era_value(
        after, fx.retention_spend_per_customer_before, fx.retention_spend_per_customer_after
    )
    active = np.maximum(subs.active_at_month_start, 0)
    success = active * per_customer * np.exp(0.05 * rng.standard_normal(n_m))
    email = active * 1.5 * np.exp(0.05 * rng.standard_normal(n_m))

    channel_names = list(CHANNELS) + ["customer_success", "email"] + list(CAMPAIGN_CHANNELS)
    campaign_month = cal.month_start(cal.month_index(camp.start))
    month_col = np.concatenate([np.repeat(month, n_ch), month, month, campaign_month])
    channel_col = np.concatenate([
        np.tile(np.arange(n_ch), n_m), np.full(n_m, n_ch), np.full(n_m, n_ch + 1), n_ch + 2 + camp.channel,
    ])
    campaign_col = np.concatenate([np.full(n_ch * n_m + 2 * n_m, -1), np.arange(camp.start.size)])
    retention = np.arange(campaign_col.size) >= n_ch * n_m  # everything after the acquisition rows
    spend = np.round(np.concatenate([acquisition, success, email, camp.cost]), 2)
    order = np.lexsort((campaign_col, channel_col, retention, month_col))
    return pa.Table.from_arrays(
        [
            _dates(month_col[order]),
            _labels(channel_names, channel_col[order]),
            _ids("CMP", campaign_col[order] + 1, 3, valid=campaign_col[order] >= 0),
            _labels(["acquisition", "retention"], retention[order].astype(np.int64)),
            pa.array(spend[order], pa.float64()),
        ],
        schema=SCHEMAS["marketing_spend"],
    )


# --- reviews, web, social ---------------------------------------------------------------------


def _reviews_table(rng: np.random.Generator, cal: _Calendar, fx: DemoEffects, cust: _Customers) -> pa.Table:
    """Reviews from active customers (a third posted anonymously); ratings follow the NPS group."""
    who, day = _poisson_days(rng, cal, cust.signup, cust.active_until(cal), np.full(cust.n, 0.006))
    group = _nps_group(cust.sentiment[who], day >= cal.change, fx)
    rating = 1 + _choice_by_group(rng, group, REVIEW_RATING_SHARES)
    platform = rng.choice(len(REVIEW_PLATFORMS), size=who.size, p=REVIEW_PLATFORM_SHARES)
    named = rng.random(who.size) >= 0.35
    tone = (rating >= 3).astype(np.int64) + (rating >= 4)
    per_tone = len(REVIEW_TEXTS[0])
    text = tone * per_tone + rng.integers(0, per_tone, size=who.size)
    has_text = rng.random(who.size) >= 0.4
    order = np.lexsort((who, day))
    n = who.size
    return pa.Table.from_arrays(
        [
            _ids("V", np.arange(1, n + 1), _width(n, 7)),
            _ids("C", who[order] + 1, _width(cust.n, 7), valid=named[order]),
            _dates(day[order]),
            _labels(REVIEW_PLATFORMS, platform[order]),
            pa.array(rating[order].astype(np.int64)),
            _labels(_flat(REVIEW_TEXTS), text[order], valid=has_text[order]),
        ],
        schema=SCHEMAS["reviews"],
    )


def _daily_activity(cal: _Calendar, cust: _Customers) -> dict[str, np.ndarray]:
    """Active customers and signups on each day of the data."""
    n_days = cal.stop - cal.start
    joined = np.bincount(cust.signup - cal.start, minlength=n_days)
    left_day = cust.until[cust.until <= cal.end] - cal.start
    left = np.bincount(left_day, minlength=n_days)
    return {"day": cal.days, "active": np.cumsum(joined) - np.cumsum(left), "signups": joined}


def _web_table(rng, cal: _Calendar, fx: DemoEffects, activity: dict, n_customers: int) -> pa.Table:
    """Daily sessions from customers, prospects (following signups) and a base, with weekday dips."""
    day = activity["day"]
    weekday = (day + 3) % 7  # 0 = Monday
    week_factor = np.where(weekday >= 5, 0.58, 1.1)
    season = np.asarray(fx.seasonality)[_month_of_year(day)]
    signups = np.convolve(activity["signups"], np.ones(28) / 28, mode="same")
    mean = (0.25 * activity["active"] + 30.0 * signups + 0.01 * n_customers) * week_factor * season
    sessions = rng.poisson(mean * np.exp(0.08 * rng.standard_normal(day.size)))
    bounce_rate = np.clip(0.44 + 0.03 * rng.standard_normal(day.size), 0.2, 0.7)
    bounces = rng.binomial(sessions, bounce_rate)
    engaged = sessions - bounces
    page_views = sessions + engaged + rng.poisson(1.6 * engaged)
    time_on_page = np.round(page_views * 52.0 * np.exp(0.1 * rng.standard_normal(day.size)), 1)
    return pa.Table.from_arrays(
        [
            _dates(day),
            pa.array(sessions.astype(np.int64)),
            pa.array(page_views.astype(np.int64)),
            pa.array(bounces.astype(np.int64)),
            pa.array(time_on_page.astype(float)),
        ],
        schema=SCHEMAS["web_engagement"],
    )


def _social_table(rng, cal: _Calendar, activity: dict, n_customers: int) -> pa.Table:
    """Daily follows, shares and likes per platform, growing with the customer base."""
    n_days, n_p = activity["day"].size, len(SOCIAL_PLATFORMS)
    reach = 0.004 * activity["active"] + 0.001 * n_customers + 2.0 * activity["signups"]
    mean = np.outer(reach, SOCIAL_WEIGHTS).ravel()
    day = np.repeat(activity["day"], n_p)
    platform = np.tile(np.arange(n_p), n_days)
    follows = rng.poisson(mean)
    shares = rng.poisson(1.8 * mean)
    likes = rng.poisson(9.0 * mean)
    return pa.Table.from_arrays(
        [
            _dates(day),
            _labels(SOCIAL_PLATFORMS, platform),
            pa.array(follows.astype(np.int64)),
            pa.array(shares.astype(np.int64)),
            pa.array(likes.astype(np.int64)),
        ],
        schema=SCHEMAS["social"],
    )


# --------------------------------------------------------------------------------------------
# Arrow tables
# --------------------------------------------------------------------------------------------


def _flat(texts_by_tone) -> list[str]:
    return [text for texts in texts_by_tone for text in texts]


def _width(count: int, minimum: int) -> int:
    """Digits needed for ids up to ``count``, at least ``minimum``."""
    return max(minimum, len(str(int(count))))


def _ids(prefix: str, numbers: np.ndarray, width: int, *, valid: np.ndarray | None = None) -> pa.Array:
    """Fixed-width ids such as ``C0000042``, built as Arrow buffers without Python strings."""
    numbers = np.asarray(numbers, dtype=np.int64)
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    step = head.size + width
    chars = np.empty((numbers.size, step), dtype=np.uint8)
    chars[:, : head.size] = head
    rest = np.maximum(numbers, 0)
    for position in range(step - 1, head.size - 1, -1):
        chars[:, position] = 48 + rest % 10
        rest //= 10
    total = numbers.size * step
    offsets = np.arange(0, total + 1, step, dtype=np.int64 if total >= 2**31 else np.int32)
    kind = pa.large_string() if offsets.dtype == np.int64 else pa.string()
    bitmap, nulls = None, 0
    if valid is not None:
        bitmap = pa.py_buffer(np.packbits(np.asarray(valid, dtype=bool), bitorder="little"))
        nulls = int(numbers.size - np.count_nonzero(valid))
    buffers = [bitmap, pa.py_buffer(offsets), pa.py_buffer(chars)]
    array = pa.Array.from_buffers(kind, numbers.size, buffers, nulls)
    return array.cast(pa.string()) if kind != pa.string() else array


def _labels(names, codes: np.ndarray, *, valid: np.ndarray | None = None) -> pa.Array:
    """Strings picked from ``names`` by integer code; null where ``valid`` is False."""
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    index = pa.array(np.asarray(codes, dtype=np.int32), mask=mask)
    return pa.array(list(names), pa.string()).take(index)


def _dates(days: np.ndarray, *, valid: np.ndarray | None = None) -> pa.Array:
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    return pa.array(np.asarray(days, dtype=np.int32), pa.int32(), mask=mask).cast(pa.date32())


def _timestamps(micros: np.ndarray, *, valid: np.ndarray | None = None) -> pa.Array:
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    return pa.array(np.asarray(micros, dtype=np.int64), pa.int64(), mask=mask).cast(pa.timestamp("us"))


def _customer_ids(cust: _Customers, rows: np.ndarray, *, valid: np.ndarray | None = None) -> pa.Array:
    return _ids("C", np.asarray(rows) + 1, _width(cust.n, 7), valid=valid)


def _customers_table(cust: _Customers) -> pa.Table:
    return pa.Table.from_arrays(
        [
            _customer_ids(cust, np.arange(cust.n)),
            _dates(cust.signup),
            _labels(CHANNELS, cust.channel),
            _labels(SEGMENTS, cust.segment),
            _labels(REGIONS, cust.region),
            _customer_ids(cust, cust.referrer, valid=cust.referrer >= 0),
        ],
        schema=SCHEMAS["customers"],
    )


def _subscriptions_table(cust: _Customers, subs: _Subscriptions) -> pa.Table:
    n = subs.customer.size
    width = _width(n, 8)
    plan = np.searchsorted(np.asarray(PLAN_MRR_FLOORS), subs.mrr, side="right")
    return pa.Table.from_arrays(
        [
            _ids("S", np.arange(1, n + 1), width),
            _customer_ids(cust, subs.customer),
            _labels(PLANS, plan),
            _dates(subs.start),
            _dates(subs.end),
            _dates(subs.cancelled, valid=subs.cancelled >= 0),
            pa.array(subs.mrr, pa.float64()),
            _ids("S", subs.previous + 1, width, valid=subs.previous >= 0),
        ],
        schema=SCHEMAS["subscriptions"],
    )


def _campaigns_table(camp: _Campaigns) -> pa.Table:
    n = camp.start.size
    return pa.Table.from_arrays(
        [
            _ids("CMP", np.arange(1, n + 1), 3),
            pa.array(camp.name, pa.string()),
            _labels(CAMPAIGN_CHANNELS, camp.channel),
            _dates(camp.start),
            _dates(camp.end),
            pa.array(camp.cost, pa.float64()),
        ],
        schema=SCHEMAS["campaigns"],
    )


def _campaign_members_table(camp: _Campaigns, cust: _Customers) -> pa.Table:
    return pa.Table.from_arrays(
        [
            _ids("CMP", camp.member_campaign + 1, 3),
            _customer_ids(cust, camp.member_customer),
            _labels(["treatment", "control"], camp.member_control.astype(np.int64)),
            pa.array(camp.converted.astype(bool)),
            pa.array(camp.revenue.astype(float), pa.float64()),
        ],
        schema=SCHEMAS["campaign_members"],
    )


def _orders_table(orders: _Orders, cust: _Customers) -> pa.Table:
    n = orders.day.size
    return pa.Table.from_arrays(
        [
            _ids("O", np.arange(1, n + 1), _width(n, 9)),
            _customer_ids(cust, orders.customer),
            _dates(orders.day),
            pa.array(orders.revenue, pa.float64()),
            pa.array(orders.cost, pa.float64()),
            _labels(ORDER_TYPES, orders.kind),
        ],
        schema=SCHEMAS["orders"],
    )


def _deals_table(deals: _Deals, cust: _Customers) -> pa.Table:
    n = deals.created.size
    return pa.Table.from_arrays(
        [
            _ids("D", np.arange(1, n + 1), _width(n, 8)),
            _customer_ids(cust, deals.customer, valid=deals.customer >= 0),
            _ids("rep_", deals.owner, 2),
            _labels(TEAMS, deals.team),
            _labels(DEAL_SOURCES, deals.source),
            _dates(deals.created),
            _dates(deals.closed, valid=deals.closed >= 0),
            _labels(DEAL_OUTCOMES, deals.outcome),
            pa.array(deals.amount, pa.float64()),
            _labels(DEAL_TYPES, deals.kind),
        ],
        schema=SCHEMAS["deals"],
    )


def _deal_stages_table(rng: np.random.Generator, cal: _Calendar, deals: _Deals) -> pa.Table:
    """Stage history: every stage reached in order, then ``closed`` for closed deals.

    The time from creation to close (or to the end of the data for open deals) is split over
    the stages with gamma weights, so the proposal stage takes longest on average.
    """
    n = deals.created.size
    reached = deals.stages_reached
    closed = deals.closed >= 0
    created_us = deals.created * DAY_US
    finish_us = np.where(closed, deals.closed * DAY_US, cal.stop * DAY_US - 1)
    gap_first = np.cumsum(reached) - reached
    gap_deal = np.repeat(np.arange(n), reached)
    gap_pos = np.arange(gap_deal.size) - gap_first[gap_deal]
    weight = rng.gamma(STAGE_GAP_ALPHA[gap_pos])
    running = np.cumsum(weight)
    before = running[gap_first] - weight[gap_first]
    total = running[gap_first + reached - 1] - before
    share = (running - before[gap_deal]) / total[gap_deal]

    rows = reached + closed
    row_deal = np.repeat(np.arange(n), rows)
    row_pos = np.arange(row_deal.size) - (np.cumsum(rows) - rows)[row_deal]
    is_close = row_pos == reached[row_deal]
    span = finish_us[row_deal] - created_us[row_deal]
    gap_index = gap_first[row_deal] + np.maximum(row_pos - 1, 0)
    entered = created_us[row_deal] + (share[np.minimum(gap_index, share.size - 1)] * span).astype(np.int64)
    entered = np.where(row_pos == 0, created_us[row_deal], entered)
    entered = np.where(is_close, finish_us[row_deal], entered)
    stage = np.where(is_close, STAGES.index("closed"), row_pos)
    return pa.Table.from_arrays(
        [
            _ids("D", row_deal + 1, _width(n, 8)),
            _labels(STAGES, stage),
            _timestamps(entered),
        ],
        schema=SCHEMAS["deal_stages"],
    )


def _tickets_table(tickets: _Tickets, cust: _Customers) -> pa.Table:
    n = tickets.opened.size
    resolved = tickets.resolved >= 0
    return pa.Table.from_arrays(
        [
            _ids("T", np.arange(1, n + 1), _width(n, 8)),
            _customer_ids(cust, tickets.customer),
            _timestamps(tickets.opened),
            _timestamps(tickets.first_response),
            _timestamps(tickets.resolved, valid=resolved),
            pa.array(tickets.contacts.astype(np.int64), pa.int64(), mask=~resolved),
            _labels(TICKET_CHANNELS, tickets.channel),
        ],
        schema=SCHEMAS["tickets"],
    )


def _surveys_table(surveys: _Surveys, cust: _Customers) -> pa.Table:
    n = surveys.day.size
    return pa.Table.from_arrays(
        [
            _ids("R", np.arange(1, n + 1), _width(n, 8)),
            _customer_ids(cust, surveys.customer),
            _dates(surveys.day),
            _labels(SURVEYS, surveys.survey),
            pa.array(surveys.score.astype(np.int64)),
            _labels(TOUCHPOINTS, surveys.touchpoint),
            _labels(_flat(COMMENTS), np.maximum(surveys.comment, 0), valid=surveys.comment >= 0),
        ],
        schema=SCHEMAS["surveys"],
    )

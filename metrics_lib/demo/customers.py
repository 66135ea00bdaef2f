"""Demo customers and their subscriptions: signups, segments, referrers, terms and churn.

Draws the customers (signup day, segment, region, acquisition channel, latent sentiment, MRR,
cost ratio), simulates their annual terms month by month (renewals, non-renewals, mid-term
cancellations), names the referrer of each referral signup, and builds the ``customers`` and
``subscriptions`` tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from metrics_lib.demo.columns import SCHEMAS, dates, id_width, ids, labels
from metrics_lib.demo.effects import DemoEffects
from metrics_lib.demo.sampling import Calendar, choice_by_group, lognormal, month_of_year, nps_group

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

PLANS = ("Starter", "Team", "Business", "Enterprise")
PLAN_MRR_FLOORS = (400.0, 1500.0, 5000.0)  # MRR at which the next plan starts


@dataclass
class Customers:
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

    def active_until(self, cal: Calendar) -> np.ndarray:
        return np.minimum(self.until, cal.stop)


def draw_customers(rng: np.random.Generator, n: int, cal: Calendar, fx: DemoEffects) -> Customers:
    days = cal.days
    season = np.asarray(fx.seasonality)[month_of_year(days)]
    weight = (1.0 + fx.annual_signup_growth) ** ((days - cal.start) / 365.25) * season
    signup = np.sort(days[rng.choice(days.size, size=n, p=weight / weight.sum())])
    segment = rng.choice(len(SEGMENTS), size=n, p=np.asarray(fx.segment_shares) / sum(fx.segment_shares))
    region = rng.choice(len(REGIONS), size=n, p=REGION_SHARES)
    channel = choice_by_group(rng, segment, CHANNEL_SHARES)
    sentiment = rng.random(n)
    mrr = np.round(lognormal(rng, np.asarray(fx.segment_median_mrr)[segment], fx.mrr_sigma, n), 2)
    cost_ratio = rng.beta(*fx.cost_ratio_beta, size=n)
    day_of_month = signup.astype("datetime64[D]") - signup.astype("datetime64[D]").astype("datetime64[M]")
    return Customers(
        signup=signup,
        day_of_month=day_of_month.astype(np.int64) + 1,
        segment=segment,
        region=region,
        channel=channel,
        sentiment=sentiment,
        mrr=mrr,
        cost_ratio=cost_ratio,
    )


def assign_referrers(rng: np.random.Generator, cust: Customers, fx: DemoEffects) -> None:
    """Name an earlier customer as referrer of each referral signup, favouring promoters.

    A referrer must have signed up strictly earlier; a few redraws prefer one still active on
    the referral's signup day. Referral signups with no earlier customer become organic.
    """
    referrer = np.full(cust.n, -1, dtype=np.int64)
    earlier = np.searchsorted(cust.signup, cust.signup, side="left")
    orphan = (cust.channel == REFERRAL) & (earlier == 0)
    cust.channel[orphan] = CHANNELS.index("organic")
    weight = np.asarray(fx.referrer_weights)[nps_group(cust.sentiment, False, fx)] + 1e-12
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
class Subscriptions:
    customer: np.ndarray
    start: np.ndarray
    start_month: np.ndarray
    end: np.ndarray
    cancelled: np.ndarray  # day, -1 when not cancelled
    mrr: np.ndarray
    previous: np.ndarray  # row of the renewed subscription, -1 for a first term
    active_at_month_start: np.ndarray  # customers active at the start of each month


def simulate_lifetimes(
    rng: np.random.Generator, cal: Calendar, fx: DemoEffects, cust: Customers
) -> Subscriptions:
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
        group = nps_group(cust.sentiment[idx], after, fx)
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
    return Subscriptions(
        customer=who,
        start=start[order],
        start_month=start_month,
        end=cal.anniversary(start_month + 12, cust.day_of_month[who]),
        cancelled=cancelled[order],
        mrr=mrr[order],
        previous=previous,
        active_at_month_start=active_at_start,
    )


# --- Arrow tables -----------------------------------------------------------------------------


def customer_ids(cust: Customers, rows: np.ndarray, *, valid: np.ndarray | None = None) -> pa.Array:
    return ids("C", np.asarray(rows) + 1, id_width(cust.n, 7), valid=valid)


def customers_table(cust: Customers) -> pa.Table:
    return pa.Table.from_arrays(
        [
            customer_ids(cust, np.arange(cust.n)),
            dates(cust.signup),
            labels(CHANNELS, cust.channel),
            labels(SEGMENTS, cust.segment),
            labels(REGIONS, cust.region),
            customer_ids(cust, cust.referrer, valid=cust.referrer >= 0),
        ],
        schema=SCHEMAS["customers"],
    )


def subscriptions_table(cust: Customers, subs: Subscriptions) -> pa.Table:
    n = subs.customer.size
    width = id_width(n, 8)
    plan = np.searchsorted(np.asarray(PLAN_MRR_FLOORS), subs.mrr, side="right")
    return pa.Table.from_arrays(
        [
            ids("S", np.arange(1, n + 1), width),
            customer_ids(cust, subs.customer),
            labels(PLANS, plan),
            dates(subs.start),
            dates(subs.end),
            dates(subs.cancelled, valid=subs.cancelled >= 0),
            pa.array(subs.mrr, pa.float64()),
            ids("S", subs.previous + 1, width, valid=subs.previous >= 0),
        ],
        schema=SCHEMAS["subscriptions"],
    )

"""Demo marketing: retention campaigns, marketing spend, reviews, web and social engagement.

Draws the retention campaigns (members, held-out controls, conversions), the monthly
acquisition and retention spend, public reviews whose ratings follow the reviewer's NPS group,
and daily web sessions and social activity that grow with the customer base, as the
``campaigns``, ``campaign_members``, ``marketing_spend``, ``reviews``, ``web_engagement`` and
``social`` tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from metrics_lib.demo.columns import SCHEMAS, dates, flat, id_width, ids, labels
from metrics_lib.demo.customers import CHANNELS, Customers, Subscriptions, customer_ids
from metrics_lib.demo.effects import DemoEffects
from metrics_lib.demo.sampling import (
    Calendar,
    choice_by_group,
    era_value,
    lognormal,
    month_of_year,
    nps_group,
    poisson_days,
)

# Acquisition cost per new SMB customer, by channel; larger segments cost more to win.
CHANNEL_CAC = (600.0, 4500.0, 10000.0, 7500.0, 5000.0, 1000.0)
SEGMENT_CAC_FACTOR = (1.0, 2.5, 6.0)

CAMPAIGN_SCHEDULE = (  # month, day, length in days, label
    (3, 1, 45, "Spring upgrade offer"),
    (6, 1, 30, "Mid-year check-in"),
    (10, 15, 60, "Year-end bundle"),
)
CAMPAIGN_CHANNELS = ("email", "webinar", "events", "paid_social")
CAMPAIGN_MEMBER_SHARE = 0.2

REVIEW_PLATFORMS = ("G2", "Capterra", "Trustpilot")
REVIEW_PLATFORM_SHARES = (0.45, 0.35, 0.20)
REVIEW_RATING_SHARES = (  # ratings 1-5 by NPS group: detractor, passive, promoter
    (0.25, 0.30, 0.30, 0.12, 0.03),
    (0.03, 0.07, 0.30, 0.45, 0.15),
    (0.00, 0.02, 0.08, 0.35, 0.55),
)

SOCIAL_PLATFORMS = ("linkedin", "x", "youtube")
SOCIAL_WEIGHTS = (1.0, 0.6, 0.3)

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


# --- campaigns --------------------------------------------------------------------------------


@dataclass
class Campaigns:
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


def draw_campaigns(rng: np.random.Generator, cal: Calendar, fx: DemoEffects, cust: Customers) -> Campaigns:
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
        revenue = np.round(lognormal(rng, 0.8 * cust.mrr[members], 0.5, members.size), 2)
        revenue[~converted] = 0.0
        cost[k] = round(members.size * rng.uniform(8.0, 20.0), 2)
        parts.append((np.full(members.size, k), members, control, converted, day, revenue))
    if parts:
        columns = [np.concatenate(part) for part in zip(*parts)]
    else:
        columns = (
            [np.zeros(0, dtype=np.int64)] * 2
            + [np.zeros(0, dtype=bool)] * 2
            + [
                np.zeros(0, dtype=np.int64),
                np.zeros(0),
            ]
        )
    return Campaigns(start, end, names, channel, cost, *columns)


def campaigns_table(camp: Campaigns) -> pa.Table:
    n = camp.start.size
    return pa.Table.from_arrays(
        [
            ids("CMP", np.arange(1, n + 1), 3),
            pa.array(camp.name, pa.string()),
            labels(CAMPAIGN_CHANNELS, camp.channel),
            dates(camp.start),
            dates(camp.end),
            pa.array(camp.cost, pa.float64()),
        ],
        schema=SCHEMAS["campaigns"],
    )


def campaign_members_table(camp: Campaigns, cust: Customers) -> pa.Table:
    return pa.Table.from_arrays(
        [
            ids("CMP", camp.member_campaign + 1, 3),
            customer_ids(cust, camp.member_customer),
            labels(["treatment", "control"], camp.member_control.astype(np.int64)),
            pa.array(camp.converted.astype(bool)),
            pa.array(camp.revenue.astype(float), pa.float64()),
        ],
        schema=SCHEMAS["campaign_members"],
    )


# --- marketing spend ----------------------------------------------------------------------------


def marketing_spend_table(
    rng: np.random.Generator,
    cal: Calendar,
    fx: DemoEffects,
    cust: Customers,
    subs: Subscriptions,
    camp: Campaigns,
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
    per_customer = era_value(
        after, fx.retention_spend_per_customer_before, fx.retention_spend_per_customer_after
    )
    active = np.maximum(subs.active_at_month_start, 0)
    success = active * per_customer * np.exp(0.05 * rng.standard_normal(n_m))
    email = active * 1.5 * np.exp(0.05 * rng.standard_normal(n_m))

    channel_names = list(CHANNELS) + ["customer_success", "email"] + list(CAMPAIGN_CHANNELS)
    campaign_month = cal.month_start(cal.month_index(camp.start))
    month_col = np.concatenate([np.repeat(month, n_ch), month, month, campaign_month])
    channel_col = np.concatenate(
        [
            np.tile(np.arange(n_ch), n_m),
            np.full(n_m, n_ch),
            np.full(n_m, n_ch + 1),
            n_ch + 2 + camp.channel,
        ]
    )
    campaign_col = np.concatenate([np.full(n_ch * n_m + 2 * n_m, -1), np.arange(camp.start.size)])
    retention = np.arange(campaign_col.size) >= n_ch * n_m  # everything after the acquisition rows
    spend = np.round(np.concatenate([acquisition, success, email, camp.cost]), 2)
    order = np.lexsort((campaign_col, channel_col, retention, month_col))
    return pa.Table.from_arrays(
        [
            dates(month_col[order]),
            labels(channel_names, channel_col[order]),
            ids("CMP", campaign_col[order] + 1, 3, valid=campaign_col[order] >= 0),
            labels(["acquisition", "retention"], retention[order].astype(np.int64)),
            pa.array(spend[order], pa.float64()),
        ],
        schema=SCHEMAS["marketing_spend"],
    )


# --- reviews, web, social ---------------------------------------------------------------------


def reviews_table(rng: np.random.Generator, cal: Calendar, fx: DemoEffects, cust: Customers) -> pa.Table:
    """Reviews from active customers (a third posted anonymously); ratings follow the NPS group."""
    who, day = poisson_days(rng, cal, cust.signup, cust.active_until(cal), np.full(cust.n, 0.006))
    group = nps_group(cust.sentiment[who], day >= cal.change, fx)
    rating = 1 + choice_by_group(rng, group, REVIEW_RATING_SHARES)
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
            ids("V", np.arange(1, n + 1), id_width(n, 7)),
            ids("C", who[order] + 1, id_width(cust.n, 7), valid=named[order]),
            dates(day[order]),
            labels(REVIEW_PLATFORMS, platform[order]),
            pa.array(rating[order].astype(np.int64)),
            labels(flat(REVIEW_TEXTS), text[order], valid=has_text[order]),
        ],
        schema=SCHEMAS["reviews"],
    )


def daily_activity(cal: Calendar, cust: Customers) -> dict[str, np.ndarray]:
    """Active customers and signups on each day of the data."""
    n_days = cal.stop - cal.start
    joined = np.bincount(cust.signup - cal.start, minlength=n_days)
    left_day = cust.until[cust.until <= cal.end] - cal.start
    left = np.bincount(left_day, minlength=n_days)
    return {"day": cal.days, "active": np.cumsum(joined) - np.cumsum(left), "signups": joined}


def web_table(rng, cal: Calendar, fx: DemoEffects, activity: dict, n_customers: int) -> pa.Table:
    """Daily sessions from customers, prospects (following signups) and a base, with weekday dips."""
    day = activity["day"]
    weekday = (day + 3) % 7  # 0 = Monday
    week_factor = np.where(weekday >= 5, 0.58, 1.1)
    season = np.asarray(fx.seasonality)[month_of_year(day)]
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
            dates(day),
            pa.array(sessions.astype(np.int64)),
            pa.array(page_views.astype(np.int64)),
            pa.array(bounces.astype(np.int64)),
            pa.array(time_on_page.astype(float)),
        ],
        schema=SCHEMAS["web_engagement"],
    )


def social_table(rng, cal: Calendar, activity: dict, n_customers: int) -> pa.Table:
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
            dates(day),
            labels(SOCIAL_PLATFORMS, platform),
            pa.array(follows.astype(np.int64)),
            pa.array(shares.astype(np.int64)),
            pa.array(likes.astype(np.int64)),
        ],
        schema=SCHEMAS["social"],
    )

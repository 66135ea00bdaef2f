"""The demo sales pipeline: deals by team and rep, and the stages each deal went through.

New-business wins (one per customer), lost prospects around them at the era's win odds, the
open pipeline at the end of the data, expansion deals behind add-on orders and renewal deals of
Mid-Market and Enterprise terms, assigned to reps by skill. Builds the ``deals`` and
``deal_stages`` tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from metrics_lib.demo.columns import SCHEMAS, dates, id_width, ids, labels, timestamps
from metrics_lib.demo.customers import (
    CHANNEL_SHARES,
    CHANNELS,
    SEGMENTS,
    Customers,
    Subscriptions,
    customer_ids,
)
from metrics_lib.demo.effects import DemoEffects
from metrics_lib.demo.orders import ORDER_TYPES, Orders
from metrics_lib.demo.sampling import DAY_US, Calendar, choice_by_group, era_value, lognormal

TEAMS = ("SMB Sales", "Mid-Market Sales", "Enterprise Sales", "Account Management")
TEAM_REPS = (8, 5, 4, 5)
ACCOUNT_MANAGEMENT = 3
DEAL_OUTCOMES = ("won", "lost", "open")
DEAL_TYPES = ("new_business", "upsell", "cross_sell", "renewal")
DEAL_SOURCES = CHANNELS + ("account_management",)
STAGES = ("lead", "qualified", "proposal", "negotiation", "closed")
STAGE_GAP_ALPHA = np.array([1.0, 1.4, 2.4, 1.2])  # proposal is the slow stage
LOST_STAGE_SHARES = (0.35, 0.30, 0.22, 0.13)  # last stage a lost deal reached


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


def draw_deals(
    rng: np.random.Generator,
    cal: Calendar,
    fx: DemoEffects,
    cust: Customers,
    subs: Subscriptions,
    orders: Orders,
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
    median = era_value(close_day >= cal.change, fx.sales_cycle_days_before, fx.sales_cycle_days_after)
    return np.maximum(1, np.round(lognormal(rng, scale * median, 0.5, size))).astype(np.int64)


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


def _won_new_business(rng, cal, fx, cust: Customers) -> dict:
    cycle = _cycle_days(rng, cal, fx, cust.signup, 1.0, cust.n)
    return _deal_part(
        np.arange(cust.n),
        cust.segment,
        cust.channel,
        cust.signup - cycle,
        cust.signup,
        0,
        12.0 * cust.mrr,
        0,
        4,
    )


def _win_odds(cal, fx, day) -> np.ndarray:
    p = era_value(day >= cal.change, fx.win_probability_before, fx.win_probability_after)
    return (1.0 - p) / p


def _prospect_amount(rng, fx, segment) -> np.ndarray:
    return 12.0 * lognormal(rng, np.asarray(fx.segment_median_mrr)[segment], fx.mrr_sigma, segment.size)


def _prospects(rng, cal, fx, cust: Customers) -> list[dict]:
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
        -1,
        segment,
        choice_by_group(rng, segment, CHANNEL_SHARES),
        created,
        -1,
        2,
        _prospect_amount(rng, fx, segment),
        0,
        reached,
    )
    return [lost, open_]


def _lost_prospects(rng, cal, fx, cust, parent, closed) -> dict:
    segment = cust.segment[parent]
    created = closed - _cycle_days(rng, cal, fx, closed, 0.8, closed.size)
    reached = 1 + rng.choice(4, size=closed.size, p=LOST_STAGE_SHARES)
    return _deal_part(
        -1,
        segment,
        choice_by_group(rng, segment, CHANNEL_SHARES),
        created,
        closed,
        1,
        _prospect_amount(rng, fx, segment),
        0,
        reached,
    )


def _expansion_deals(rng, cal, fx, cust: Customers, orders: Orders) -> list[dict]:
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
        who,
        ACCOUNT_MANAGEMENT,
        len(CHANNELS),
        created,
        lost_close,
        1,
        lognormal(rng, cust.mrr[who], 0.5, who.size),
        kind,
        1 + rng.choice(4, size=who.size, p=LOST_STAGE_SHARES),
    )
    return [won, lost]


def _renewal_deals(rng, cal, fx, cust: Customers, subs: Subscriptions) -> dict:
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
        subs.customer[candidate],
        ACCOUNT_MANAGEMENT,
        len(CHANNELS),
        created[candidate],
        np.where(outcome == 2, -1, subs.end[candidate]),
        outcome,
        amount,
        3,
        reached,
    )


def _assign_owners(rng, team: np.ndarray, outcome: np.ndarray, skill: np.ndarray) -> np.ndarray:
    """Reps within each team: wins spread evenly, losses more often to the less skilled reps."""
    first_rep = np.concatenate([[0], np.cumsum(TEAM_REPS)[:-1]])
    shares = np.zeros((2 * len(TEAMS), max(TEAM_REPS)))
    for t, size in enumerate(TEAM_REPS):
        shares[2 * t, :size] = 1.0
        shares[2 * t + 1, :size] = 1.0 / skill[first_rep[t] : first_rep[t] + size]
    row = 2 * team + (outcome == 1)
    return 1 + first_rep[team] + choice_by_group(rng, row, shares)


# --- Arrow tables -----------------------------------------------------------------------------


def deals_table(deals: _Deals, cust: Customers) -> pa.Table:
    n = deals.created.size
    return pa.Table.from_arrays(
        [
            ids("D", np.arange(1, n + 1), id_width(n, 8)),
            customer_ids(cust, deals.customer, valid=deals.customer >= 0),
            ids("rep_", deals.owner, 2),
            labels(TEAMS, deals.team),
            labels(DEAL_SOURCES, deals.source),
            dates(deals.created),
            dates(deals.closed, valid=deals.closed >= 0),
            labels(DEAL_OUTCOMES, deals.outcome),
            pa.array(deals.amount, pa.float64()),
            labels(DEAL_TYPES, deals.kind),
        ],
        schema=SCHEMAS["deals"],
    )


def deal_stages_table(rng: np.random.Generator, cal: Calendar, deals: _Deals) -> pa.Table:
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
            ids("D", row_deal + 1, id_width(n, 8)),
            labels(STAGES, stage),
            timestamps(entered),
        ],
        schema=SCHEMAS["deal_stages"],
    )

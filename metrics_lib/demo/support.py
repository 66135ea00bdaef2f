"""Demo support and surveys: tickets with response and resolution times, NPS, CSAT and CES.

Tickets arrive while customers are active (more for larger segments and detractors) and are
answered and resolved faster after the strategy change; surveys ask NPS (relationship,
onboarding, renewal), CSAT (support, onboarding) and CES (support), with a few comments
matching each answer's tone. Builds the ``tickets`` and ``surveys`` tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from metrics_lib.demo.columns import SCHEMAS, dates, flat, id_width, ids, labels, timestamps
from metrics_lib.demo.customers import Customers, customer_ids
from metrics_lib.demo.effects import DemoEffects
from metrics_lib.demo.sampling import (
    DAY_US,
    HOUR_US,
    Calendar,
    choice_by_group,
    era_value,
    lognormal,
    nps_group,
    poisson_days,
)

SURVEYS = ("nps", "csat", "ces")
TOUCHPOINTS = ("onboarding", "support", "renewal", "relationship")
TICKET_CHANNELS = ("email", "phone", "chat", "portal")
TICKET_CHANNEL_SHARES = (0.40, 0.20, 0.25, 0.15)

NPS_SCORE_SHARES = (  # scores 0-10 by NPS group
    (0.03, 0.03, 0.06, 0.10, 0.15, 0.25, 0.38, 0, 0, 0, 0),
    (0, 0, 0, 0, 0, 0, 0, 0.55, 0.45, 0, 0),
    (0, 0, 0, 0, 0, 0, 0, 0, 0, 0.50, 0.50),
)


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


@dataclass
class _Tickets:
    customer: np.ndarray
    opened: np.ndarray  # microseconds
    first_response: np.ndarray
    resolved: np.ndarray  # -1 when unresolved at the end of the data
    contacts: np.ndarray  # 0 when unresolved
    channel: np.ndarray


def draw_tickets(rng: np.random.Generator, cal: Calendar, fx: DemoEffects, cust: Customers) -> _Tickets:
    """Tickets while active, more for larger segments and for detractors; faster after the change.

    First response and resolution times are lognormal; a ticket needs one contact with the
    era's first-contact-resolution probability, otherwise two or more, each adding time.
    Tickets still unresolved at the end of the data have no resolution.
    """
    boost = np.asarray(fx.nps_ticket_multipliers)
    rate = np.asarray(fx.segment_monthly_tickets)[cust.segment] * boost.max()
    who, day = poisson_days(rng, cal, cust.signup, cust.active_until(cal), rate)
    group = nps_group(cust.sentiment[who], day >= cal.change, fx)
    keep = rng.random(who.size) < boost[group] / boost.max()
    who, day = who[keep], day[keep]
    hour = np.clip(rng.normal(13.0, 3.5, size=who.size), 0.0, 23.99)
    opened = day * DAY_US + (hour * HOUR_US).astype(np.int64)
    after = opened >= cal.change * DAY_US
    median = era_value(after, fx.first_response_hours_before, fx.first_response_hours_after)
    wait = np.clip(lognormal(rng, median, 0.9, who.size), 1 / 60, 72.0)
    first_response = opened + (wait * HOUR_US).astype(np.int64)
    one_contact = rng.random(who.size) < era_value(
        after, fx.first_contact_resolution_before, fx.first_contact_resolution_after
    )
    contacts = np.where(one_contact, 1, 1 + rng.geometric(0.55, size=who.size))
    work = np.clip(lognormal(rng, 2.5 * contacts**1.3, 1.0, who.size), 0.05, 480.0)
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


def draw_surveys(
    rng: np.random.Generator,
    cal: Calendar,
    fx: DemoEffects,
    cust: Customers,
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
    group = nps_group(cust.sentiment[nps_who], nps_day >= cal.change, fx)
    nps_score = choice_by_group(rng, group, NPS_SCORE_SHARES)

    resolved = np.flatnonzero(tickets.resolved >= 0)
    csat_t = resolved[rng.random(resolved.size) < 0.35]
    ces_t = resolved[rng.random(resolved.size) < 0.2]
    onboard = np.flatnonzero(rng.random(cust.n) < 0.25)
    csat_who = np.concatenate([tickets.customer[csat_t], onboard])
    onboard_day = cust.signup[onboard] + rng.integers(7, 22, size=onboard.size)
    csat_day = np.concatenate([_after_ticket(rng, tickets, csat_t), onboard_day])
    csat_touch = np.concatenate([np.full(csat_t.size, 1), np.full(onboard.size, 0)])
    happy = rng.random(csat_who.size) < era_value(
        csat_day >= cal.change, fx.csat_satisfied_before, fx.csat_satisfied_after
    )
    csat_score = np.where(
        happy,
        4 + (rng.random(csat_who.size) < 0.5),
        1 + rng.choice(3, size=csat_who.size, p=(0.15, 0.30, 0.55)),
    )

    ces_who, ces_day = tickets.customer[ces_t], _after_ticket(rng, tickets, ces_t)
    mean = era_value(ces_day >= cal.change, fx.ces_mean_before, fx.ces_mean_after)
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


def _nps_occasions(rng, cal, cust: Customers, until, renewals):
    """Relationship surveys about yearly, onboarding after 30-60 days, and after a third of renewals."""
    rel_who, rel_day = poisson_days(rng, cal, cust.signup, until, np.full(cust.n, 0.09))
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


# --- Arrow tables -----------------------------------------------------------------------------


def tickets_table(tickets: _Tickets, cust: Customers) -> pa.Table:
    n = tickets.opened.size
    resolved = tickets.resolved >= 0
    return pa.Table.from_arrays(
        [
            ids("T", np.arange(1, n + 1), id_width(n, 8)),
            customer_ids(cust, tickets.customer),
            timestamps(tickets.opened),
            timestamps(tickets.first_response),
            timestamps(tickets.resolved, valid=resolved),
            pa.array(tickets.contacts.astype(np.int64), pa.int64(), mask=~resolved),
            labels(TICKET_CHANNELS, tickets.channel),
        ],
        schema=SCHEMAS["tickets"],
    )


def surveys_table(surveys: _Surveys, cust: Customers) -> pa.Table:
    n = surveys.day.size
    return pa.Table.from_arrays(
        [
            ids("R", np.arange(1, n + 1), id_width(n, 8)),
            customer_ids(cust, surveys.customer),
            dates(surveys.day),
            labels(SURVEYS, surveys.survey),
            pa.array(surveys.score.astype(np.int64)),
            labels(TOUCHPOINTS, surveys.touchpoint),
            labels(flat(COMMENTS), np.maximum(surveys.comment, 0), valid=surveys.comment >= 0),
        ],
        schema=SCHEMAS["surveys"],
    )

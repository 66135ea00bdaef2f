"""The advocacy report's engagement tables: social media activity (the ``social`` table) and how
referrals are spread over the referring customers, with the conversion of referred leads.

Ibis queries on a :class:`~metrics_lib.metrics.aggregate.Scope`; results are unrounded numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from metrics_lib.core.results import quietly
from metrics_lib.formulas import advocacy, pipeline
from metrics_lib.metrics.aggregate import Scope, amount, count

__all__ = [
    "SOCIAL_COLUMNS",
    "social_by_platform",
    "social_trend",
    "REFERRAL_COLUMNS",
    "referral_distribution",
    "referral_lead_conversion",
]

#: The activity columns of the ``social`` table, summed over the period's days.
SOCIAL_COLUMNS = ("follows", "shares", "likes")

#: The columns of :func:`referral_distribution`, in order.
REFERRAL_COLUMNS = ("referrers", "referrals", "share_of_referrals", "referrals_per_referrer")


def _social_sums(scope: Scope, by: Sequence[str] = ()) -> pd.DataFrame:
    s = scope.source.table("social")
    p = s.filter(scope.during(s.date))
    sums = {c: p[c].sum() for c in SOCIAL_COLUMNS}
    sums["days"] = p.date.nunique()
    return (p.group_by(list(by)).aggregate(**sums) if by else p.aggregate(**sums)).execute()


def social_by_platform(scope: Scope) -> pd.DataFrame:
    """Follows, shares and likes of the period per platform and ``all``, each platform's share of
    the interactions (follows + shares + likes), and the days with data."""
    df = _social_sums(scope, ["platform"]).sort_values("platform")
    rows = {str(r["platform"]): r for _, r in df.iterrows()}
    total = _social_sums(scope).iloc[0]
    if count(total["days"]):
        rows["all"] = total
    everything = sum(amount(total[c]) for c in SOCIAL_COLUMNS)
    out = pd.DataFrame(
        {
            **{c: [count(r[c]) for r in rows.values()] for c in SOCIAL_COLUMNS},
            "share_of_interactions": [
                sum(amount(r[c]) for c in SOCIAL_COLUMNS) / everything if everything else float("nan")
                for r in rows.values()
            ],
            "days": [count(r["days"]) for r in rows.values()],
        },
        index=pd.Index(list(rows), name="platform"),
    )
    return out


def social_trend(scopes: Sequence[Scope]) -> pd.DataFrame:
    """Follows, shares and likes per period (oldest first), summed over the platforms, and the
    days with data; a period without rows has zero days and no numbers (NaN), not zeros."""
    rows = {}
    for scope in scopes:
        t = _social_sums(scope).iloc[0]
        days = count(t["days"])
        rows[scope.period.label] = {
            **{c: amount(t[c]) if days else float("nan") for c in SOCIAL_COLUMNS},
            "days": days,
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "period"
    return out


def referral_distribution(scope: Scope, *, cap: int = 4) -> pd.DataFrame:
    """How the customers who signed up through a referral in the scope's period (or window) are
    spread over their referrers: one row per number of referrals each (1, 2, ... and ``cap`` or
    more) and ``all``, with the referrers, their referrals, the share of all referrals and the
    referrals per referrer (:func:`metrics_lib.formulas.advocacy.referrals_per_referrer`)."""
    if isinstance(cap, bool) or not isinstance(cap, int) or cap < 2:
        raise ValueError(f"`cap` ({cap!r}) must be a whole number >= 2")
    c = scope.customers()
    new = c.filter(scope.during(c.signup_date) & c.referred_by.notnull())
    each = new.group_by("referred_by").aggregate(referrals=new.count())
    df = each.group_by("referrals").aggregate(referrers=each.count()).execute()
    counts = {int(k): int(v) for k, v in zip(df["referrals"], df["referrers"])}
    total = sum(k * v for k, v in counts.items())
    rows = {}
    for k in range(1, cap + 1):
        group = {n: m for n, m in counts.items() if (n == k if k < cap else n >= cap)}
        if not group:
            continue
        referrers, referrals = sum(group.values()), sum(n * m for n, m in group.items())
        rows[str(k) if k < cap else f"{cap} or more"] = (referrers, referrals)
    if counts:
        rows["all"] = (sum(counts.values()), total)
    out = pd.DataFrame(
        {
            "referrers": [r for r, _ in rows.values()],
            "referrals": [n for _, n in rows.values()],
            "share_of_referrals": [n / total if total else float("nan") for _, n in rows.values()],
            "referrals_per_referrer": [
                quietly(advocacy.referrals_per_referrer, n, r).value for r, n in rows.values()
            ],
        },
        index=pd.Index(list(rows), name="referrals each"),
    )
    return out[list(REFERRAL_COLUMNS)]


def referral_lead_conversion(scope: Scope) -> pd.DataFrame:
    """Do referred leads convert? The new-business deals closed won or lost in the scope's period
    (or window) whose ``source`` is ``referral`` against those of every other source, and
    ``all``: closed, won, and the win rate with its Wilson interval
    (:func:`metrics_lib.formulas.pipeline.win_rate`). Upsell, cross-sell and renewal deals are
    left out: they come from existing customers, not from leads."""
    d = scope.table("deals")
    closed = d.filter(
        scope.during(d.closed_date) & d.outcome.isin(["won", "lost"]) & (d.deal_type == "new_business")
    )
    labelled = closed.mutate(
        group=(closed.source == "referral").ifelse("referral", "other sources"),
        is_won=(closed.outcome == "won").ifelse(1, 0),
    )
    df = (
        labelled.group_by("group")
        .aggregate(closed=labelled.count(), won=labelled.is_won.sum())
        .execute()
        .set_index("group")
    )
    rows = {}
    for name in ("referral", "other sources", "all"):
        part = df if name == "all" else df.loc[[name]] if name in df.index else df.iloc[0:0]
        n, won = int(part["closed"].sum()), int(part["won"].sum())
        rate = quietly(pipeline.win_rate, won, n - won)
        rows[name] = {
            "closed": n,
            "won": won,
            "win_rate": rate.value,
            "ci_low": rate.ci.low,
            "ci_high": rate.ci.high,
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "deal source"
    return out

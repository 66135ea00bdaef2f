"""Marketing's period-level aggregations: spend by purpose (:func:`spend_summary`), the
acquisition spend by channel with a segment's share of it (:func:`acquisition_spend_by_channel`),
web engagement totals (:func:`web_summary`), and the campaigns starting in the period with their
treatment and control groups (:func:`campaign_groups`, widened by :func:`campaign_summary`). They
take a :class:`~metrics_lib.metrics.aggregate.Scope` like the rest of
:mod:`metrics_lib.metrics.aggregate`. Spend, web traffic and campaigns name no customer: with a
segment, the acquisition spend is the segment's share and the campaign members are the segment's,
the rest is the whole company's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import pandas as pd

from metrics_lib.core.engine import count_true
from metrics_lib.metrics.aggregate import Scope, amount, count

__all__ = [
    "NO_ACQUISITION_SPEND",
    "NO_RETENTION_SPEND",
    "SpendSummary",
    "WebSummary",
    "spend_recorded",
    "spend_summary",
    "acquisition_spend_by_channel",
    "web_summary",
    "campaign_groups",
    "campaign_summary",
]


@dataclass(frozen=True)
class SpendSummary:
    """Marketing spend of the period's months by purpose (:func:`spend_summary`). With a segment,
    ``acquisition`` is the segment's share of the acquisition spend
    (:func:`acquisition_spend_by_channel`) and ``company_acquisition`` the whole company's;
    ``retention`` is the company's. A purpose without a row in the whole ``marketing_spend``
    table has NaN spend (the data does not record it), not 0."""

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


#: Why the retention spend (and the retention cost per client) is undefined.
NO_RETENTION_SPEND = "marketing_spend has no rows with purpose `retention`"

#: Why the acquisition spend (and CAC, LTV:CAC, CAC by channel) is undefined.
NO_ACQUISITION_SPEND = "marketing_spend has no rows with purpose `acquisition`"


def spend_recorded(scope: Scope, purpose: str) -> bool:
    """Whether ``marketing_spend`` has any row with this ``purpose``, in any month: without one
    the data does not record that spend, which is not the same as spending nothing."""
    m = scope.source.table("marketing_spend")
    return count(m.filter(m.purpose == purpose).count().execute()) > 0


def spend_summary(scope: Scope) -> SpendSummary:
    """Acquisition and retention spend of the period's months; with a segment, the acquisition
    spend is the segment's share (:func:`acquisition_spend_by_channel`). Each is NaN when
    ``marketing_spend`` has no row with that purpose at all (:func:`spend_recorded`: the data does
    not record it), 0.0 when it has some but none in the period."""
    m = scope.source.table("marketing_spend")
    p = m.filter(scope.during(m.month))
    df = p.group_by("purpose").aggregate(spend=p.spend.sum()).execute()
    by = dict(zip(df["purpose"], df["spend"]))
    if "acquisition" in by or spend_recorded(scope, "acquisition"):
        company = float(by.get("acquisition", 0.0))
        acquisition = float(acquisition_spend_by_channel(scope).sum()) if scope.segment else company
    else:
        company = acquisition = float("nan")
    recorded = "retention" in by or spend_recorded(scope, "retention")
    retention = float(by.get("retention", 0.0)) if recorded else float("nan")
    return SpendSummary(acquisition=acquisition, retention=retention, company_acquisition=company)


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
    everyone, segment = count(counts["everyone"].sum()), count(counts["segment"].sum())
    overall = segment / everyone if everyone else 0.0
    by = counts.dropna(subset=["acquisition_channel"]).set_index("acquisition_channel")
    shares = [
        count(by.at[ch, "segment"]) / count(by.at[ch, "everyone"]) if ch in by.index else overall
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
        sessions=amount(agg["sessions"]),
        page_views=amount(agg["page_views"]),
        bounces=amount(agg["bounces"]),
        total_time_on_page_s=amount(agg["total_time_on_page_s"]),
        days=count(agg["days"]),
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

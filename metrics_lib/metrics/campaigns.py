"""Did each campaign work? The treated group's conversion against its held-out control group,
what the treated group earned beyond it, and the smallest lift the groups could have detected.

:func:`campaign_lift` takes a :class:`~metrics_lib.metrics.aggregate.Scope` over the window of
campaign start dates (usually the twelve months ending with the report's period) and builds on
the per-campaign, per-group aggregation that the scorecard's campaign ROI uses too
(:func:`metrics_lib.metrics.aggregate_marketing.campaign_groups`); :func:`detectable_lifts` reads its
group sizes as the smallest lift each campaign could detect.
"""

from __future__ import annotations

import math

import pandas as pd

from metrics_lib.core.results import quietly
from metrics_lib.formulas import marketing
from metrics_lib.metrics import aggregate as agg
from metrics_lib.metrics import aggregate_marketing

__all__ = ["LIFT_COLUMNS", "DETECTABLE_COLUMNS", "campaign_lift", "detectable_lifts"]

#: The columns of :func:`campaign_lift`, indexed by campaign name.
LIFT_COLUMNS = [
    "channel",
    "start_date",
    "cost",
    "treated",
    "control",
    "treated_rate",
    "control_rate",
    "lift",
    "ci_low",
    "ci_high",
    "p_value",
    "significant",
    "detectable_lift",
    "incremental_profit",
    "incremental_roi",
    "roi_ci_low",
    "roi_ci_high",
]

#: The columns of :func:`detectable_lifts`, indexed by campaign name.
DETECTABLE_COLUMNS = ["treated", "control", "control_rate", "lift", "detectable_lift", "significant"]


def _gross_margin(scope: agg.Scope) -> float:
    """Gross margin of the window's orders (costs that are missing count as none); 1.0, turning
    revenue into itself, when orders have no cost or the source no orders."""
    margin = 1.0
    if scope.has("orders"):
        o = scope.table("orders")
        w = o.filter(scope.during(o.order_date))
        tot = w.aggregate(revenue=w.revenue.sum(), cost=w.cost.sum()).execute().iloc[0]
        if pd.notna(tot["cost"]) and tot["revenue"]:
            margin = float((tot["revenue"] - tot["cost"]) / tot["revenue"])
    return margin


def campaign_lift(scope: agg.Scope) -> pd.DataFrame:
    """Per campaign started in the scope's window: conversion of the treated group against the
    held-out control, the lift with its 95% interval and p-value, the smallest lift the group
    sizes could detect (``detectable_lift``: alpha 0.05, power 0.8,
    :func:`~metrics_lib.formulas.marketing.minimum_detectable_lift`), and the incremental gross
    profit and ROI with its 95% interval.

    Revenue is turned into gross profit with the gross margin of the same window (revenue
    itself when orders have no cost). ``incremental_profit`` counts only what the treated group
    earned per member beyond the control group, times the treated members, as the scorecard's
    campaign ROI does (:func:`~metrics_lib.formulas.marketing.incremental_campaign_roi`).
    Campaigns are in order of their start date; with none, the frame is empty and
    ``attrs["note"]`` says so.
    """
    per = aggregate_marketing.campaign_groups(scope)
    per = per[per["members"].notna()]  # campaigns without members have nothing to compare
    margin = _gross_margin(scope)
    rows = {}
    for (_, name), part in per.groupby(["campaign_id", "name"], sort=False):
        grp = part.set_index("group")

        def get(group, col, grp=grp, missing=0.0):
            v = grp[col].get(group, missing)
            return missing if pd.isna(v) else float(v)

        cost = float(part["cost"].iloc[0])
        nt, nc = int(get("treatment", "members")), int(get("control", "members"))
        r = quietly(
            marketing.control_group_lift,
            int(get("treatment", "converted")),
            nt,
            int(get("control", "converted")),
            nc,
        )
        roi = quietly(
            marketing.incremental_campaign_roi,
            nt,
            get("treatment", "revenue"),
            get("treatment", "revenue_std", missing=math.nan),
            nc,
            get("control", "revenue"),
            get("control", "revenue_std", missing=math.nan),
            cost,
            gross_margin=margin,
        )
        rows[name] = {
            "channel": part["channel"].iloc[0],
            "start_date": pd.Timestamp(part["start_date"].iloc[0]).date(),
            "cost": cost,
            "treated": nt,
            "control": nc,
            "treated_rate": r.treated.value,
            "control_rate": r.control.value,
            "lift": r.value,
            "ci_low": r.ci.low,
            "ci_high": r.ci.high,
            "p_value": r.p_value,
            "significant": r.significant,
            "detectable_lift": quietly(marketing.minimum_detectable_lift, r.control, nt, nc).value,
            "incremental_profit": roi.components.get("incremental_gross_profit", math.nan),
            "incremental_roi": roi.value,
            "roi_ci_low": roi.ci.low,
            "roi_ci_high": roi.ci.high,
        }
    if not rows:
        out = pd.DataFrame(columns=LIFT_COLUMNS)
        out.index.name = "campaign"
        out.attrs["note"] = "no campaign started in the window"
        return out
    out = pd.DataFrame.from_dict(rows, orient="index")[LIFT_COLUMNS].sort_values("start_date")
    out.index.name = "campaign"
    return out


def detectable_lifts(lift: pd.DataFrame) -> pd.DataFrame:
    """Per campaign of :func:`campaign_lift`: group sizes, the control group's conversion, the
    lift seen, the smallest lift the group sizes detect (two-sided two-proportion test at alpha
    0.05 with power 0.8, given the control's conversion; NaN for an empty group or groups so
    small that even a treated conversion of 100% would not be detected) and whether the lift
    seen is beyond noise."""
    if lift.empty:
        out = pd.DataFrame(columns=DETECTABLE_COLUMNS)
        out.index.name = "campaign"
        out.attrs.update(lift.attrs)
        return out
    return lift[DETECTABLE_COLUMNS].copy()

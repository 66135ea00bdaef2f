"""Did each campaign work? The treated group's conversion against its held-out control group.

:func:`campaign_lift` takes a :class:`~metrics_lib.metrics.aggregate.Scope` over the window of
campaign start dates (usually the twelve months ending with the report's period) and builds on
the per-campaign, per-group aggregation that the scorecard's campaign ROI uses too
(:func:`metrics_lib.metrics.aggregate.campaign_groups`).
"""

from __future__ import annotations

import pandas as pd

from metrics_lib.core.results import quietly
from metrics_lib.formulas import marketing
from metrics_lib.metrics import aggregate as agg

__all__ = ["LIFT_COLUMNS", "campaign_lift"]

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
    "incremental_profit",
    "incremental_roi",
    "roi",
]


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
    held-out control, the lift with its 95% interval and p-value, incremental gross profit and ROI.

    Revenue is turned into gross profit with the gross margin of the same window (revenue
    itself when orders have no cost). ``roi`` counts the gross profit of every member, as the
    scorecard's campaign ROI does; ``incremental_roi`` counts only what the treated group
    earned beyond the control group's rate. Campaigns are in order of their start date; with
    none, the frame is empty and ``attrs["note"]`` says so.
    """
    per = agg.campaign_groups(scope)
    per = per[per["members"].notna()]  # campaigns without members have nothing to compare
    margin = _gross_margin(scope)
    rows = {}
    for (_, name), part in per.groupby(["campaign_id", "name"], sort=False):
        grp = part.set_index("group")

        def get(group, col, grp=grp):
            v = grp[col].get(group, 0)
            return 0.0 if pd.isna(v) else float(v)

        cost = float(part["cost"].iloc[0])
        r = quietly(
            marketing.control_group_lift,
            int(get("treatment", "converted")),
            int(get("treatment", "members")),
            int(get("control", "converted")),
            int(get("control", "members")),
            treated_revenue=get("treatment", "revenue") * margin,
            control_revenue=get("control", "revenue") * margin,
            cost=cost,
        )
        profit = (get("treatment", "revenue") + get("control", "revenue")) * margin
        rows[name] = {
            "channel": part["channel"].iloc[0],
            "start_date": pd.Timestamp(part["start_date"].iloc[0]).date(),
            "cost": cost,
            "treated": int(get("treatment", "members")),
            "control": int(get("control", "members")),
            "treated_rate": r.treated.value,
            "control_rate": r.control.value,
            "lift": r.value,
            "ci_low": r.ci.low,
            "ci_high": r.ci.high,
            "p_value": r.p_value,
            "significant": r.significant,
            "incremental_profit": r.incremental_revenue,
            "incremental_roi": r.incremental_roi,
            "roi": quietly(marketing.campaign_roi, profit, cost).value,
        }
    if not rows:
        out = pd.DataFrame(columns=LIFT_COLUMNS)
        out.index.name = "campaign"
        out.attrs["note"] = "no campaign started in the window"
        return out
    out = pd.DataFrame.from_dict(rows, orient="index")[LIFT_COLUMNS].sort_values("start_date")
    out.index.name = "campaign"
    return out

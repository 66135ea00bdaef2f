"""The MRR sections of the retention report: MRR and ARR over periods and the period's bridge
from the start MRR to the end MRR (a waterfall), from the movements of
:func:`~metrics_lib.metrics.aggregate_subscriptions.revenue_retention`.

Results are unrounded numbers; the reporting layer formats and draws them.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from metrics_lib.core.periods import Period
from metrics_lib.core.results import quietly
from metrics_lib.formulas import subscriptions
from metrics_lib.metrics.period_data import PeriodData

__all__ = ["MRR_TREND_COLUMNS", "WATERFALL_STEPS", "mrr_trend", "mrr_waterfall"]

#: Months in a year: ARR is 12 x the MRR of the period's last day.
MONTHS_PER_YEAR = 12

#: The columns of :func:`mrr_trend`, in order.
MRR_TREND_COLUMNS = (
    "start_mrr",
    "new",
    "expansion",
    "reactivation",
    "contraction",
    "churned",
    "end_mrr",
    "arr",
    "accounts",
    "arpa",
    "quick_ratio",
    "current",
)

#: The waterfall's steps in order, with the sign each adds to the MRR (0 for the two totals).
WATERFALL_STEPS = (
    ("start MRR", 0),
    ("new", 1),
    ("expansion", 1),
    ("reactivation", 1),
    ("contraction", -1),
    ("churned", -1),
    ("end MRR", 0),
)


def mrr_trend(datas: Sequence[PeriodData], current: Period) -> pd.DataFrame:
    """Per period (oldest first): the start MRR, the five movements, the end MRR, the ARR (12 x
    the end MRR), the paying accounts at the end, ARPA and the quick ratio (NaN when no MRR was
    lost); ``current`` marks the period ``current``."""
    rows = {}
    for d in datas:
        m = d.mrr
        rows[d.scope.period.label] = {
            "start_mrr": m.start_mrr,
            "new": m.new,
            "expansion": m.expansion,
            "reactivation": m.reactivation,
            "contraction": m.contraction,
            "churned": m.churned,
            "end_mrr": m.end_mrr,
            "arr": MONTHS_PER_YEAR * m.end_mrr,
            "accounts": m.end_accounts,
            "arpa": quietly(subscriptions.arpa, m.end_mrr, m.end_accounts).value,
            "quick_ratio": quietly(
                subscriptions.quick_ratio, m.new, m.expansion, m.reactivation, m.contraction, m.churned
            ).value,
            "current": d.scope.period == current,
        }
    out = pd.DataFrame.from_dict(rows, orient="index")[list(MRR_TREND_COLUMNS)]
    out.index.name = "period"
    return out


def mrr_waterfall(d: PeriodData) -> pd.DataFrame:
    """The bridge of the period's MRR as a waterfall: one row per step of :data:`WATERFALL_STEPS`
    with its ``change`` (signed; the totals' own MRR), the MRR ``before`` and ``after`` it, and its
    ``kind`` (``total``, ``gain``, ``loss``). The last row's MRR is the end MRR itself, which the
    steps reach exactly."""
    m = d.mrr
    amounts = {
        "new": m.new,
        "expansion": m.expansion,
        "reactivation": m.reactivation,
        "contraction": m.contraction,
        "churned": m.churned,
    }
    rows, level = [], 0.0
    for step, sign in WATERFALL_STEPS:
        if sign == 0:
            total = m.start_mrr if step == "start MRR" else m.end_mrr
            rows.append({"step": step, "change": total, "before": 0.0, "after": total, "kind": "total"})
            level = total
            continue
        change = sign * amounts[step]
        rows.append(
            {
                "step": step,
                "change": change,
                "before": level,
                "after": level + change,
                "kind": "gain" if sign > 0 else "loss",
            }
        )
        level += change
    return pd.DataFrame(rows).set_index("step")

"""Numbers over several periods: headline metrics per period, the NPS mix, web engagement, and
revenue per month.

The per-period functions take the :class:`~metrics_lib.metrics.period_data.PeriodData` of each
period (oldest first), so a caller that keeps them reuses each period's aggregates across
sections; :func:`revenue_trend` takes a :class:`~metrics_lib.metrics.aggregate.Scope`. Results are
unrounded: rounding for display is the reader's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from metrics_lib.core.periods import Period
from metrics_lib.core.results import quietly
from metrics_lib.formulas import advocacy, satisfaction
from metrics_lib.metrics import aggregate as agg
from metrics_lib.metrics import aggregate_marketing
from metrics_lib.metrics.catalogue import Headline, safe_compute
from metrics_lib.metrics.coverage import period_coverage
from metrics_lib.metrics.period_data import PeriodData
from metrics_lib.metrics.scorecard import record
from metrics_lib.metrics.targets import applicable

__all__ = ["metric_trend", "nps_mix", "NPS_MIX_COLUMNS", "web_engagement", "revenue_trend"]


def _nan(x) -> float:
    return float("nan") if x is None else float(x)


def metric_trend(
    datas: Sequence[PeriodData], heads: Sequence[Headline], targets: Mapping, current: Period
) -> pd.DataFrame:
    """Long table of the metrics ``heads`` over the periods of ``datas``.

    One row per period and metric: ``value`` with ``ci_low`` / ``ci_high`` and ``n``, the
    metric's ``unit``, ``target`` (from ``targets``, metric id to target; None without one),
    ``direction`` and whether the row is the ``current`` period. Each period's aggregates are
    computed once, with no comparison against its previous period, so a trend costs one headline
    computation per period. A metric whose tables the source lacks has no value, nor has any
    metric of a period wholly outside the data's dates (a gap in the trend, never a 0).
    """
    rows = []
    for d in datas:
        p = d.scope.period
        outside = period_coverage(d.scope.source, p).outside
        for h in heads:
            if outside or not d.has(*h.needs):
                rec = {"value": None, "ci_low": None, "ci_high": None, "n": None}
            else:
                rec = record(h, safe_compute(h.compute, d))
            t = applicable(targets.get(h.id), p.months, d.scope.segment)[0]
            rows.append(
                {
                    "period": p.label,
                    "metric": h.id,
                    "label": h.label,
                    "value": _nan(rec["value"]),
                    "ci_low": _nan(rec["ci_low"]),
                    "ci_high": _nan(rec["ci_high"]),
                    "n": rec["n"],
                    "unit": h.unit,
                    "direction": h.direction,
                    "target": None if t is None else t.target,
                    "current": p == current,
                }
            )
    return pd.DataFrame(rows)


#: The columns of :func:`nps_mix`, in order.
NPS_MIX_COLUMNS = (
    "n",
    "promoters",
    "passives",
    "detractors",
    "promoter_share",
    "passive_share",
    "detractor_share",
    "nps",
    "ci_low",
    "ci_high",
    "current",
)


def nps_mix(datas: Sequence[PeriodData], current: Period) -> pd.DataFrame:
    """Promoters, passives and detractors per period (counts and shares) with the NPS and its
    95% interval; ``current`` marks the period ``current``."""
    cols = list(NPS_MIX_COLUMNS)
    rows = {}
    for d in datas:
        p = d.scope.period
        r = quietly(satisfaction.nps, d.scores("nps"))
        rows[p.label] = {
            "n": r.n,
            "promoters": r.promoters,
            "passives": r.passives,
            "detractors": r.detractors,
            "promoter_share": r.promoter_share,
            "passive_share": r.passive_share,
            "detractor_share": r.detractor_share,
            "nps": r.value,
            "ci_low": r.ci.low,
            "ci_high": r.ci.high,
            "current": p == current,
        }
    out = pd.DataFrame.from_dict(rows, orient="index")[cols]
    out.index.name = "period"
    return out


def web_engagement(datas: Sequence[PeriodData]) -> pd.DataFrame:
    """Sessions, page views, pages per session, average time on page (s) and bounce rate per period."""
    cols = ["sessions", "page_views", "pages_per_session", "avg_time_on_page_s", "bounce_rate"]
    rows = {}
    for d in datas:
        w = aggregate_marketing.web_summary(d.scope)
        s = quietly(
            advocacy.web_engagement_summary, w.sessions, w.page_views, w.bounces, w.total_time_on_page_s
        )
        rows[d.scope.period.label] = {
            "sessions": int(s.sessions),
            "page_views": int(s.page_views),
            "pages_per_session": s.pages_per_session.value,
            "avg_time_on_page_s": s.average_time_on_page_s.value,
            "bounce_rate": s.bounce_rate.value,
        }
    out = pd.DataFrame.from_dict(rows, orient="index")[cols]
    out.index.name = "period"
    return out


def revenue_trend(scope: agg.Scope, months: int = 12) -> pd.DataFrame:
    """Revenue, gross profit, gross margin, orders and buyers per month for the ``months``
    months ending with the period (index ``YYYY-MM``; months without orders absent);
    ``in_period`` marks the period's own months."""
    df = agg.monthly_revenue(scope, months=months)
    month = pd.to_datetime(df["month"])
    return pd.DataFrame(
        {
            "revenue": df["revenue"].astype(float).to_numpy(),
            "gross_profit": df["gross_profit"].astype(float).to_numpy(),
            "gross_margin": (df["gross_profit"] / df["revenue"].where(df["revenue"] > 0))
            .astype(float)
            .to_numpy(),
            "orders": df["orders"].astype(int).to_numpy(),
            "buyers": df["buyers"].astype(int).to_numpy(),
            "in_period": [scope.period.contains(m) for m in month],
        },
        index=pd.Index(month.dt.strftime("%Y-%m"), name="month"),
    )

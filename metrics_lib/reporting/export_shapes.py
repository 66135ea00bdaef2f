"""What the reports say about the shape of the data: the scorecard's list of metric families,
what the data lets it report and why a family is not available (:func:`family_table`), and the
deals closed as stale (:func:`stale_deals_note`)."""

from __future__ import annotations

import pandas as pd

from metrics_lib.metrics.aggregate_pipeline import PipelineSummary

__all__ = ["family_table", "stale_deals_note"]


def family_table(rows: list[dict]) -> pd.DataFrame:
    """One row per family of :func:`~metrics_lib.metrics.scorecard.family_availability`:
    ``reported`` (``5 metrics``, or ``not available``) and the ``reason`` a family is not.

    >>> family_table([{"family": "pipeline", "available": True, "metrics": 5, "reason": None},
    ...               {"family": "service", "available": False, "metrics": 0,
    ...                "reason": "the data lacks table(s) tickets"}])["reported"].tolist()
    ['5 metrics', 'not available']
    """
    out = [
        {
            "family": r["family"],
            "reported": f"{r['metrics']} metric{'s' if r['metrics'] != 1 else ''}"
            if r["available"]
            else "not available",
            "reason": r["reason"] or "",
        }
        for r in rows
    ]
    return pd.DataFrame(out, columns=["family", "reported", "reason"]).set_index("family")


def stale_deals_note(pipeline: PipelineSummary) -> str:
    """How many of the period's lost deals were still open ``open_deal_max_age_days`` after
    their creation and so count as lost, short enough for a summary table's cell (empty when
    that setting is off).

    >>> stale_deals_note(PipelineSummary(10, 2, 5, 10, 4, stale_lost=3, open_deal_max_age_days=180))
    '3 of 10 lost deals were open 180+ days'
    """
    days = pipeline.open_deal_max_age_days
    if not days:
        return ""
    return f"{pipeline.stale_lost:,} of {pipeline.lost:,} lost deals were open {days}+ days"

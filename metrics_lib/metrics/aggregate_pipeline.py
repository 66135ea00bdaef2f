"""The pipeline's period-level aggregations: leads created and won within the close window, deals
closed won or lost, opportunities open at the period's end (:func:`pipeline_summary`), and the won
deals with their amounts and cycle days (:func:`won_deals`). Like every aggregation of
:mod:`metrics_lib.metrics.aggregate`, they take a :class:`~metrics_lib.metrics.aggregate.Scope`,
run on the engine and return plain numbers or small pandas frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from metrics_lib.core.engine import count_true
from metrics_lib.metrics.aggregate import Scope, count, deals_table

__all__ = [
    "PipelineSummary",
    "pipeline_summary",
    "won_deals",
]


@dataclass(frozen=True)
class PipelineSummary:
    """Leads and deals of the period (:func:`pipeline_summary`). ``leads_won`` counts the leads
    won within ``close_window_days`` of their creation; ``last_date`` is the deals' latest
    created or closed date (None without deals), by which the close window may not yet have
    passed for every lead (:attr:`close_window_open`).

    With a segment, the ``no_customer_*`` counts are the deals of the whole table that have no
    ``customer_id`` (prospects, which no segment holds), in each set the counts above take:
    created in the period (``leads``), closed won or lost in it (``closed``), won in it
    (``won``) and open at its end (``open``); they are 0 without a segment.

    ``stale_lost`` counts the deals of ``lost`` that were open ``open_deal_max_age_days`` days
    after their creation and so count as lost on created + N days
    (:func:`~metrics_lib.metrics.aggregate.deals_table`); 0 when that setting is off."""

    leads: int
    leads_won: int
    won: int
    lost: int
    open_at_end: int
    close_window_days: int = 90
    last_date: date | None = None
    period_end: date | None = None
    no_customer_leads: int = 0
    no_customer_closed: int = 0
    no_customer_won: int = 0
    no_customer_open: int = 0
    stale_lost: int = 0
    open_deal_max_age_days: int | None = None

    @property
    def close_window_open(self) -> bool:
        """Whether some lead of the period has not had the whole close window by ``last_date``:
        its close rate can still rise as those leads close."""
        if self.last_date is None or self.period_end is None:
            return False
        return self.period_end + timedelta(days=self.close_window_days) > self.last_date


def pipeline_summary(scope: Scope) -> PipelineSummary:
    """Leads created and won, deals closed won / lost, and open opportunities at the period's end.

    ``leads_won`` counts the deals created in the period that were won within
    ``close_window_days`` (``source.yml``, default 90) of their creation: the cohort of the close
    rate. Wins later than that never count, so a past period's close rate does not grow as newer
    data arrives; a period whose last leads have not had the whole window by the deals' latest
    date is still open (:attr:`PipelineSummary.close_window_open`)."""
    d = scope.table("deals")
    created = scope.during(d.created_date)
    closed = scope.during(d.closed_date)
    end = scope.last_day
    window = scope.close_window_days
    open_at_end = (d.created_date <= end) & (d.closed_date.isnull() | (d.closed_date > end))
    cycle = d.closed_date.date().delta(d.created_date.date(), unit="day")
    # the window's end is taken on the whole table, not the segment's: it is the data's as-of date
    whole = deals_table(scope.source)
    prospects = {}
    if scope.segment:  # the deals no segment holds, which the segment's counts leave out
        nobody = whole.customer_id.isnull()
        w_closed = nobody & scope.during(whole.closed_date)
        prospects = {
            "no_customer_leads": count_true(nobody & scope.during(whole.created_date)),
            "no_customer_closed": count_true(w_closed & whole.outcome.isin(["won", "lost"])),
            "no_customer_won": count_true(w_closed & (whole.outcome == "won")),
            "no_customer_open": count_true(
                nobody
                & (whole.created_date <= end)
                & (whole.closed_date.isnull() | (whole.closed_date > end))
            ),
        }
    # the export's own dates: closing a deal as stale can move its closed_date earlier
    raw = scope.source.table("deals")
    dates = raw.aggregate(created=raw.created_date.max(), closed=raw.closed_date.max())
    if prospects:
        dates = dates.cross_join(whole.aggregate(**prospects))
    counts = (
        d.aggregate(  # one pass over the table: one query on a remote engine, not five
            leads=count_true(created),
            leads_won=count_true(created & (d.outcome == "won") & (cycle <= window)),
            won=count_true(closed & (d.outcome == "won")),
            lost=count_true(closed & (d.outcome == "lost")),
            stale_lost=count_true(closed & d.closed_as_stale),
            open_at_end=count_true(open_at_end),
        )
        .cross_join(dates)
        .execute()
        .iloc[0]
    )
    stamps = [pd.Timestamp(counts[k]).date() for k in ("created", "closed") if not pd.isna(counts[k])]
    return PipelineSummary(
        leads=count(counts["leads"]),
        leads_won=count(counts["leads_won"]),
        won=count(counts["won"]),
        lost=count(counts["lost"]),
        open_at_end=count(counts["open_at_end"]),
        stale_lost=count(counts["stale_lost"]),
        open_deal_max_age_days=getattr(scope.source.config, "open_deal_max_age_days", None),
        close_window_days=window,
        last_date=max(stamps) if stamps else None,
        period_end=scope.period.end,
        **{k: count(counts[k]) for k in prospects},
    )


def won_deals(scope: Scope) -> pd.DataFrame:
    """Deals won in the period with amount and cycle days (created to closed)."""
    d = scope.table("deals")
    w = d.filter(scope.during(d.closed_date) & (d.outcome == "won"))
    w = w.mutate(cycle_days=w.closed_date.date().delta(w.created_date.date(), unit="day").cast("float64"))
    return w.select("deal_id", "amount", "cycle_days", "owner", "team").execute()

"""The sales pipeline stage by stage: how long deals stay in each stage, how many pass from one
stage to the next, and which stage holds them up.

:func:`pipeline_stages` reads the stage history of the deals created in a window (a
:class:`~metrics_lib.metrics.aggregate.Scope` over a :class:`~metrics_lib.metrics.aggregate.DateWindow`,
usually the twelve months ending with the report's period) and returns a :class:`PipelineStages`
with unrounded numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd

from metrics_lib.core.results import quietly
from metrics_lib.formulas import pipeline
from metrics_lib.metrics import aggregate as agg

__all__ = ["PipelineStages", "pipeline_stages"]


@dataclass(frozen=True)
class PipelineStages:
    """Time in stage and the stage funnel of the deals created in a window.

    ``time_in_stage`` is indexed by stage (``deals``, ``mean_days``, ``median_days``,
    ``open_deals``, ``bottleneck``); ``funnel`` by stage (``deals``, ``conversion``,
    ``share_of_first``); ``bottleneck`` names the slowest stage.
    """

    time_in_stage: pd.DataFrame
    funnel: pd.DataFrame
    bottleneck: str | None
    deals: int
    window: str
    note: str = ""


def pipeline_stages(scope: agg.Scope, *, as_of: date | None = None) -> PipelineStages:
    """Time in stage, the stage funnel and the bottleneck for the deals created in the scope's
    window (``window`` is its label).

    Stages come from the stage history in the order deals pass through them; stages that
    nothing ever follows (``closed``, ``won``, ``lost``) end the working stages and are left
    out of the time table. The funnel's last step is ``won``: deals whose outcome is won.
    Open deals' current stage runs to the window's end (or the ``as_of`` date, if earlier).
    """
    window = scope.period.label
    start, end = scope.start, scope.next_start
    if as_of is not None:
        end = min(end, datetime(as_of.year, as_of.month, as_of.day) + timedelta(days=1))
    d = scope.table("deals")
    deals = d.filter((d.created_date >= start) & (d.created_date < end))
    st = scope.source.table("deal_stages")
    hist = st.filter(st.entered_at < end).semi_join(deals.select("deal_id"), "deal_id").execute()
    won = (
        deals.filter((deals.outcome == "won") & (deals.closed_date < end))
        .select("deal_id", "closed_date")
        .execute()
    )
    n_deals = int(hist["deal_id"].nunique())
    if not hist.empty:
        hist = _end_stale_stages(hist, deals, end)
    if hist.empty:
        empty = pd.DataFrame()
        return PipelineStages(
            empty, empty, None, 0, window, "no deal created in the window has a stage history"
        )
    hist, won = _numbered_deals(hist, won)
    hist = hist.sort_values(["deal_id", "entered_at"], kind="stable")
    position = hist.groupby("deal_id").cumcount()
    followed = hist.groupby("deal_id")["entered_at"].shift(-1).notna()
    ever_followed = followed.groupby(hist["stage"]).any()
    working = [
        s for s in position.groupby(hist["stage"]).mean().sort_values().index if ever_followed.get(s, False)
    ]
    times = quietly(pipeline.time_in_stage, hist, as_of=end, stage_order=working)
    b = quietly(pipeline.bottleneck_stage, times)
    times["bottleneck"] = [s == b.stage for s in times.index]
    funnel_hist = pd.concat(
        [
            hist[hist["stage"].isin(working)],
            pd.DataFrame(
                {"deal_id": won["deal_id"], "stage": "won", "entered_at": pd.to_datetime(won["closed_date"])}
            ),
        ],
        ignore_index=True,
    )
    funnel = pipeline.stage_funnel(funnel_hist, working + ["won"])
    return PipelineStages(times, funnel, b.stage, n_deals, window, "")


def _numbered_deals(hist: pd.DataFrame, won: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``hist`` and ``won`` with each deal id replaced by its rank among the ids in text order: the
    same sorts and groups (only stage figures come out), but on whole numbers, which pandas sorts
    and groups many times faster than millions of texts."""
    codes, _ = pd.factorize(pd.concat([hist["deal_id"], won["deal_id"]], ignore_index=True), sort=True)
    return hist.assign(deal_id=codes[: len(hist)]), won.assign(deal_id=codes[len(hist) :])


def _end_stale_stages(hist: pd.DataFrame, deals, end) -> pd.DataFrame:
    """The stage history with each deal closed as stale (``open_deal_max_age_days``, see
    :func:`~metrics_lib.metrics.aggregate.deals_table`) before ``end`` ending in a ``lost`` stage
    on the day it counts as lost: its last stage's time stops there instead of running on, and
    what it entered after that day is dropped."""
    stale = (
        deals.filter(deals.closed_as_stale & (deals.closed_date < end))
        .select("deal_id", "closed_date")
        .execute()
    )
    if stale.empty:
        return hist
    lost_on = pd.to_datetime(stale.set_index("deal_id")["closed_date"])
    # each entry's deal looked up among the stale ones by hash, not text by text
    at = lost_on.index.get_indexer(hist["deal_id"])
    cut = pd.Series(lost_on.to_numpy()[at], index=hist.index).where(at >= 0)
    kept = hist[cut.isna() | (pd.to_datetime(hist["entered_at"]) <= cut)]
    ends = pd.DataFrame({"deal_id": lost_on.index, "stage": "lost", "entered_at": lost_on.to_numpy()})
    ends = ends[ends["deal_id"].isin(kept["deal_id"])]
    return pd.concat([kept, ends], ignore_index=True)

"""Sales by rep and by team: the pipeline report's leaderboard of the deals closed in a period.

Per sales rep (``deals.owner``) or team (``deals.team``): the deals closed won or lost in the
period, the win rate with its Wilson interval (:func:`metrics_lib.formulas.pipeline.win_rate`,
the headline's definition), the value won and the average deal won. Groups with fewer closed
deals than a minimum are hidden, and counted, since a win rate of a handful of deals says little
about the rep. Results are unrounded; the reporting layer formats them.
"""

from __future__ import annotations

import pandas as pd

from metrics_lib.core.results import quietly
from metrics_lib.formulas import pipeline
from metrics_lib.metrics.aggregate import Scope

__all__ = ["LEADERBOARD_COLUMNS", "sales_leaderboard"]

#: The columns of :func:`sales_leaderboard`, in order.
LEADERBOARD_COLUMNS = ("closed", "won", "win_rate", "ci_low", "ci_high", "won_value", "average_won")

_GROUPINGS = {"owner": "rep", "team": "team"}

#: The group of the deals whose owner or team is empty.
NOT_RECORDED = "(not recorded)"


def sales_leaderboard(scope: Scope, *, by: str = "owner", min_closed: int = 20) -> pd.DataFrame:
    """The deals closed in the scope's period per ``by`` (``owner``: each rep, with their team;
    ``team``), ordered by the value won (ties by name).

    Groups with fewer than ``min_closed`` deals closed won or lost are left out; ``attrs`` holds
    ``hidden`` (how many) and ``hidden_closed`` (their closed deals), so the reader knows what
    is not shown. Deals with an empty owner or team form the group :data:`NOT_RECORDED`. With a
    segment, deals without a customer (prospects) are in no segment.
    """
    if by not in _GROUPINGS:
        raise ValueError(f"`by` ({by!r}) must be one of {sorted(_GROUPINGS)}")
    if isinstance(min_closed, bool) or not isinstance(min_closed, int) or min_closed < 1:
        raise ValueError(f"`min_closed` ({min_closed!r}) must be a whole number >= 1")
    d = scope.table("deals")
    closed = d.filter(scope.during(d.closed_date) & d.outcome.isin(["won", "lost"]))
    closed = closed.mutate(
        **{k: closed[k].fill_null(NOT_RECORDED) for k in ("owner", "team") if k in closed.columns}
    )
    keys = ["team", "owner"] if by == "owner" else ["team"]
    won = closed.outcome == "won"
    counts = (
        closed.group_by(keys)
        .aggregate(
            closed=closed.count(),
            won=won.ifelse(1, 0).sum(),
            won_value=won.ifelse(closed.amount, 0.0).sum(),
        )
        .execute()
    )
    rows = []
    for r in counts.itertuples(index=False):
        n_closed, n_won, value = int(r.closed), int(r.won), float(r.won_value)
        rate = quietly(pipeline.win_rate, n_won, n_closed - n_won)
        rows.append(
            {
                **{k: getattr(r, k) for k in keys},
                "closed": n_closed,
                "won": n_won,
                "win_rate": rate.value,
                "ci_low": rate.ci.low,
                "ci_high": rate.ci.high,
                "won_value": value,
                "average_won": value / n_won if n_won else float("nan"),
            }
        )
    frame = pd.DataFrame(rows, columns=[*keys, *LEADERBOARD_COLUMNS])
    shown = frame[frame["closed"] >= min_closed]
    hidden = frame[frame["closed"] < min_closed]
    index = "owner" if by == "owner" else "team"
    shown = shown.sort_values(["won_value", index], ascending=[False, True]).set_index(index)
    out = shown[(["team"] if by == "owner" else []) + list(LEADERBOARD_COLUMNS)]
    out.attrs.update(
        hidden=len(hidden),
        hidden_closed=int(hidden["closed"].sum()),
        min_closed=min_closed,
        by=_GROUPINGS[by],
    )
    return out

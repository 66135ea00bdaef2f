"""Plots of recurring revenue for the retention report: MRR and ARR over periods, and the
period's MRR waterfall from the start MRR to the end MRR.

Same conventions as :mod:`metrics_lib.reporting.plots` (whose theme and palette they use): data
first, ``ax=None`` for the current axes, the Axes returned, nothing saved or shown; an empty table
draws its ``attrs["note"]``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from metrics_lib.metrics.mrr_views import MONTHS_PER_YEAR
from metrics_lib.reporting.format import format_value
from metrics_lib.reporting.plots import (
    PALETTE,
    axes_or_current,
    draw_note,
    is_empty,
    mark_strategy_change,
    unit_formatter,
)

__all__ = ["plot_mrr_trend", "plot_mrr_waterfall"]


def plot_mrr_trend(frame: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """The MRR on each period's last day as bars (the current period in orange), the ARR (12 x
    MRR) read on the right-hand axis and the strategy change (``attrs["strategy_change"]``) as a
    dotted line, from the ``numbers`` of the MRR trend section."""
    ax = axes_or_current(ax)
    if is_empty(frame):
        return draw_note(ax, frame, "MRR and ARR by period")
    x = np.arange(len(frame))
    colours = [PALETTE["current"] if cur else PALETTE["main"] for cur in frame["current"]]
    ax.bar(x, frame["end_mrr"].astype(float), color=colours)
    ax.set_xticks(x, frame.index.tolist())
    mark_strategy_change(ax, frame, frame.index)
    ax.yaxis.set_major_formatter(unit_formatter("currency"))
    arr = ax.secondary_yaxis(
        "right", functions=(lambda v: v * MONTHS_PER_YEAR, lambda v: v / MONTHS_PER_YEAR)
    )
    arr.yaxis.set_major_formatter(unit_formatter("currency"))
    arr.set_ylabel("ARR (12 x MRR)")
    ax.set(title="MRR at each period's end (ARR on the right)", xlabel="period", ylabel="MRR")
    return ax


def plot_mrr_waterfall(frame: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """The period's MRR bridge, from the ``numbers`` of the MRR waterfall section: the start and
    end MRR as full bars, each movement as a floating bar from the MRR before it to the MRR after
    it (gains green, losses red), labelled with its amount."""
    ax = axes_or_current(ax)
    if is_empty(frame):
        return draw_note(ax, frame, "MRR waterfall")
    colours = {"total": PALETTE["main"], "gain": PALETTE["good"], "loss": PALETTE["bad"]}
    x = np.arange(len(frame))
    low = np.minimum(frame["before"], frame["after"]).astype(float).to_numpy()
    high = np.maximum(frame["before"], frame["after"]).astype(float).to_numpy()
    ax.bar(x, high - low, bottom=low, color=[colours[k] for k in frame["kind"]])
    for i, (change, kind, top) in enumerate(zip(frame["change"], frame["kind"], high)):
        sign = "" if kind == "total" else ("+" if kind == "gain" else "-")
        label = sign + format_value(abs(float(change)), "currency", short=True)
        ax.annotate(label, (i, top), xytext=(0, 3), textcoords="offset points", ha="center", fontsize=9)
    # the movements are small beside the totals: start the axis below the lowest movement
    moves = frame["kind"].to_numpy() != "total"
    floor = 0.0
    if moves.any():
        lowest = low[moves].min()
        floor = max(0.0, lowest - 0.5 * (high.max() - lowest))
    ax.set_ylim(floor, high.max() * 1.04)
    ax.set_xticks(x, frame.index.tolist())
    ax.yaxis.set_major_formatter(unit_formatter("currency"))
    where = f" (axis from {format_value(floor, 'currency', short=True)})" if floor > 0 else ""
    ax.set(title="From the start MRR to the end MRR", xlabel="", ylabel=f"MRR{where}")
    ax.grid(axis="x", visible=False)
    return ax

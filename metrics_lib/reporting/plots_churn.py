"""Plots of the fitted churn model for the health report: calibration of the predicted churn
against the observed, and the drivers' odds ratios with their intervals.

Same conventions as :mod:`metrics_lib.reporting.plots` (whose theme and palette they use): data
first, ``ax=None`` for the current axes, the Axes returned, nothing saved or shown; an empty table
draws its ``attrs["note"]``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FixedLocator, NullFormatter

from metrics_lib.reporting.plots import PALETTE, axes_or_current, draw_note, is_empty, unit_formatter

__all__ = ["plot_churn_calibration", "plot_odds_ratios"]


def plot_churn_calibration(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Observed churn (with 95% intervals) against the mean predicted churn probability per group
    of the holdout by predicted risk, with the diagonal of a perfectly calibrated model
    (:attr:`metrics_lib.reporting.churn.ChurnModelView.calibration`)."""
    ax = axes_or_current(ax)
    if is_empty(table):
        return draw_note(ax, table, "calibration of the churn model")
    x = table["mean_predicted"].astype(float).to_numpy()
    y = table["observed"].astype(float).to_numpy()
    err = np.vstack(
        [y - table["ci_low"].astype(float).to_numpy(), table["ci_high"].astype(float).to_numpy() - y]
    )
    top = float(max(np.nanmax(x), np.nanmax(table["ci_high"].astype(float))) * 1.1)
    ax.plot([0, top], [0, top], linestyle="--", color=PALETTE["neutral"], label="perfect calibration")
    ax.errorbar(
        x, y, yerr=err, fmt="o", color=PALETTE["main"], ecolor=PALETTE["light"], capsize=3, label="observed"
    )
    share = unit_formatter("share")
    ax.xaxis.set_major_formatter(share)
    ax.yaxis.set_major_formatter(share)
    ax.set(
        xlim=(0, top),
        ylim=(0, top),
        title="Predicted against observed churn, by tenth of predicted risk",
        xlabel="mean predicted churn probability",
        ylabel="observed churn rate (95% CI)",
    )
    ax.legend()
    return ax


def plot_odds_ratios(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Each feature's odds ratio with its 95% interval on a log scale, 1 (no effect) marked
    (:attr:`metrics_lib.reporting.churn.ChurnModelView.odds_ratios`)."""
    ax = axes_or_current(ax)
    if is_empty(table):
        return draw_note(ax, table, "drivers of churn")
    t = table.iloc[::-1]
    y = np.arange(len(t))
    ratio = t["odds_ratio"].astype(float).to_numpy()
    low, high = t["odds_ratio_low"].astype(float).to_numpy(), t["odds_ratio_high"].astype(float).to_numpy()
    colours = [
        PALETTE["bad"] if lo > 1 else PALETTE["good"] if hi < 1 else PALETTE["neutral"]
        for lo, hi in zip(low, high)
    ]
    ax.hlines(y, low, high, colors=colours, linewidth=2)
    ax.scatter(ratio, y, color=colours, zorder=3)
    ax.axvline(1.0, color=PALETTE["neutral"], linestyle="--", linewidth=1)
    ax.set_xscale("log")
    lo, hi = float(np.nanmin(np.append(low, 1.0))), float(np.nanmax(np.append(high, 1.0)))
    ticks = [t for t in (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0) if lo / 1.5 <= t <= hi * 1.5]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_major_formatter(unit_formatter("ratio"))
    ax.set_yticks(y, [str(i) for i in t.index])
    ax.set(
        title="Drivers of churn: odds ratio per unit (95% CI)",
        xlabel="odds ratio (log scale; right of 1 raises the odds of churning)",
    )
    return ax

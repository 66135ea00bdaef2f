"""Plots of the contractual lifetime-value model, in the theme of :mod:`metrics_lib.reporting.plots`.

:func:`plot_survival` draws the sBG model's survival curve against the renewal cohorts' observed
one, from :attr:`metrics_lib.metrics.clv_contractual.ContractualCLVView.survival`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from metrics_lib.reporting.plots import PALETTE

__all__ = ["plot_survival"]


def plot_survival(survival: pd.DataFrame, *, term: str = "renewal period", ax: Axes | None = None) -> Axes:
    """Share of a cohort still active at the start of each renewal period: the cohorts pooled
    (dots, as far as observed) and the fitted sBG curve with its 95% band, projected beyond."""
    ax = ax if ax is not None else plt.gca()
    if survival is None or survival.empty:
        note = survival.attrs.get("note") if survival is not None else None
        ax.text(
            0.5,
            0.5,
            note or "no survival curve for this period",
            transform=ax.transAxes,
            ha="center",
            va="center",
            color=PALETTE["neutral"],
            fontsize=12,
        )
        ax.set_axis_off()
        return ax
    t = survival.index.to_numpy()
    ax.fill_between(
        t,
        survival["fitted_low"].astype(float),
        survival["fitted_high"].astype(float),
        color=PALETTE["light"],
        label="fitted, 95% interval",
    )
    ax.plot(t, survival["fitted"].astype(float), color=PALETTE["main"], label="fitted (sBG)")
    seen = survival["observed"].notna()
    ax.plot(
        t[seen.to_numpy()],
        survival.loc[seen, "observed"].astype(float),
        "o",
        color=PALETTE["current"],
        label="observed (cohorts pooled)",
    )
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0, 1.02)
    ax.set(
        title="Customers still active, by renewals since they started",
        xlabel=f"{term}s since the first contract",
        ylabel="share of the cohort still active",
    )
    ax.legend()
    return ax

"""Plots of the contractual lifetime-value model, in the theme of :mod:`metrics_lib.reporting.plots`.

:func:`plot_survival` draws the sBG model's survival curve against the renewal cohorts' observed
one, from :attr:`metrics_lib.metrics.clv_contractual.ContractualCLVView.survival`.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from metrics_lib.reporting.plots import PALETTE, _axes, _empty, _is_empty

__all__ = ["plot_survival"]


def plot_survival(survival: pd.DataFrame, *, term: str = "renewal period", ax: Axes | None = None) -> Axes:
    """Share of a cohort still active at the start of each renewal period: the cohorts pooled
    (dots, as far as observed) and the fitted sBG curve with its 95% band, projected beyond."""
    ax = _axes(ax)
    if _is_empty(survival):
        return _empty(ax, survival, "survival curve")
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

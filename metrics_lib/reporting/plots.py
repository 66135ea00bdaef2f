"""Plots for the report notebooks: one theme, thin functions, statistics computed elsewhere.

Every function takes its data first and options by keyword, draws on ``ax`` (the current axes
when None), labels with ``ax.set(...)`` and returns the Axes; none saves or shows a figure. The
numbers come ready from :class:`metrics_lib.reporting.workbook.Workbook` (or the formula modules): the
plots only draw them. An empty table draws its ``attrs["note"]`` (e.g. "skipped: needs
deal_stages") instead of failing, so a report whose data lacks a table still renders.

Importing this module applies :func:`set_theme` (matplotlib settings only; pandas options are
never touched).
"""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import FixedLocator, FuncFormatter

from metrics_lib.formulas import service
from metrics_lib.formulas.relationships import RELATIONSHIP_GROUPS
from metrics_lib.reporting.display import INDEX_NAMES
from metrics_lib.reporting.format import format_p_value, format_tick, format_value
from metrics_lib.reporting.plot_marks import UnitFormatter, mark_change, not_observed_style, sharp_images

__all__ = [
    "PALETTE",
    "set_theme",
    "plot_trend",
    "plot_revenue",
    "plot_nps_mix",
    "plot_cohort_retention",
    "plot_funnel",
    "plot_time_in_stage",
    "plot_response_times",
    "plot_relationship_quadrant",
    "plot_churn_by_group",
    "plot_health_bands",
    "plot_lift",
    "plot_calibration_holdout",
    "plot_probability_alive",
]

#: The report palette: few colours, each with one meaning.
PALETTE = {
    "main": "#30628f",  # the series being read
    "current": "#d9822b",  # the period the report is about
    "good": "#4a9163",  # promoters, healthy, significant gains
    "bad": "#c0504d",  # detractors, the bottleneck, losses
    "neutral": "#9a9a9a",  # passives, targets, reference lines
    "light": "#bfd1e3",  # intervals and backgrounds
}

_GROUP_COLOURS = dict(zip(RELATIONSHIP_GROUPS, ["#9a9a9a", "#d9822b", "#7a9cc6", "#4a9163"]))
_GROUP_NAMES = {
    "stranger": "strangers",
    "butterfly": "butterflies",
    "barnacle": "barnacles",
    "true friend": "true friends",
}


def set_theme() -> None:
    """Apply the report theme: white grid, 9 x 4.5 in figures, 11 pt text, the report palette."""
    sns.set_theme(
        context="notebook",
        style="whitegrid",
        palette=[PALETTE[k] for k in ("main", "current", "good", "bad", "neutral")],
        rc={
            "figure.figsize": (9.0, 4.5),
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "font.size": 11,
            "axes.titlesize": 12,
            "axes.titleweight": "bold",
            "axes.titlelocation": "left",
            "axes.labelsize": 11,
            "xtick.labelsize": 10,
            "ytick.labelsize": 10,
            "legend.fontsize": 10,
            "legend.frameon": False,
            "axes.spines.top": False,
            "axes.spines.right": False,
        },
    )


def _inline_in_kernels() -> None:
    """In a Jupyter kernel started with ``MPLBACKEND=Agg`` in its environment (as a test run may
    leave it), figures would silently not reach the notebook: switch such a kernel to inline."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipykernel
        return
    shell = get_ipython()
    if (
        shell is not None
        and getattr(shell, "kernel", None) is not None
        and matplotlib.get_backend().lower() == "agg"
    ):
        shell.run_line_magic("matplotlib", "inline")


set_theme()
_inline_in_kernels()
sharp_images()


# -- helpers --------------------------------------------------------------------------------------


def _axes(ax: Axes | None) -> Axes:
    return ax if ax is not None else plt.gca()


def _is_empty(data) -> bool:
    return data is None or len(data) == 0


def _empty(ax: Axes, data, what: str) -> Axes:
    """Write why there is nothing to draw in the middle of the axes."""
    note = getattr(data, "attrs", {}).get("note") if data is not None else None
    ax.text(
        0.5,
        0.5,
        note or f"no {what} for this period",
        transform=ax.transAxes,
        ha="center",
        va="center",
        color=PALETTE["neutral"],
        fontsize=12,
    )
    ax.set(xticks=[], yticks=[], title=what[:1].upper() + what[1:])
    ax.grid(False)
    return ax


def _fmt(unit: str) -> UnitFormatter:
    """A tick formatter for a unit whose labels stay distinct (:class:`.plot_marks.UnitFormatter`)."""
    return UnitFormatter(unit)


#: The value axis's label per unit.
_AXIS_UNITS = {
    "share": "percent",
    "currency": "amount",
    "currency per day": "amount per day",
    "count": "number",
}


def _mark_change(ax: Axes, frame: pd.DataFrame, periods) -> None:
    """The strategy change (``attrs["strategy_change"]``: its date and name, as
    :meth:`Workbook.trend` sets it) as a labelled vertical line, when it falls on the axis."""
    when, label = frame.attrs.get("strategy_change") or (None, "")
    mark_change(ax, list(periods), when, label)


_ACRONYMS = {
    "nps": "NPS",
    "csat": "CSAT",
    "ces": "CES",
    "cac": "CAC",
    "clv": "CLV",
    "ltv": "LTV",
    "roi": "ROI",
}


def _title(label: str) -> str:
    words = [_ACRONYMS.get(w, w) for w in str(label).split()]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


# the helpers other plotting modules share (plots_mrr), under public names
axes_or_current = _axes
is_empty = _is_empty
draw_note = _empty
unit_formatter = _fmt
mark_strategy_change = _mark_change


# -- trends ----------------------------------------------------------------------------------------


def plot_trend(trend_frame: pd.DataFrame, metric: str, *, ax: Axes | None = None) -> Axes:
    """One metric over the periods of a :meth:`Workbook.trend` table: the value as a line, its
    95% interval as a band, the current period marked, the target as a dashed line and the
    strategy change as a dotted one. A period without a value is a gap in the line, never a 0."""
    ax = _axes(ax)
    rows = trend_frame[trend_frame["metric"] == metric] if not _is_empty(trend_frame) else trend_frame
    if _is_empty(rows):
        return _empty(ax, trend_frame, f"trend of {metric}")
    if not np.isfinite(rows["value"].astype(float).to_numpy()).any():  # e.g. revenue of pipeline-only data
        label = rows["label"].iloc[0] if "label" in rows else metric
        why = pd.DataFrame()
        why.attrs["note"] = f"{label}: not available in these periods"
        return _empty(ax, why, f"trend of {label}")
    x = np.arange(len(rows))
    values = rows["value"].astype(float).to_numpy()
    unit = rows["unit"].iloc[0]
    label = rows["label"].iloc[0] if "label" in rows else metric
    low, high = rows["ci_low"].astype(float).to_numpy(), rows["ci_high"].astype(float).to_numpy()
    if np.isfinite(low).any():
        ax.fill_between(x, low, high, color=PALETTE["light"], alpha=0.6, linewidth=0, label="95% CI")
    ax.plot(x, values, marker="o", color=PALETTE["main"], label=label)
    current = rows["current"].to_numpy(dtype=bool)
    if current.any():
        ax.scatter(
            x[current], values[current], s=110, color=PALETTE["current"], zorder=3, label="current period"
        )
    target = rows["target"].dropna() if "target" in rows else pd.Series(dtype=float)
    if len(target):
        t = float(target.iloc[-1])
        ax.axhline(
            t,
            color=PALETTE["neutral"],
            linestyle="--",
            linewidth=1.2,
            label=f"target {format_value(t, unit, short=True)}",
        )
    ax.set_xticks(x, rows["period"].tolist())
    _mark_change(ax, trend_frame, rows["period"])
    ax.yaxis.set_major_formatter(_fmt(unit))
    ax.set(title=f"{_title(label)} by period", xlabel="period", ylabel=_AXIS_UNITS.get(unit, unit))
    ax.legend(loc="best")
    return ax


def plot_revenue(frame: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Monthly revenue as bars (the period's months highlighted) with gross profit as a line,
    from :meth:`Workbook.revenue_trend`."""
    ax = _axes(ax)
    if _is_empty(frame):
        return _empty(ax, frame, "revenue by month")
    x = np.arange(len(frame))
    colours = [PALETTE["current"] if cur else PALETTE["main"] for cur in frame["in_period"]]
    ax.bar(x, frame["revenue"], color=colours, label="revenue")
    ax.plot(x, frame["gross_profit"], color=PALETTE["good"], marker="o", label="gross profit")
    ax.set_xticks(x, frame.index.tolist(), rotation=45, ha="right")
    _mark_change(ax, frame, frame.index)
    ax.yaxis.set_major_formatter(_fmt("currency"))
    ax.set(
        title="Revenue and gross profit by month (the period's months in orange)",
        xlabel="month",
        ylabel="amount",
    )
    ax.legend(loc="upper left")
    return ax


# -- satisfaction ----------------------------------------------------------------------------------


def plot_nps_mix(frame: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Stacked bars of detractor, passive and promoter shares per period with the NPS on top and
    the strategy change (``attrs["strategy_change"]``) as a dotted line, from :meth:`Workbook.nps_mix`."""
    ax = _axes(ax)
    if _is_empty(frame):
        return _empty(ax, frame, "NPS mix")
    x = np.arange(len(frame))
    bottom = np.zeros(len(frame))
    for col, name, colour in (
        ("detractor_share", "detractors (0-6)", PALETTE["bad"]),
        ("passive_share", "passives (7-8)", PALETTE["neutral"]),
        ("promoter_share", "promoters (9-10)", PALETTE["good"]),
    ):
        share = frame[col].astype(float).fillna(0).to_numpy() * 100
        ax.bar(x, share, bottom=bottom, color=colour, label=name, width=0.7)
        bottom += share
    for xi, (nps, cur) in enumerate(zip(frame["nps"], frame["current"])):
        text = "n/a" if pd.isna(nps) else f"{nps:+.0f}"
        ax.text(
            xi,
            102,
            text,
            ha="center",
            va="bottom",
            fontsize=10,
            fontweight="bold" if cur else "normal",
            color=PALETTE["current"] if cur else "black",
        )
    ax.set_xticks(x, frame.index.tolist())
    ax.set_ylim(0, 115)
    _mark_change(ax, frame, frame.index)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}%" if v <= 100 else ""))
    ax.set(title="Answers by NPS group per period (NPS on top)", xlabel="period", ylabel="share of answers")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=3)
    return ax


# -- retention -------------------------------------------------------------------------------------


def plot_cohort_retention(
    matrix: pd.DataFrame, *, sizes: pd.Series | None = None, ax: Axes | None = None
) -> Axes:
    """Heatmap of cohort retention (rows: signup cohort, columns: months since signup) with the
    share annotated in %; ``sizes`` adds each cohort's customers to its label.

    The colour scale runs from 0 to 100% whatever the data, so a pale cell means few customers
    left, not merely the fewest of this table; months not observed yet are hatched grey."""
    ax = _axes(ax)
    if _is_empty(matrix):
        return _empty(ax, matrix, "cohort retention")
    values = matrix.astype(float)
    annot = values.map(lambda v: "" if pd.isna(v) else f"{100 * v:.0f}")
    sns.heatmap(
        values * 100,
        annot=annot,
        fmt="",
        cmap="Blues",
        vmin=0,
        vmax=100,
        ax=ax,
        cbar_kws={"label": "% still active (scale 0-100%)"},
        linewidths=0.5,
        annot_kws={"fontsize": 9},
    )
    labels = [str(c) for c in values.index]
    if sizes is not None:
        labels = [f"{c} (n={int(sizes.get(c, 0)):,})" for c in values.index]
    ax.set_yticks(np.arange(len(labels)) + 0.5, labels, rotation=0)
    if values.isna().to_numpy().any():
        ax.legend(handles=[not_observed_style(ax)], loc="upper right", bbox_to_anchor=(1.0, -0.1), fontsize=9)
    ax.set(
        title="Share of each signup cohort still active, by months since signup (%)",
        xlabel="months since signup",
        ylabel="signup cohort",
    )
    return ax


def plot_churn_by_group(
    frame: pd.DataFrame,
    *,
    title: str = "Churn in the period by group",
    empty_text: str = "no customers in this group",
    ax: Axes | None = None,
) -> Axes:
    """Churn rate per group as a dot with its 95% interval, one row per group, labelled with the
    rate and the group's customers, from a table with ``customers``, ``churn_rate``, ``ci_low``
    and ``ci_high`` (e.g. :meth:`Workbook.nps_churn`). A group without customers has no dot and
    says so (``empty_text``)."""
    ax = _axes(ax)
    if _is_empty(frame):
        return _empty(ax, frame, title)
    y = np.arange(len(frame))
    rate = frame["churn_rate"].astype(float).to_numpy()
    low = frame["ci_low"].astype(float).to_numpy()
    high = frame["ci_high"].astype(float).to_numpy()
    err = np.vstack([rate - low, high - rate])
    ax.errorbar(rate, y, xerr=err, fmt="o", color=PALETTE["main"], ecolor="black", capsize=5, markersize=8)
    right = float(np.nanmax(np.append(high, 0.01)))
    for yi, (r, h, n) in enumerate(zip(rate, high, frame["customers"])):
        if n == 0 or np.isnan(r):
            text, at = empty_text, 0.0
        else:
            text, at = f"{format_value(r, 'share')} (n={int(n):,})", h
        ax.text(at + right * 0.03, yi, text, va="center", fontsize=10)
    ax.set_xlim(0, right * 1.45)
    ax.set_yticks(y, [str(i) for i in frame.index])
    ax.invert_yaxis()
    ax.set_ylim(len(frame) - 0.5, -0.5)
    ax.xaxis.set_major_formatter(_fmt("share"))
    name = frame.index.name or ""
    ax.set(
        title=title,
        ylabel=INDEX_NAMES.get(name, name.replace("_", " ")),
        xlabel="churn rate (dot) with its 95% interval",
    )
    return ax


def plot_health_bands(frame: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Churn in this period by health band at the end of the previous one, with intervals,
    from :attr:`HealthValidation.bands`."""
    return plot_churn_by_group(
        frame,
        title="Churn in the period by health band at its start",
        empty_text="no customer scored in this band at the start",
        ax=ax,
    )


# -- pipeline --------------------------------------------------------------------------------------


def plot_funnel(funnel: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Horizontal bars of the deals reaching each stage, labelled with the count and the
    conversion from the stage before, from :attr:`PipelineStages.funnel`."""
    ax = _axes(ax)
    if _is_empty(funnel):
        return _empty(ax, funnel, "stage funnel")
    y = np.arange(len(funnel))
    deals = funnel["deals"].astype(float).to_numpy()
    ax.barh(y, deals, color=PALETTE["main"], height=0.6)
    for yi, (n, conv) in enumerate(zip(deals, funnel["conversion"])):
        text = f"{int(n):,}" + ("" if pd.isna(conv) else f"  ({100 * conv:.0f}% of the stage before)")
        ax.text(n + deals.max() * 0.01, yi, text, va="center", fontsize=10)
    ax.set_yticks(y, [str(s) for s in funnel.index])
    ax.invert_yaxis()
    ax.set_xlim(0, deals.max() * 1.45 if deals.max() > 0 else 1)
    ax.xaxis.set_major_formatter(_fmt("count"))
    ax.set(title="Deals reaching each stage", xlabel="deals", ylabel="stage")
    return ax


def plot_time_in_stage(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Mean days in each stage as horizontal bars, medians as ticks, the bottleneck (the
    ``bottleneck`` column of :attr:`PipelineStages.time_in_stage`) highlighted."""
    ax = _axes(ax)
    if _is_empty(table):
        return _empty(ax, table, "time in stage")
    y = np.arange(len(table))
    mean = table["mean_days"].astype(float).to_numpy()
    flags = table["bottleneck"].to_numpy(dtype=bool) if "bottleneck" in table else np.zeros(len(table), bool)
    colours = [PALETTE["bad"] if b else PALETTE["main"] for b in flags]
    ax.barh(y, np.nan_to_num(mean), color=colours, height=0.6, label="mean days")
    if "median_days" in table:
        ax.scatter(
            table["median_days"].astype(float),
            y,
            marker="|",
            s=300,
            color="black",
            zorder=3,
            label="median days",
        )
    for yi, (m, b) in enumerate(zip(mean, flags)):
        ax.text(
            np.nan_to_num(m) + np.nanmax(mean) * 0.01,
            yi,
            f"{m:.1f} d" + ("  bottleneck" if b else ""),
            va="center",
            fontsize=10,
            color=PALETTE["bad"] if b else "black",
        )
    ax.set_yticks(y, [str(s) for s in table.index])
    ax.invert_yaxis()
    ax.set_xlim(0, np.nanmax(mean) * 1.35)
    slowest = [str(s) for s, b in zip(table.index, flags) if b]
    ax.set(
        title="Days in each stage" + (f" (bottleneck: {slowest[0]})" if slowest else ""),
        xlabel="days",
        ylabel="stage",
    )
    ax.legend(loc="lower right")
    return ax


# -- service ---------------------------------------------------------------------------------------


def plot_response_times(hours, *, target_hours: float = 2.0, ax: Axes | None = None) -> Axes:
    """Histogram of first response times on a log axis with the target as a vertical line and
    the share answered within it (per :func:`metrics_lib.formulas.service.response_time_summary`) in the
    title."""
    ax = _axes(ax)
    arr = pd.Series(hours, dtype=float).dropna()
    if _is_empty(arr):
        return _empty(ax, hours if isinstance(hours, pd.Series) else None, "first response times")
    summary = service.response_time_summary(arr, target_hours=target_hours)
    floor = 0.05  # 3 minutes: faster answers share the first bin, so a zero fits the log axis
    clipped = arr.clip(lower=floor)
    top = max(float(clipped.max()), target_hours * 2)
    # log-spaced bins with the target as an edge, so no bin straddles it
    below = (
        np.logspace(np.log10(floor), np.log10(target_hours), 20)
        if target_hours > floor
        else np.array([floor])
    )
    above = np.logspace(np.log10(target_hours), np.log10(top), 21)[1:]
    bins = np.concatenate([below, above])
    inside = clipped <= target_hours
    ax.hist(
        [clipped[inside], clipped[~inside]],
        bins=bins,
        stacked=True,
        color=[PALETTE["good"], PALETTE["main"]],
        label=["within target", "over target"],
    )
    ax.axvline(
        target_hours, color=PALETTE["bad"], linestyle="--", linewidth=1.5, label=f"target {target_hours:g} h"
    )
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    share = summary.within_target.value
    ax.set(
        title=f"First response time: {100 * share:.1f}% within {target_hours:g} h "
        f"(median {summary.median:.2f} h, n={summary.n:,})",
        xlabel="hours to first response (log scale)",
        ylabel="tickets",
    )
    ax.legend(loc="upper right")
    return ax


# -- health and relationship groups ----------------------------------------------------------------


#: Where the quadrant's profit axis turns from linear to logarithmic.
_LINTHRESH = 1000.0


def _decade_ticks(values) -> list[float]:
    """0 and +-1k, 10k, 100k, ... up to the decade above the largest absolute value."""
    finite = np.abs(pd.to_numeric(pd.Series(values), errors="coerce").dropna().to_numpy(dtype=float))
    top = max(float(finite.max()) if len(finite) else 0.0, _LINTHRESH)
    decades = [_LINTHRESH * 10**k for k in range(int(np.ceil(np.log10(top / _LINTHRESH))) + 1)]
    return sorted([0.0, *decades, *(-d for d in decades)])


def plot_relationship_quadrant(
    frame: pd.DataFrame,
    *,
    profit_split: float | None = None,
    loyalty_split: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Loyalty (tenure) x gross profit per customer, coloured by relationship group, with the
    split lines and the four group names; splits default to ``frame.attrs`` (as set by
    :meth:`Workbook.relationship_groups`)."""
    ax = _axes(ax)
    if _is_empty(frame):
        return _empty(ax, frame, "relationship groups")
    ps = profit_split if profit_split is not None else frame.attrs.get("profit_split")
    ls = loyalty_split if loyalty_split is not None else frame.attrs.get("loyalty_split")
    for group in RELATIONSHIP_GROUPS:
        part = frame[frame["group"] == group]
        ax.scatter(
            part["tenure_months"],
            part["profit"],
            s=8,
            alpha=0.45,
            color=_GROUP_COLOURS[group],
            label=f"{_GROUP_NAMES[group]} ({len(part):,})",
            linewidths=0,
        )
    # linear within +-1k, then a decade per step: ticks at 0 and +-1k, 10k, 100k... so labels
    # never crowd (a default symlog tick at 100 read "0.1k" on top of "0") and losses are labelled
    ax.set_yscale("symlog", linthresh=_LINTHRESH)
    ticks = _decade_ticks(frame["profit"])
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    lowest = pd.to_numeric(frame["profit"], errors="coerce").min()
    if lowest < 0:  # reach the first labelled loss below the data
        ax.set_ylim(bottom=max(t for t in ticks if t <= lowest))
    if ps is not None and not pd.isna(ps):
        ax.axhline(ps, color="black", linestyle="--", linewidth=1)
    if ls is not None and not pd.isna(ls):
        ax.axvline(ls, color="black", linestyle="--", linewidth=1)
    corners = {
        "stranger": (0.02, 0.02, "left", "bottom"),
        "butterfly": (0.02, 0.98, "left", "top"),
        "barnacle": (0.98, 0.02, "right", "bottom"),
        "true friend": (0.98, 0.98, "right", "top"),
    }
    for group, (x, y, ha, va) in corners.items():
        ax.text(
            x,
            y,
            _GROUP_NAMES[group],
            transform=ax.transAxes,
            ha=ha,
            va=va,
            fontsize=12,
            fontweight="bold",
            color=_GROUP_COLOURS[group],
        )
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_tick(v, "currency")))
    ax.set(
        title="Relationship groups: loyalty x profit (dashed lines: medians)",
        xlabel="tenure (months)",
        ylabel="gross profit, last 12 months",
    )
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), markerscale=3)
    return ax


# -- marketing -------------------------------------------------------------------------------------


def plot_lift(frame: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Conversion lift of each campaign over its control group in percentage points with its 95%
    interval, significant lifts in green, from :meth:`Workbook.campaign_lift`."""
    ax = _axes(ax)
    if _is_empty(frame):
        return _empty(ax, frame, "campaign lift")
    y = np.arange(len(frame))
    lift = frame["lift"].astype(float).to_numpy() * 100
    low = frame["ci_low"].astype(float).to_numpy() * 100
    high = frame["ci_high"].astype(float).to_numpy() * 100
    sig = frame["significant"].to_numpy(dtype=bool)
    for yi in y:
        colour = PALETTE["good"] if sig[yi] else PALETTE["main"]
        ax.errorbar(
            lift[yi],
            yi,
            xerr=[[lift[yi] - low[yi]], [high[yi] - lift[yi]]],
            fmt="o",
            color=colour,
            capsize=5,
            markersize=8,
        )
        p = frame["p_value"].iloc[yi]
        ax.text(high[yi], yi - 0.18, f"  {lift[yi]:+.1f} pp ({format_p_value(p)})", va="bottom", fontsize=10)
    ax.axvline(0, color=PALETTE["neutral"], linewidth=1.2)
    ax.set_yticks(y, [str(i) for i in frame.index])
    ax.invert_yaxis()
    ax.set_ylim(len(frame) - 0.5, -0.7)
    ax.set(
        title="Conversion lift over the control group (percentage points, 95% CI)",
        xlabel="lift (pp)",
        ylabel="",
    )
    return ax


# -- probabilistic CLV -----------------------------------------------------------------------------


def plot_calibration_holdout(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Mean actual and BG/NBD-predicted repeat purchases in the holdout period by repeat purchases
    in the calibration period, from :func:`metrics_lib.clv.calibration_holdout_table`."""
    ax = _axes(ax)
    if _is_empty(table):
        return _empty(ax, table, "calibration / holdout check")
    x = np.arange(len(table))
    ax.plot(x, table["actual"].astype(float).to_numpy(), marker="o", color=PALETTE["main"], label="actual")
    ax.plot(
        x,
        table["predicted"].astype(float).to_numpy(),
        marker="s",
        linestyle="--",
        color=PALETTE["current"],
        label="predicted (BG/NBD)",
    )
    ax.set_xticks(x, [str(v) for v in table["label"]])
    ax.set(
        title="Holdout purchases: model against actual",
        xlabel="repeat purchases in calibration",
        ylabel="mean repeat purchases in holdout",
    )
    ax.legend()
    return ax


#: The most tick labels a long categorical axis shows (every k-th label beyond that).
_MAX_TICKS = 8
_PER_YEAR = {"days": 365.25, "weeks": 365.25 / 7, "months": 12.0}


def plot_probability_alive(matrix: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Heatmap of the probability that a customer is still alive by frequency (rows, rising upward)
    and recency (columns), from :func:`metrics_lib.clv.probability_alive_matrix`."""
    ax = _axes(ax)
    if _is_empty(matrix):
        return _empty(ax, matrix, "probability alive")
    unit = {"D": "days", "W": "weeks", "M": "months"}.get(matrix.attrs.get("time_unit"), "time units")
    values = matrix.astype(float)
    values.columns = [f"{c:g}" for c in values.columns]
    every = max(1, -(-len(values.columns) // _MAX_TICKS))  # at most about 8 readable labels
    sns.heatmap(
        values,
        vmin=0,
        vmax=1,
        cmap="Blues",
        ax=ax,
        xticklabels=every,
        yticklabels=max(1, -(-len(values) // _MAX_TICKS)),
        cbar_kws={"label": "probability alive"},
    )
    ax.tick_params(axis="x", labelrotation=0)
    ax.invert_yaxis()
    T = matrix.attrs.get("T")
    title = "Probability a customer is still alive"
    if T is not None and not pd.isna(T):
        years = float(T) / _PER_YEAR.get(unit, float("nan"))
        about = f" (about {years:.0f} years)" if years >= 1.5 else ""
        title = f"Probability a customer observed for {float(T):,.0f} {unit}{about} is still alive"
    ax.set(
        title=title,
        xlabel=f"recency ({unit} from first to last purchase)",
        ylabel="frequency (repeat purchases)",
    )
    return ax

"""What the report plots add to their data: the strategy change marked on a time axis, tick
labels that stay distinct, the "not observed" style of a heatmap, and images sharp on screens
of twice the usual pixel density and described by their titles for screen readers.

Used by :mod:`.plots`; nothing here computes a number.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from functools import partial

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import Formatter

from metrics_lib.core.periods import parse_period
from metrics_lib.reporting.format import WHOLE_UNITS

__all__ = [
    "UnitFormatter",
    "change_position",
    "describe_figure",
    "with_description",
    "mark_change",
    "NOT_OBSERVED",
    "not_observed_style",
    "sharp_images",
]

#: How a cell without data (not observed yet) is drawn: a light grey, hatched background.
NOT_OBSERVED = {"facecolor": "#f2f2f2", "hatch": "///", "edgecolor": "#c8c8c8"}


def _decimals(locs, scale: float) -> int:
    """The fewest decimals (0 to 3) that write every tick of ``locs`` x ``scale`` exactly, so no
    two read the same and none is rounded (``2.5%``, not ``2%``)."""
    values = [v * scale for v in locs if math.isfinite(v)]
    for digits in range(4):
        if all(abs(v - round(v, digits)) <= 1e-9 * max(1.0, abs(v)) for v in values):
            return digits
    return 3


class UnitFormatter(Formatter):
    """Axis tick labels in a unit (shares as percentages, money and counts shortened, days and
    hours with their unit) with as many decimals as it takes for no two ticks to read the same:
    a churn axis reads ``1.5%, 2.0%, 2.5%``, never ``2%, 2%, 2%``."""

    def __init__(self, unit: str):
        self.unit = unit
        self.digits = 0
        self.scale = 1.0

    def set_locs(self, locs) -> None:
        super().set_locs(locs)
        self.digits = _decimals(locs, 100 if self.unit == "share" else 1)
        finite = [abs(v) for v in locs if math.isfinite(v)]
        top = max(finite, default=0.0)
        self.scale = 1e6 if top >= 1e6 else 1e3 if top >= 1e4 else 1.0  # every tick shortened alike
        if self.scale > 1 and self.unit in WHOLE_UNITS:
            self.digits = _decimals(locs, 1 / self.scale)

    def __call__(self, x, pos=None) -> str:
        if self.unit == "share":
            return f"{100 * x:.{self.digits}f}%"
        if self.unit == "percent":  # values already in percent
            return f"{x:.{self.digits}f}%"
        if self.unit in WHOLE_UNITS:
            if self.scale > 1 and x != 0:
                return f"{x / self.scale:,.{self.digits}f}" + ("M" if self.scale == 1e6 else "k")
            return f"{x:,.{self.digits if self.scale == 1 else 0}f}"
        suffix = {"days": " d", "hours": " h"}.get(self.unit, "")
        return f"{x:,.{self.digits}f}{suffix}"


def change_position(periods, when: date) -> float | None:
    """Where ``when`` falls on an axis of period labels drawn at 0, 1, 2, ...: between two
    periods when it is the first day of one (``1.5`` for the start of the third of four), inside
    one by the share of its days gone; None when it lies outside the periods shown."""
    spans = [parse_period(str(p)) for p in periods]
    for i, span in enumerate(spans):
        if span.start <= when <= span.end:
            days = (span.end - span.start).days + 1
            return i - 0.5 + (when - span.start).days / days
    return None


def mark_change(ax: Axes, periods, when: date | None, label: str) -> float | None:
    """A dotted vertical line with ``label`` at the strategy change on a period axis (see
    :func:`change_position`); nothing when there is no change date or it is outside the axis."""
    if when is None:
        return None
    x = change_position(periods, when)
    if x is None:
        return None
    ax.axvline(x, color="#555555", linestyle=":", linewidth=1.4, zorder=1)
    low, high = ax.get_xlim()
    right_half = x > (low + high) / 2  # the label goes on the side with room
    ax.annotate(
        label or f"change {when:%d %b %Y}",
        xy=(x, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(-4 if right_half else 4, -4),
        textcoords="offset points",
        ha="right" if right_half else "left",
        va="top",
        fontsize=9,
        color="#555555",
    )
    return x


def not_observed_style(ax: Axes) -> Patch:
    """Draw the axes' background (seen through a heatmap's empty cells) as "not observed" and
    return the patch for a legend entry."""
    ax.patch.set_facecolor(NOT_OBSERVED["facecolor"])
    ax.patch.set_hatch(NOT_OBSERVED["hatch"])
    ax.patch.set_edgecolor(NOT_OBSERVED["edgecolor"])
    return Patch(**NOT_OBSERVED, label="not observed yet")


def describe_figure(fig: Figure) -> str | None:
    """A figure's text description for readers who cannot see it: its title and its charts'
    titles, one after the other; None when nothing is titled."""
    titles = [fig.get_suptitle()]
    for ax in fig.axes:
        titles += [ax.get_title(loc=loc) for loc in ("left", "center", "right")]
    text = "; ".join(t.strip() for t in titles if t and t.strip())
    return f"Chart: {text}" if text else None


def with_description(draw: Callable, fig: Figure, *args, **kwargs):
    """``draw(fig)`` (an image formatter's output: the data, or the data with its metadata) with
    :func:`describe_figure` as the image's ``alt`` metadata, which the report's HTML template
    writes as the image's alternative text."""
    out = draw(fig, *args, **kwargs)
    alt = describe_figure(fig)
    if out is None or alt is None:
        return out
    data, meta = out if isinstance(out, tuple) else (out, {})
    return data, {**meta, "alt": alt}


def sharp_images() -> None:
    """In a Jupyter kernel, figures go out as PNGs of twice the pixels at the same displayed size
    (the inline backend's ``retina`` format), embedded in the notebook and so in its HTML, each
    described by its titles (:func:`with_description`)."""
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # pragma: no cover - IPython comes with ipykernel
        return
    shell = get_ipython()
    if (
        shell is not None
        and getattr(shell, "kernel", None) is not None
        and "inline" in matplotlib.get_backend()
    ):
        set_matplotlib_formats("retina")
        png = shell.display_formatter.formatters["image/png"]
        draw = png.lookup_by_type(Figure)
        if getattr(draw, "func", None) is not with_description:
            png.for_type(Figure, partial(with_description, draw))

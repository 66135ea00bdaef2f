"""Every number as a reader sees it: the one module that turns numbers into display text.

* :func:`format_value`: a value in its unit (shares as percentages, money and counts as whole
  numbers with separators), the missing-value text a parameter: the workbook's tables write
  ``n/a``, the command line's text table ``-``; :func:`short_number` for plot labels (``12k``);
* :func:`format_change`, :func:`format_significance` and :func:`format_p_value`: a change against
  the previous period, written by its value's rule (percentage points for shares, whole numbers
  for money and counts), whether it is beyond noise or not comparable at all, and its p-value
  (``p=0.012``, ``p < 0.001``);
* :func:`format_window`: a span of days (``01 Jan 2025 to 31 Dec 2025``);
* :func:`format_tick`: the plots' axis tick labels;
* :func:`format_duration`: a report run's seconds;
* :class:`Markdown`: a heading or sentence a notebook cell shows as Markdown (a report's heading
  that names something from the data), with :func:`markdown_escape` for the names in it;
* :func:`format_table`: the headline metrics of ``metrics --format table``.

Nothing here computes a number; it only writes those computed elsewhere. No plotting library
is imported, so the command line stays quick to start.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass

__all__ = [
    "WHOLE_UNITS",
    "format_value",
    "short_number",
    "format_change",
    "format_significance",
    "format_p_value",
    "format_tick",
    "format_window",
    "format_duration",
    "Markdown",
    "markdown_escape",
    "format_table",
]

#: Units shown as whole numbers (money and counts).
WHOLE_UNITS = ("currency", "currency per day", "count")

#: The text table keeps the cents of amounts per day (sales velocity).
_TABLE_WHOLE_UNITS = ("currency", "count")


def short_number(v: float) -> str:
    """A large number shortened: ``1.2M``, ``45k``, else with separators (``9,876``)."""
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:,.1f}M"
    if a >= 1e4:
        return f"{v / 1e3:,.0f}k"
    return f"{v:,.0f}"


def format_value(
    value, unit: str, *, missing: str = "n/a", whole_units=WHOLE_UNITS, short: bool = False
) -> str:
    """A number as a reader wants it: shares as percentages, money with separators.

    ``missing`` is written for None or NaN; units in ``whole_units`` are whole numbers
    (:func:`short_number` with ``short=True``); other units keep two decimals.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    if unit == "share":
        return f"{100 * value:.1f}%"
    if unit in whole_units:
        return short_number(value) if short else f"{value:,.0f}"
    return f"{value:,.2f}"


def format_change(
    change, unit: str, *, missing: str = "n/a", points: str = " pp", whole_units=WHOLE_UNITS
) -> str:
    """A change against the previous period, signed and written by the rule of its value
    (:func:`format_value` with the same ``whole_units``): percentage points for shares
    (``+1.5 pp``; the ``points`` suffix), whole numbers with separators for money and counts
    (``+1,685``), two decimals otherwise (``-2.00``); ``missing`` for None or NaN."""
    if change is None or (isinstance(change, float) and math.isnan(change)):
        return missing
    if unit == "share":
        return f"{100 * change:+.1f}{points}"
    if unit in whole_units:
        return f"{change:+,.0f}"
    return f"{change:+,.2f}"


def format_p_value(p_value, *, missing: str = "n/a") -> str:
    """A p-value to three decimals (``p=0.012``), ``p < 0.001`` below that; ``missing`` for
    None or NaN."""
    if p_value is None or (isinstance(p_value, float) and math.isnan(p_value)):
        return missing
    return "p < 0.001" if p_value < 0.001 else f"p={p_value:.3f}"


def format_significance(p_value, significant, comparison=None) -> str:
    """Whether a change is beyond noise, with its p-value; ``not tested`` without a test and
    ``not comparable`` when ``comparison`` says why the periods cannot be compared."""
    if comparison:
        return "not comparable"
    if p_value is None or (isinstance(p_value, float) and math.isnan(p_value)):
        return "not tested"
    verdict = "significant" if significant else "within noise"
    return f"{verdict} ({format_p_value(p_value)})"


def format_tick(value: float, unit: str) -> str:
    """An axis tick label: shares as whole percentages, money and counts shortened, other units
    with at most two decimals."""
    if unit == "share":
        return f"{100 * value:.0f}%"
    if unit in WHOLE_UNITS:
        return short_number(value)
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def format_window(window) -> str:
    """A span of days from its ``start`` to its ``end`` (both included): ``01 Jan 2025 to 31 Dec
    2025``."""
    return f"{window.start:%d %b %Y} to {window.end:%d %b %Y}"


def format_duration(seconds) -> str:
    """Seconds as ``12.3 s``; empty when unknown."""
    return "" if seconds is None else f"{seconds:.1f} s"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]#|~])")


def markdown_escape(text: str) -> str:
    """``text`` shown literally in Markdown: HTML and Markdown's special characters escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False))


@dataclass(frozen=True)
class Markdown:
    """Markdown text that a notebook shows rendered (its last expression) and ``print`` shows as
    it is; names from the data in it go through :func:`markdown_escape`."""

    text: str

    def _repr_markdown_(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text


def _cell(value, unit) -> str:
    return format_value(value, unit, missing="-", whole_units=_TABLE_WHOLE_UNITS)


def format_table(result: dict) -> str:
    """The headline metrics (:func:`metrics_lib.metrics.scorecard.headline_metrics`) as an aligned
    text table."""
    lines = [
        f"Period {result['period']} ({result['start']} to {result['end']}), "
        f"previous {result['previous_period']}",
        *(f"note: {note}" for note in result.get("notes", ())),
        "",
    ]
    header = f"{'metric':<30} {'value':>12} {'95% CI':>21} {'previous':>12} {'change':>10} {'sig':>4} {'target':>9}  status"
    lines.append(header)
    lines.append("-" * len(header))
    for mid, m in result["metrics"].items():
        unit = m["unit"]
        ci = "" if m["ci_low"] is None else f"[{_cell(m['ci_low'], unit)}, {_cell(m['ci_high'], unit)}]"
        change = format_change(m["change"], unit, missing="-", points="pp", whole_units=_TABLE_WHOLE_UNITS)
        sig = "" if m.get("significant") is None else ("yes" if m["significant"] else "no")
        if m.get("comparison"):  # not comparable: a period is partial (the notes above say which)
            sig = "n/c"
        target = "" if m["target"] is None else _cell(m["target"], unit)
        lines.append(
            f"{mid:<30} {_cell(m['value'], unit):>12} {ci:>21} {_cell(m['previous'], unit):>12} "
            f"{change:>10} {sig:>4} {target:>9}  {m['status']}"
        )
        if m["value"] is None and m.get("reason"):
            lines.append(f"{'':<30} ({m['reason']})")
    return "\n".join(lines)

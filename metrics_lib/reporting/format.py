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
* :func:`format_table`: the headline metrics of ``metrics --format table``;
* :func:`format_cell`: one table cell of a given kind (:data:`CELL_KINDS`: shares, money in the
  data's currency, counts, days, hours, p-values, yes/no, ...), with :func:`format_money`,
  :func:`format_count`, :func:`format_bool` and :func:`format_missing` (``n/a (no responses)``);
  :mod:`.display` applies it to whole tables.

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
    "CELL_KINDS",
    "format_cell",
    "format_money",
    "format_count",
    "format_bool",
    "format_missing",
    "format_interval",
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


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_value(
    value,
    unit: str,
    *,
    missing: str = "n/a",
    whole_units=WHOLE_UNITS,
    short: bool = False,
    currency: str = "",
) -> str:
    """A number as a reader wants it: shares as percentages, money with separators.

    ``missing`` is written for None or NaN; units in ``whole_units`` are whole numbers
    (:func:`short_number` with ``short=True``); money carries ``currency`` when one is set
    (:func:`format_money`); days and hours carry their unit; other units keep two decimals.

    >>> format_value(0.8319, "share"), format_value(1685, "count"), format_value(25, "days")
    ('83.2%', '1,685', '25.0 days')
    >>> format_value(1234.5, "currency", currency="EUR"), format_value(1.5654, "hours")
    ('EUR 1,234', '1.57 h')
    >>> format_value(209350.4, "currency per day")
    '209,350 per day'
    """
    if _is_missing(value):
        return missing
    if unit == "share":
        return f"{100 * value:.1f}%"
    if unit in whole_units:
        text = short_number(value) if short else f"{value:,.0f}"
        text = _with_currency(text, currency) if unit.startswith("currency") else text
        return text + " per day" if unit.endswith(" per day") else text
    if unit in _SUFFIXED:
        digits, suffix = _SUFFIXED[unit]
        return f"{value:,.{digits}f}{suffix}"
    return f"{value:,.2f}"


#: Units written with a unit after the number: (decimals, suffix).
_SUFFIXED = {"days": (1, " days"), "hours": (2, " h")}


def _with_currency(text: str, currency: str) -> str:
    """``text`` (a formatted amount) with the currency: a symbol before it (``$1,234``), a code
    before it with a space (``EUR 1,234``), nothing when none is set."""
    if not currency:
        return text
    sign, digits = (text[0], text[1:]) if text[:1] in ("-", "+") else ("", text)
    gap = " " if currency[-1:].isalpha() else ""
    return f"{sign}{currency}{gap}{digits}"


def format_change(
    change, unit: str, *, missing: str = "n/a", points: str = " pp", whole_units=WHOLE_UNITS
) -> str:
    """A change against the previous period, signed and written by the rule of its value
    (:func:`format_value` with the same ``whole_units``): percentage points for shares
    (``+1.5 pp``; the ``points`` suffix), whole numbers with separators for money and counts
    (``+1,685``), two decimals otherwise (``-2.00``); ``missing`` for None or NaN."""
    if _is_missing(change):
        return missing
    if unit == "share":
        return f"{100 * change:+.1f}{points}"
    if unit in whole_units:
        return f"{change:+,.0f}"
    if unit in _SUFFIXED:
        digits, suffix = _SUFFIXED[unit]
        return f"{change:+,.{digits}f}{suffix}"
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


# -- table cells -----------------------------------------------------------------------------------

#: The kinds of table cells :func:`format_cell` writes, each with an example of its text.
CELL_KINDS = {
    "share": "83.2%",
    "points": "+4.7 pp (a difference of two shares)",
    "money": "1,685 (with the data's currency when source.yml sets one)",
    "count": "1,685",
    "days": "25.0 days",
    "hours": "1.57 h",
    "seconds": "51.8 s",
    "months": "47.9 months",
    "score": "8.68",
    "ratio": "0.55",
    "nps": "+36.8",
    "p_value": "p < 0.001",
    "bool": "yes / no",
    "date": "01 Oct 2025",
    "text": "as it is",
}


def format_money(value, *, currency: str = "", missing: str = "n/a") -> str:
    """An amount as a whole number with separators and the data's currency, if one is set.

    >>> format_money(1234567.8), format_money(-1234.5, currency="$"), format_money(99, currency="EUR")
    ('1,234,568', '-$1,234', 'EUR 99')
    """
    return format_value(value, "currency", missing=missing, currency=currency)


def format_count(value, *, missing: str = "n/a") -> str:
    """A count as a whole number with separators.

    >>> format_count(1685), format_count(7999.0)
    ('1,685', '7,999')
    """
    return format_value(value, "count", missing=missing)


def format_bool(value, *, missing: str = "n/a") -> str:
    """``yes`` or ``no`` for a flag.

    >>> format_bool(True), format_bool(False), format_bool(None)
    ('yes', 'no', 'n/a')
    """
    if _is_missing(value):
        return missing
    return "yes" if bool(value) else "no"


def format_missing(reason: str | None = None) -> str:
    """The text of a value the data cannot define: ``n/a``, with the reason when there is one.

    >>> format_missing("no responses"), format_missing()
    ('n/a (no responses)', 'n/a')
    """
    return f"n/a ({reason})" if reason else "n/a"


def format_interval(low, high, kind: str, *, currency: str = "") -> str:
    """A 95% interval as ``low to high`` in the cells' kind; ``n/a`` when either end is missing.

    >>> format_interval(0.7546, 0.8886, "share")
    '75.5% to 88.9%'
    """
    if _is_missing(_plain(low)) or _is_missing(_plain(high)):
        return "n/a"
    return f"{format_cell(low, kind, currency=currency)} to {format_cell(high, kind, currency=currency)}"


def _plain(value):
    """A pandas or numpy scalar as a Python one, ``None`` for pandas' missing markers."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, str):
        try:
            value = value.item()
        except (ValueError, AttributeError):  # pragma: no cover - not a scalar
            pass
    try:
        if value != value:  # NaN, NaT, pandas.NA (raises TypeError)
            return None
    except TypeError:
        return None
    return value


def format_cell(value, kind: str, *, reason: str | None = None, currency: str = "") -> str:
    """One table cell in its kind (:data:`CELL_KINDS`); a missing value is ``n/a`` with
    ``reason`` (:func:`format_missing`).

    >>> format_cell(0.8319, "share"), format_cell(1685, "count"), format_cell(0.0002, "p_value")
    ('83.2%', '1,685', 'p < 0.001')
    >>> format_cell(float("nan"), "share", reason="no responses"), format_cell(True, "bool")
    ('n/a (no responses)', 'yes')
    >>> format_cell(0.0469, "points"), format_cell(36.83, "nps"), format_cell(13.75, "days")
    ('+4.7 pp', '+36.8', '13.8 days')
    """
    value = _plain(value)
    if value is None:
        return format_missing(reason)
    if kind == "bool":
        return format_bool(value)
    if kind == "text":
        return str(value)
    if kind == "date":
        return f"{value:%d %b %Y}" if hasattr(value, "strftime") else str(value)
    if isinstance(value, bool):  # a flag in a numeric column
        return format_bool(value)
    if not isinstance(value, (int, float)):
        return str(value)
    if kind == "share":
        return format_value(value, "share")
    if kind == "points":
        return format_change(value, "share")
    if kind == "money":
        return format_money(value, currency=currency)
    if kind == "count":
        return format_count(value)
    if kind == "p_value":
        return format_p_value(value)
    if kind == "nps":
        return f"{value:+.1f}"
    if kind in ("days", "hours"):
        return format_value(value, kind)
    if kind == "seconds":
        return f"{value:,.1f} s"
    if kind == "months":
        return f"{value:,.1f} months"
    return f"{value:,.2f}"

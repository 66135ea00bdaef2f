"""The scorecard's answer on its first screen, and what every report says about its data.

* :func:`scorecard_verdict` builds a :class:`Verdict`: the outcome metrics
  (:data:`~metrics_lib.metrics.scorecard.VERDICT`) each with its value, interval, status against
  the target in words and colour, the direction of its change, an eight-period sparkline, the
  previous period and the same period last year; then one sentence per headline metric that
  moved beyond noise, worse moves first. It shows as HTML in a notebook (inline SVG, nothing
  fetched) and as text when printed.
* :func:`context_line`: the one line at the top of every report (period, data, segment).
* :func:`rows_text`: a table's rows in "About the data", for the segment when one is set.
* :func:`metric_name`: a headline metric as a reader names it (``NPS``, ``Answered within 2 h``).
* :func:`run_verdict`: the outcome metrics of a period as a report run's index shows them.

Every number goes through :mod:`.format`; the numbers come from the metrics layer.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

import pandas as pd

from metrics_lib.core.results import quietly
from metrics_lib.metrics.catalogue import HEADLINE
from metrics_lib.metrics.scorecard import VERDICT, headline_metrics, period_values, year_ago
from metrics_lib.reporting.format import (
    Markdown,
    format_change,
    format_p_value,
    format_value,
    format_window,
    markdown_escape,
)

__all__ = [
    "STATUS_COLOURS",
    "Verdict",
    "context_line",
    "last_year_values",
    "metric_name",
    "move_sentences",
    "rows_text",
    "run_verdict",
    "run_verdict_or_reason",
    "scorecard_verdict",
    "sparkline_svg",
    "target_text",
    "value_text",
    "why_short",
]

#: Status -> (text colour, background) of its badge; anything else is grey.
STATUS_COLOURS = {
    "on target": ("#1b7f3b", "#e6f4ea"),
    "near": ("#8a5a00", "#fff4e0"),
    "off": ("#b00020", "#fdecee"),
}
_GREY = ("#555555", "#f0f0f0")
_BETTER, _WORSE, _NEUTRAL = "#1b7f3b", "#b00020", "#777777"


def metric_name(mid: str) -> str:
    """The name of a headline metric as a report shows it: ``NPS``, ``Churn rate``."""
    label = HEADLINE[mid].label if mid in HEADLINE else mid.replace("_", " ")
    return label[:1].upper() + label[1:]


def _number(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def why_short(reason) -> str:
    """The reason a value is undefined, as short as a table cell can show it: what follows
    ``is undefined:`` up to its next clause.

    Examples
    --------
    >>> why_short("win rate is undefined: no deal was closed in the period")
    'no deal was closed in the period'
    >>> why_short("deals without a customer cannot be assigned to a segment: 12 of the deals ...")
    'deals without a customer cannot be assigned to a segment'
    """
    text = str(reason or "").strip()
    if " is undefined: " in text:
        text = text.split(" is undefined: ", 1)[1]
    return text.split(": ")[0].split("; ")[0].rstrip(".")


def value_text(rec: dict) -> str:
    """A record's value for a table row: formatted, or ``n/a (why)`` when it is undefined."""
    text = format_value(rec["value"], rec["unit"])
    if _number(rec["value"]) is None and rec.get("reason"):
        return f"{text} ({why_short(rec['reason'])})"
    return text


def target_text(rec: dict) -> str:
    """A record's target for a table row, or why none applies (``– (the target is set per
    quarter)``)."""
    if rec.get("target") is not None:
        return format_value(rec["target"], rec["unit"])
    return f"\u2013 ({rec['target_reason']})" if rec.get("target_reason") else ""


# -- the sentences -------------------------------------------------------------------------------
def _better(rec: dict) -> bool:
    change = rec["change"]
    return (change > 0) == (rec["direction"] == "higher")


def move_sentences(records: dict, previous_label: str) -> list[str]:
    """One sentence per metric whose change since ``previous_label`` is beyond noise, moves for
    the worse first: ``Close rate fell from 48.4% to 38.2%, beyond noise (p < 0.001): worse.``;
    one sentence when none moved beyond noise."""
    moves = []
    for mid, rec in records.items():
        if not rec.get("significant") or _number(rec.get("change")) in (None, 0.0):
            continue
        unit, better = rec["unit"], _better(rec)
        verb = "rose" if rec["change"] > 0 else "fell"
        text = (
            f"{metric_name(mid)} {verb} from {format_value(rec['previous'], unit)} to "
            f"{format_value(rec['value'], unit)}, beyond noise ({format_p_value(rec.get('p_value'))}): "
            f"{'better' if better else 'worse'}."
        )
        moves.append((better, text))
    if not moves:
        return [f"No headline metric moved beyond noise since {previous_label}."]
    return [text for _, text in sorted(moves, key=lambda m: m[0])]


def _not_final(records: dict) -> list[str]:
    """The metrics whose value can still change as newer data arrives (not tested)."""
    return [metric_name(m) for m, r in records.items() if r.get("comparison") and r.get("value") is not None]


# -- the sparkline -------------------------------------------------------------------------------
def sparkline_svg(values, *, target=None, colour: str = "#3465a4", width: int = 120, height: int = 28) -> str:
    """A small inline SVG line of ``values`` (oldest first; gaps for missing ones), the last point
    marked and ``target`` dashed when given; empty when no value is defined."""
    vals = [_number(v) for v in values]
    defined = [v for v in vals if v is not None]
    if not defined:
        return ""
    lo, hi = (
        min(defined + ([target] if target is not None else [])),
        max(defined + ([target] if target is not None else [])),
    )
    span = (hi - lo) or 1.0
    pad, n = 3.0, len(vals)

    def x(i: int) -> float:
        return pad + (width - 2 * pad) * (i / (n - 1) if n > 1 else 0.5)

    def y(v: float) -> float:
        return pad + (height - 2 * pad) * (1 - (v - lo) / span)

    parts, run = [], []
    for i, v in enumerate(vals + [None]):
        if v is None:
            if len(run) > 1:
                pts = " ".join(f"{x(j):.1f},{y(w):.1f}" for j, w in run)
                parts.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
            run = []
        else:
            run.append((i, v))
    if target is not None:
        parts.insert(
            0,
            f'<line x1="{pad}" x2="{width - pad}" y1="{y(target):.1f}" y2="{y(target):.1f}" '
            'stroke="#999" stroke-width="1" stroke-dasharray="3,2"/>',
        )
    last = max(i for i, v in enumerate(vals) if v is not None)
    parts.append(f'<circle cx="{x(last):.1f}" cy="{y(vals[last]):.1f}" r="2.5" fill="{colour}"/>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">{"".join(parts)}</svg>'
    )


# -- the verdict ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    """The scorecard's first screen: ``summary`` (how many outcome metrics are on target),
    ``table`` (one row per outcome metric, as text), ``moves`` (a sentence per move beyond noise
    over all headline metrics), ``notes`` (why changes are not tested) and, for the HTML, the
    sparklines and statuses per row."""

    summary: str
    table: pd.DataFrame
    moves: list[str]
    notes: list[str] = field(default_factory=list)
    sparklines: dict = field(default_factory=dict)
    tones: dict = field(default_factory=dict)  # metric -> colour of its change arrow

    def __str__(self) -> str:
        lines = [self.summary, "", self.table.to_string(), "", *self.moves, *self.notes]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        e = html.escape
        cols = [c for c in self.table.columns if c != "status"]
        head = "".join(
            f'<th style="{_TH}">{e(c)}</th>' for c in ["metric", "status", *cols, "last 8 periods"]
        )
        rows = []
        for mid, row in self.table.iterrows():
            fg, bg = STATUS_COLOURS.get(row["status"], _GREY)
            cells = [
                f'<td style="{_TD}font-weight:600">{e(str(mid))}</td>',
                f'<td style="{_TD}"><span style="color:{fg};background:{bg};padding:2px 8px;'
                f'border-radius:10px;font-weight:600;white-space:nowrap">{e(row["status"])}</span></td>',
            ]
            for c in cols:
                style = _TD + ("font-size:1.15em;font-weight:600;" if c == "value" else "")
                if c == "change":
                    style += f"color:{self.tones.get(mid, _NEUTRAL)};font-weight:600;"
                wrap = "max-width:18em;" if len(str(row[c])) > 30 else "white-space:nowrap"  # a reason
                cells.append(f'<td style="{style}{wrap}">{e(str(row[c]))}</td>')
            cells.append(f'<td style="{_TD}">{self.sparklines.get(mid, "")}</td>')
            rows.append(f"<tr>{''.join(cells)}</tr>")
        items = "".join(f"<li>{e(m)}</li>" for m in self.moves + self.notes)
        return (
            '<div class="mlr-verdict" style="font:15px/1.45 system-ui,sans-serif">'
            f'<p style="font-size:1.15em;font-weight:600;margin:0.3em 0 0.6em">{e(self.summary)}</p>'
            f'<table style="border-collapse:collapse;margin:0 0 0.8em"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>"
            f'<p style="font-weight:600;margin:0.4em 0 0.2em">What moved beyond noise</p>'
            f'<ul style="margin:0 0 0.5em 1.2em;padding:0">{items}</ul></div>'
        )


_TH = "text-align:left;padding:4px 10px;border-bottom:2px solid #ccc;font-weight:600;white-space:nowrap;"
_TD = "text-align:left;padding:4px 10px;border-bottom:1px solid #e5e5e5;vertical-align:middle;"


def _arrow(rec: dict) -> tuple[str, str]:
    """The change as an arrow and its colour: green or red for a move beyond noise for the better
    or the worse, grey within noise; a dash when not comparable."""
    change = _number(rec.get("change"))
    if change is None:
        return "\u2013 not comparable" if rec.get("comparison") else "\u2013", _NEUTRAL
    arrow = "\u2191" if change > 0 else "\u2193" if change < 0 else "\u2192"
    text = f"{arrow} {format_change(change, rec['unit'])}"
    if not rec.get("significant"):
        return f"{text} (noise)", _NEUTRAL
    return text, _BETTER if _better(rec) else _WORSE


def last_year_values(wb, ids=None) -> tuple[str, dict]:
    """The label of the same period last year for the Workbook ``wb``'s period, and its headline
    records by metric id (from the Workbook's cached aggregates)."""
    p = year_ago(wb.period)
    return p.label, period_values(wb._period_data(p), ids, as_of=wb.as_of)


def scorecard_verdict(wb, periods: int = 8) -> Verdict:
    """The :class:`Verdict` of the Workbook ``wb``'s period: the outcome metrics over
    ``periods`` periods and the moves beyond noise of every headline metric."""
    records = wb._records_for(None)
    last_label, last = last_year_values(wb, list(VERDICT))
    trend = wb.trend(list(VERDICT), periods=periods)
    prev_label = wb.period.previous().label
    rows, sparks, tones = [], {}, {}
    for mid in VERDICT:
        rec, unit = records[mid], records[mid]["unit"]
        name = metric_name(mid)
        ci = (
            ""
            if rec["ci_low"] is None
            else f"{format_value(rec['ci_low'], unit)} to {format_value(rec['ci_high'], unit)}"
        )
        change, tones[name] = _arrow(rec)
        rows.append(
            {
                "metric": name,
                "status": rec["status"],
                "value": value_text(rec),
                "95% CI": ci,
                "target": target_text(rec),
                "change": change,
                f"previous ({prev_label})": format_value(rec["previous"], unit),
                f"last year ({last_label})": format_value(last[mid]["value"], unit),
            }
        )
        t = trend[trend["metric"] == mid]
        fg = STATUS_COLOURS.get(rec["status"], _GREY)[0]
        sparks[name] = sparkline_svg(list(t["value"]), target=rec["target"], colour=fg)
    table = pd.DataFrame(rows).set_index("metric")
    notes = list(wb.context.coverage_notes())
    if notes:
        notes = [
            f"{wb.period.label} cannot be compared with {prev_label} whole, so changes are not tested: "
            + "; ".join(notes)
        ]
        moves: list[str] = []
    else:
        moves = move_sentences(records, prev_label)
        if waiting := _not_final(records):
            notes.append(f"Not tested yet, as newer data can still change it: {', '.join(waiting)}.")
    return Verdict(_summary(dict(table["status"]), wb.period.label), table, moves, notes, sparks, tones)


def _summary(statuses: dict, label: str) -> str:
    """``2025-Q4: 6 of 8 outcome metrics on target, 1 near (Churn rate), 1 off (CSAT).``: the
    statuses of the outcome metrics (name to status), those not on target named."""
    parts = [
        f"{sum(s == 'on target' for s in statuses.values())} of {len(statuses)} outcome metrics on target"
    ]
    others = sorted({s for s in statuses.values() if s.startswith("no target for")})
    for status in ("near", "off", "no target", *others, "undefined", "skipped"):
        names = [n for n, s in statuses.items() if s == status]
        if names:
            parts.append(f"{len(names)} {status} ({', '.join(names)})")
    return f"{label}: {', '.join(parts)}."


# -- what the report is about --------------------------------------------------------------------
def context_line(wb) -> Markdown:
    """The one line at the top of a report: the period and its dates, what it is compared with,
    the data and its as-of date, the segment; a partial period's note after it."""
    config = wb.source.config
    name = config.name or getattr(wb.source.path, "name", str(wb.source.path))
    as_of = f", as of {wb.as_of:%d %b %Y}" if wb.as_of else ""
    line = (
        f"**{markdown_escape(wb.period.label)}** ({format_window(wb.period)}) against "
        f"{markdown_escape(wb.period.previous().label)} \u00b7 data: {markdown_escape(name)}{as_of} \u00b7 "
        f"{markdown_escape('segment ' + wb.segment if wb.segment else 'all customers')}"
    )
    notes = wb.context.coverage_notes()
    return Markdown(line + "".join(f"  \n*{markdown_escape(n)}*" for n in notes))


def rows_text(rows: int | None, segment_rows: int | None, segment: str | None) -> str:
    """A table's rows as "About the data" shows them: ``12,345``; with a segment, ``2,805 of 4,000``
    for a table of customers' rows, ``396 (not per customer)`` for the others."""
    whole = "n/a" if rows is None else f"{rows:,}"
    if not segment:
        return whole
    if segment_rows is None:
        return f"{whole} (not per customer)"
    return f"{segment_rows:,} of {whole}"


# -- the verdict of a report run's index -----------------------------------------------------------
def run_verdict(source, period, *, targets=None, segment=None, as_of=None) -> dict:
    """The outcome metrics of ``period`` as a report run's manifest keeps them for its index
    pages (JSON-ready, every number already written for display): per metric its name, value,
    target, status, change against the previous period and whether that change is ``better``,
    ``worse`` or ``neutral`` (within noise); the one-line summary and its ``short`` form
    (``5 of 8 on target``)."""
    out = headline_metrics(source, period, targets=targets, segment=segment, ids=list(VERDICT), as_of=as_of)
    metrics = []
    tones = {_BETTER: "better", _WORSE: "worse", _NEUTRAL: "neutral"}
    for mid in VERDICT:
        rec = out["metrics"][mid]
        change, tone = _arrow(rec)
        metrics.append(
            {
                "id": mid,
                "name": metric_name(mid),
                "value": value_text(rec),
                "target": target_text(rec),
                "status": rec["status"],
                "reason": rec.get("reason") or rec.get("target_reason"),  # in full
                "change": change,
                "tone": tones[tone],  # the change beyond noise for the better or the worse
            }
        )
    summary = _summary({m["name"]: m["status"] for m in metrics}, out["period"])
    on_target = sum(m["status"] == "on target" for m in metrics)
    return {"summary": summary, "short": f"{on_target} of {len(metrics)} on target", "metrics": metrics}


def run_verdict_or_reason(source, period, parameters: dict, as_of=None) -> dict:
    """:func:`run_verdict` for a report run with the notebooks' ``parameters`` (their targets and
    segment); when it cannot be computed, ``{"error": why}`` so that the run still publishes."""
    try:
        return quietly(
            run_verdict,
            source,
            period,
            targets=parameters.get("targets") or None,
            segment=parameters.get("segment") or None,
            as_of=as_of,
        )
    except Exception as exc:  # noqa: BLE001 - the index says why instead of losing the run
        return {"error": f"the outcome metrics could not be computed: {exc}"}

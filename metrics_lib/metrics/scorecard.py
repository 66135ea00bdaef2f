"""The scorecard: every headline metric of a period beside the previous period and its target.

:func:`headline_metrics` computes each metric of :data:`~metrics_lib.metrics.catalogue.HEADLINE`
for a period and the one before it, tests whether the change is beyond noise, and grades it
against the targets. Metrics whose tables the source lacks are present with value NaN (``null``
in JSON) and the reason. :func:`to_json` writes the result as JSON; the text table is the
reporting layer's (:func:`metrics_lib.reporting.format.format_table`).
"""

from __future__ import annotations

import math
from typing import Any

from metrics_lib.core.errors import WorkbookError
from metrics_lib.core.jsonsafe import dumps, stable
from metrics_lib.core.periods import Period, parse_period
from metrics_lib.core.results import NAN, ValueResult
from metrics_lib.data import contract as C
from metrics_lib.metrics.catalogue import (
    HEADLINE,
    Headline,
    compare,
    safe_compute,
    unmet_in_scope,
    unmet_needs,
)
from metrics_lib.metrics.coverage import PeriodCoverage, coverage_notes, not_comparable, period_coverage
from metrics_lib.metrics.period_data import PeriodData
from metrics_lib.metrics.targets import applicable, resolve_targets, status_for

__all__ = [
    "VERDICT",
    "headline_metrics",
    "period_values",
    "select_headlines",
    "record",
    "to_json",
    "year_ago",
    "family_availability",
]

#: The outcome metrics the scorecard opens with, its verdict on the strategy: do customers stay
#: and spend more, are they happy and do they recommend us, do we win deals and answer quickly,
#: does acquisition pay and are customers healthy.
VERDICT = (
    "churn_rate",
    "net_revenue_retention",
    "nps",
    "csat",
    "win_rate",
    "first_response_within_target",
    "ltv_cac_ratio",
    "healthy_customer_share",
)


def record(h: Headline, result) -> dict:
    """The JSON-ready fields of one result of metric ``h``: value, numerator, denominator, n,
    interval, the metric's unit, family and direction, and the reason when undefined (fields a
    result lacks are None)."""
    raw = result.to_dict() if hasattr(result, "to_dict") else {"value": result}
    out = {
        "value": raw.get("value"),
        "numerator": raw.get("numerator"),
        "denominator": raw.get("denominator"),
        "n": raw.get("n"),
        "ci_low": raw.get("ci_low"),
        "ci_high": raw.get("ci_high"),
        "unit": h.unit,
        "family": h.family,
        "direction": h.direction,
        "reason": raw.get("reason"),
    }
    return out


def headline_metrics(source, period, *, targets=None, segment=None, ids=None, as_of=None) -> dict:
    """Every headline metric of ``period`` with the previous period, change, target and status.

    Returns the JSON-ready dict of ``metrics --format json``; ``targets`` is a targets file, a
    mapping such as ``{"nps": 40}`` or None for the file beside the data
    (:func:`~metrics_lib.metrics.targets.resolve_targets`); ``ids`` limits it to some metrics
    (a family name selects that family's metrics). ``complete`` says whether the data covers the
    period whole (``as_of``, a report's as-of date, replacing the data's last date) and ``notes``
    why not; when either period is not complete, every record's ``comparison`` says why the
    change is not comparable, and its ``change``, ``test``, ``p_value`` and ``significant`` are
    None (:mod:`metrics_lib.metrics.coverage`). A period wholly outside the data (after its last
    date or before its first) has no numbers: each metric's value (or ``previous``, for such a
    previous period) is null with the reason naming the data's dates. A metric whose value can
    still change as newer data arrives (its :attr:`~metrics_lib.metrics.catalogue.Headline.maturity`:
    the close rate while its close window is open) gets the same, and ``notes`` says why.
    """
    p = parse_period(period)
    cov_cur = period_coverage(source, p, as_of=as_of)
    cov_prev = period_coverage(source, p.previous(), as_of=as_of)
    unfit = not_comparable(cov_cur, cov_prev)
    tmap = resolve_targets(targets, source)
    cur, prev = PeriodData(source, p, segment), PeriodData(source, p.previous(), segment)
    metrics = {}
    metric_notes: list[str] = []  # values not final yet (Headline.maturity), after the coverage notes
    for h in select_headlines(ids):
        unmet = unmet_needs(h, source)  # a table or column missing, or every row set aside
        unmet = unmet or unmet_in_scope(h, cur.scope)  # a segment without subscriptions
        if unmet:
            rec: dict[str, Any] = {
                "value": None,
                "numerator": None,
                "denominator": None,
                "n": None,
                "ci_low": None,
                "ci_high": None,
                "unit": h.unit,
                "family": h.family,
                "direction": h.direction,
                "reason": unmet,
                "previous": None,
                "change": None,
                "p_value": None,
                "significant": None,
                "comparison": None,
                "target": None,
                "status": "skipped",
                "target_reason": None,
            }
            metrics[h.id] = rec
            continue
        rc, rp = _compute(h, cur, cov_cur), _compute(h, prev, cov_prev)
        rec = record(h, rc)
        prev_rec = record(h, rp)
        # a value that can still change as newer data arrives (close rate: an open close window)
        # (of a value there is: not of a period outside the data, nor of a metric undefined)
        unsettled = []
        if h.maturity:
            defined = [d for d, r in ((cur, rec), (prev, prev_rec)) if r["value"] is not None]
            unsettled = [n for n in map(h.maturity, defined) if n]
        metric_notes += [f"{h.id}: {n}" for n in unsettled[:1]]
        unfit_h = unfit
        if unsettled:
            unfit_h = (
                f"{unfit}; and {'; and '.join(unsettled)}"
                if unfit
                else f"not comparable: {'; and '.join(unsettled)}"
            )
        value_ = rec["value"]
        undefined = value_ is None or prev_rec["value"] is None  # nothing to test a change of
        comp = None if unfit_h or undefined else compare(h, rc, rp, cur, prev)
        t, why = applicable(tmap.get(h.id), p.months, segment)
        rec.update(
            {
                "previous": prev_rec["value"],
                "change": None
                if unfit_h or value_ is None or prev_rec["value"] is None
                else stable(stable(value_) - stable(prev_rec["value"])),
                "p_value": None if comp is None or math.isnan(comp.p_value) else comp.p_value,
                "significant": None if comp is None or math.isnan(comp.p_value) else comp.significant,
                "test": None if comp is None else comp.test,
                "comparison": unfit_h,
                "target": None if t is None else t.target,
                "status": status_for(NAN if value_ is None else value_, t, why),
                "target_reason": why.partition(": ")[2]
                if why and status_for(NAN if value_ is None else value_, t, why).startswith("no target for")
                else None,
            }
        )
        metrics[h.id] = rec
    return {
        "period": p.label,
        "start": p.start.isoformat(),
        "end": p.end.isoformat(),
        "complete": cov_cur.complete,
        "previous_period": p.previous().label,
        "segment": segment,
        "source": str(source.path),
        "notes": coverage_notes(cov_cur, cov_prev) + activity_note(cur.scope) + metric_notes,
        "metrics": metrics,
    }


def year_ago(period) -> Period:
    """The same period a year earlier: ``2024-Q4`` for ``2025-Q4``, ``2024-12`` for ``2025-12``.

    Examples
    --------
    >>> year_ago(parse_period("2025-Q4")).label, year_ago(parse_period("2025")).label
    ('2024-Q4', '2024')
    """
    p = parse_period(period) if isinstance(period, str) else period
    return p.shift(-(12 // p.months))


def activity_note(scope) -> list[str]:
    """A note when the scope's activity rule differs from the data's: a segment whose customers
    hold no subscriptions, in data that has some, is active by its purchases."""
    reason = scope.subscriptions_missing
    if reason is None:
        return []
    return [
        f"{reason}: its customers are active by the order rule (a purchase within the last "
        f"{scope.inactivity_days} days), not by subscription, and its MRR metrics are undefined"
    ]


def period_values(data: PeriodData, ids=None, *, as_of=None) -> dict[str, dict]:
    """The records (:func:`record`) of the metrics ``ids`` (all when None) for the one period of
    ``data``, without a comparison: the numbers a report shows beside the period's, such as the
    same period last year. A metric whose needs the source does not meet, or a period wholly
    outside the data, has value None with the reason."""
    cov = period_coverage(data.source, data.scope.period, as_of=as_of)
    out = {}
    for h in select_headlines(ids):
        unmet = unmet_needs(h, data.source) or unmet_in_scope(h, data.scope)
        result = ValueResult(NAN, unit=h.unit, reason=unmet) if unmet else _compute(h, data, cov)
        out[h.id] = record(h, result)
    return out


def _compute(h: Headline, d: PeriodData, cov: PeriodCoverage):
    """Metric ``h`` on ``d``; null with the reason, naming the data's dates, when the period lies
    wholly outside the data: nothing happened in it that the data saw (scheduled subscription
    ends are not observed churn, and zero orders are not a revenue of 0)."""
    reason = cov.outside_reason()
    if reason is not None:
        return ValueResult(NAN, unit=h.unit, reason=reason)
    return safe_compute(h.compute, d)


def select_headlines(ids=None) -> list[Headline]:
    """Headline specs by metric id or family name (all when ``ids`` is None), in catalogue order."""
    if ids is None:
        return list(HEADLINE.values())
    if isinstance(ids, str):
        ids = [ids]
    families = {h.family for h in HEADLINE.values()}
    unknown = [i for i in ids if i not in HEADLINE and i not in families]
    if unknown:
        raise WorkbookError(
            f"unknown metric or family {', '.join(map(repr, unknown))}; metrics: "
            f"{', '.join(HEADLINE)}; families: {', '.join(sorted(families))}"
        )
    return [h for h in HEADLINE.values() if h.id in ids or h.family in ids]


def to_json(result: dict) -> str:
    """JSON text with NaN as null (stable key order, so two runs give identical bytes)."""
    return dumps(result)


def family_availability(source) -> list[dict]:
    """Each metric family of the catalogue, in catalogue order, with whether the scorecard can
    report it on ``source``: ``available`` when the data has what at least one of its headline
    metrics needs, with ``metrics`` the number it can compute; otherwise ``reason`` names the
    tables its metrics need that the data lacks (or, when it has them, why none is defined).
    Pipeline-only or support-only data thus get their family's metrics, the others listed with
    the reason."""
    out: dict[str, dict] = {}
    for h in HEADLINE.values():
        entry = out.setdefault(
            h.family, {"family": h.family, "available": False, "metrics": 0, "reason": None}
        )
        why = unmet_needs(h, source)
        if why is None:
            entry["available"] = True
            entry["metrics"] += 1
            entry["reason"] = None
        elif not entry["available"] and entry["reason"] is None:
            entry["reason"] = why
    for fam, entry in out.items():
        if entry["available"]:
            continue
        needed = {n.partition(".")[0] for h in HEADLINE.values() if h.family == fam for n in h.needs}
        lacking = [t for t in C.TABLES if t in needed and not source.has(t)]
        if len(lacking) == len(needed):  # none of its tables: name them all, in contract order
            entry["reason"] = f"the data lacks table(s) {', '.join(lacking)}"
    return list(out.values())

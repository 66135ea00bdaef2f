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
from metrics_lib.core.periods import parse_period
from metrics_lib.core.results import NAN
from metrics_lib.metrics.catalogue import HEADLINE, Headline, compare, safe_compute, unmet_needs
from metrics_lib.metrics.period_data import PeriodData
from metrics_lib.metrics.targets import default_targets_path, read_targets, status_for

__all__ = ["headline_metrics", "select_headlines", "record", "to_json"]


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


def headline_metrics(source, period, *, targets=None, segment=None, ids=None) -> dict:
    """Every headline metric of ``period`` with the previous period, change, target and status.

    Returns the JSON-ready dict of ``metrics --format json``; ``ids`` limits it to some metrics
    (a family name selects that family's metrics).
    """
    p = parse_period(period)
    if targets is None:
        targets = default_targets_path(source)
    tmap = read_targets(targets) if targets else {}
    cur, prev = PeriodData(source, p, segment), PeriodData(source, p.previous(), segment)
    metrics = {}
    for h in select_headlines(ids):
        unmet = unmet_needs(h, source)  # a table or column missing, or every row set aside
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
                "target": None,
                "status": "skipped",
            }
            metrics[h.id] = rec
            continue
        rc, rp = safe_compute(h.compute, cur), safe_compute(h.compute, prev)
        rec = record(h, rc)
        prev_rec = record(h, rp)
        comp = compare(h, rc, rp, cur, prev)
        t = tmap.get(h.id)
        value_ = rec["value"]
        rec.update(
            {
                "previous": prev_rec["value"],
                "change": None
                if value_ is None or prev_rec["value"] is None
                else stable(stable(value_) - stable(prev_rec["value"])),
                "p_value": None if comp is None or math.isnan(comp.p_value) else comp.p_value,
                "significant": None if comp is None or math.isnan(comp.p_value) else comp.significant,
                "test": None if comp is None else comp.test,
                "target": None if t is None else t.target,
                "status": status_for(NAN if value_ is None else value_, t),
            }
        )
        metrics[h.id] = rec
    return {
        "period": p.label,
        "start": p.start.isoformat(),
        "end": p.end.isoformat(),
        "previous_period": p.previous().label,
        "segment": segment,
        "source": str(source.path),
        "metrics": metrics,
    }


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

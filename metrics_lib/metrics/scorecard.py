"""The scorecard: every headline metric of a period beside the previous period and its target.

:func:`headline_metrics` computes each metric of :data:`~metrics_lib.metrics.catalogue.HEADLINE`
for a period and the one before it, tests whether the change is beyond noise, and grades it
against the targets. Metrics whose tables the source lacks are present with value NaN (``null``
in JSON) and the reason. :func:`to_json` and :func:`format_table` render the result.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from metrics_lib.core.errors import WorkbookError
from metrics_lib.core.periods import parse_period
from metrics_lib.core.results import NAN
from metrics_lib.metrics.catalogue import HEADLINE, Headline, compare, safe_compute
from metrics_lib.metrics.period_data import PeriodData
from metrics_lib.metrics.targets import default_targets_path, read_targets, status_for

__all__ = ["headline_metrics", "select_headlines", "record", "to_json", "format_table"]


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
        missing = [t for t in h.needs if not source.has(t)]
        if missing:
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
                "reason": f"needs table(s) {', '.join(missing)}, not in the data source",
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
                else _stable(_stable(value_) - _stable(prev_rec["value"])),
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


def _stable(x: float) -> float:
    """``x`` to 12 significant digits: floating-point sums on a parallel engine differ in the last
    bits from run to run; rounding first keeps differences and the JSON identical between runs."""
    return float(f"{x:.12g}")


def _clean(obj):
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float):
        if math.isnan(obj) or math.isinf(obj):
            return None
        return _stable(obj)
    return obj


def to_json(result: dict) -> str:
    """JSON text with NaN as null (stable key order, so two runs give identical bytes)."""
    return json.dumps(_clean(result), indent=2, allow_nan=False)


def _fmt(value, unit) -> str:
    if value is None:
        return "-"
    if unit == "share":
        return f"{100 * value:.1f}%"
    if unit == "currency":
        return f"{value:,.0f}"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def format_table(result: dict) -> str:
    """The headline metrics as an aligned text table."""
    lines = [
        f"Period {result['period']} ({result['start']} to {result['end']}), "
        f"previous {result['previous_period']}",
        "",
    ]
    header = f"{'metric':<30} {'value':>12} {'95% CI':>21} {'previous':>12} {'change':>10} {'sig':>4} {'target':>9}  status"
    lines.append(header)
    lines.append("-" * len(header))
    for mid, m in result["metrics"].items():
        unit = m["unit"]
        ci = "" if m["ci_low"] is None else f"[{_fmt(m['ci_low'], unit)}, {_fmt(m['ci_high'], unit)}]"
        change = (
            "-"
            if m["change"] is None
            else (f"{100 * m['change']:+.1f}pp" if unit == "share" else f"{m['change']:+,.2f}")
        )
        sig = "" if m.get("significant") is None else ("yes" if m["significant"] else "no")
        target = "" if m["target"] is None else _fmt(m["target"], unit)
        lines.append(
            f"{mid:<30} {_fmt(m['value'], unit):>12} {ci:>21} {_fmt(m['previous'], unit):>12} "
            f"{change:>10} {sig:>4} {target:>9}  {m['status']}"
        )
        if m["value"] is None and m.get("reason"):
            lines.append(f"{'':<30} ({m['reason']})")
    return "\n".join(lines)

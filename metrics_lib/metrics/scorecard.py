"""The scorecard: every headline metric of a period beside the previous period and its target.

:func:`headline_metrics` computes each metric of :data:`HEADLINE` for a period and the one before
it, tests whether the change is beyond noise, and grades it against the targets. Metrics whose
tables the source lacks are present with value NaN (``null`` in JSON) and the reason.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import yaml

from metrics_lib.core.errors import WorkbookError
from metrics_lib.core.periods import parse_period
from metrics_lib.core.results import (
    NAN,
    ComparisonResult,
    MeanResult,
    MetricUndefinedWarning,
    NPSResult,
    RateResult,
    ValueResult,
)
from metrics_lib.core.stats import compare_means, compare_means_from_moments, compare_rates, rate_result
from metrics_lib.formulas import advocacy, marketing, pipeline, retention, satisfaction, service, value
from metrics_lib.metrics import aggregate as agg

DEFAULT_TARGETS = Path(__file__).with_name("default_targets.yml")

__all__ = ["HEADLINE", "Target", "read_targets", "headline_metrics", "PeriodData", "to_json", "format_table",
           "status_for"]


@dataclass(frozen=True)
class Target:
    metric: str
    target: float
    direction: str  # "higher" or "lower" is better
    near: float = 0.0


def read_targets(path) -> dict[str, Target]:
    """Targets from a YAML file: ``targets: {metric: {target, direction, near}}``."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise WorkbookError(f"{path}: targets file not found") from None
    except yaml.YAMLError as exc:
        raise WorkbookError(f"{path}: not valid YAML ({exc})") from None
    entries = raw.get("targets") if isinstance(raw, dict) else None
    if not isinstance(entries, dict):
        raise WorkbookError(f"{path}: expected a `targets:` mapping of metric ids to {{target, direction, near}}")
    out = {}
    for metric, spec in entries.items():
        if metric not in HEADLINE:
            raise WorkbookError(f"{path}: `{metric}` is not a headline metric; known: {', '.join(HEADLINE)}")
        if not isinstance(spec, dict) or "target" not in spec:
            raise WorkbookError(f"{path}: `{metric}` needs at least `target:` (and `direction:`, `near:`)")
        direction = spec.get("direction", HEADLINE[metric].direction)
        if direction not in ("higher", "lower"):
            raise WorkbookError(f"{path}: `{metric}` direction {direction!r} must be 'higher' or 'lower'")
        try:
            out[metric] = Target(metric, float(spec["target"]), direction, float(spec.get("near", 0.0)))
        except (TypeError, ValueError):
            raise WorkbookError(f"{path}: `{metric}` target and near must be numbers") from None
    return out


def default_targets_path(source) -> Path:
    """``targets.yml`` beside a folder source (``<name>.targets.yml`` beside a DuckDB file) when it
    exists, else the package's defaults (also for databases, which have no folder)."""
    if source.kind == "folder":
        beside = source.path / "targets.yml"
    elif source.kind == "duckdb":
        beside = source.path.with_suffix(".targets.yml")
    else:
        return DEFAULT_TARGETS
    return beside if beside.exists() else DEFAULT_TARGETS


def status_for(value: float, target: Target | None) -> str:
    """``on target``, ``near`` (within the tolerance), ``off``, ``no target`` or ``undefined``.

    Examples
    --------
    >>> status_for(0.82, Target("csat", 0.80, "higher", 0.05))
    'on target'
    >>> status_for(0.77, Target("csat", 0.80, "higher", 0.05))
    'near'
    >>> status_for(0.04, Target("churn_rate", 0.03, "lower", 0.005))
    'off'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "undefined"
    if target is None:
        return "no target"
    gap = value - target.target if target.direction == "higher" else target.target - value
    if gap >= 0:
        return "on target"
    return "near" if -gap <= target.near + 1e-9 * max(1.0, abs(target.target)) else "off"


class PeriodData:
    """The aggregates of one period, each computed once on the engine and reused by the metrics."""

    def __init__(self, source, period, segment=None):
        self.scope = agg.Scope.of(source, period, segment)
        self.source = source

    def has(self, *tables) -> bool:
        return all(self.source.has(t) for t in tables)

    @cached_property
    def activity(self):
        return agg.activity_counts(self.scope)

    @cached_property
    def orders(self):
        return agg.orders_summary(self.scope)

    @cached_property
    def new(self):
        return agg.new_customers_summary(self.scope)

    @cached_property
    def pipeline(self):
        return agg.pipeline_summary(self.scope)

    @cached_property
    def won(self):
        return agg.won_deals(self.scope)

    @cached_property
    def tickets(self):
        return agg.ticket_times(self.scope)

    @cached_property
    def resolved(self):
        return agg.resolved_tickets(self.scope)

    @cached_property
    def spend(self):
        return agg.spend_summary(self.scope)

    @cached_property
    def annual_churn(self) -> float:
        r = retention.churn_rate(self.activity["active_at_start"], self.activity["lost"])
        if not r.defined:
            return NAN
        return retention.convert_churn_rate(r.value, days_measured=self.scope.period.days, days_target=365).value

    @cached_property
    def health_components(self) -> pd.DataFrame:
        # once per period: the health metric and its t-test both use it
        return agg.health_components(self.scope)

    @cached_property
    def mrr(self) -> dict:
        return agg.revenue_retention(self.scope)

    def scores(self, survey: str) -> pd.Series:
        # each query once per period: a remote engine answers each in a fraction of a second, not
        # in microseconds
        cache = self.__dict__.setdefault("_scores", {})
        if survey not in cache:
            cache[survey] = agg.survey_scores(self.scope, survey)
        return cache[survey]


@dataclass(frozen=True)
class Headline:
    id: str
    family: str
    unit: str
    direction: str
    needs: tuple[str, ...]
    compute: Callable[[PeriodData], object]
    sample: Callable[[PeriodData], object] | None = None  # per-unit values for a t-test of the change
    label: str = ""
    moments: Callable[[PeriodData], tuple[float, float, int]] | None = None  # (mean, std, n) for the same test


def _gross_margin(d: PeriodData):
    o = d.orders
    if math.isnan(o["cost"]):
        return ValueResult(NAN, unit="share", reason="gross margin needs the orders' `cost` column")
    return value.gross_margin(o["revenue"], o["cost"])


def _undefined_input(unit: str, **inputs) -> ValueResult | None:
    """A NaN result naming the undefined inputs of a composite metric, or None when all are defined."""
    bad = [name for name, x in inputs.items() if x is None or (isinstance(x, float) and math.isnan(x))]
    if not bad:
        return None
    return ValueResult(NAN, unit=unit, reason=f"undefined because {', '.join(bad)} is undefined for the period")


def _clv(d: PeriodData):
    """Margin CLV: average order value x purchases per customer per year (the period's purchases
    per buyer scaled by 365 / its days) x lifespan in years (1 / annual churn) x gross margin."""
    o = d.orders
    if o["orders"] == 0:
        return ValueResult(NAN, unit="currency", reason="no orders in the period, so no order value or frequency")
    margin = _gross_margin(d)
    missing = _undefined_input("currency", annual_churn_rate=d.annual_churn, gross_margin=margin.value)
    if missing:
        return missing
    if d.annual_churn == 0:
        return ValueResult(NAN, unit="currency", reason="no customer was lost, so the lifespan 1 / churn is unbounded")
    aov = o["revenue"] / o["orders"]
    per_year = o["orders"] / o["buyers"] * 365.0 / d.scope.period.days
    lifespan = 1.0 / d.annual_churn
    simple = value.clv_simple(aov, per_year, lifespan)
    return ValueResult(simple.value * margin.value, unit="currency", n=o["buyers"],
                       components={**simple.components, "gross_margin": margin.value,
                                   "annual_churn_rate": d.annual_churn})


def _cac(d: PeriodData):
    return value.cac(d.spend["acquisition"], d.new["new_customers"])


def _ltv_cac(d: PeriodData):
    ltv, cac = _clv(d).value, _cac(d).value
    return _undefined_input("ratio", clv=ltv, cac=cac) or value.ltv_cac_ratio(ltv, cac)


def _velocity(d: PeriodData):
    w = win_rate(d)
    size = pipeline.average_deal_size(d.won["amount"])
    cycle = pipeline.sales_cycle_length(d.won["cycle_days"])
    missing = _undefined_input("currency per day", win_rate=w.value, average_deal_size=size.value,
                               sales_cycle_days=cycle.value)
    if missing:
        return missing
    return pipeline.sales_velocity(d.pipeline["open_at_end"], w.value, size.value, cycle.value)


def win_rate(d: PeriodData):
    return pipeline.win_rate(d.pipeline["won"], d.pipeline["lost"])


def _first_response(d: PeriodData):
    return service.response_time_summary(d.tickets["first_response_hours"].dropna(), target_hours=2.0)


def _active_denominator(d: PeriodData) -> int:
    # customers active at the start plus those who bought in the period without being active then
    return max(d.activity["active_at_start"] + d.new["new_customers"], d.orders["buyers"])


def _h(id, family, unit, direction, needs, compute, sample=None, label="", moments=None):
    return Headline(id, family, unit, direction, tuple(needs), compute, sample, label or id.replace("_", " "),
                    moments)


def _order_value_moments(d: PeriodData) -> tuple[float, float, int]:
    """Mean, sample standard deviation and number of the period's order values."""
    o = d.orders
    return (o["revenue"] / o["orders"] if o["orders"] else NAN), o["revenue_std"], o["orders"]


HEADLINE: dict[str, Headline] = {h.id: h for h in [
    _h("revenue", "value", "currency", "higher", ["orders"],
       lambda d: ValueResult(d.orders["revenue"], n=d.orders["orders"], unit="currency")),
    _h("gross_profit", "value", "currency", "higher", ["orders"],
       lambda d: value.gross_profit(d.orders["revenue"], d.orders["cost"]) if not math.isnan(d.orders["cost"])
       else ValueResult(NAN, unit="currency", reason="gross profit needs the orders' `cost` column")),
    _h("gross_margin", "value", "share", "higher", ["orders"], _gross_margin),
    _h("orders", "value", "count", "higher", ["orders"],
       lambda d: ValueResult(float(d.orders["orders"]), n=d.orders["orders"], unit="count")),
    _h("average_order_value", "value", "currency", "higher", ["orders"],
       lambda d: value.average_order_value(d.orders["revenue"], d.orders["orders"],
                                           order_value_std=d.orders["revenue_std"]),
       moments=_order_value_moments),
    _h("active_customers", "retention", "count", "higher", ["customers", "orders"],
       lambda d: ValueResult(float(d.activity["active_at_end"]), unit="count")),
    _h("new_customers", "retention", "count", "higher", ["customers"],
       lambda d: ValueResult(float(d.new["new_customers"]), unit="count")),
    _h("repeat_customer_rate", "retention", "share", "higher", ["orders"],
       lambda d: retention.repeat_customer_rate(d.orders["repeat_buyers"], d.orders["buyers"])),
    _h("churn_rate", "retention", "share", "lower", ["customers", "orders"],
       lambda d: retention.churn_rate(d.activity["active_at_start"], d.activity["lost"])),
    _h("retention_rate", "retention", "share", "higher", ["customers", "orders"],
       lambda d: retention.retention_rate(d.activity["active_at_start"], d.activity["retained"])),
    _h("renewal_rate", "retention", "share", "higher", ["subscriptions"],
       lambda d: retention.renewal_rate(**_renewals(d))),
    _h("net_revenue_retention", "retention", "share", "higher", ["subscriptions"],
       lambda d: _nrr(d)),
    _h("gross_revenue_retention", "retention", "share", "higher", ["subscriptions"],
       lambda d: _grr(d)),
    _h("clv", "value", "currency", "higher", ["customers", "orders"], _clv),
    _h("cac", "value", "currency", "lower", ["customers", "marketing_spend"], _cac),
    _h("ltv_cac_ratio", "value", "ratio", "higher", ["customers", "orders", "marketing_spend"], _ltv_cac),
    _h("csat", "satisfaction", "share", "higher", ["surveys"],
       lambda d: satisfaction.csat(d.scores("csat"), scale=d.source.config.options.csat_scale)),
    _h("nps", "satisfaction", "score", "higher", ["surveys"], lambda d: satisfaction.nps(d.scores("nps"))),
    _h("ces", "satisfaction", "score", "higher", ["surveys"],
       lambda d: satisfaction.ces(d.scores("ces"), scale=d.source.config.options.ces_scale),
       sample=lambda d: d.scores("ces")),
    _h("close_rate", "pipeline", "share", "higher", ["deals"],
       lambda d: pipeline.close_rate(d.pipeline["leads_won"], d.pipeline["leads"])),
    _h("win_rate", "pipeline", "share", "higher", ["deals"], win_rate),
    _h("average_deal_size", "pipeline", "currency", "higher", ["deals"],
       lambda d: pipeline.average_deal_size(d.won["amount"]), sample=lambda d: d.won["amount"]),
    _h("sales_cycle_days", "pipeline", "days", "lower", ["deals"],
       lambda d: pipeline.sales_cycle_length(d.won["cycle_days"]), sample=lambda d: d.won["cycle_days"]),
    _h("sales_velocity", "pipeline", "currency per day", "higher", ["deals"], _velocity),
    _h("upsell_rate", "pipeline", "share", "higher", ["customers", "orders"],
       lambda d: pipeline.upsell_rate(d.orders["upsell_buyers"], _active_denominator(d))),
    _h("first_contact_resolution", "service", "share", "higher", ["tickets"],
       lambda d: service.first_contact_resolution(d.resolved["resolved_first_contact"], d.resolved["resolved"])),
    _h("first_response_hours_median", "service", "hours", "lower", ["tickets"],
       _first_response,
       sample=lambda d: d.tickets["first_response_hours"].dropna()),
    _h("first_response_within_target", "service", "share", "higher", ["tickets"],
       lambda d: _first_response(d).within_target),
    _h("referral_rate", "advocacy", "share", "higher", ["customers"],
       lambda d: advocacy.referral_rate(d.new["referred"], d.new["new_customers"])),
    _h("bounce_rate", "advocacy", "share", "lower", ["web_engagement"],
       lambda d: _bounce(d)),
    _h("campaign_roi", "marketing", "ratio", "higher", ["campaigns", "campaign_members"], lambda d: _campaign_roi(d)),
    _h("health_score_mean", "health", "score", "higher", ["customers", "orders"], lambda d: _health_mean(d),
       sample=lambda d: _health_scores(d)),
]}


def _renewals(d: PeriodData) -> dict:
    c = agg.renewal_counts(d.scope)
    return {"renewed": c["renewed"], "due": c["due"]}


def _mrr(d: PeriodData) -> dict:
    return d.mrr


def _nrr(d):
    m = _mrr(d)
    return retention.net_revenue_retention(m["start_mrr"], m["expansion"], m["contraction"], m["churned"])


def _grr(d):
    m = _mrr(d)
    return retention.gross_revenue_retention(m["start_mrr"], m["churned"], m["contraction"])


def _bounce(d):
    w = agg.web_summary(d.scope)
    return advocacy.bounce_rate(int(w["bounces"]), int(w["sessions"]))


def _campaign_roi(d):
    camps = agg.campaign_summary(d.scope)
    if camps.empty:
        return ValueResult(NAN, unit="ratio", reason="no campaign started in the period")
    margin = _gross_margin(d) if d.has("orders") else ValueResult(NAN)
    revenue = float(camps["treatment_revenue"].sum() + camps["control_revenue"].sum())
    profit = revenue * margin.value if margin.defined else revenue
    return marketing.campaign_roi(profit, float(camps["cost"].sum()))


def _health_scores(d: PeriodData) -> pd.Series:
    from metrics_lib.formulas import health

    comps = d.health_components
    if comps.empty:
        return pd.Series(dtype=float)
    return health.health_score(comps.drop(columns=["customer_id"]))


def _health_mean(d):
    from metrics_lib.core.stats import mean_result

    return mean_result(_health_scores(d), unit="score", what="health score mean")


def _compare(h: Headline, cur, prev, dcur: PeriodData, dprev: PeriodData) -> ComparisonResult | None:
    if isinstance(cur, NPSResult) and isinstance(prev, NPSResult):
        return satisfaction.compare_nps(cur, prev)
    if isinstance(cur, RateResult) and isinstance(prev, RateResult):
        return compare_rates(cur, prev)
    counted = all(hasattr(r, "numerator") and not isinstance(r, ValueResult) for r in (cur, prev))
    if h.unit == "share" and counted:
        # shares with their own result type (e.g. CSAT): the same two-proportion test
        if cur.denominator > 0 and prev.denominator > 0:
            return compare_rates(rate_result(cur.numerator, cur.denominator),
                                 rate_result(prev.numerator, prev.denominator))
    if h.sample is not None:
        return compare_means(h.sample(dcur), h.sample(dprev))
    if h.moments is not None:
        return compare_means_from_moments(*h.moments(dcur), *h.moments(dprev))
    return None


def _record(h: Headline, result) -> dict:
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


def _safe(fn, d) -> object:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MetricUndefinedWarning)
            return fn(d)
    except ZeroDivisionError as exc:  # pragma: no cover - formulas return NaN instead
        return ValueResult(NAN, reason=f"undefined: {exc}")


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
            rec = {"value": None, "numerator": None, "denominator": None, "n": None, "ci_low": None,
                   "ci_high": None, "unit": h.unit, "family": h.family, "direction": h.direction,
                   "reason": f"needs table(s) {', '.join(missing)}, not in the data source",
                   "previous": None, "change": None, "p_value": None, "significant": None,
                   "target": None, "status": "skipped"}
            metrics[h.id] = rec
            continue
        rc, rp = _safe(h.compute, cur), _safe(h.compute, prev)
        rec = _record(h, rc)
        prev_rec = _record(h, rp)
        comp = _compare(h, rc, rp, cur, prev)
        t = tmap.get(h.id)
        value_ = rec["value"]
        rec.update({
            "previous": prev_rec["value"],
            "change": None if value_ is None or prev_rec["value"] is None
            else _stable(_stable(value_) - _stable(prev_rec["value"])),
            "p_value": None if comp is None or math.isnan(comp.p_value) else comp.p_value,
            "significant": None if comp is None or math.isnan(comp.p_value) else comp.significant,
            "test": None if comp is None else comp.test,
            "target": None if t is None else t.target,
            "status": status_for(NAN if value_ is None else value_, t),
        })
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
        raise WorkbookError(f"unknown metric or family {', '.join(map(repr, unknown))}; metrics: "
                            f"{', '.join(HEADLINE)}; families: {', '.join(sorted(families))}")
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
    lines = [f"Period {result['period']} ({result['start']} to {result['end']}), "
             f"previous {result['previous_period']}", ""]
    header = f"{'metric':<30} {'value':>12} {'95% CI':>21} {'previous':>12} {'change':>10} {'sig':>4} {'target':>9}  status"
    lines.append(header)
    lines.append("-" * len(header))
    for mid, m in result["metrics"].items():
        unit = m["unit"]
        ci = "" if m["ci_low"] is None else f"[{_fmt(m['ci_low'], unit)}, {_fmt(m['ci_high'], unit)}]"
        change = "-" if m["change"] is None else (f"{100 * m['change']:+.1f}pp" if unit == "share" else f"{m['change']:+,.2f}")
        sig = "" if m.get("significant") is None else ("yes" if m["significant"] else "no")
        target = "" if m["target"] is None else _fmt(m["target"], unit)
        lines.append(f"{mid:<30} {_fmt(m['value'], unit):>12} {ci:>21} {_fmt(m['previous'], unit):>12} "
                     f"{change:>10} {sig:>4} {target:>9}  {m['status']}")
        if m["value"] is None and m.get("reason"):
            lines.append(f"{'':<30} ({m['reason']})")
    return "\n".join(lines)

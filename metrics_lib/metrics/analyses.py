"""Cross-family analyses: do the strategy's signals move what matters?

* :func:`nps_vs_churn`: churn in a period by the NPS group customers gave in the period before.
* :func:`before_after`: the sales, retention and service metrics before vs after a dated change
  (``strategy_change_date`` and ``strategy_change_label`` in ``source.yml``), with tests, and a
  difference-in-differences against a segment that did not get it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from scipy import stats as sps

from metrics_lib.core.errors import WorkbookError
from metrics_lib.core.periods import parse_period
from metrics_lib.core.results import NAN, ComparisonResult
from metrics_lib.core.stats import compare_rates
from metrics_lib.metrics import aggregate as agg
from metrics_lib.metrics import aggregate_health
from metrics_lib.metrics.catalogue import HEADLINE, compare, safe_compute
from metrics_lib.metrics.cohorts import churn_by_group, churn_outcomes
from metrics_lib.metrics.coverage import period_coverage
from metrics_lib.metrics.period_data import PeriodData

__all__ = ["NPSChurn", "nps_vs_churn", "BeforeAfter", "before_after", "BEFORE_AFTER_METRICS"]


@dataclass(frozen=True)
class NPSChurn:
    """Churn by NPS group: ``table`` has one row per group (promoter, passive, detractor,
    no answer) with customers, churned, churn_rate and its interval; ``comparison`` tests
    detractors' churn (``current``) against promoters' (``previous``), its difference and p-value
    repeated in ``detractor_minus_promoter`` and ``p_value`` (NaN when a group has nobody)."""

    period: str
    table: pd.DataFrame
    detractor_minus_promoter: float
    p_value: float
    comparison: ComparisonResult


_ORDER = ("promoter", "passive", "detractor", "no answer")


def nps_vs_churn(source, period, *, segment=None, confidence_level: float = 0.95) -> NPSChurn:
    """Churn during ``period`` of the customers active at its start, by the NPS group of their
    latest answer before the period began (customers who never answered: "no answer").

    The churn definition is the workbook's (subscriptions when present, else the inactivity window);
    answers on the same latest day are averaged.
    """
    p = parse_period(period)
    scope = agg.Scope.of(source, p, segment)
    outcomes = churn_outcomes(scope)
    scores = aggregate_health.latest_nps_scores(scope, scope.start, inclusive=False).execute()
    frame = outcomes.merge(scores, on="customer_id", how="left")
    frame["nps_group"] = np.select(
        [frame["score"] >= 9, frame["score"] >= 7, frame["score"].notna()],
        ["promoter", "passive", "detractor"],
        "no answer",
    )
    table, rates = churn_by_group(
        frame, "nps_group", _ORDER, what="churn of {}s", confidence_level=confidence_level
    )
    comp = compare_rates(rates["detractor"], rates["promoter"])
    return NPSChurn(p.label, table, comp.value, comp.p_value, comp)


#: Metric ids compared by :func:`before_after`.
BEFORE_AFTER_METRICS = (
    "close_rate",
    "win_rate",
    "sales_cycle_days",
    "churn_rate",
    "csat",
    "nps",
    "first_response_hours_median",
)


@dataclass(frozen=True)
class BeforeAfter:
    """The metrics over the ``window_days`` before ``change_date`` (``before``, a date window)
    against the same span from it (``after``). ``comparison`` says why the two windows are not
    comparable (one runs past the data's last date or starts before its first), None when they
    are; then no change is computed or tested."""

    change_date: date
    window_days: int
    table: pd.DataFrame  # one row per metric: before, after, change, p_value, significant
    did: pd.DataFrame | None  # difference-in-differences per metric, when a comparison segment is given
    before: agg.DateWindow | None = None
    after: agg.DateWindow | None = None
    label: str = ""  # what changed (``strategy_change_label``), empty when unnamed
    comparison: str | None = None


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _window_metrics(source, window, segment, ids):
    d = PeriodData(source, window, segment)
    return d, {mid: safe_compute(HEADLINE[mid].compute, d) for mid in ids}


def before_after(
    source,
    change_date=None,
    *,
    window_days: int = 365,
    segment=None,
    comparison_segment=None,
    ids=BEFORE_AFTER_METRICS,
    as_of=None,
) -> BeforeAfter:
    """Each metric over the ``window_days`` before ``change_date`` against the same span after it.

    ``change_date`` defaults to the source's ``strategy_change_date`` (``source.yml``). With
    ``comparison_segment`` (a segment that did not get the change) the difference-in-differences
    (treated change minus comparison change) is reported with a normal-approximation test. When
    the data does not cover both windows whole (up to ``as_of``, default the data's last date),
    the changes are not comparable: NaN, untested, and ``comparison`` says why.
    """
    if change_date is None:
        change_date = source.config.strategy_change_date
        if change_date is None:
            raise WorkbookError(
                "before_after needs a change date: pass change_date= or set "
                "`strategy_change_date` in the data source's source.yml"
            )
    change = pd.Timestamp(change_date).date()
    unknown = [i for i in ids if i not in HEADLINE]
    if unknown:
        raise WorkbookError(f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(HEADLINE)}")
    before_w = agg.DateWindow(change - timedelta(days=window_days), change)
    after_w = agg.DateWindow(change, change + timedelta(days=window_days))
    unfit = _not_comparable(source, before_w, after_w, as_of)

    def side(seg):
        db, rb = _window_metrics(source, before_w, seg, ids)
        da, ra = _window_metrics(source, after_w, seg, ids)
        rows = []
        for mid in ids:
            # a metric the data cannot define (no tickets in pipeline-only data) has no change to test
            undefined = any(_missing(r.value) for r in (ra[mid], rb[mid]))
            comp = None if unfit or undefined else compare(HEADLINE[mid], ra[mid], rb[mid], da, db)
            rows.append(
                {
                    "metric": mid,
                    "before": rb[mid].value,
                    "after": ra[mid].value,
                    "change": NAN if unfit else ra[mid].value - rb[mid].value,
                    "p_value": NAN if comp is None else comp.p_value,
                    "significant": None if comp is None or math.isnan(comp.p_value) else comp.significant,
                    "se": _se_of_change(comp),
                }
            )
        return pd.DataFrame(rows).set_index("metric")

    treated = side(segment)
    did = None
    if comparison_segment:
        control = side(comparison_segment)
        diff = treated["change"] - control["change"]
        se = np.sqrt(treated["se"] ** 2 + control["se"] ** 2)
        z = diff / se
        p = pd.Series(2 * sps.norm.sf(np.abs(z)), index=diff.index)
        did = pd.DataFrame(
            {
                "treated change": treated["change"],
                "comparison change": control["change"],
                "difference in differences": diff,
                "p_value": p,
            }
        )
    return BeforeAfter(
        change,
        window_days,
        treated.drop(columns=["se"]),
        did,
        before_w,
        after_w,
        source.config.strategy_change_label,
        unfit,
    )


def _not_comparable(source, before: agg.DateWindow, after: agg.DateWindow, as_of) -> str | None:
    """Why the windows cannot be compared (the data does not cover one whole), None when they can."""
    covs = {
        "before": period_coverage(source, before, as_of=as_of),
        "after": period_coverage(source, after, as_of=as_of),
    }
    parts = [f"the {name} window is {cov.state}" for name, cov in covs.items() if not cov.complete]
    return f"not comparable: {' and '.join(parts)}" if parts else None


def _se_of_change(comp) -> float:
    """Standard error of a change recovered from its test (|change| / |z|); NaN when unknown."""
    if comp is None or math.isnan(comp.statistic) or comp.statistic == 0:
        return NAN
    return abs(comp.value / comp.statistic)

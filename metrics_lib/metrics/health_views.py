"""The customer health score beyond its headline numbers: which components it is made of, how
customers spread over the health bands, and whether the score predicts churn.

The bands are calibrated, not fixed points of the 1-10 scale: their cut points are the terciles
of the scores at the end of the period BEFORE the one banded (:func:`band_cuts`), so they are set
before the banded scores, and the churn they are checked against, are seen
(:func:`metrics_lib.formulas.health.band_cut_points`). A calibration period with fewer than
:data:`~metrics_lib.formulas.health.MIN_CALIBRATION_CUSTOMERS` scores falls back to the fixed
cut points 4 and 7, and says so.

:func:`health_distribution` counts the customers active at the period's end per band;
:func:`health_validation` sets each customer's score at the end of the previous period against
whether they were lost in this one (:func:`metrics_lib.metrics.cohorts.churn_outcomes`): churn per
band with intervals, whether the higher-risk band churns more than the lower-risk one, the AUC of
the score and of each of its components alone, with each component's effective weight. Numbers
come unrounded in :class:`HealthValidation`; the reporting layer says in words what they show.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from metrics_lib.core.results import ComparisonResult, quietly
from metrics_lib.core.stats import compare_rates
from metrics_lib.formulas import health
from metrics_lib.metrics import aggregate as agg
from metrics_lib.metrics import aggregate_health
from metrics_lib.metrics.cohorts import churn_by_group, churn_outcomes

__all__ = [
    "BandCuts",
    "HealthValidation",
    "band_cuts",
    "health_scores",
    "health_distribution",
    "health_validation",
    "health_weights",
    "component_signal",
]

#: The fixed cut points of the 1-10 scale, used when a calibration period is too small.
FIXED_CUTS = (4.0, health.HEALTHY_FROM)


@dataclass(frozen=True)
class BandCuts:
    """The cut points of the three bands (:data:`~metrics_lib.formulas.health.RISK_BANDS`):
    ``low`` (scores below it are "higher risk") and ``high`` (scores from it are "lower risk"),
    the ``calibration`` period whose scores set them and how many ``customers`` it scored;
    ``fixed`` when that period had too few scores and the fixed cut points 4 and 7 apply."""

    low: float
    high: float
    calibration: str
    customers: int
    fixed: bool = False

    def band(self, scores: pd.Series) -> pd.Series:
        """The band of each score (ordered categories, NaN for NaN)."""
        return health.health_band(
            scores, at_risk_below=self.low, healthy_from=self.high, labels=health.RISK_BANDS
        )


@dataclass(frozen=True)
class HealthValidation:
    """Whether the health score predicts churn: the score at the end of the previous period
    against churn in this period.

    ``bands``: per band (:data:`~metrics_lib.formulas.health.RISK_BANDS`, cut points in
    ``cuts``) the customers, churned, churn rate with a Wilson interval and mean score; ``auc``:
    the probability that a customer who stayed scored above one who churned (0.5 = no signal),
    with ``auc_ci``; ``band_comparison``: the higher-risk band's churn against the lower-risk band's
    (two-proportion test: ``current`` the higher-risk band's rate, ``previous`` the lower-risk
    band's, ``value`` their difference); ``components``: each component's effective weight and AUC.
    """

    bands: pd.DataFrame
    auc: float
    auc_ci: tuple[float, float]
    customers: int
    churned: int
    note: str = ""
    reason: str = ""
    components: pd.DataFrame = field(default_factory=pd.DataFrame)
    cuts: BandCuts | None = None
    band_comparison: ComparisonResult | None = None


def _scores(comps: pd.DataFrame) -> pd.Series:
    if comps.empty:
        return pd.Series(dtype=float, name="health_score")
    scores = health.health_score(comps.set_index("customer_id"))
    return scores.rename("health_score")


def health_scores(scope: agg.Scope) -> pd.Series:
    """The health score of each customer active at the period's end, indexed by customer id."""
    return _scores(aggregate_health.period_health_components(scope))


def band_cuts(scope: agg.Scope) -> BandCuts:
    """The bands' cut points for scores at the end of ``scope``'s period: the terciles of the
    scores at the end of the period before it (the calibration period), or the fixed 4 and 7
    when that period scored fewer than :data:`~metrics_lib.formulas.health.MIN_CALIBRATION_CUSTOMERS`
    customers."""
    calibration = scope.period.previous()
    scores = health_scores(agg.Scope.of(scope.source, calibration, scope.segment))
    low, high = health.band_cut_points(scores)
    label = getattr(calibration, "label", str(calibration))
    if math.isnan(low):
        return BandCuts(*FIXED_CUTS, label, int(scores.notna().sum()), fixed=True)
    return BandCuts(low, high, label, int(scores.notna().sum()))


def health_distribution(scope: agg.Scope) -> pd.DataFrame:
    """Customers active at the period's end per band (:data:`~metrics_lib.formulas.health.RISK_BANDS`,
    cut points from the previous period, :func:`band_cuts`), with their share and mean score;
    ``attrs["cuts"]`` is the :class:`BandCuts`: the cut points and where they come from."""
    cols = ["customers", "share", "mean_score"]
    scores = health_scores(scope)
    cuts = band_cuts(scope)
    bands = cuts.band(scores) if len(scores) else pd.Series(dtype=object)
    rows = {}
    for band in health.RISK_BANDS:
        part = scores[bands == band] if len(scores) else scores
        rows[band] = {
            "customers": len(part),
            "share": len(part) / len(scores) if len(scores) else np.nan,
            "mean_score": part.mean() if len(part) else np.nan,
        }
    out = pd.DataFrame.from_dict(rows, orient="index")[cols]
    out.index.name = "band"
    out.attrs["cuts"] = cuts
    return out


def health_validation(scope: agg.Scope) -> HealthValidation:
    """Does the health score predict churn? The score of each customer at the end of the
    PREVIOUS period against whether they were lost in THIS period: per band (cut points from the
    period before that, :func:`band_cuts`), whether the higher-risk band churned more than the
    lower-risk one, and the AUC."""
    previous = agg.Scope.of(scope.source, scope.period.previous(), scope.segment)
    comps = aggregate_health.period_health_components(previous)
    scores = _scores(comps)
    cuts = band_cuts(previous)
    outcomes = churn_outcomes(scope).set_index("customer_id")["churned"]
    frame = pd.DataFrame({"score": scores}).join(outcomes, how="inner")
    frame["band"] = cuts.band(frame["score"]).astype(object) if len(frame) else []
    table, rates = churn_by_group(frame, "band", list(health.RISK_BANDS))
    table["mean_score"] = [frame.loc[frame["band"] == b, "score"].mean() for b in table.index]
    a = quietly(health.auc, frame["score"], frame["churned"].astype(float))
    return HealthValidation(
        table,
        a.value,
        (a.ci.low, a.ci.high),
        len(frame),
        int(frame["churned"].sum()),
        "",
        a.reason or "",
        component_signal(comps, outcomes),
        cuts,
        compare_rates(rates[health.RISK_BANDS[0]], rates[health.RISK_BANDS[-1]]),
    )


def health_weights(comps: pd.DataFrame) -> pd.DataFrame:
    """The components the data gives (``comps``: :func:`~metrics_lib.metrics.aggregate_health.health_components`)
    with their default weight and the effective weight they carry once renormalised over the
    components present (:func:`~metrics_lib.formulas.health.effective_weights`)."""
    names = [c for c in comps.columns if c != "customer_id"]
    effective = health.effective_weights(names) if names else {}
    out = pd.DataFrame(
        {
            "default_weight": [health.DEFAULT_HEALTH_WEIGHTS.get(n, float("nan")) for n in names],
            "weight": [effective[n] for n in names],
        },
        index=pd.Index(names, name="component"),
    )
    return out


def component_signal(comps: pd.DataFrame, outcomes: pd.Series) -> pd.DataFrame:
    """AUC of each health component alone (``comps``: :func:`~metrics_lib.metrics.aggregate_health.health_components`
    at the end of the previous period) for staying this period (``outcomes``: churned per
    customer id): which components carry the signal (0.5 = none). One row per component, in
    the components' order: ``default_weight``, the effective ``weight`` in the score
    (:func:`health_weights`), ``auc`` and its interval."""
    weights = health_weights(comps)
    comps = comps.set_index("customer_id")
    joined = comps.join(outcomes, how="inner")
    rows = {}
    for name in comps.columns:
        r = quietly(health.auc, joined[name], joined["churned"].astype(float))
        rows[name] = {
            "default_weight": weights.loc[name, "default_weight"],
            "weight": weights.loc[name, "weight"],
            "auc": r.value,
            "ci_low": r.ci.low,
            "ci_high": r.ci.high,
        }
    out = pd.DataFrame.from_dict(
        rows, orient="index", columns=["default_weight", "weight", "auc", "ci_low", "ci_high"]
    )
    out.index.name = "component"
    return out

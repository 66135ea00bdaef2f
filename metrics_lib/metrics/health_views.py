"""The customer health score beyond its headline mean: how customers spread over the health
bands, and whether the score predicts churn.

:func:`health_distribution` counts the customers active at the period's end per band;
:func:`health_validation` sets each customer's score at the end of the previous period against
whether they were lost in this one (:func:`metrics_lib.metrics.cohorts.churn_outcomes`): churn per
band, the AUC of the score and of each of its components alone. Numbers come unrounded in
:class:`HealthValidation`, which also says in words what the AUC shows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from metrics_lib.core.results import quietly
from metrics_lib.formulas import health
from metrics_lib.metrics import aggregate as agg
from metrics_lib.metrics.cohorts import churn_by_group, churn_outcomes

__all__ = [
    "HealthValidation",
    "health_scores",
    "health_distribution",
    "health_validation",
    "component_signal",
]


@dataclass(frozen=True)
class HealthValidation:
    """Whether the health score predicts churn: the score at the end of the previous period
    against churn in this period.

    ``bands``: per health band the customers, churned, churn rate with a Wilson interval and
    mean score; ``auc``: the probability that a customer who stayed scored above one who churned
    (0.5 = no signal), with ``auc_ci``.
    """

    bands: pd.DataFrame
    auc: float
    auc_ci: tuple[float, float]
    customers: int
    churned: int
    note: str = ""
    reason: str = ""
    components: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def reading(self) -> str:
        """What the AUC says, in words: better than chance only when its interval is above 0.5."""
        low, high = self.auc_ci
        if math.isnan(self.auc):
            return self.note or self.reason or "undefined"
        if low > 0.5:
            return "the score separates customers who stayed from those who churned better than chance"
        if high < 0.5:
            return "the score points the wrong way: churners scored higher than customers who stayed"
        return "no evidence that the score predicts churn: its AUC is within noise of 0.5 (chance)"

    def summary(self) -> pd.DataFrame:
        """Customers scored, churned, the AUC with its 95% interval and its reading."""
        low, high = self.auc_ci
        ci = "n/a" if math.isnan(low) else f"{low:.3f} to {high:.3f}"
        rows = [
            ("customers scored at the start", f"{self.customers:,}"),
            ("churned in the period", f"{self.churned:,}"),
            ("AUC (0.5 = chance, 1 = perfect)", "n/a" if math.isnan(self.auc) else f"{self.auc:.3f}"),
            ("AUC 95% CI", ci),
            ("reading", self.reading),
        ]
        return pd.DataFrame(rows, columns=["", "value"]).set_index("")


def _scores(comps: pd.DataFrame) -> pd.Series:
    if comps.empty:
        return pd.Series(dtype=float, name="health_score")
    scores = health.health_score(comps.set_index("customer_id"))
    return scores.rename("health_score")


def health_scores(scope: agg.Scope) -> pd.Series:
    """The health score of each customer active at the period's end, indexed by customer id."""
    return _scores(agg.health_components(scope))


def health_distribution(scope: agg.Scope) -> pd.DataFrame:
    """Customers active at the period's end per health band (at risk < 4 <= neutral < 7 <=
    healthy), with their share and mean score."""
    cols = ["customers", "share", "mean_score"]
    scores = health_scores(scope)
    bands = health.health_band(scores) if len(scores) else pd.Series(dtype=object)
    rows = {}
    for band in health.HEALTH_BANDS:
        part = scores[bands == band] if len(scores) else scores
        rows[band] = {
            "customers": len(part),
            "share": len(part) / len(scores) if len(scores) else np.nan,
            "mean_score": part.mean() if len(part) else np.nan,
        }
    out = pd.DataFrame.from_dict(rows, orient="index")[cols]
    out.index.name = "band"
    return out


def health_validation(scope: agg.Scope) -> HealthValidation:
    """Does the health score predict churn? The score of each customer at the end of the
    PREVIOUS period against whether they were lost in THIS period, per band, and the AUC."""
    comps = agg.health_components(agg.Scope.of(scope.source, scope.period.previous(), scope.segment))
    scores = _scores(comps)
    outcomes = churn_outcomes(scope).set_index("customer_id")["churned"]
    frame = pd.DataFrame({"score": scores}).join(outcomes, how="inner")
    frame["band"] = health.health_band(frame["score"]).astype(object) if len(frame) else []
    table, _ = churn_by_group(frame, "band", list(health.HEALTH_BANDS))
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
    )


def component_signal(comps: pd.DataFrame, outcomes: pd.Series) -> pd.DataFrame:
    """AUC of each health component alone (``comps``: :func:`~metrics_lib.metrics.aggregate.health_components`
    at the end of the previous period) for staying this period (``outcomes``: churned per
    customer id): which components carry the signal (0.5 = none). One row per component, in
    the components' order: ``weight`` in the score, ``auc`` and its interval."""
    comps = comps.set_index("customer_id")
    joined = comps.join(outcomes, how="inner")
    rows = {}
    for name in comps.columns:
        r = quietly(health.auc, joined[name], joined["churned"].astype(float))
        rows[name] = {
            "weight": health.DEFAULT_HEALTH_WEIGHTS.get(name, float("nan")),
            "auc": r.value,
            "ci_low": r.ci.low,
            "ci_high": r.ci.high,
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "component"
    return out

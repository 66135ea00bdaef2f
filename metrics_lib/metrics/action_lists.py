"""Who to call this week: the customers worth keeping who are likely to leave, and the detractors
to follow up. Customers by id only; free text (survey comments) stays in its column for the one
CSV writer to redact.

* :func:`at_risk_high_value`: customers active at the period's end with a high churn risk and a
  CLV in the top quarter, with the reasons for their risk. The risk comes from the fitted churn
  model (:mod:`~metrics_lib.metrics.churn_model`: the riskiest tenth), or, when the model cannot
  be fitted, from the health score (the higher-risk band); the ``risk_basis`` column says which.
* :func:`detractor_follow_up`: customers whose latest NPS answer in the period is 6 or less.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from metrics_lib.core.periods import Period
from metrics_lib.formulas import health
from metrics_lib.metrics import aggregate as agg
from metrics_lib.metrics.aggregate_health import period_health_components
from metrics_lib.metrics.churn_model import (
    TRAINING_PERIODS,
    ChurnModel,
    customer_features,
    period_churn_model,
)
from metrics_lib.metrics.clv_views import period_clv_models
from metrics_lib.metrics.health_views import band_cuts
from metrics_lib.metrics.shared_results import shared_call

__all__ = [
    "AT_RISK_COLUMNS",
    "DETRACTOR_COLUMNS",
    "HIGH_RISK_SHARE",
    "HIGH_VALUE_QUANTILE",
    "at_risk_high_value",
    "detractor_follow_up",
    "is_list",
    "period_at_risk_high_value",
]

#: The riskiest share of customers by the model's churn probability that counts as high risk.
HIGH_RISK_SHARE = 0.1

#: CLV at or above this quantile of the scored customers' CLV counts as high value (top quarter).
HIGH_VALUE_QUANTILE = 0.75

#: The columns of :func:`at_risk_high_value`.
AT_RISK_COLUMNS = [
    "customer_id",
    "segment",
    "risk_basis",
    "churn_probability",
    "health_score",
    "clv",
    "clv_at_risk",
    "reasons",
]

#: The columns of :func:`detractor_follow_up`.
DETRACTOR_COLUMNS = ["customer_id", "segment", "response_date", "score", "touchpoint", "comment"]

#: What a low health component says, for the reasons of the health-score fallback.
_LOW_COMPONENT = {
    "recency": "no recent order",
    "nps": "low latest NPS",
    "support_load": "many recent tickets",
    "resolution": "tickets needing several contacts",
    "renewal": "terms not renewed",
}


def _segments(scope: agg.Scope, ids) -> pd.Series:
    c = scope.customers()
    frame = c.select("customer_id", "segment").execute().set_index("customer_id")["segment"]
    return frame.reindex(ids)


def _empty(columns: list[str], note: str) -> pd.DataFrame:
    out = pd.DataFrame(columns=columns)
    out.attrs["note"] = note
    return out


def is_list(frame: pd.DataFrame) -> bool:
    """Whether a list builder's ``frame`` is a list to write (possibly with no customer), not a
    "no list: why" answer."""
    return not (frame.empty and str(frame.attrs.get("note", "")).startswith("no list"))


def at_risk_high_value(scope: agg.Scope, model: ChurnModel | None = None) -> pd.DataFrame:
    """Customers active at the period's end with a high churn risk and a top-quarter CLV.

    * risk: with a fitted model (``model``, else :func:`~metrics_lib.metrics.churn_model.churn_model`
      of the period), each customer's churn probability for the period ahead from their features
      at the period's end; the riskiest :data:`HIGH_RISK_SHARE` (ties at the cut included) are
      high risk, and ``reasons`` are the features raising their risk most. Without a fitted model,
      the customers in the health score's higher-risk band (cut points from the previous period,
      :func:`~metrics_lib.metrics.health_views.band_cuts`), and ``reasons`` their components
      below one half, lowest first. ``risk_basis`` says which.
    * value: the discounted CLV of the probabilistic models
      (:func:`~metrics_lib.metrics.clv_views.clv_models`) at or above the :data:`HIGH_VALUE_QUANTILE`
      of the CLVs of the customers active at the period's end. ``clv_at_risk`` = churn
      probability x CLV (model only).

    Sorted by ``clv_at_risk`` (model) or ``clv`` (health), highest first, then by id. Empty, with
    ``attrs["note"]`` saying why, when the CLV models cannot be fitted. ``attrs["basis"]`` is the
    risk basis in words.
    """
    end = scope.last_day
    clv_view = period_clv_models(scope)
    if clv_view.customers.empty:
        return _empty(AT_RISK_COLUMNS, f"no list: customer CLV is not available ({clv_view.note})")
    model = model if model is not None else period_churn_model(scope)
    comps = period_health_components(scope).set_index("customer_id")
    scores = health.health_score(comps) if len(comps) else pd.Series(dtype=float)
    if model.fitted:
        assert isinstance(scope.period, Period)  # a fitted model has a calendar period
        ahead = scope.period.shift(1).end
        feats = customer_features(scope, end, datetime(ahead.year, ahead.month, ahead.day))
        scored = model.score(feats)
        cut = float(np.quantile(scored["risk"], 1 - HIGH_RISK_SHARE)) if len(scored) else np.nan
        risky = scored[scored["risk"] >= cut]
        basis = "the churn model's riskiest tenth"
        reasons = ["; ".join(model.reasons[c][0 if high else 1] for c, high in r) for r in risky["reasons"]]
        frame = pd.DataFrame({"churn_probability": risky["risk"], "reasons": reasons}, index=risky.index)
    else:
        cuts = band_cuts(scope)
        bands = cuts.band(scores) if len(scores) else pd.Series(dtype=object)
        risky_ids = scores.index[np.asarray(bands == health.RISK_BANDS[0])]
        basis = (
            f"the health score's {health.RISK_BANDS[0]} band (the churn model is not fitted: {model.reason})"
        )
        reasons = []
        for cid in risky_ids:
            row = comps.loc[cid].dropna()
            low = row[row < 0.5].sort_values(kind="stable")
            reasons.append("; ".join(_LOW_COMPONENT.get(str(k), str(k)) for k in low.index))
        frame = pd.DataFrame({"churn_probability": np.nan, "reasons": reasons}, index=risky_ids)
    clv = clv_view.customers["clv"]
    active_clv = clv.reindex(scores.index).dropna()
    if active_clv.empty:
        return _empty(AT_RISK_COLUMNS, "no list: no customer active at the period's end has a CLV")
    threshold = float(np.quantile(active_clv, HIGH_VALUE_QUANTILE))
    frame["clv"] = clv.reindex(frame.index)
    frame = frame[frame["clv"] >= threshold]
    frame["health_score"] = scores.reindex(frame.index)
    frame["clv_at_risk"] = frame["churn_probability"] * frame["clv"]
    frame["risk_basis"] = "churn model" if model.fitted else "health score band"
    frame["segment"] = _segments(scope, frame.index)
    frame.index.name = "customer_id"
    key = "clv_at_risk" if model.fitted else "clv"
    frame = frame.reset_index().sort_values([key, "customer_id"], ascending=[False, True], kind="stable")
    out = frame[AT_RISK_COLUMNS].reset_index(drop=True)
    out.attrs.update({"basis": basis, "clv_threshold": threshold, "customers_scored": len(scores)})
    return out


def period_at_risk_high_value(
    scope: agg.Scope, *, training: int = TRAINING_PERIODS, model: ChurnModel | None = None
) -> pd.DataFrame:
    """:func:`at_risk_high_value` with the period's churn model fitted on ``training`` periods
    (:func:`~metrics_lib.metrics.churn_model.period_churn_model`), built once per report run and
    shared by the health report and the runner's list file
    (:func:`~metrics_lib.metrics.shared_results.shared_call`); outside a run simply built.
    ``model``, when given, must be that very model: it only spares fitting it again."""
    return shared_call(scope.source, _at_risk_trained, scope, training=training, not_keyed={"model": model})


def _at_risk_trained(scope: agg.Scope, *, training: int, model: ChurnModel | None = None) -> pd.DataFrame:
    return at_risk_high_value(
        scope, model if model is not None else period_churn_model(scope, training=training)
    )


def detractor_follow_up(scope: agg.Scope) -> pd.DataFrame:
    """Customers whose latest NPS answer in the period scored 6 or less (detractors), with the
    answer's date, score, touchpoint and comment (free text: the CSV writer hides it unless
    personal data was asked for). The latest answer is the one with the latest date, then the
    highest ``response_id``. Sorted by score, then date (latest first), then id. Empty, with
    ``attrs["note"]``, without a ``surveys`` table."""
    if not scope.has("surveys"):
        return _empty(DETRACTOR_COLUMNS, "no list: the data has no surveys table")
    s = scope.table("surveys")
    cols = ["response_id", "customer_id", "response_date", "score", "touchpoint", "comment"]
    answers = s.filter((s.survey == "nps") & scope.during(s.response_date)).select(*cols).execute()
    if answers.empty:
        return _empty(DETRACTOR_COLUMNS, "no NPS answer in the period")
    answers = answers.sort_values(["customer_id", "response_date", "response_id"], kind="stable")
    latest = answers.groupby("customer_id", sort=False).tail(1)
    out = latest[latest["score"] <= 6].copy()
    out["segment"] = _segments(scope, out["customer_id"]).to_numpy()
    out = out.sort_values(
        ["score", "response_date", "customer_id"], ascending=[True, False, True], kind="stable"
    )
    return out[DETRACTOR_COLUMNS].reset_index(drop=True)

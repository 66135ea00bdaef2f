"""A fitted churn model: logistic regression on what is known of each customer at a period's start,
validated out of time, and compared with the hand-weighted health score on the same customers.

* :func:`customer_features`: per customer active on a day, the model's inputs as of that day
  (nothing after it is looked at), one Ibis query on the engine;
* :func:`churn_model`: fitted on the customers active at the start of each of the ``training``
  periods before the report's period (their features then, their churn in that period), and
  scored on the report's period (the holdout): AUC, top-decile lift and calibration of the model
  and, on the same customers, of the health score at the end of the previous period;
* :meth:`ChurnModel.score`: the fitted model applied to features of another day (the action list
  scores the customers active at the period's end).

Missing inputs are filled, never dropped, and each fill is stated in :data:`FEATURES` and
docs/metrics.md: no order counts as the whole inactivity window, no NPS answer as a neutral 5
(with a flag for never having answered), no spend in six months as a flat trend, no resolved
ticket as every ticket resolved in one contact (as the health score does). A model that cannot be
fitted (too few churners, separation, no convergence) is ``None`` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from metrics_lib.core.engine import count_true
from metrics_lib.core.periods import Period
from metrics_lib.core.results import ValueResult, quietly
from metrics_lib.formulas import classification as cls
from metrics_lib.metrics import aggregate as agg
from metrics_lib.metrics.aggregate_health import latest_nps_scores
from metrics_lib.metrics.cohorts import churn_outcomes
from metrics_lib.metrics.health_views import health_scores
from metrics_lib.metrics.shared_results import shared_call

__all__ = [
    "FEATURES",
    "FILLS",
    "ChurnModel",
    "churn_model",
    "customer_features",
    "period_churn_model",
    "TRAINING_PERIODS",
]

#: Periods before the report's period that the model is fitted on.
TRAINING_PERIODS = 4

#: A plan is its own feature when the training periods hold this many churners and stayers on it;
#: rarer plans are counted with the most common plan (the reference), so no plan separates churn.
MIN_PLAN_EVENTS = 10

_MONTH_DAYS = 30.4375

#: The model's features: column -> (plain-language name with its unit, what a high value says,
#: what a low value says).
FEATURES: dict[str, tuple[str, str, str]] = {
    "months_since_last_order": ("months since the last order", "long since the last order", "recent order"),
    "purchase_days_12m": ("purchase days in the last 12 months", "many purchases", "few purchases"),
    "spend_trend": (
        "latest 3 months' share of 6 months' spend (per 10 points)",
        "spend rising",
        "spend falling",
    ),
    "latest_nps": ("latest NPS answer (per point)", "high latest NPS", "low latest NPS"),
    "no_nps_answer": ("never answered an NPS survey", "never answered NPS", "answered NPS"),
    "tickets_90d": ("tickets opened in the last 90 days", "many recent tickets", "few recent tickets"),
    "first_contact_resolution": (
        "tickets resolved in one contact, last 90 days (per 10 points)",
        "tickets resolved in one contact",
        "tickets needing several contacts",
    ),
    "tenure_years": ("years since signing up", "long tenure", "short tenure"),
    "term_ends": (
        "subscription term ends in the period ahead",
        "term ends in the period ahead",
        "no term end ahead",
    ),
}

#: How a feature is set when its input is missing (said in the report).
FILLS: dict[str, str] = {
    "months_since_last_order": "no order within the inactivity window counts as the whole window",
    "spend_trend": "no spend in the last 6 months counts as flat (5)",
    "latest_nps": "a customer who never answered counts as 5, and is flagged by 'never answered an NPS survey'",
    "first_contact_resolution": "no resolved ticket in the last 90 days counts as all resolved in one contact",
}

#: The 0/1 features (besides the plans): a reason only when they hold.
_FLAGS = ("no_nps_answer", "term_ends")

#: Feature columns and the tables each needs beyond customers and orders.
_NEEDS = {
    "latest_nps": "surveys",
    "no_nps_answer": "surveys",
    "tickets_90d": "tickets",
    "first_contact_resolution": "tickets",
    "term_ends": "subscriptions",
}


def customer_features(scope: agg.Scope, day: datetime, horizon_end: datetime) -> pd.DataFrame:
    """Per customer active on ``day`` (:func:`~metrics_lib.metrics.aggregate.active_flags`), the
    model's inputs as of ``day``: the columns of :data:`FEATURES` the data can give, filled as
    :data:`FILLS` says, and ``plan`` (the plan of the customer's largest subscription by MRR
    active on ``day``, the first by name on a tie; None without one, or without a
    ``subscriptions`` table). ``term_ends``: a subscription active on ``day`` has its term end
    after ``day`` and on or before ``horizon_end``. Indexed by ``customer_id``, sorted."""
    flags, _ = agg.active_flags(scope, day, day)
    joined = flags.filter(flags.at_a).select("customer_id")
    c = scope.customers()
    parts = [c.select("customer_id", "signup_date")]
    o = agg.customer_orders(scope.table("orders"))
    o = o.filter(o.order_date <= day)
    recent = o.filter(o.order_date > day - timedelta(days=365))
    # recency and frequency from purchases (a refund is no activity); spend from every row (net)
    bought = agg.purchases(o)
    last = bought.group_by("customer_id").aggregate(last_order=bought.order_date.max())
    parts.append(last)
    recent_bought = agg.purchases(recent)
    parts.append(
        recent_bought.group_by("customer_id").aggregate(
            purchase_days=recent_bought.order_date.date().nunique().cast("float64")
        )
    )
    parts.append(
        recent.group_by("customer_id").aggregate(
            spend_3m=recent.revenue.sum(where=recent.order_date > day - timedelta(days=91)).cast("float64"),
            spend_6m=recent.revenue.sum(where=recent.order_date > day - timedelta(days=182)).cast("float64"),
        )
    )
    if scope.has("surveys"):
        parts.append(latest_nps_scores(scope, day).rename(nps="score"))
    if scope.has("tickets"):
        t = scope.table("tickets")
        t = t.filter((t.opened_at > day - timedelta(days=90)) & (t.opened_at < day + timedelta(days=1)))
        parts.append(
            t.group_by("customer_id").aggregate(
                tickets=t.count().cast("float64"),
                first=count_true(t.contacts_to_resolve == 1).cast("float64"),
                resolved=count_true(t.contacts_to_resolve.notnull()).cast("float64"),
            )
        )
    if scope.has("subscriptions"):
        s = scope.table("subscriptions")
        s = s.filter(
            (s.start_date <= day)
            & (s.end_date > day)
            & (s.cancelled_date.isnull() | (s.cancelled_date > day))
        )
        ends = s.mutate(ends=s.end_date <= horizon_end)
        top = ends.group_by("customer_id").aggregate(top_mrr=ends.mrr.max(), term_ends=ends.ends.any())
        largest = s.join(top, "customer_id")
        largest = largest.filter(largest.mrr == largest.top_mrr)  # ties: the first plan by name
        parts.append(
            largest.group_by("customer_id").aggregate(
                plan=largest.plan.min(), term_ends=largest.term_ends.any()
            )
        )
    for part in parts:
        joined = joined.left_join(part, "customer_id").drop("customer_id_right")
    frame = joined.execute().sort_values("customer_id", kind="stable").set_index("customer_id")
    return _filled(frame, scope, day)


def _filled(frame: pd.DataFrame, scope: agg.Scope, day: datetime) -> pd.DataFrame:
    """The raw per-customer columns as the features of :data:`FEATURES`, filled as they say."""
    out = pd.DataFrame(index=frame.index)
    when = pd.Timestamp(day)
    window = scope.inactivity_days
    days = (when - pd.to_datetime(frame["last_order"])).dt.days.astype("float64")
    out["months_since_last_order"] = days.clip(upper=window).fillna(window) / _MONTH_DAYS
    out["purchase_days_12m"] = frame["purchase_days"].astype("float64").fillna(0.0)
    six = frame["spend_6m"].astype("float64")
    share = (frame["spend_3m"].astype("float64") / six.where(six > 0)).clip(0, 1)
    out["spend_trend"] = share.fillna(0.5) * 10
    if "nps" in frame:
        nps = frame["nps"].astype("float64")
        out["latest_nps"] = nps.fillna(5.0)
        out["no_nps_answer"] = nps.isna().astype("float64")
    if "tickets" in frame:
        resolved = frame["resolved"].astype("float64").fillna(0)
        out["tickets_90d"] = frame["tickets"].astype("float64").fillna(0.0)
        fcr = frame["first"].astype("float64").fillna(0) / resolved.where(resolved > 0)
        out["first_contact_resolution"] = fcr.fillna(1.0) * 10
    signup = pd.to_datetime(frame["signup_date"])
    out["tenure_years"] = ((when - signup).dt.days / 365.25).clip(lower=0).astype("float64")
    if "term_ends" in frame:
        out["term_ends"] = frame["term_ends"].astype("float64").fillna(0.0)
        out["plan"] = frame["plan"].astype("object").where(frame["plan"].notna(), None)
    return out


def _labelled(source, period: Period, segment) -> pd.DataFrame:
    """Features at the start of ``period`` (as of the day before it) of the customers active then,
    with ``churned``: whether they were lost in ``period``. In a report run each period's are
    worked out once (:func:`~metrics_lib.metrics.shared_results.shared_call`): the model of the
    next period trains on them again, and so on for four periods."""
    return shared_call(source, _labelled_now, source, period, segment)


def _labelled_now(source, period: Period, segment) -> pd.DataFrame:
    scope = agg.Scope.of(source, period, segment)
    frame = customer_features(scope, scope.start - timedelta(days=1), scope.last_day)
    outcomes = churn_outcomes(scope).set_index("customer_id")["churned"]
    return frame.join(outcomes.astype("float64"), how="inner")


@dataclass(frozen=True)
class ChurnModel:
    """The churn model of a period (:func:`churn_model`).

    ``fit``: the :class:`~metrics_lib.formulas.classification.LogisticFit` (its ``reason`` says
    why when not fitted); ``labels``: each design column's plain-language name, and ``reasons``
    what a high and a low value of it say; ``training``: the periods fitted on; ``holdout``: per
    customer active at the period's start, the model's ``risk``, the ``health_score`` at the end
    of the previous period and ``churned``; ``model_auc`` / ``health_auc`` and ``model_lift`` /
    ``health_lift``: AUC and top-decile lift of each on the holdout customers that have both;
    ``calibration``: :func:`~metrics_lib.formulas.classification.calibration_table` of the model
    on the holdout; ``notes``: how inputs were handled (plans pooled, features the data lacks).
    """

    period: str
    fit: cls.LogisticFit
    labels: dict[str, str]
    reasons: dict[str, tuple[str, str]]
    training: tuple[str, ...]
    holdout: pd.DataFrame
    model_auc: ValueResult
    health_auc: ValueResult
    model_lift: ValueResult
    health_lift: ValueResult
    calibration: pd.DataFrame
    plans: tuple[str, ...] = ()
    reference_plan: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def fitted(self) -> bool:
        return self.fit.fitted

    @property
    def reason(self) -> str:
        return self.fit.reason

    def design(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The numeric design columns of :func:`customer_features` rows (:func:`_design`)."""
        return _design(frame, self.plans)

    def score(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The churn ``risk`` (probability) of each row of :func:`customer_features`, and its
        top ``reasons``: up to three design columns that raise the customer's risk most above the
        average of the customers fitted, among the features whose 95% interval excludes no effect
        (0/1 features only when they hold), as (column, is the value high) pairs. Empty risk (NaN)
        when the model was not fitted."""
        x = self.design(frame)
        out = pd.DataFrame(index=frame.index)
        out["risk"] = self.fit.predict(x)
        contrib = self.fit.contributions(x)
        # a 0/1 column is a reason only when it holds (on a plan, term ends), never by its absence,
        # and a filled NPS (never answered) is no reason to call it low
        flags = [c for c in contrib.columns if c.startswith("plan_") or c in _FLAGS]
        for c in flags:
            contrib.loc[x[c] == 0, c] = 0.0
        coefs = self.fit.coefficients
        low, high = coefs["ci_low"].astype(float), coefs["ci_high"].astype(float)
        unclear = [c for c in contrib.columns if low[c] <= 0 <= high[c]]
        contrib[unclear] = 0.0  # only drivers whose interval excludes no effect are reasons
        if "latest_nps" in contrib and "no_nps_answer" in x:
            contrib.loc[x["no_nps_answer"] == 1, "latest_nps"] = 0.0
        out["reasons"] = pd.Series(_top_reasons(contrib, x, self.fit.means), index=frame.index, dtype=object)
        return out


def _top_reasons(contrib: pd.DataFrame, x: pd.DataFrame, means: pd.Series) -> list[list[tuple[str, bool]]]:
    """Per row, up to three columns of ``contrib`` with a positive value, largest first (a tie
    in column order), each with whether the row's value in ``x`` is above the column's mean."""
    columns = [str(c) for c in contrib.columns]
    if not columns:
        return [[] for _ in range(len(contrib))]
    values = contrib.to_numpy(dtype="float64")
    order = np.argsort(-values, axis=1, kind="stable")[:, :3]
    taken = np.take_along_axis(values, order, axis=1) > 0
    high = np.take_along_axis(
        x[contrib.columns].to_numpy(dtype="float64") > means[contrib.columns].to_numpy(), order, axis=1
    )
    return [
        [(columns[j], bool(h)) for j, h, t in zip(row, highs, takes) if t]
        for row, highs, takes in zip(order.tolist(), high.tolist(), taken.tolist())
    ]


def _design(frame: pd.DataFrame, plans: tuple[str, ...]) -> pd.DataFrame:
    """The features of :func:`customer_features` rows as numbers: the feature columns, plus one
    0/1 column per plan in ``plans`` (other plans count as the reference plan)."""
    out = frame.drop(columns=["plan", "churned"], errors="ignore")
    if "plan" in frame:
        for plan in plans:
            out[f"plan_{plan}"] = (frame["plan"] == plan).astype("float64")
    return out


def _plan_levels(train: pd.DataFrame) -> tuple[tuple[str, ...], str | None, list[str]]:
    """The plans that get their own column, the reference plan and the plans pooled with it."""
    if "plan" not in train or train["plan"].isna().all():
        return (), None, []
    counts = train.groupby("plan")["churned"].agg(["size", "sum"])
    counts = counts.sort_values("size", ascending=False, kind="stable")
    reference = str(counts.index[0])
    kept: list[str] = []
    pooled: list[str] = []
    for plan, row in counts.iloc[1:].iterrows():
        ok = row["sum"] >= MIN_PLAN_EVENTS and row["size"] - row["sum"] >= MIN_PLAN_EVENTS
        (kept if ok else pooled).append(str(plan))
    return tuple(sorted(kept)), reference, sorted(pooled)


def _labels(columns, reference: str | None) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    labels, reasons = {}, {}
    for col in columns:
        if col in FEATURES:
            name, high, low = FEATURES[col]
        else:
            plan = col.removeprefix("plan_")
            name, high, low = (
                f"on the {plan} plan (against {reference})",
                f"{plan} plan",
                f"not on {plan} plan",
            )
        labels[col], reasons[col] = name, (high, low)
    return labels, reasons


def churn_model(
    scope: agg.Scope, *, training: int = TRAINING_PERIODS, min_events: int = cls.MIN_EVENTS
) -> ChurnModel:
    """Fit the churn model on the ``training`` periods before ``scope``'s period and check it on
    that period.

    Each training period contributes the customers active at its start, with their
    :func:`customer_features` as of the day before it and whether they were lost in it
    (:func:`~metrics_lib.metrics.cohorts.churn_outcomes`); the report's period is the holdout,
    never fitted on. On the holdout customers, the model's risk and the health score at the end
    of the previous period (:func:`~metrics_lib.metrics.health_views.health_scores`, lower =
    riskier) are each checked by AUC and top-decile lift. Fewer than ``min_events`` churners (or
    stayers) in the training periods, or a fit that fails, gives a model that is not fitted,
    with the reason; the health score's numbers are still given.
    """
    period = scope.period
    if not isinstance(period, Period):
        raise TypeError("the churn model needs a calendar period")
    periods = [period.shift(-k) for k in range(training, 0, -1)]
    labelled = {p.label: _labelled(scope.source, p, scope.segment) for p in periods}
    used = [label for label, frame in labelled.items() if len(frame)]
    train = pd.concat([labelled[label] for label in used]) if used else pd.DataFrame()
    del labelled  # at 1M customers each copy of the training rows is hundreds of MB
    holdout_raw = _labelled(scope.source, period, scope.segment)
    plans, reference, pooled = _plan_levels(train) if len(train) else ((), None, [])
    notes = []
    if pooled:
        notes.append(
            f"plans with fewer than {MIN_PLAN_EVENTS} churners or stayers in the training periods are "
            f"counted with the most common plan ({reference}): {', '.join(pooled)}"
        )
    lacking = sorted({t for col, t in _NEEDS.items() if not scope.has(t)})
    if lacking:
        notes.append(f"without the table(s) {', '.join(lacking)}, their features are left out")
    if len(train):
        churned, design = train["churned"], _design(train, plans)
        del train
        fit = quietly(cls.fit_logistic, design, churned, min_events=min_events)
        del design
    else:
        fit = quietly(cls.fit_logistic, pd.DataFrame({"none": []}), [], min_events=min_events)
    labels, reasons = _labels(fit.features or _design(holdout_raw, plans).columns, reference)
    prev = agg.Scope.of(scope.source, period.previous(), scope.segment)
    holdout = pd.DataFrame(index=holdout_raw.index)
    holdout["risk"] = fit.predict(_design(holdout_raw, plans)) if len(holdout_raw) else []
    holdout["health_score"] = health_scores(prev).reindex(holdout.index)
    holdout["churned"] = holdout_raw["churned"]
    both = holdout.dropna(subset=["health_score"])
    model_rows = both if fit.fitted else both.iloc[0:0]
    calibration = (
        quietly(cls.calibration_table, holdout["risk"], holdout["churned"]) if fit.fitted else pd.DataFrame()
    )
    return ChurnModel(
        period.label,
        fit,
        labels,
        reasons,
        tuple(used),
        holdout,
        quietly(cls.auc, model_rows["risk"], model_rows["churned"]),
        quietly(cls.auc, -both["health_score"], both["churned"]),
        quietly(cls.top_decile_lift, model_rows["risk"], model_rows["churned"]),
        quietly(cls.top_decile_lift, -both["health_score"], both["churned"]),
        calibration,
        plans,
        reference,
        tuple(notes),
    )


def period_churn_model(scope: agg.Scope, *, training: int = TRAINING_PERIODS) -> ChurnModel:
    """:func:`churn_model`, fitted once per report run and shared by the at-risk list and the
    health report (:func:`~metrics_lib.metrics.shared_results.shared_call`); outside a run simply
    fitted."""
    return shared_call(scope.source, churn_model, scope, training=training)

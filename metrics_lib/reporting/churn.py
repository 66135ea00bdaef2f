"""The churn model and the action lists as the health report shows them: tables in words and
formatted numbers (through :mod:`.format`), and the model's plots.

* :func:`churn_model_view` / :class:`ChurnModelView`: the fitted model
  (:func:`metrics_lib.metrics.churn_model.churn_model`) with its :meth:`~ChurnModelView.summary`,
  its drivers (:meth:`~ChurnModelView.drivers`: odds ratios with 95% intervals, by plain-language
  feature name) and its :meth:`~ChurnModelView.comparison` with the health score on the same
  holdout;
* :func:`at_risk_table`: the top of the at-risk, high-value list
  (:func:`metrics_lib.metrics.action_lists.at_risk_high_value`), formatted, with
  :func:`lists_note` pointing at the CSV files a run writes beside the report;
* the model's plots are :func:`metrics_lib.reporting.plots_churn.plot_churn_calibration` and
  :func:`metrics_lib.reporting.plots_churn.plot_odds_ratios`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from metrics_lib.core.results import ValueResult
from metrics_lib.metrics import action_lists
from metrics_lib.metrics.aggregate import Scope
from metrics_lib.metrics.churn_model import FILLS, TRAINING_PERIODS, ChurnModel, period_churn_model
from metrics_lib.reporting.display import ReportTable, shown
from metrics_lib.reporting.format import Markdown, format_p_value, format_value

__all__ = [
    "LIST_FILES",
    "ChurnModelView",
    "at_risk_table",
    "churn_model_view",
    "lists_note",
]

#: The action lists a report run writes into ``<out>/<period>/lists/``, with what each holds.
LIST_FILES = {
    "at_risk_high_value.csv": "customers with a high churn risk and a CLV in the top quarter, with the reasons",
    "detractor_follow_up.csv": "customers whose latest NPS answer of the period was 6 or less, with the touchpoint",
}


def _number(v: float) -> str:
    return format_value(v, "ratio")


def _interval(low: float, high: float) -> str:
    if math.isnan(low) or math.isnan(high):
        return "n/a"
    return f"{_number(low)} to {_number(high)}"


@dataclass(frozen=True)
class ChurnModelView:
    """:class:`~metrics_lib.metrics.churn_model.ChurnModel` as the report shows it; ``note`` says
    why there is no model at all (a skipped family)."""

    model: ChurnModel | None
    note: str = ""
    scope: Scope | None = field(default=None, compare=False, repr=False)
    training: int = TRAINING_PERIODS  # the periods the model was asked to fit on

    @property
    def fitted(self) -> bool:
        return self.model is not None and self.model.fitted

    @property
    def reason(self) -> str:
        """Why there is no fitted model; empty when there is one."""
        if self.model is None:
            return self.note
        return self.model.reason

    @property
    def calibration(self) -> pd.DataFrame:
        """Predicted against observed churn per tenth of the holdout by predicted risk."""
        if not self.fitted:
            out = pd.DataFrame(columns=["customers", "mean_predicted", "observed", "ci_low", "ci_high"])
            out.attrs["note"] = f"no model: {self.reason}"
            return out
        return self.model.calibration  # type: ignore[union-attr]

    @property
    def odds_ratios(self) -> pd.DataFrame:
        """The odds ratio of each feature with its 95% interval, by plain-language name, unrounded."""
        cols = ["odds_ratio", "odds_ratio_low", "odds_ratio_high", "p_value"]
        if not self.fitted:
            out = pd.DataFrame(columns=cols)
            out.attrs["note"] = f"no model: {self.reason}"
            return out
        m = self.model
        assert m is not None
        table = m.fit.coefficients.drop(index="intercept")[cols]
        table.index = pd.Index([m.labels.get(c, c) for c in table.index], name="feature")
        return table

    def summary(self) -> pd.DataFrame:
        """What the model was fitted on and checked against, its AUC with its reading, and how
        missing inputs were handled."""
        m = self.model
        if m is None:
            return _two_columns([("churn model", self.note)])
        fit = m.fit
        hold = m.holdout
        rows = [
            (
                "fitted on",
                f"customers active at the start of {', '.join(m.training)} and whether they churned in it"
                if m.training
                else "no earlier period with customers",
            ),
            ("customer-periods fitted", format_value(fit.customers, "count")),
            ("churned in them", format_value(fit.churned, "count")),
            (
                "checked on",
                f"{format_value(len(hold), 'count')} customers active at the start of {m.period}, "
                f"{format_value(int(hold['churned'].sum()) if len(hold) else 0, 'count')} churned in it",
            ),
        ]
        if fit.fitted:
            a = m.model_auc
            rows += [
                ("AUC (0.5 = chance, 1 = perfect)", _number(a.value)),
                ("AUC 95% CI", _interval(a.ci.low, a.ci.high)),
                ("reading", _auc_reading(a, "the model")),
            ]
        else:
            return _two_columns([*rows, ("model", f"not fitted: {fit.reason}")])
        if fit.dropped:
            rows.append(("left out (no variation)", ", ".join(m.labels.get(c, c) for c in fit.dropped)))
        rows += [(f"missing input: {_MISSING[c]}", FILLS[c]) for c in fit.features if c in FILLS]
        rows += [("note", n) for n in m.notes]
        return _two_columns(rows)

    def drivers(self) -> pd.DataFrame:
        """Each feature's odds ratio (how the odds of churning multiply per unit, 1 = no effect)
        with its 95% interval, p-value and a reading; features whose interval excludes 1 first,
        strongest first."""
        table = self.odds_ratios
        cols = ["odds ratio", "95% CI", "p-value", "reading"]
        if table.empty:
            out = pd.DataFrame(columns=cols)
            out.attrs.update(table.attrs)
            return shown(out, "text")
        beyond = (table["odds_ratio_low"] > 1) | (table["odds_ratio_high"] < 1)
        strength = np.abs(np.log(table["odds_ratio"].astype(float)))
        order = pd.DataFrame({"beyond": beyond, "strength": strength}).sort_values(
            ["beyond", "strength"], ascending=[False, False], kind="stable"
        )
        rows = []
        for name in order.index:
            r = table.loc[name]
            rows.append(
                (
                    name,
                    _number(r["odds_ratio"]),
                    _interval(r["odds_ratio_low"], r["odds_ratio_high"]),
                    format_p_value(r["p_value"]),
                    _driver_reading(r, self._columns.get(name, "")),
                )
            )
        return shown(pd.DataFrame(rows, columns=["feature", *cols]).set_index("feature"), "text")

    @property
    def _columns(self) -> dict[str, str]:
        """Each plain-language feature name's design column."""
        return {v: k for k, v in self.model.labels.items()} if self.model is not None else {}

    def comparison(self) -> pd.DataFrame:
        """The model and the health score on the same holdout customers: AUC with its interval and
        the top-decile lift of each (the riskiest tenth's churn rate over everyone's)."""
        m = self.model
        if m is None:
            return _two_columns([("comparison", self.note)])
        rows = []
        for name, a, lift, reason in (
            ("churn model", m.model_auc, m.model_lift, "" if m.fitted else f"not fitted: {m.reason}"),
            ("health score (lower = riskier)", m.health_auc, m.health_lift, ""),
        ):
            rows.append(
                {
                    "customers": format_value(a.n, "count") if a.n else "n/a",
                    "AUC": _number(a.value),
                    "AUC 95% CI": _interval(a.ci.low, a.ci.high),
                    "top-decile lift": "n/a" if math.isnan(lift.value) else f"{_number(lift.value)}x",
                    "note": reason or a.reason or lift.reason or "",
                    "": name,
                }
            )
        out = pd.DataFrame(rows).set_index("")
        return shown(out if out["note"].astype(bool).any() else out.drop(columns="note"), "text")

    def at_risk_customers(self, n: int = 15) -> pd.DataFrame:
        """The first ``n`` customers of the at-risk, high-value list (:func:`at_risk_table`)."""
        if n not in self._at_risk:
            self._at_risk[n] = at_risk_table(self.scope, self.note, self.model, n, training=self.training)
        return self._at_risk[n]

    @property
    def _at_risk(self) -> dict:
        return self.__dict__.setdefault("_at_risk_cache", {})  # built once per view

    def at_risk_note(self, n: int = 15) -> Markdown:
        """What the at-risk list holds, in a sentence; empty when there is no list (its table
        then says why)."""
        table = self.at_risk_customers(n)
        return Markdown("" if table.empty else f"{table.attrs.get('note', '')}.")

    def lists_note(self) -> Markdown:
        """Where a report run puts the action lists (:func:`lists_note`), linking the at-risk list
        only when it can be built."""
        return lists_note(self.at_risk_customers())

    def verdict(self) -> Markdown:
        """Which ranks churn better on the holdout, in a sentence."""
        m = self.model
        if m is None:
            return Markdown(self.note)
        if not m.fitted:
            return Markdown(f"No model to compare: {m.reason}. The health score's own check is above.")
        a, h = m.model_auc, m.health_auc
        if math.isnan(a.value) or math.isnan(h.value):
            return Markdown(
                "The holdout has no churners (or nobody stayed), so neither can be checked on it."
            )
        better = "the model" if a.value > h.value else "the health score"
        apart = a.ci.low > h.value or h.ci.low > a.value
        sure = "beyond the other's interval" if apart else "within noise of each other"
        return Markdown(
            f"On the customers of {m.period}, {better} ranks churners better: AUC {_number(a.value)} "
            f"for the model against {_number(h.value)} for the health score ({sure}); the model's "
            f"riskiest tenth churned {_number(m.model_lift.value)} times the average, the health "
            f"score's lowest tenth {_number(m.health_lift.value)} times."
        )


def _two_columns(rows: list[tuple[str, str]]) -> ReportTable:
    return shown(pd.DataFrame(rows, columns=["", "value"]).set_index(""), "text")


#: Which input each of :data:`~metrics_lib.metrics.churn_model.FILLS` fills in.
_MISSING = {
    "months_since_last_order": "last order",
    "spend_trend": "spend in the last 6 months",
    "latest_nps": "NPS answer",
    "first_contact_resolution": "resolved tickets in the last 90 days",
}

#: The unit a numeric feature's odds ratio is per.
_UNITS = {
    "months_since_last_order": "per month",
    "purchase_days_12m": "per purchase day",
    "spend_trend": "per 10 points",
    "latest_nps": "per point",
    "tickets_90d": "per ticket",
    "first_contact_resolution": "per 10 points",
    "tenure_years": "per year",
}

#: Whom a yes/no feature's odds ratio is about.
_WHEN = {
    "no_nps_answer": "for customers who never answered an NPS survey",
    "term_ends": "when the subscription term ends in the period ahead",
}


def _per(column: str) -> str:
    """What an odds ratio of ``column`` multiplies: per its unit, or for the customers it flags."""
    if column in _UNITS:
        return _UNITS[column]
    if column in _WHEN:
        return _WHEN[column]
    if column.startswith("plan_"):
        return f"for customers on the {column.removeprefix('plan_')} plan"
    return "per unit"


def _auc_reading(a: ValueResult, what: str) -> str:
    if math.isnan(a.value):
        return a.reason or "undefined"
    if a.ci.low > 0.5:
        return f"{what} ranks churners above customers who stayed better than chance"
    if a.ci.high < 0.5:
        return f"{what} points the wrong way"
    return f"no evidence that {what} ranks churn better than chance"


def _driver_reading(r: pd.Series, column: str = "") -> str:
    low, high, ratio = r["odds_ratio_low"], r["odds_ratio_high"], r["odds_ratio"]
    if low > 1:
        return f"raises the odds of churning (x{_number(ratio)} {_per(column)})"
    if high < 1:
        return f"lowers the odds of churning (x{_number(ratio)} {_per(column)})"
    return "no clear effect (interval includes 1)"


def churn_model_view(scope: Scope, missing: list[str], *, training: int = TRAINING_PERIODS) -> ChurnModelView:
    """The churn model of ``scope``'s period, or a view saying which tables are ``missing``."""
    if missing:
        return ChurnModelView(None, f"skipped: needs {', '.join(missing)}", scope)
    return ChurnModelView(period_churn_model(scope, training=training), "", scope, training)


#: The at-risk list's columns as the report heads them.
_AT_RISK_HEADERS = {
    "customer_id": "customer",
    "churn_probability": "churn probability",
    "health_score": "health score",
    "clv": "CLV",
    "clv_at_risk": "CLV at risk (probability x CLV)",
}


def at_risk_table(
    scope: Scope | None,
    skipped: str = "",
    model: ChurnModel | None = None,
    n: int = 15,
    *,
    training: int = TRAINING_PERIODS,
) -> ReportTable:
    """The first ``n`` customers of the at-risk, high-value list
    (:func:`metrics_lib.metrics.action_lists.at_risk_high_value`), formatted: churn probability
    as a percentage, health score, CLV and CLV at risk in money, under plain headers;
    ``attrs["note"]`` says what the list is based on and how many customers it holds, or why
    there is none (``skipped``); ``attrs["written"]`` whether a report run writes the list.
    ``model``, when given, is the period's churn model fitted on ``training`` periods."""
    if skipped or scope is None:
        out = pd.DataFrame(columns=action_lists.AT_RISK_COLUMNS)
        out.attrs.update(note=skipped or "no data source", written=False)
        return shown(out, "text")
    frame = action_lists.period_at_risk_high_value(scope, training=training, model=model)
    if frame.empty:
        frame.attrs.setdefault("note", "nobody is both at high risk and in the top quarter of CLV")
        frame.attrs["written"] = action_lists.is_list(frame)
        return shown(frame, "text")
    out = frame.head(n).set_index("customer_id").drop(columns="risk_basis")  # the note says it
    order = "CLV at risk" if frame["churn_probability"].notna().any() else "CLV"
    out["churn_probability"] = [format_value(v, "share") for v in out["churn_probability"]]
    out["health_score"] = [format_value(v, "score") for v in out["health_score"]]
    for col in ("clv", "clv_at_risk"):
        out[col] = [format_value(v, "currency") for v in out[col]]
    out.attrs["note"] = (
        f"{format_value(len(frame), 'count')} customers in {frame.attrs['basis']} with a "
        f"CLV of {format_value(frame.attrs['clv_threshold'], 'currency')} or more (the top quarter)"
        + (f"; the first {n} by {order}" if len(frame) > n else "")
    )
    out.attrs["written"] = True
    return shown(out, "text", headers=_AT_RISK_HEADERS)


def lists_note(at_risk: pd.DataFrame | None = None) -> Markdown:
    """Where a report run (``metrics_lib run``) puts the action lists beside this report. The
    at-risk list is linked only when ``at_risk`` (:func:`at_risk_table`) says it can be built,
    else the note says why not; the detractor list goes with the satisfaction report, so it is
    named, not linked."""
    risk = "at_risk_high_value.csv"
    if at_risk is None or at_risk.attrs.get("written", True):
        first = f"- [lists/{risk}](lists/{risk}): {LIST_FILES[risk]}"
    else:
        first = f"- lists/{risk} ({LIST_FILES[risk]}): this run could not build it: {at_risk.attrs.get('note', '')}"
    follow = "detractor_follow_up.csv"
    second = f"- lists/{follow}: {LIST_FILES[follow]}; written when the satisfaction report is run too"
    return Markdown(
        "A report run (`metrics_lib run`) writes the action lists beside this report, customers "
        "by id only (survey comments only when the run was given `--show-pii`):\n\n" + first + "\n" + second
    )

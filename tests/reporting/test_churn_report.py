"""The churn model as the health report shows it: its drivers in words and formatted numbers, the
comparison with the health score, and what it says when there is no model."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd

from metrics_lib.core.results import ValueResult
from metrics_lib.formulas.classification import auc, calibration_table, fit_logistic, top_decile_lift
from metrics_lib.metrics.churn_model import ChurnModel
from metrics_lib.reporting.churn import ChurnModelView, lists_note
from metrics_lib.reporting.plots_churn import plot_churn_calibration, plot_odds_ratios


def _model() -> ChurnModel:
    # without the flag 6 of 30 churned, with it 15 of 30: odds ratio 4 (test_classification.py)
    x = pd.DataFrame({"term_ends": [0.0] * 30 + [1.0] * 30})
    y = pd.Series([1] * 6 + [0] * 24 + [1] * 15 + [0] * 15, dtype=float)
    fit = fit_logistic(x, y)
    risk = pd.Series(fit.predict(x))
    health = 10 - 5 * x["term_ends"]  # the same ranking, reversed
    holdout = pd.DataFrame({"risk": risk, "health_score": health, "churned": y})
    return ChurnModel(
        "2025-Q4",
        fit,
        {"term_ends": "subscription term ends in the period ahead"},
        {"term_ends": ("term ends in the period ahead", "no term end ahead")},
        ("2025-Q3",),
        holdout,
        auc(risk, y),
        auc(-health, y),
        top_decile_lift(risk, y),
        top_decile_lift(-health, y),
        calibration_table(risk, y),
    )


def test_drivers_read_the_odds_ratio_and_its_interval():
    drivers = ChurnModelView(_model()).drivers()
    row = drivers.loc["subscription term ends in the period ahead"]
    assert row["odds ratio"] == "4.00"
    assert row["95% CI"] == "1.27 to 12.58"  # 4 / and x exp(1.96 x Woolf's 0.5845) = 3.145
    assert row["reading"] == "raises the odds of churning (x4.00 per unit)"


def test_the_comparison_sets_model_and_score_side_by_side():
    view = ChurnModelView(_model())
    table = view.comparison()
    assert list(table.index) == ["churn model", "health score (lower = riskier)"]
    # one 0/1 feature: both rank the same two groups, so their AUC is the same
    assert table["AUC"].tolist() == ["0.66", "0.66"]
    assert "within noise of each other" in view.verdict()
    assert table["customers"].tolist() == ["60", "60"]


def test_no_model_says_why_everywhere():
    view = ChurnModelView(None, "skipped: needs orders")
    assert view.summary().loc["churn model", "value"] == "skipped: needs orders"
    assert view.drivers().empty
    assert view.odds_ratios.attrs["note"] == "no model: skipped: needs orders"
    assert view.at_risk_customers().attrs["note"] == "skipped: needs orders"
    ax = plot_odds_ratios(view.odds_ratios)
    assert [t.get_text() for t in ax.texts] == ["no model: skipped: needs orders"]
    plt.close("all")


def test_plots_draw_the_model():
    view = ChurnModelView(_model())
    ax = plot_churn_calibration(view.calibration)
    assert ax.get_xlabel() == "mean predicted churn probability"
    ax = plot_odds_ratios(view.odds_ratios)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["subscription term ends in the period ahead"]
    plt.close("all")


def test_the_lists_note_links_the_files_beside_the_report():
    text = str(lists_note())
    assert "[lists/at_risk_high_value.csv](lists/at_risk_high_value.csv)" in text
    assert "[lists/detractor_follow_up.csv](lists/detractor_follow_up.csv)" in text


def test_an_unfitted_model_keeps_the_health_score_check():
    m = _model()
    unfitted = fit_logistic(pd.DataFrame({"term_ends": [0.0, 1.0] * 5}), [0, 1] * 5)
    view = ChurnModelView(
        ChurnModel(
            m.period, unfitted, {}, {}, m.training, m.holdout, ValueResult(math.nan), m.health_auc,
            ValueResult(math.nan), m.health_lift, pd.DataFrame(),
        )
    )  # fmt: skip
    table = view.comparison()
    assert table.loc["churn model", "note"].startswith("not fitted: too few churners")
    assert table.loc["health score (lower = riskier)", "AUC"] == "0.66"
    assert view.verdict().startswith("No model to compare: too few churners")

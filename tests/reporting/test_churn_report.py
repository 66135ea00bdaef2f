"""The churn model as the health report shows it: its drivers in words and formatted numbers, the
comparison with the health score, and what it says when there is no model."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd

from metrics_lib.core.results import ValueResult
from metrics_lib.formulas.classification import auc, calibration_table, fit_logistic, top_decile_lift
from metrics_lib.metrics.churn_model import ChurnModel
from metrics_lib.reporting import churn as churn_module
from metrics_lib.reporting.churn import ChurnModelView, _driver_reading, lists_note
from metrics_lib.reporting.display import ReportTable
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
    # a yes/no feature: the odds of the customers it flags, not "per unit"
    assert (
        row["reading"]
        == "raises the odds of churning (x4.00 when the subscription term ends in the period ahead)"
    )


def test_odds_ratio_readings_name_the_unit_or_the_flagged_customers():
    r = pd.Series({"odds_ratio": 0.46, "odds_ratio_low": 0.3, "odds_ratio_high": 0.7})
    assert _driver_reading(r, "no_nps_answer") == (
        "lowers the odds of churning (x0.46 for customers who never answered an NPS survey)"
    )
    assert (
        _driver_reading(r, "plan_Team")
        == "lowers the odds of churning (x0.46 for customers on the Team plan)"
    )
    assert _driver_reading(r, "latest_nps") == "lowers the odds of churning (x0.46 per point)"
    assert _driver_reading(r, "months_since_last_order") == "lowers the odds of churning (x0.46 per month)"


def test_the_churn_tables_show_whole_text_under_plain_headers():
    view = ChurnModelView(_model())
    long = "x" * 80
    summary = churn_module._two_columns([("fitted on", long)])
    assert long in summary._repr_html_() and long in repr(summary)  # not cut at pandas' 50 characters
    for table in (view.summary(), view.drivers(), view.comparison()):
        assert isinstance(table, ReportTable)
        assert "..." not in repr(table)


def test_the_comparison_sets_model_and_score_side_by_side():
    view = ChurnModelView(_model())
    table = view.comparison()
    assert list(table.index) == ["churn model", "health score (lower = riskier)"]
    # one 0/1 feature: both rank the same two groups, so their AUC is the same
    assert table["AUC"].tolist() == ["0.66", "0.66"]
    assert "within noise of each other" in str(view.verdict())
    assert table["customers"].tolist() == ["60", "60"]


def test_no_model_says_why_everywhere():
    view = ChurnModelView(None, "skipped: needs orders")
    assert view.summary().loc["churn model", "value"] == "skipped: needs orders"
    assert view.drivers().empty
    assert view.odds_ratios.attrs["note"] == "no model: skipped: needs orders"
    at_risk = view.at_risk_customers()
    assert at_risk.attrs["note"] == "skipped: needs orders"
    assert at_risk._repr_html_() == "<p><em>skipped: needs orders</em></p>"  # the note, no empty headers
    assert str(view.at_risk_note()) == ""
    # the run cannot write the list either: no dead link, the reason instead
    text = str(view.lists_note())
    assert "](lists/at_risk_high_value.csv)" not in text
    assert "this run could not build it: skipped: needs orders" in text
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
    # written only with the satisfaction report: named, never linked from the health report
    assert "](lists/detractor_follow_up.csv)" not in text
    assert "lists/detractor_follow_up.csv" in text
    unbuilt = pd.DataFrame()
    unbuilt.attrs.update(note="no list: customer CLV is not available (too few repeat buyers)", written=False)
    text = str(lists_note(unbuilt))
    assert "](lists/at_risk_high_value.csv)" not in text
    assert "could not build it: no list: customer CLV is not available" in text


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
    assert str(view.verdict()).startswith("No model to compare: too few churners")


def test_each_filled_input_has_its_own_label():
    from metrics_lib.metrics.churn_model import FILLS

    labels = [churn_module._MISSING[c] for c in FILLS]  # a KeyError when a new fill has no label
    assert len(set(labels)) == len(FILLS)

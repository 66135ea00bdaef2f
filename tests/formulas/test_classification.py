"""Hand-worked checks of the churn model's checks (AUC, top-decile lift, calibration) and of the
logistic fit behind it."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from metrics_lib.formulas import health
from metrics_lib.formulas.classification import (
    auc,
    calibration_table,
    fit_logistic,
    top_decile_lift,
)

# -- AUC -------------------------------------------------------------------------------------------


def test_auc_with_ties_is_the_mann_whitney_share_of_pairs():
    # churners at 3 and 2; stayers at 3, 1, 1. Pairs (churner, stayer): (3,3) tie = 0.5,
    # (3,1) x2 = 2, (2,3) = 0, (2,1) x2 = 2: U = 4.5 of 6 pairs.
    r = auc([3, 2, 3, 1, 1], [1, 1, 0, 0, 0])
    assert r.numerator == 4.5
    assert r.denominator == 6
    assert r.value == 0.75
    assert r.components == {"stayed": 3.0, "churned": 2.0}


def test_auc_agrees_with_scipys_mann_whitney_u():
    rng = np.random.default_rng(3)
    risk = rng.integers(0, 5, 200).astype(float)  # many ties
    churned = rng.integers(0, 2, 200)
    u = sps.mannwhitneyu(risk[churned == 1], risk[churned == 0]).statistic
    pairs = (churned == 1).sum() * (churned == 0).sum()
    assert auc(risk, churned).value == pytest.approx(u / pairs)


def test_auc_of_risk_is_the_health_auc_of_the_negated_score():
    scores = [9, 8, 7, 3, 2, 5, 5, 6]
    churned = [0, 0, 1, 0, 1, 1, 0, 0]
    a, h = auc([-s for s in scores], churned), health.auc(scores, churned)
    assert (a.value, a.numerator, a.ci) == (h.value, h.numerator, h.ci)


def test_auc_is_undefined_with_one_class_only():
    with pytest.warns(UserWarning, match="needs customers who stayed and who churned"):
        r = auc([1, 2, 3], [1, 1, 1])
    assert math.isnan(r.value) and "0 stayed, 3 churned" in r.reason


# -- lift ------------------------------------------------------------------------------------------


def test_top_decile_lift_of_ten_customers():
    # 3 of 10 churned (30%); the riskiest customer churned: the top decile churned at 100%
    r = top_decile_lift([10, 9, 8, 7, 6, 5, 4, 3, 2, 1], [1, 0, 1, 0, 0, 0, 0, 0, 0, 1])
    assert r.numerator == 1.0 and r.denominator == 0.3
    assert r.value == pytest.approx(1 / 0.3)


def test_top_decile_lift_shares_the_place_among_tied_customers():
    # the top place (10% of 10) falls in a tie of two, one of whom churned: half a churner
    risk = [9, 9, 8, 7, 6, 5, 4, 3, 2, 1]
    churned = [0, 1, 1, 0, 0, 0, 0, 0, 0, 1]
    r = top_decile_lift(risk, churned)
    assert r.components == {"customers_in_top": 1.0, "churned_in_top": 0.5}
    assert r.value == pytest.approx(0.5 / 0.3)
    assert top_decile_lift(risk[::-1], churned[::-1]).value == pytest.approx(r.value)


def test_top_half_lift_and_no_better_than_random():
    # top 5 of 10 hold 2 of the 3 churners: 40% against 30%
    r = top_decile_lift([10, 9, 8, 7, 6, 5, 4, 3, 2, 1], [1, 0, 1, 0, 0, 0, 0, 0, 0, 1], share=0.5)
    assert r.value == pytest.approx(0.4 / 0.3)
    assert top_decile_lift([1] * 10, [1, 0, 1, 0, 0, 0, 0, 0, 0, 1]).value == pytest.approx(1.0)


def test_lift_is_undefined_without_churners_and_checks_its_share():
    with pytest.warns(UserWarning, match="lift is undefined"):
        assert math.isnan(top_decile_lift([1, 2], [0, 0]).value)
    with pytest.raises(ValueError, match="`share`"):
        top_decile_lift([1, 2], [0, 1], share=0)


# -- calibration -----------------------------------------------------------------------------------


def test_calibration_groups_by_predicted_and_keeps_ties_together():
    t = calibration_table([0.1, 0.1, 0.2, 0.8], [0, 0, 1, 1], bins=2)
    assert t["customers"].tolist() == [2, 2]
    assert t["observed"].tolist() == [0.0, 1.0]
    assert t["mean_predicted"].tolist() == pytest.approx([0.1, 0.5])
    # three tied predictions of four cannot be split: one group of three, one of one
    t = calibration_table([0.3, 0.3, 0.3, 0.9], [1, 0, 0, 1], bins=2)
    assert t["customers"].tolist() == [3, 1]
    assert t["observed"].tolist() == pytest.approx([1 / 3, 1.0])


def test_calibration_rejects_what_is_not_a_probability():
    with pytest.raises(ValueError, match="probabilities in"):
        calibration_table([0.1, 1.5], [0, 1])


# -- logistic fit ----------------------------------------------------------------------------------


def _two_by_two():
    # without the flag 6 of 30 churned (odds 0.25), with it 15 of 30 (odds 1)
    x = pd.DataFrame({"flag": [0] * 30 + [1] * 30})
    y = [1] * 6 + [0] * 24 + [1] * 15 + [0] * 15
    return x, y


def test_one_binary_feature_gives_the_tables_odds_ratio_and_woolfs_interval():
    x, y = _two_by_two()
    fit = fit_logistic(x, y)
    row = fit.coefficients.loc["flag"]
    assert row["odds_ratio"] == pytest.approx(4.0)
    assert fit.coefficients.loc["intercept", "coef"] == pytest.approx(math.log(0.25))
    se = math.sqrt(1 / 6 + 1 / 24 + 1 / 15 + 1 / 15)  # Woolf's standard error of log(OR)
    assert row["std_error"] == pytest.approx(se, rel=1e-6)
    assert row["odds_ratio_low"] == pytest.approx(4 * math.exp(-1.959964 * se), rel=1e-5)
    assert row["odds_ratio_high"] == pytest.approx(4 * math.exp(1.959964 * se), rel=1e-5)
    assert (fit.customers, fit.churned) == (60, 21)
    # the fitted probabilities are the groups' churn rates
    assert fit.predict(pd.DataFrame({"flag": [0, 1]})) == pytest.approx([0.2, 0.5])


def test_coefficients_of_a_known_logistic_model_are_recovered_within_their_intervals():
    rng = np.random.default_rng(20250101)
    n = 40_000
    x = pd.DataFrame({"nps": rng.integers(0, 11, n).astype(float), "term_ends": rng.binomial(1, 0.3, n)})
    truth = {"intercept": -1.0, "nps": -0.25, "term_ends": 1.2}
    logit = truth["intercept"] + truth["nps"] * x["nps"] + truth["term_ends"] * x["term_ends"]
    y = rng.binomial(1, 1 / (1 + np.exp(-logit)))
    fit = fit_logistic(x, y)
    for name, value in truth.items():
        row = fit.coefficients.loc[name]
        assert row["ci_low"] <= value <= row["ci_high"], (name, row.to_dict())
        assert row["ci_high"] - row["ci_low"] < 0.2  # and the intervals are narrow at this n


def test_too_few_churners_is_a_reason_not_a_fit():
    x = pd.DataFrame({"flag": [0, 1] * 50})
    y = [1] * 19 + [0] * 81
    fit = fit_logistic(x, y)
    assert not fit.fitted
    assert fit.reason == (
        "too few churners to fit a model: 19 churned and 81 stayed, at least 20 of each are needed"
    )
    assert fit.coefficients.empty and np.isnan(fit.predict(x)).all()


def test_separation_is_a_reason_and_raises_no_warning():
    x = pd.DataFrame({"tickets": list(range(100))})
    y = [0] * 50 + [1] * 50  # every customer with 50 tickets or more churned
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fit_logistic(x, y)
    assert not fit.fitted
    assert fit.reason.startswith("the model could not be fitted: ")
    assert "separate" in fit.reason


def test_a_feature_that_does_not_vary_is_left_out():
    x, y = _two_by_two()
    x["everyone"] = 1.0
    fit = fit_logistic(x, y)
    assert fit.dropped == ("everyone",)
    assert list(fit.coefficients.index) == ["intercept", "flag"]
    assert fit.coefficients.loc["flag", "odds_ratio"] == pytest.approx(4.0)


def test_contributions_are_the_coefficient_times_the_distance_from_the_mean():
    x, y = _two_by_two()
    fit = fit_logistic(x, y)
    c = fit.contributions(pd.DataFrame({"flag": [1.0, 0.0]}))
    assert c["flag"].tolist() == pytest.approx([math.log(4) * 0.5, -math.log(4) * 0.5])


def test_missing_features_must_be_filled_first():
    with pytest.raises(ValueError, match=r"\['nps'\] hold missing or infinite values"):
        fit_logistic(pd.DataFrame({"nps": [1.0, np.nan]}), [0, 1])


def test_features_that_duplicate_each_other_are_a_reason():
    rng = np.random.default_rng(1)
    x = pd.DataFrame({"tickets": rng.normal(size=300)})
    x["tickets_twice"] = 2 * x["tickets"]
    fit = fit_logistic(x, rng.binomial(1, 0.3, 300))
    assert fit.reason == (
        "the model could not be fitted: the information matrix cannot be inverted "
        "(features that duplicate each other?)"
    )

"""The churn model's inputs on a hand-made subscription log, and what happens when there are too
few churners to fit it.

Subscriptions (annual terms) and orders, as of 2025-03-31 (the end of 2025-Q1):

=====  ========  ==========  ==========  =========  ==================================
term   customer  start       end         cancelled  on 2025-03-31
=====  ========  ==========  ==========  =========  ==================================
S1     C1        2024-01-01  2025-01-01             ended
S2     C1        2025-01-01  2026-01-01             active
S3     C2        2024-06-01  2025-06-01             active, term ends in 2025-Q2
S4     C3        2024-02-01  2025-02-01             ended
S5     C3        2025-02-15  2026-02-15             active
S6     C4        2024-03-01  2025-03-01             ended
S7     C4        2025-03-01  2026-03-01             active
S8     C4        2024-05-01  2025-05-01  2025-03-10  cancelled before the day
S9     C5        2024-01-15  2025-01-15             ended: C5 is not active
=====  ========  ==========  ==========  =========  ==================================

Orders: C1 on 2025-03-31 (100), C2 on 2025-01-30 (100), C4 on 2024-12-31 (100) and 2024-09-01
(300); C3 never ordered. Everyone signed up on 2024-01-01 (455 days, 1.2457 years, before the day).
"""

from __future__ import annotations

import math
from datetime import datetime

import pandas as pd
import pytest

from metrics_lib.data import open_source
from metrics_lib.metrics import aggregate as agg
from metrics_lib.metrics.churn_model import churn_model, customer_features
from metrics_lib.metrics.health_views import health_validation

CUSTOMERS = [(f"C{i}", "2024-01-01", "organic", "SMB", "") for i in range(1, 6)]
SUBSCRIPTIONS = [
    ("S1", "C1", "2024-01-01", "2025-01-01", ""),
    ("S2", "C1", "2025-01-01", "2026-01-01", ""),
    ("S3", "C2", "2024-06-01", "2025-06-01", ""),
    ("S4", "C3", "2024-02-01", "2025-02-01", ""),
    ("S5", "C3", "2025-02-15", "2026-02-15", ""),
    ("S6", "C4", "2024-03-01", "2025-03-01", ""),
    ("S7", "C4", "2025-03-01", "2026-03-01", ""),
    ("S8", "C4", "2024-05-01", "2025-05-01", "2025-03-10"),
    ("S9", "C5", "2024-01-15", "2025-01-15", ""),
]
ORDERS = [
    ("O1", "C1", "2025-03-31", 100, 40, "new"),
    ("O2", "C2", "2025-01-30", 100, 40, "new"),
    ("O3", "C4", "2024-12-31", 100, 40, "new"),
    ("O4", "C4", "2024-09-01", 300, 40, "repeat"),
]


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    folder = tmp_path_factory.mktemp("churn")
    pd.DataFrame(
        CUSTOMERS, columns=["customer_id", "signup_date", "acquisition_channel", "segment", "referred_by"]
    ).to_csv(folder / "customers.csv", index=False)
    subs = pd.DataFrame(
        SUBSCRIPTIONS, columns=["subscription_id", "customer_id", "start_date", "end_date", "cancelled_date"]
    )
    subs.insert(2, "plan", ["basic", "basic", "pro", "basic", "basic", "basic", "pro", "basic", "basic"])
    subs["mrr"] = [100.0, 100.0, 50.0, 100.0, 100.0, 100.0, 300.0, 100.0, 100.0]
    subs["renewed_from"] = ""
    subs.to_csv(folder / "subscriptions.csv", index=False)
    pd.DataFrame(
        ORDERS, columns=["order_id", "customer_id", "order_date", "revenue", "cost", "order_type"]
    ).to_csv(folder / "orders.csv", index=False)
    return open_source(folder)


def test_features_as_of_a_day_by_hand(source):
    scope = agg.Scope.of(source, "2025-Q1")
    f = customer_features(scope, datetime(2025, 3, 31), datetime(2025, 6, 30))
    assert list(f.index) == ["C1", "C2", "C3", "C4"]  # C5 is not active on the day
    month = 30.4375
    # days since the last order; C3 never ordered: the whole 180-day window
    assert f["months_since_last_order"].to_dict() == pytest.approx(
        {"C1": 0.0, "C2": 60 / month, "C3": 180 / month, "C4": 90 / month}
    )
    assert f["purchase_days_12m"].to_dict() == {"C1": 1.0, "C2": 1.0, "C3": 0.0, "C4": 2.0}
    # share of the 6 months' spend in the latest 3, per 10 points: C4 spent 100 of 400 in them
    # (the 300 of 1 Sep 2024 is 211 days back: outside the 6 months too, so 100 of 100);
    # C3 spent nothing: flat (5)
    assert f["spend_trend"].to_dict() == pytest.approx({"C1": 10.0, "C2": 10.0, "C3": 5.0, "C4": 10.0})
    assert f["tenure_years"].to_dict() == pytest.approx({c: 455 / 365.25 for c in f.index})
    # only C2's active term (S3, to 2025-06-01) ends by 2025-06-30
    assert f["term_ends"].to_dict() == {"C1": 0.0, "C2": 1.0, "C3": 0.0, "C4": 0.0}
    # the plan of the largest active subscription (C4: S7, pro; S8 was cancelled before the day)
    assert f["plan"].to_dict() == {"C1": "basic", "C2": "pro", "C3": "basic", "C4": "pro"}
    assert "latest_nps" not in f and "tickets_90d" not in f  # no surveys, no tickets


def test_the_features_of_a_day_ignore_everything_after_it(source):
    scope = agg.Scope.of(source, "2025-Q1")
    f = customer_features(scope, datetime(2025, 1, 29), datetime(2025, 3, 31))
    # C2's order of 30 Jan is after the day: their last order is none in the window
    assert f.loc["C2", "months_since_last_order"] == pytest.approx(180 / 30.4375)
    assert f.loc["C2", "purchase_days_12m"] == 0.0


def test_too_few_churners_leave_the_model_unfitted_with_the_reason_and_the_health_check(source):
    scope = agg.Scope.of(source, "2025-Q1")
    model = churn_model(scope)
    assert not model.fitted
    assert model.reason.startswith("too few churners to fit a model: ")
    assert "at least 20 of each are needed" in model.reason
    assert math.isnan(model.model_auc.value) and math.isnan(model.model_lift.value)
    # the holdout: the five customers active on 2024-12-31; only C5 (S9 ended 15 Jan) was lost
    assert model.holdout["churned"].to_dict() == {"C1": 0, "C2": 0, "C3": 0, "C4": 0, "C5": 1}
    # the health score is still checked, on the same customers as the health report's check
    assert model.health_auc.value == pytest.approx(health_validation(scope).auc)
    assert model.calibration.empty


def test_on_the_demo_the_model_is_fitted_on_the_four_quarters_before_and_checked_on_the_quarter():
    from metrics_lib.data import DEMO_DATA
    from metrics_lib.metrics.scorecard import headline_metrics

    demo = open_source(DEMO_DATA)
    model = churn_model(agg.Scope.of(demo, "2025-Q4"))
    assert model.training == ("2024-Q4", "2025-Q1", "2025-Q2", "2025-Q3")
    churn = {p: headline_metrics(demo, p)["metrics"]["churn_rate"] for p in (*model.training, "2025-Q4")}
    # the customers fitted are those of each training quarter's churn rate, and so are the churners
    assert model.fit.customers == sum(churn[p]["denominator"] for p in model.training)
    assert model.fit.churned == sum(churn[p]["numerator"] for p in model.training)
    assert len(model.holdout) == churn["2025-Q4"]["denominator"]
    assert model.holdout["churned"].sum() == churn["2025-Q4"]["numerator"]
    # AUC and calibration are the model's risk on the holdout, as the formulas compute them
    assert model.calibration["customers"].sum() == len(model.holdout)
    assert model.calibration["churned"].sum() == churn["2025-Q4"]["numerator"]


def test_a_customers_reasons_are_the_three_largest_positive_contributions():
    # C1: b and c tie at 2.0 (column order decides), a is larger, d is negative; C2: nothing
    # raises the risk; C3: one reason, its value below the fitted mean
    from metrics_lib.metrics.churn_model import _top_reasons

    index = pd.Index(["C1", "C2", "C3"], name="customer_id")
    contrib = pd.DataFrame(
        {"a": [3.0, -1.0, 0.0], "b": [2.0, 0.0, 0.0], "c": [2.0, -0.5, 0.4], "d": [-4.0, 0.0, 0.0]},
        index=index,
    )
    x = pd.DataFrame(
        {"a": [9.0, 0.0, 0.0], "b": [1.0, 0.0, 0.0], "c": [7.0, 0.0, 1.0], "d": [0.0] * 3}, index=index
    )
    means = pd.Series({"a": 5.0, "b": 2.0, "c": 5.0, "d": 0.0})
    assert _top_reasons(contrib, x, means) == [
        [("a", True), ("b", False), ("c", True)],
        [],
        [("c", False)],
    ]

"""Churn outcomes, churn per group, the latest NPS answer and the other customer views, by hand.

The tiny source (conftest.py) has subscriptions SUB1 (C1, 5 Jan 2025 to 4 Jan 2026) and SUB2 (C3,
from 11 Feb 2025, cancelled 1 Mar 2025); the tests add SUB3 (C2, from 5 Mar 2025). March 2025:
active on 28 Feb are C1 and C3; on 31 Mar C1 and C2. So C1 stays, C3 is lost, and C2, who joined
during March, is not among the customers who could churn.
"""

from __future__ import annotations

import math
from datetime import datetime

import pandas as pd
import pytest
from conftest import valid_tables

from metrics_lib.core.errors import WorkbookError
from metrics_lib.data import open_source
from metrics_lib.metrics import aggregate as agg
from metrics_lib.metrics import aggregate_health, cohorts
from metrics_lib.metrics.health_views import health_validation


@pytest.fixture
def source(make_source):
    tables = valid_tables()
    tables["subscriptions"].append(
        {
            "subscription_id": "SUB3",
            "customer_id": "C2",
            "plan": "basic",
            "start_date": "2025-03-05",
            "end_date": "2026-03-04",
            "cancelled_date": "",
            "mrr": "10",
            "renewed_from": "",
        }
    )
    # C1 answers NPS twice on 1 Feb (9 and 3: 6 on average) and again on 5 Mar (10)
    tables["surveys"] += [
        {
            "response_id": "S5",
            "customer_id": "C1",
            "response_date": "2025-02-01",
            "survey": "nps",
            "score": "3",
            "touchpoint": "support",
            "comment": "",
        },
        {
            "response_id": "S6",
            "customer_id": "C1",
            "response_date": "2025-03-05",
            "survey": "nps",
            "score": "10",
            "touchpoint": "support",
            "comment": "",
        },
    ]
    return open_source(make_source(tables))


def test_churn_outcomes_of_three_customers(source):
    out = cohorts.churn_outcomes(agg.Scope.of(source, "2025-03"))
    assert out.set_index("customer_id")["churned"].sort_index().to_dict() == {"C1": False, "C3": True}


def test_churn_by_group_counts_and_rates(source):
    frame = pd.DataFrame(
        {"customer_id": ["C1", "C3", "C5"], "churned": [False, True, True], "plan": ["basic", "pro", "pro"]}
    )
    table, rates = cohorts.churn_by_group(frame, "plan", ["basic", "pro", "none"])
    assert table.index.name == "plan"
    assert table["customers"].tolist() == [1, 2, 0]
    assert table["churned"].tolist() == [0, 2, 0]
    assert table.loc["basic", "churn_rate"] == 0.0 and table.loc["pro", "churn_rate"] == 1.0
    assert math.isnan(table.loc["none", "churn_rate"])
    assert table.loc["pro", "ci_low"] < 1.0 == table.loc["pro", "ci_high"]
    assert rates["pro"].value == 1.0


def test_latest_nps_answer_averages_the_latest_day(source):
    scope = agg.Scope.of(source, "2025-Q1")

    def scores(day, inclusive=True):
        t = aggregate_health.latest_nps_scores(scope, day, inclusive=inclusive).execute()
        return t.set_index("customer_id")["score"].sort_index().to_dict()

    assert scores(datetime(2025, 2, 28)) == {"C1": 6.0, "C2": 6.0}  # C1: (9 + 3) / 2 on 1 Feb
    assert scores(datetime(2025, 2, 3), inclusive=False) == {"C1": 6.0}  # C2 answered on 3 Feb itself
    assert scores(datetime(2025, 2, 3)) == {"C1": 6.0, "C2": 6.0}
    assert scores(datetime(2025, 3, 31)) == {"C1": 10.0, "C2": 6.0}


def test_health_validation_scores_the_customers_who_could_churn(source):
    # scored at the end of February (C1 and C3 active), judged by March: C3 is lost
    hv = health_validation(agg.Scope.of(source, "2025-03"))
    assert (hv.customers, hv.churned) == (2, 1)
    assert hv.bands["customers"].sum() == 2 and hv.bands["churned"].sum() == 1


def test_cohort_months_must_be_positive(source):
    with pytest.raises(WorkbookError, match=r"months \(0\) must be >= 1"):
        cohorts.cohort_retention(agg.Scope.of(source, "2025-Q1"), months=0)


def test_cohort_retention_is_unrounded_and_has_its_basis(source):
    # January cohort {C1, C2}: C1 holds a subscription at every month end, C2 from March on
    view = cohorts.cohort_retention(agg.Scope.of(source, "2025-Q1"), months=3)
    assert view.matrix.loc["2025-01"].tolist() == [1.0, 0.5, 1.0]
    assert view.basis == "an active subscription on the month's last day"


def test_groups_by_probability_alive_in_the_first_month_say_why_instead_of_warning_or_crashing():
    import warnings

    from metrics_lib.data import open_source
    from metrics_lib.metrics import aggregate as agg
    from metrics_lib.metrics.cohorts import relationship_groups

    # the demo starts in 2022-01: a month of first purchases cannot fit the BG/NBD model
    scope = agg.Scope.of(open_source("data/demo"), "2022-01", None)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        groups = relationship_groups(scope, loyalty="probability_alive")
    assert groups.summary.empty and groups.note.startswith("probability of still buying not fitted")
    assert groups.summary.attrs["note"] == groups.note

"""Churn, retention, revenue retention and cohort matrices against hand-worked values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from metrics_lib.core.results import MetricUndefinedWarning, RateResult, ValueResult
from metrics_lib.formulas.retention import (
    CohortRetention,
    churn_rate,
    cohort_retention,
    convert_churn_rate,
    gross_revenue_retention,
    net_revenue_retention,
    renewal_rate,
    repeat_customer_rate,
    retention_rate,
)

NAN = float("nan")


# --- churn and retention --------------------------------------------------------------------


def test_churn_worked_example():
    # worked example: 100 customers at the start of a quarter, 10 lost in it: 10%.
    r = churn_rate(100, 10)
    assert isinstance(r, RateResult)
    assert (r.value, r.numerator, r.denominator, r.n) == (0.1, 10, 100, 100)
    assert (round(r.ci.low, 4), round(r.ci.high, 4)) == (0.0552, 0.1744)


def test_churn_lost_cannot_exceed_active():
    with pytest.raises(ValueError, match=r"^`lost` \(12\) cannot exceed `active_at_start` \(10\)$"):
        churn_rate(10, 12)


def test_churn_no_customers_at_start():
    with pytest.warns(MetricUndefinedWarning, match="churn rate is undefined: active_at_start is 0"):
        r = churn_rate(0, 0)
    assert math.isnan(r.value) and r.reason == "churn rate is undefined: active_at_start is 0"


@pytest.mark.parametrize(
    "args, match",
    [
        ((-5, 0), r"`active_at_start` \(-5\) must be a finite number >= 0"),
        ((10, 1.5), r"`lost` \(1.5\) must be a whole number >= 0"),
        ((10, "3"), r"`lost` \('3'\) must be a whole number >= 0, not text"),
        ((float("inf"), 3), r"`active_at_start` \(inf\) must be a finite number >= 0"),
    ],
)
def test_churn_rejects_bad_counts(args, match):
    with pytest.raises(ValueError, match=match):
        churn_rate(*args)


def test_churn_all_lost_and_none_lost():
    assert churn_rate(7, 7).value == 1.0
    assert churn_rate(7, 0).value == 0.0


def test_retention_is_one_minus_churn_on_the_same_cohort():
    churn, kept = churn_rate(100, 10), retention_rate(100, 90)
    assert kept.value == pytest.approx(1 - churn.value)
    assert kept.ci.low == pytest.approx(1 - churn.ci.high)
    assert kept.ci.high == pytest.approx(1 - churn.ci.low)


def test_retention_rejects_more_retained_than_active():
    with pytest.raises(ValueError, match=r"`retained` \(11\) cannot exceed `active_at_start` \(10\)"):
        retention_rate(10, 11)


def test_retention_zero_cohort():
    with pytest.warns(MetricUndefinedWarning, match="retention rate is undefined"):
        assert math.isnan(retention_rate(0, 0).value)


# --- churn conversion -----------------------------------------------------------------------


def test_convert_monthly_to_quarterly_by_hand():
    # 1 - 0.95 ** 3 = 1 - 0.857375 = 0.142625
    r = convert_churn_rate(0.05, days_measured=30, days_target=90)
    assert isinstance(r, ValueResult)
    assert r.value == pytest.approx(0.142625, abs=1e-12)
    assert r.components == {"churn": 0.05, "days_measured": 30.0, "days_target": 90.0}


def test_convert_quarterly_to_monthly_by_hand():
    # 1 - (1 - 0.142625) ** (1/3) = 1 - 0.95
    r = convert_churn_rate(0.142625, days_measured=90, days_target=30)
    assert r.value == pytest.approx(0.05, abs=1e-12)


def test_convert_monthly_to_annual():
    # 1 - 0.98 ** 12 = 0.21528...
    r = convert_churn_rate(0.02, days_measured=30, days_target=360)
    assert r.value == pytest.approx(1 - 0.98**12)
    assert r.value == pytest.approx(0.2153, abs=1e-4)


def test_convert_same_length_and_extremes():
    assert convert_churn_rate(0.3, days_measured=30, days_target=30).value == pytest.approx(0.3)
    assert convert_churn_rate(0.0, days_measured=30, days_target=90).value == 0.0
    assert convert_churn_rate(1.0, days_measured=30, days_target=90).value == 1.0


def test_convert_carries_the_interval():
    churn = churn_rate(100, 10)
    r = convert_churn_rate(churn, days_measured=90, days_target=365)
    exponent = 365 / 90
    assert r.value == pytest.approx(1 - 0.9**exponent)
    assert r.ci.low == pytest.approx(1 - (1 - churn.ci.low) ** exponent)
    assert r.ci.high == pytest.approx(1 - (1 - churn.ci.high) ** exponent)
    assert r.n == 100 and "converted" in r.ci.method


def test_convert_undefined_churn():
    with pytest.warns(MetricUndefinedWarning):
        empty = churn_rate(0, 0)
    with pytest.warns(MetricUndefinedWarning, match="converted churn is undefined"):
        r = convert_churn_rate(empty, days_measured=30, days_target=90)
    assert math.isnan(r.value) and "active_at_start is 0" in r.reason


@pytest.mark.parametrize(
    "churn, kwargs, match",
    [
        (1.5, {"days_measured": 30, "days_target": 90}, r"`churn` \(1.5\) must be <= 1"),
        (-0.1, {"days_measured": 30, "days_target": 90}, r"`churn` \(-0.1\) must be >= 0"),
        (0.1, {"days_measured": 0, "days_target": 90}, r"`days_measured` \(0\) must be > 0"),
        (0.1, {"days_measured": 30, "days_target": -7}, r"`days_target` \(-7\) must be > 0"),
    ],
)
def test_convert_rejects(churn, kwargs, match):
    with pytest.raises(ValueError, match=match):
        convert_churn_rate(churn, **kwargs)


def test_convert_days_are_keyword_only():
    with pytest.raises(TypeError, match="positional argument"):
        convert_churn_rate(0.1, 30, 90)


# --- repeat customers and renewals ----------------------------------------------------------


def test_repeat_customer_rate():
    r = repeat_customer_rate(30, 120)
    assert (r.value, r.numerator, r.denominator) == (0.25, 30, 120)
    with pytest.raises(ValueError, match=r"`repeat_customers` \(121\) cannot exceed `customers` \(120\)"):
        repeat_customer_rate(121, 120)
    with pytest.warns(MetricUndefinedWarning, match="repeat customer rate is undefined"):
        assert math.isnan(repeat_customer_rate(0, 0).value)


def test_renewal_rate():
    r = renewal_rate(45, 50)
    assert (r.value, r.numerator, r.denominator) == (0.9, 45, 50)
    with pytest.raises(ValueError, match=r"`renewed` \(51\) cannot exceed `due` \(50\)"):
        renewal_rate(51, 50)
    with pytest.warns(MetricUndefinedWarning, match="renewal rate is undefined: due is 0"):
        assert math.isnan(renewal_rate(0, 0).value)


# --- revenue retention ----------------------------------------------------------------------


def test_gross_revenue_retention_by_hand():
    # (10,000 - 500 - 300) / 10,000 = 0.92
    r = gross_revenue_retention(10_000, 500, 300)
    assert r.value == pytest.approx(0.92)
    assert (r.numerator, r.denominator) == (9_200, 10_000)
    assert r.components == {"start_mrr": 10_000, "churned_mrr": 500, "contraction_mrr": 300}


def test_gross_revenue_retention_bounds():
    assert gross_revenue_retention(5_000, 0, 0).value == 1.0
    assert gross_revenue_retention(5_000, 4_000, 1_000).value == 0.0


def test_gross_revenue_retention_losses_cannot_exceed_start():
    with pytest.raises(
        ValueError,
        match=r"`churned_mrr` \(800\) plus `contraction_mrr` \(300\) cannot "
        r"exceed `start_mrr` \(1000\)",
    ):
        gross_revenue_retention(1_000, 800, 300)


def test_gross_revenue_retention_zero_start():
    with pytest.warns(MetricUndefinedWarning, match="start_mrr is 0"):
        r = gross_revenue_retention(0, 0, 0)
    assert math.isnan(r.value) and r.reason


def test_gross_revenue_retention_rejects_negative():
    with pytest.raises(ValueError, match=r"`contraction_mrr` \(-5\) must be a finite number >= 0"):
        gross_revenue_retention(100, 0, -5)


def test_net_revenue_retention_by_hand():
    # (10,000 + 1,500 - 300 - 500) / 10,000 = 1.07
    r = net_revenue_retention(10_000, 1_500, 300, 500)
    assert r.value == pytest.approx(1.07)
    assert (r.numerator, r.denominator) == (10_700, 10_000)


def test_net_revenue_retention_can_fall_below_gross_only_never():
    # Expansion never lowers NRR below GRR on the same cohort.
    assert net_revenue_retention(1_000, 0, 100, 200).value == pytest.approx(
        gross_revenue_retention(1_000, 200, 100).value
    )


def test_net_revenue_retention_rejects_and_undefined():
    with pytest.raises(ValueError, match=r"`churned_mrr` \(900\) plus `contraction_mrr` \(200\)"):
        net_revenue_retention(1_000, 5_000, 200, 900)
    with pytest.raises(ValueError, match=r"`expansion_mrr` \(nan\) must be a finite number >= 0"):
        net_revenue_retention(1_000, NAN, 0, 0)
    with pytest.warns(MetricUndefinedWarning, match="net revenue retention is undefined"):
        assert math.isnan(net_revenue_retention(0, 0, 0, 0).value)


# --- cohort retention -----------------------------------------------------------------------

ACTIVITY = pd.DataFrame(
    {
        "customer_id": ["a", "a", "a", "b", "b", "c", "d", "d"],
        "cohort": ["2025-01"] * 6 + ["2025-02"] * 2,
        "period_index": [0, 1, 2, 0, 2, 0, 0, 1],
    }
)


def test_cohort_retention_by_hand():
    r = cohort_retention(ACTIVITY)
    assert isinstance(r, CohortRetention)
    # 2025-01: a, b, c; active at k=1: a; at k=2: a, b.  2025-02: d, active at k=1.
    assert r.sizes.to_dict() == {"2025-01": 3, "2025-02": 1}
    assert r.matrix.loc["2025-01"].tolist() == pytest.approx([1.0, 1 / 3, 2 / 3])
    assert r.matrix.loc["2025-02", 0] == 1.0 and r.matrix.loc["2025-02", 1] == 1.0
    assert math.isnan(r.matrix.loc["2025-02", 2])  # not observed yet
    assert r.active.loc["2025-01"].tolist() == [3.0, 1.0, 2.0]
    assert r.matrix.index.name == "cohort" and r.matrix.columns.name == "period_index"
    assert r.reason is None


def test_cohort_retention_counts_everyone_at_k0_and_duplicates_once():
    activity = pd.DataFrame(
        {
            "customer_id": [1, 2, 2, 2, 3],
            "cohort": ["x", "x", "x", "x", "x"],
            "period_index": [0, 1, 1, 1, 3],  # 2 and 3 have no k=0 row; 2 bought 3 times at k=1
        }
    )
    r = cohort_retention(activity)
    assert r.sizes["x"] == 3
    assert r.matrix.loc["x"].tolist() == pytest.approx([1.0, 1 / 3, 0.0, 1 / 3])


def test_cohort_retention_last_period_marks_unobserved_cells():
    r = cohort_retention(ACTIVITY, last_period="2025-04")
    # 2025-01 is observed through k=3 (April), 2025-02 through k=2.
    assert list(r.matrix.columns) == [0, 1, 2, 3]
    assert r.matrix.loc["2025-01", 3] == 0.0
    assert r.matrix.loc["2025-02", 2] == 0.0
    assert math.isnan(r.matrix.loc["2025-02", 3])


def test_cohort_retention_with_period_and_timestamp_cohorts():
    as_period = ACTIVITY.assign(cohort=pd.PeriodIndex(ACTIVITY["cohort"], freq="M"))
    as_stamp = ACTIVITY.assign(cohort=pd.to_datetime(ACTIVITY["cohort"]))
    a = cohort_retention(as_period, last_period=pd.Period("2025-03", "M"))
    b = cohort_retention(as_stamp, last_period=pd.Timestamp("2025-03-31"))
    np.testing.assert_allclose(a.matrix.to_numpy(), b.matrix.to_numpy())
    # March is k=2 for the January cohort and k=1 for February's; February's k=2 is April.
    assert a.matrix.loc[pd.Period("2025-01", "M"), 2] == pytest.approx(2 / 3)
    assert a.matrix.loc[pd.Period("2025-02", "M"), 1] == 1.0
    assert math.isnan(a.matrix.loc[pd.Period("2025-02", "M"), 2])


def test_cohort_retention_custom_column_names():
    renamed = ACTIVITY.rename(columns={"customer_id": "cid", "cohort": "first_month", "period_index": "k"})
    r = cohort_retention(renamed, customer_col="cid", cohort_col="first_month", period_col="k")
    pd.testing.assert_frame_equal(r.matrix, cohort_retention(ACTIVITY).matrix, check_names=False)
    assert r.matrix.index.name == "first_month"


def test_cohort_retention_ignores_row_order():
    shuffled = ACTIVITY.sample(frac=1.0, random_state=3)
    pd.testing.assert_frame_equal(cohort_retention(shuffled).matrix, cohort_retention(ACTIVITY).matrix)


def test_cohort_retention_empty_frame():
    with pytest.warns(MetricUndefinedWarning, match="`activity` has no rows"):
        r = cohort_retention(ACTIVITY.iloc[:0])
    assert r.matrix.empty and r.reason and not r.defined


@pytest.mark.parametrize(
    "frame, kwargs, match",
    [
        (ACTIVITY.drop(columns="cohort"), {}, r"`activity` is missing column\(s\) \['cohort'\]"),
        ([1, 2], {}, r"`activity` must be a pandas DataFrame, got list"),
        (
            ACTIVITY.assign(period_index=[0, 1, 2, 0, -2, 0, 0, 1]),
            {},
            r"contains -2.0; period indexes must be whole",
        ),
        (ACTIVITY.assign(period_index=[0, 1, 2, 0, 1.5, 0, 0, 1]), {}, r"contains 1.5"),
        (ACTIVITY.assign(period_index=[0, 1, 2, 0, None, 0, 0, 1]), {}, r"contains nan"),
        (
            ACTIVITY.assign(cohort=["2025-01"] * 4 + ["2025-02"] * 4),
            {},
            r"customer 'b' is in 2 cohorts \(2025-01, 2025-02\)",
        ),
        (
            ACTIVITY,
            {"last_period": "2025-02"},
            r"cohort '2025-01' has activity at period index 2, after `last_period`",
        ),
        (ACTIVITY.assign(cohort="spring"), {"last_period": "2025-02"}, r"\('spring'\) must be a month"),
    ],
)
def test_cohort_retention_rejects(frame, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cohort_retention(frame, **kwargs)


# --- properties -----------------------------------------------------------------------------

money = st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False)


@given(money, money, money)
def test_gross_revenue_retention_never_above_one(start, churned, contraction):
    assume(churned + contraction <= start and start > 0)
    r = gross_revenue_retention(start, churned, contraction)
    assert 0.0 <= r.value <= 1.0


@given(money, money, money, money)
def test_nrr_at_least_grr(start, expansion, contraction, churned):
    assume(churned + contraction <= start and start > 0)
    nrr = net_revenue_retention(start, expansion, contraction, churned)
    grr = gross_revenue_retention(start, churned, contraction)
    assert nrr.value >= grr.value - 1e-12


@given(st.integers(1, 100_000), st.data())
def test_churn_ci_contains_estimate(active, data):
    lost = data.draw(st.integers(0, active))
    r = churn_rate(active, lost)
    assert 0.0 <= r.ci.low <= r.value <= r.ci.high <= 1.0
    assert retention_rate(active, active - lost).value == pytest.approx(1 - r.value)


@given(st.floats(0, 1), st.floats(1, 400), st.floats(1, 400))
def test_churn_conversion_round_trips(churn, measured, target):
    there = convert_churn_rate(churn, days_measured=measured, days_target=target)
    assert 0.0 <= there.value <= 1.0
    # Once survival underflows towards 0 the way back loses digits; keep to survivals >= 1e-6.
    assume(1 - there.value >= 1e-6)
    back = convert_churn_rate(there.value, days_measured=target, days_target=measured)
    assert back.value == pytest.approx(churn, abs=1e-9)

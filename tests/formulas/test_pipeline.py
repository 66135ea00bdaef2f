"""Hand-worked checks of the sales pipeline formulas."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrics_lib.core.results import MetricUndefinedWarning
from metrics_lib.formulas.pipeline import (
    average_deal_size,
    bottleneck_stage,
    close_rate,
    sales_cycle_length,
    sales_velocity,
    stage_funnel,
    time_in_stage,
    upsell_rate,
    win_rate,
)

T_975_DF2 = 4.302652729911275  # Student t quantile 0.975 with 2 degrees of freedom


# --- rates ----------------------------------------------------------------------------------


def test_close_rate_worked_example():
    r = close_rate(10, 100)
    assert r.value == 0.1
    assert (r.numerator, r.denominator, r.n) == (10, 100, 100)
    assert round(r.ci.low, 4) == 0.0552 and round(r.ci.high, 4) == 0.1744


def test_close_rate_no_leads_is_nan_with_reason():
    with pytest.warns(MetricUndefinedWarning, match="close rate is undefined"):
        r = close_rate(0, 0)
    assert math.isnan(r.value)
    assert r.reason == "close rate is undefined: leads is 0"


def test_close_rate_rejects_more_won_than_leads():
    with pytest.raises(ValueError, match=r"`won` \(11\) cannot exceed `leads` \(10\)"):
        close_rate(11, 10)


def test_win_rate_uses_closed_deals_only():
    r = win_rate(30, 70)
    assert r.value == 0.3
    assert r.denominator == 100


def test_win_rate_no_closed_deals():
    r = win_rate(0, 0)
    assert math.isnan(r.value)
    assert "won + lost is 0" in r.reason


def test_win_rate_rejects_negative_lost():
    with pytest.raises(ValueError, match="`lost`"):
        win_rate(3, -1)


def test_upsell_rate():
    assert upsell_rate(15, 200).value == 0.075
    assert math.isnan(upsell_rate(0, 0).value)
    with pytest.raises(ValueError, match="`upsell_customers`"):
        upsell_rate(201, 200)


@given(st.integers(0, 10_000), st.integers(1, 10_000))
def test_rates_lie_in_unit_interval(a, b):
    won, leads = min(a, b), max(a, b)
    for r in (close_rate(won, leads), win_rate(a, b), upsell_rate(won, leads)):
        assert 0.0 <= r.value <= 1.0
        # 1e-12 slack: statsmodels' Wilson bound for 34/34 is 0.9999999999999999.
        assert r.ci.low - 1e-12 <= r.value <= r.ci.high + 1e-12


# --- deal size and cycle --------------------------------------------------------------------


def test_average_deal_size_mean_and_t_interval():
    r = average_deal_size([1000.0, 3000.0, 2000.0])
    assert r.value == 2000.0 and r.n == 3 and r.std == 1000.0
    half = T_975_DF2 * 1000.0 / math.sqrt(3)
    assert 2000.0 - half < 0 and r.ci.low == 0.0  # 2000 - 2484.4: an amount is not negative, truncated at 0
    assert r.ci.high == pytest.approx(2000.0 + half)


def test_average_deal_size_single_deal_has_no_interval():
    r = average_deal_size([4200.0])
    assert r.value == 4200.0 and r.n == 1
    assert math.isnan(r.ci.low) and math.isnan(r.ci.high)


def test_average_deal_size_empty_and_nan_dropped():
    assert math.isnan(average_deal_size([]).value)
    assert average_deal_size([np.nan, 10.0, 20.0]).value == 15.0


def test_average_deal_size_rejects_negative_amount():
    with pytest.raises(ValueError, match="`won_amounts` contains -5"):
        average_deal_size([10.0, -5.0])


def test_sales_cycle_length_headline_is_median():
    r = sales_cycle_length([10, 20, 30, 40, 200])
    assert r.value == 30.0 and r.median == 30.0
    assert r.mean == 60.0
    # n = 5: even (min, max) covers only 1 - 2/32 < 95%, so no interval for the median.
    assert math.isnan(r.ci.low) and math.isnan(r.ci.high)


def test_sales_cycle_length_median_interval_order_statistics():
    # n = 10: P(B <= 1) = 11/1024 <= 0.025 < P(B <= 2) = 56/1024, so r = 2: (x(2), x(9)).
    r = sales_cycle_length(list(range(1, 11)))
    assert (r.ci.low, r.ci.high) == (2.0, 9.0)
    # n = 6: P(B <= 0) = 1/64 <= 0.025, so r = 1: (min, max).
    r6 = sales_cycle_length([3, 1, 4, 1, 5, 9])
    assert (r6.ci.low, r6.ci.high) == (1.0, 9.0)
    assert r6.value == 3.5


def test_sales_cycle_length_single_deal_and_empty():
    one = sales_cycle_length([12])
    assert one.value == 12.0 and one.mean == 12.0 and one.n == 1
    empty = sales_cycle_length([])
    assert math.isnan(empty.value) and "no values" in empty.reason


def test_sales_cycle_length_rejects_negative_days():
    with pytest.raises(ValueError, match="`days` contains -1"):
        sales_cycle_length([3, -1])


# --- velocity -------------------------------------------------------------------------------


def test_sales_velocity_hand_example():
    v = sales_velocity(50, 0.2, 10_000, 40)
    assert v.value == 2500.0
    assert v.numerator == 100_000.0 and v.denominator == 40.0
    assert v.components == {
        "open_opportunities": 50.0,
        "win_rate": 0.2,
        "average_deal_size": 10_000.0,
        "cycle_days": 40.0,
    }


def test_sales_velocity_accepts_result_objects():
    v = sales_velocity(
        10, win_rate(1, 3), average_deal_size([600.0, 1200.0]), sales_cycle_length([20, 30, 40])
    )
    assert v.value == pytest.approx(10 * 0.25 * 900.0 / 30.0)


def test_sales_velocity_zero_cycle_and_undefined_factor():
    zero = sales_velocity(10, 0.5, 100, 0)
    assert math.isnan(zero.value) and "cycle_days is 0" in zero.reason
    undefined_wr = sales_velocity(10, win_rate(0, 0), 100, 30)
    assert math.isnan(undefined_wr.value) and "win_rate" in undefined_wr.reason


def test_sales_velocity_rejects_win_rate_above_one():
    with pytest.raises(ValueError, match=r"`win_rate` \(1.5\) must be <= 1"):
        sales_velocity(10, 1.5, 100, 30)


# --- time in stage --------------------------------------------------------------------------


@pytest.fixture
def two_deals():
    # Deal A: lead 3 days, qualified 6 days, proposal 2 days, then won on 01-12.
    # Deal B: lead 10 days, then in qualified since 01-12 (still open).
    return pd.DataFrame(
        {
            "deal_id": ["A", "A", "A", "A", "B", "B"],
            "stage": ["lead", "qualified", "proposal", "won", "lead", "qualified"],
            "entered_at": pd.to_datetime(
                ["2025-01-01", "2025-01-04", "2025-01-10", "2025-01-12", "2025-01-02", "2025-01-12"]
            ),
        }
    )


def test_time_in_stage_without_as_of_drops_running_stages(two_deals):
    t = time_in_stage(two_deals)
    assert list(t.index) == ["lead", "qualified", "proposal", "won"]
    assert t.loc["lead", "deals"] == 2
    assert t.loc["lead", "mean_days"] == 6.5 and t.loc["lead", "median_days"] == 6.5
    assert t.loc["qualified", "deals"] == 1 and t.loc["qualified", "mean_days"] == 6.0
    assert t.loc["proposal", "mean_days"] == 2.0
    assert t.loc["won", "deals"] == 0 and math.isnan(t.loc["won", "mean_days"])
    assert (t["open_deals"] == 0).all()


def test_time_in_stage_with_as_of_runs_open_stage(two_deals):
    t = time_in_stage(two_deals, as_of="2025-01-22", stage_order=["lead", "qualified", "proposal"])
    assert list(t.index) == ["lead", "qualified", "proposal"]  # "won" not reported
    assert t.loc["qualified", "deals"] == 2
    assert t.loc["qualified", "mean_days"] == 8.0  # (6 + 10) / 2
    assert t.loc["qualified", "open_deals"] == 1
    assert t.loc["lead", "open_deals"] == 0


def test_time_in_stage_sums_revisits_per_deal():
    history = pd.DataFrame(
        {
            "deal_id": [1, 1, 1, 1],
            "stage": ["lead", "qualified", "lead", "qualified"],
            "entered_at": pd.to_datetime(["2025-01-01", "2025-01-03", "2025-01-04", "2025-01-09"]),
        }
    )
    t = time_in_stage(history)
    assert t.loc["lead", "deals"] == 1
    assert t.loc["lead", "mean_days"] == 7.0  # 2 + 5 days over two visits


def test_time_in_stage_fractional_days_and_row_order():
    history = pd.DataFrame(
        {
            "deal_id": [7, 7],
            "stage": ["proposal", "lead"],
            "entered_at": pd.to_datetime(["2025-01-01 12:00", "2025-01-01 00:00"]),
        }
    )
    t = time_in_stage(history)
    assert t.loc["lead", "mean_days"] == 0.5


def test_time_in_stage_ties_broken_by_stage_order():
    history = pd.DataFrame(
        {
            "deal_id": [1, 1, 1],
            "stage": ["qualified", "lead", "proposal"],
            "entered_at": pd.to_datetime(["2025-01-01", "2025-01-01", "2025-01-05"]),
        }
    )
    t = time_in_stage(history, stage_order=["lead", "qualified", "proposal"])
    assert t.loc["lead", "mean_days"] == 0.0
    assert t.loc["qualified", "mean_days"] == 4.0


def test_time_in_stage_errors(two_deals):
    with pytest.raises(ValueError, match="missing column"):
        time_in_stage(two_deals.drop(columns="entered_at"))
    with pytest.raises(ValueError, match="`as_of` .* is earlier than the latest stage entry"):
        time_in_stage(two_deals, as_of="2025-01-05")
    bad = two_deals.copy()
    bad.loc[0, "entered_at"] = pd.NaT
    with pytest.raises(ValueError, match="1 missing value"):
        time_in_stage(bad)
    with pytest.raises(ValueError, match="more than once"):
        time_in_stage(two_deals, stage_order=["lead", "lead"])
    aware = two_deals.assign(entered_at=two_deals["entered_at"].dt.tz_localize("UTC"))
    with pytest.raises(ValueError, match="time zone"):
        time_in_stage(aware, as_of="2025-02-01")


def test_bottleneck_stage_picks_longest(two_deals):
    b = bottleneck_stage(time_in_stage(two_deals))
    assert (b.stage, b.value, b.statistic) == ("lead", 6.5, "mean_days")


def test_bottleneck_stage_tie_goes_to_earlier_stage():
    table = pd.DataFrame({"mean_days": [3.0, 5.0, 5.0]}, index=["a", "b", "c"])
    assert bottleneck_stage(table).stage == "b"


def test_bottleneck_stage_without_measured_stage():
    table = pd.DataFrame({"mean_days": [np.nan]}, index=["lead"])
    b = bottleneck_stage(table)
    assert b.stage is None and math.isnan(b.value) and "no stage" in b.reason
    with pytest.raises(ValueError, match=r"`by` \('max'\) must be one of"):
        bottleneck_stage(table, by="max")


# --- funnel ---------------------------------------------------------------------------------


def test_stage_funnel_counts_skipped_stages_as_passed():
    history = pd.DataFrame(
        {
            "deal_id": [1, 1, 1, 1, 2, 2, 3, 3],
            "stage": ["lead", "qualified", "proposal", "won", "lead", "proposal", "lead", "lost"],
            "entered_at": pd.to_datetime(
                [
                    "2025-01-01",
                    "2025-01-02",
                    "2025-01-03",
                    "2025-01-04",
                    "2025-01-01",
                    "2025-01-05",
                    "2025-01-02",
                    "2025-01-03",
                ]
            ),
        }
    )
    f = stage_funnel(history, ["lead", "qualified", "proposal", "won"])
    assert f["deals"].tolist() == [3, 2, 2, 1]
    assert f["entered"].tolist() == [3, 1, 2, 1]
    assert math.isnan(f["conversion"].iloc[0])
    assert f["conversion"].iloc[1:].tolist() == pytest.approx([2 / 3, 1.0, 0.5])
    assert f["share_of_first"].tolist() == pytest.approx([1.0, 2 / 3, 2 / 3, 1 / 3])


def test_stage_funnel_stage_nobody_reached():
    history = pd.DataFrame({"deal_id": [1], "stage": ["lead"], "entered_at": pd.to_datetime(["2025-01-01"])})
    f = stage_funnel(history, ["lead", "proposal", "won"])
    assert f["deals"].tolist() == [1, 0, 0]
    assert f["conversion"].iloc[1] == 0.0
    assert math.isnan(f["conversion"].iloc[2])


def test_stage_funnel_requires_stage_order():
    history = pd.DataFrame({"deal_id": [1], "stage": ["lead"], "entered_at": pd.to_datetime(["2025-01-01"])})
    with pytest.raises(ValueError, match="`stage_order` .* is required"):
        stage_funnel(history, None)
    with pytest.raises(ValueError, match="must name at least one stage"):
        stage_funnel(history, [])


@given(
    st.lists(st.tuples(st.integers(0, 4), st.integers(0, 3), st.integers(0, 1000)), min_size=1, max_size=30)
)
def test_funnel_monotone_and_times_nonnegative(rows):
    stages = ["lead", "qualified", "proposal", "won"]
    history = pd.DataFrame(
        {
            "deal_id": [r[0] for r in rows],
            "stage": [stages[r[1]] for r in rows],
            "entered_at": pd.Timestamp("2025-01-01") + pd.to_timedelta([r[2] for r in rows], unit="h"),
        }
    )
    f = stage_funnel(history, stages)
    assert (np.diff(f["deals"].to_numpy()) <= 0).all()
    conv = f["conversion"].dropna()
    assert ((conv >= 0) & (conv <= 1)).all()
    t = time_in_stage(history, as_of="2025-03-01")
    assert (t["mean_days"].dropna() >= 0).all()
    assert (t["median_days"].dropna() >= 0).all()


def test_average_deal_size_interval_is_truncated_at_zero():
    # won 1000 and 3000: mean 2000, s / sqrt(2) = 1000, 2000 +- 12706.2 -> [0, 14706.2]
    r = average_deal_size([1000.0, 3000.0])
    assert (r.value, r.ci.low) == (2000.0, 0.0)
    assert r.ci.high == pytest.approx(2000 + 12.706204736 * 1000)

"""Order value, CLV, CAC and profitability against hand-worked values (metrics_lib.formulas.value)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy import stats as sps

from metrics_lib.core.results import MetricUndefinedWarning, ValueResult
from metrics_lib.formulas.retention import churn_rate
from metrics_lib.formulas.value import (
    average_order_value,
    cac,
    cac_payback_months,
    clv_four_step,
    clv_simple,
    gross_margin,
    gross_profit,
    ltv_cac_ratio,
    retention_cost_per_client,
)

NAN = float("nan")


# --- average order value --------------------------------------------------------------------


def test_average_order_value():
    r = average_order_value(12_000, 120)
    assert isinstance(r, ValueResult)
    assert (r.value, r.numerator, r.denominator, r.n, r.unit) == (100.0, 12_000, 120, 120, "currency")
    assert math.isnan(r.ci.low)  # no per-order values, no interval


def test_average_order_value_t_interval_by_hand():
    values = [80, 120, 90, 110]
    r = average_order_value(400, 4, order_values=values)
    std = math.sqrt((20**2 + 20**2 + 10**2 + 10**2) / 3)
    half = sps.t.ppf(0.975, 3) * std / 2
    assert r.value == 100.0
    assert r.ci.low == pytest.approx(100 - half) and r.ci.high == pytest.approx(100 + half)
    assert (round(r.ci.low, 2), round(r.ci.high, 2)) == (70.95, 129.05)


def test_average_order_value_interval_from_the_standard_deviation_alone():
    """What an engine returns (sum, count, sample standard deviation) gives the same t interval
    as the order values themselves."""
    std = math.sqrt((20**2 + 20**2 + 10**2 + 10**2) / 3)
    r = average_order_value(400, 4, order_value_std=std)
    assert (round(r.ci.low, 2), round(r.ci.high, 2)) == (70.95, 129.05)
    assert r.ci == average_order_value(400, 4, order_values=[80, 120, 90, 110]).ci
    same = average_order_value(300, 3, order_value_std=0.0)
    assert (same.ci.low, same.ci.high) == (100.0, 100.0)
    one = average_order_value(50, 1, order_value_std=NAN)  # one order: no spread to measure
    assert one.value == 50.0 and math.isnan(one.ci.low) and math.isnan(one.ci.high)
    unknown = average_order_value(400, 4, order_value_std=NAN)  # what an engine says of inf values
    assert unknown.value == 100.0 and math.isnan(unknown.ci.low)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"order_value_std": -1.0}, r"`order_value_std` \(-1.0\) must be a finite number >= 0"),
        ({"order_value_std": math.inf}, r"`order_value_std` \(inf\) must be a finite number >= 0"),
        (
            {"order_value_std": 5.0, "order_values": [80, 120, 90, 110]},
            r"give `order_values` or `order_value_std`, not both",
        ),
    ],
)
def test_average_order_value_rejects_a_bad_standard_deviation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        average_order_value(400, 4, **kwargs)


def test_average_order_value_accepts_series_and_array():
    a = average_order_value(400, 4, order_values=np.array([80.0, 120, 90, 110]))
    b = average_order_value(400, 4, order_values=pd.Series([110, 90, 120, 80], index=[9, 8, 7, 6]))
    assert a == b


def test_average_order_value_single_order():
    r = average_order_value(50, 1, order_values=[50])
    assert r.value == 50.0 and math.isnan(r.ci.low)


def test_average_order_value_no_orders():
    with pytest.warns(MetricUndefinedWarning, match="average order value is undefined: orders is 0"):
        r = average_order_value(0, 0)
    assert math.isnan(r.value) and r.reason


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        (
            (400, 3),
            {"order_values": [80, 120, 90, 110]},
            r"`order_values` holds 4 orders summing to 400, but `orders` is 3 and `revenue` is 400",
        ),
        (
            (500, 4),
            {"order_values": [80, 120, 90, 110]},
            r"summing to 400, but `orders` is 4 and `revenue` is 500",
        ),
        ((400, 4), {"order_values": [80, 120, NAN, 200]}, r"`order_values` contains nan"),
        ((400, 4), {"order_values": 400}, r"`order_values` \(400\) must be a sequence"),
        ((-1, 4), {}, r"`revenue` \(-1\) must be a finite number >= 0"),
        ((100, 2.5), {}, r"`orders` \(2.5\) must be a whole number"),
    ],
)
def test_average_order_value_rejects(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        average_order_value(*args, **kwargs)


# --- CLV ------------------------------------------------------------------------------------


def test_clv_simple_worked_example():
    # worked example: $100 x 4 per year x 5 years = $2,000.
    r = clv_simple(100, 4, 5)
    assert r.value == 2000.0 and r.unit == "currency"
    assert r.components == {"average_order_value": 100.0, "purchases_per_year": 4.0, "lifespan_years": 5.0}


def test_clv_simple_takes_a_result():
    assert clv_simple(average_order_value(12_000, 120), 4, 5).value == 2000.0


def test_clv_simple_undefined_input():
    with pytest.warns(MetricUndefinedWarning):
        aov = average_order_value(0, 0)
    with pytest.warns(MetricUndefinedWarning, match="CLV is undefined: average_order_value is undefined"):
        r = clv_simple(aov, 4, 5)
    assert math.isnan(r.value) and "orders is 0" in r.reason


@pytest.mark.parametrize(
    "args, match",
    [
        ((-100, 4, 5), r"`average_order_value` \(-100\) must be >= 0"),
        ((100, NAN, 5), r"`purchases_per_year` \(nan\) must be a finite number"),
        ((100, 4, "five"), r"`lifespan_years` \('five'\) must be a number"),
    ],
)
def test_clv_simple_rejects(args, match):
    with pytest.raises(ValueError, match=match):
        clv_simple(*args)


def test_clv_four_step_by_hand():
    # 50,000 revenue / 500 purchases = 100 per purchase; 500 / 125 customers = 4 a year.
    r = clv_four_step(50_000, 500, 125, lifespan_years=5)
    assert r.value == 2000.0
    assert r.components == {
        "average_purchase_value": 100.0,
        "purchase_frequency": 4.0,
        "customer_value": 400.0,
        "lifespan_years": 5.0,
    }


def test_clv_four_step_lifespan_from_churn_and_margin():
    # Lifespan 1 / 0.2 = 5 years; margin CLV 2,000 x 0.4 = 800.
    r = clv_four_step(50_000, 500, 125, annual_churn_rate=0.2)
    assert r.value == pytest.approx(2000.0) and r.components["lifespan_years"] == pytest.approx(5.0)
    m = clv_four_step(50_000, 500, 125, annual_churn_rate=0.2, gross_margin=0.4)
    assert m.value == pytest.approx(800.0) and m.components["gross_margin"] == 0.4


def test_clv_four_step_takes_churn_result():
    r = clv_four_step(50_000, 500, 125, annual_churn_rate=churn_rate(100, 25))
    assert r.value == pytest.approx(400 * 4)


def test_clv_four_step_purchase_frequency_per_year_of_a_shorter_span():
    # half a year of data: 25,000 over 250 purchases = 100 each; 250 / 125 customers = 2 in half
    # a year, so 4 a year; customer value 400 a year x 5 years = 2,000, as for a whole year
    r = clv_four_step(25_000, 250, 125, lifespan_years=5, years=0.5)
    assert r.components["average_purchase_value"] == 100.0
    assert r.components["purchase_frequency"] == pytest.approx(4.0)
    assert r.value == pytest.approx(2000.0)
    with pytest.raises(ValueError, match=r"`years` \(0\) must be > 0"):
        clv_four_step(25_000, 250, 125, lifespan_years=5, years=0)


def test_clv_four_step_negative_margin():
    assert clv_four_step(1_000, 10, 5, lifespan_years=2, gross_margin=-0.5).value == pytest.approx(-200.0)


def test_clv_four_step_zero_churn_is_undefined():
    with pytest.warns(MetricUndefinedWarning, match="annual_churn_rate is 0"):
        r = clv_four_step(50_000, 500, 125, annual_churn_rate=0)
    assert math.isnan(r.value) and math.isnan(r.components["lifespan_years"])
    assert r.components["customer_value"] == 400.0  # the defined steps still show


def test_clv_four_step_no_purchases_is_undefined():
    with pytest.warns(MetricUndefinedWarning, match="purchases is 0"):
        r = clv_four_step(0, 0, 0, lifespan_years=3)
    assert math.isnan(r.value) and r.reason.startswith("CLV is undefined")


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((100, 5, 6), {"lifespan_years": 2}, r"`customers` \(6\) cannot exceed `purchases` \(5\)"),
        ((100, 5, 0), {"lifespan_years": 2}, r"`customers` is 0 but `purchases` is 5"),
        (
            (100, 5, 2),
            {},
            r"give exactly one of `lifespan_years` and `annual_churn_rate` \(neither was given\)",
        ),
        ((100, 5, 2), {"lifespan_years": 2, "annual_churn_rate": 0.5}, r"\(both were given\)"),
        ((100, 5, 2), {"lifespan_years": 0}, r"`lifespan_years` \(0\) must be > 0"),
        ((100, 5, 2), {"annual_churn_rate": 1.2}, r"`annual_churn_rate` \(1.2\) must be <= 1"),
        ((100, 5, 2), {"lifespan_years": 2, "gross_margin": 1.5}, r"`gross_margin` \(1.5\) must be <= 1"),
    ],
)
def test_clv_four_step_rejects(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        clv_four_step(*args, **kwargs)


# --- acquisition and retention cost ---------------------------------------------------------


def test_cac():
    r = cac(50_000, 250)
    assert (r.value, r.numerator, r.denominator) == (200.0, 50_000, 250)
    with pytest.warns(MetricUndefinedWarning, match="CAC is undefined: new_customers is 0"):
        assert math.isnan(cac(1_000, 0).value)
    with pytest.raises(ValueError, match=r"`acquisition_spend` \(-1\) must be a finite number >= 0"):
        cac(-1, 10)


def test_ltv_cac_ratio():
    r = ltv_cac_ratio(600, 200)
    assert r.value == 3.0 and r.unit == "ratio"
    assert ltv_cac_ratio(clv_simple(100, 4, 5), cac(50_000, 250)).value == 10.0
    assert ltv_cac_ratio(-100, 200).value == -0.5
    with pytest.warns(MetricUndefinedWarning, match="LTV:CAC is undefined: cac is 0"):
        assert math.isnan(ltv_cac_ratio(600, 0).value)
    with pytest.raises(ValueError, match=r"`cac` \(-3\) must be >= 0"):
        ltv_cac_ratio(600, -3)


def test_ltv_cac_ratio_undefined_input():
    with pytest.warns(MetricUndefinedWarning):
        no_cac = cac(1_000, 0)
    with pytest.warns(MetricUndefinedWarning, match="cac is undefined"):
        assert math.isnan(ltv_cac_ratio(600, no_cac).value)


def test_cac_payback_months():
    r = cac_payback_months(200, 25)
    assert r.value == 8.0 and r.unit == "months"
    assert cac_payback_months(0, 25).value == 0.0
    for profit in (0, -10):
        with pytest.warns(MetricUndefinedWarning, match="never paid back"):
            assert math.isnan(cac_payback_months(200, profit).value)


def test_retention_cost_per_client():
    assert retention_cost_per_client(9_000, 450).value == 20.0
    with pytest.warns(MetricUndefinedWarning, match="customers_retained is 0"):
        assert math.isnan(retention_cost_per_client(9_000, 0).value)
    with pytest.raises(ValueError, match=r"`customers_retained` \(1.5\) must be a whole number"):
        retention_cost_per_client(9_000, 1.5)


# --- profit ---------------------------------------------------------------------------------


def test_gross_profit_totals_and_rows():
    assert gross_profit(10_000, 6_000).value == 4_000.0
    r = gross_profit([100, 250, 50], [60, 150, 40])
    assert r.value == 150.0 and r.n == 3
    assert r.components == {"revenue": 400.0, "cost": 250.0}
    assert gross_profit(100, 130).value == -30.0


def test_gross_profit_of_nothing_is_zero():
    assert gross_profit([], []).value == 0.0


@pytest.mark.parametrize(
    "args, match",
    [
        (([100, 200], [50]), r"`revenue` \(2 values\) and `cost` \(1 values\) must have the same length"),
        (([100, -5], [50, 5]), r"`revenue` contains -5; values must be >= 0"),
        (([100, 5], [50, NAN]), r"`cost` has a missing value at position 1; every row needs a number"),
        (([100, 5], 50), r"`cost` \(50\) must be a sequence of numbers"),
    ],
)
def test_gross_profit_rejects(args, match):
    with pytest.raises(ValueError, match=match):
        gross_profit(*args)


def test_gross_margin():
    r = gross_margin(10_000, 6_000)
    assert r.value == 0.4 and (r.numerator, r.denominator) == (4_000, 10_000)
    assert gross_margin(pd.Series([100, 250, 50]), np.array([60, 150, 40])).value == pytest.approx(150 / 400)
    assert gross_margin(100, 150).value == -0.5
    assert gross_margin(100, 0).value == 1.0


def test_gross_margin_zero_revenue():
    with pytest.warns(MetricUndefinedWarning, match="gross margin is undefined: revenue is 0"):
        r = gross_margin(0, 10)
    assert math.isnan(r.value) and r.numerator == -10


# --- properties -----------------------------------------------------------------------------

amount = st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False)


@given(st.lists(st.tuples(amount, amount), max_size=50))
def test_gross_margin_never_above_one(rows):
    revenue, cost = [r for r, _ in rows], [c for _, c in rows]
    assume(sum(revenue) > 0)
    r = gross_margin(revenue, cost)
    assert r.value <= 1.0
    assert r.value == pytest.approx(gross_profit(revenue, cost).value / sum(revenue), rel=1e-9, abs=1e-9)


@given(st.floats(0, 1e4), st.floats(0, 100), st.floats(0, 100))
def test_clv_simple_is_the_product(aov, freq, years):
    assert clv_simple(aov, freq, years).value == pytest.approx(aov * freq * years)


@given(st.lists(st.floats(0, 1e5), min_size=2, max_size=60))
def test_order_value_interval_contains_mean(values):
    r = average_order_value(sum(values), len(values), order_values=values)
    assert r.ci.low - 1e-9 <= r.value <= r.ci.high + 1e-9


def test_aov_interval_is_truncated_at_zero():
    # orders of 10 and 50: mean 30, s = sqrt(800), s / sqrt(2) = 20, 30 +- 12.7062 * 20 =
    # [-224.12, 284.12]; order values are not negative (returns are not orders), so the low bound is 0.
    for r in (
        average_order_value(60, 2, order_values=[10, 50]),
        average_order_value(60, 2, order_value_std=math.sqrt(800)),
    ):
        assert r.value == 30.0
        assert r.ci.low == 0.0
        assert r.ci.high == pytest.approx(30 + 12.706204736 * 20)

"""Hand-worked checks of campaign ROI and control-group lift."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from metrics_lib.core.results import MetricUndefinedWarning
from metrics_lib.formulas.marketing import LiftResult, campaign_roi, control_group_lift

Z_975 = 1.959963984540054  # standard normal quantile 0.975


def test_campaign_roi_hand_example():
    r = campaign_roi(15_000, 10_000)
    assert r.value == 0.5
    assert (r.numerator, r.denominator) == (5_000, 10_000)
    assert r.components == {"attributed_gross_profit": 15_000.0, "cost": 10_000.0, "net_profit": 5_000.0}


def test_campaign_roi_loss_and_negative_profit():
    assert campaign_roi(5_000, 10_000).value == -0.5
    assert campaign_roi(-2_000, 10_000).value == -1.2


def test_campaign_roi_free_campaign_is_undefined():
    with pytest.warns(MetricUndefinedWarning, match="cost is 0"):
        r = campaign_roi(1_000, 0)
    assert math.isnan(r.value)


def test_campaign_roi_errors():
    with pytest.raises(ValueError, match="`cost`"):
        campaign_roi(1_000, -5)
    with pytest.raises(ValueError, match="`attributed_gross_profit`"):
        campaign_roi(float("nan"), 10)


def test_lift_hand_computation():
    r = control_group_lift(120, 1000, 100, 1000, treated_revenue=60_000, control_revenue=50_000,
                           cost=4_000)
    assert isinstance(r, LiftResult)
    assert r.treated.value == 0.12 and r.control.value == 0.1
    assert r.value == pytest.approx(0.02)
    # Wald: sqrt(0.12 * 0.88 / 1000 + 0.10 * 0.90 / 1000) = sqrt(0.0001956)
    se = math.sqrt(0.0001956)
    assert r.ci.low == pytest.approx(0.02 - Z_975 * se)
    assert r.ci.high == pytest.approx(0.02 + Z_975 * se)
    assert r.ci.method == "wald"
    # Pooled z-test: p = 220 / 2000 = 0.11, se0 = sqrt(0.11 * 0.89 * (1/1000 + 1/1000)).
    z = 0.02 / math.sqrt(0.11 * 0.89 * 0.002)
    assert r.statistic == pytest.approx(z)
    assert r.p_value == pytest.approx(math.erfc(z / math.sqrt(2)))
    assert round(r.p_value, 4) == 0.1529
    assert not r.significant
    assert r.relative_lift == pytest.approx(0.2)
    assert r.incremental_conversions == pytest.approx(20.0)
    # (60 - 50 per member) x 1000 treated members
    assert r.incremental_revenue == pytest.approx(10_000.0)
    assert r.incremental_roi == pytest.approx(1.5)


def test_lift_unequal_groups_compares_revenue_per_member():
    r = control_group_lift(50, 500, 10, 100, treated_revenue=25_000, control_revenue=4_000)
    assert r.value == pytest.approx(0.0)
    assert r.incremental_revenue == pytest.approx((50 - 40) * 500)
    assert math.isnan(r.incremental_roi)


def test_lift_significant_difference():
    r = control_group_lift(300, 1000, 200, 1000)
    assert r.p_value < 0.001 and r.significant
    assert r.ci.low > 0


def test_lift_empty_group_is_undefined():
    with pytest.warns(MetricUndefinedWarning, match="the control group is empty"):
        r = control_group_lift(10, 100, 0, 0)
    assert math.isnan(r.value) and math.isnan(r.relative_lift)
    assert math.isnan(r.incremental_conversions)
    assert r.reason == "lift is undefined: the control group is empty"


def test_lift_control_never_converted():
    r = control_group_lift(5, 100, 0, 100)
    assert r.value == 0.05
    assert math.isnan(r.relative_lift)
    assert any("relative lift is undefined" in n for n in r.notes)


def test_lift_no_conversions_anywhere_has_p_value_one():
    r = control_group_lift(0, 100, 0, 100)
    assert r.value == 0.0 and r.p_value == 1.0
    assert (r.ci.low, r.ci.high) == (0.0, 0.0)


def test_lift_zero_cost_roi_is_undefined():
    r = control_group_lift(12, 100, 10, 100, treated_revenue=100, control_revenue=80, cost=0)
    assert math.isnan(r.incremental_roi)
    assert any("cost is 0" in n for n in r.notes)


def test_lift_errors():
    with pytest.raises(ValueError, match="must be given together"):
        control_group_lift(1, 10, 1, 10, treated_revenue=100)
    with pytest.raises(ValueError, match="`cost` .* needs `treated_revenue`"):
        control_group_lift(1, 10, 1, 10, cost=50)
    with pytest.raises(ValueError, match=r"`treated_converted` \(11\) cannot exceed `treated_n` \(10\)"):
        control_group_lift(11, 10, 1, 10)
    with pytest.raises(ValueError, match="`confidence_level`"):
        control_group_lift(1, 10, 1, 10, confidence_level=95)


@given(st.integers(1, 2000), st.integers(0, 2000), st.integers(1, 2000), st.integers(0, 2000))
def test_lift_laws(nt, xt, nc, xc):
    assume(xt <= nt and xc <= nc)
    r = control_group_lift(xt, nt, xc, nc)
    assert -1.0 <= r.value <= 1.0
    assert r.ci.low - 1e-12 <= r.value <= r.ci.high + 1e-12
    assert 0.0 <= r.p_value <= 1.0
    assert r.incremental_conversions == pytest.approx(r.value * nt)

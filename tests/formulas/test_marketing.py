"""Hand-worked checks of campaign ROI (attributed and incremental), control-group lift and the
smallest detectable lift."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from metrics_lib.core.results import NAN, MetricUndefinedWarning
from metrics_lib.formulas.marketing import (
    LiftResult,
    campaign_roi,
    control_group_lift,
    incremental_campaign_roi,
    minimum_detectable_lift,
)

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
    r = control_group_lift(120, 1000, 100, 1000, treated_revenue=60_000, control_revenue=50_000, cost=4_000)
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


# --- incremental campaign ROI ---------------------------------------------------------------


def test_incremental_campaign_roi_by_hand():
    # treated members earned 10, 20, 30, 40 (100 in all, 25 each; sample sd sqrt(500/3)), control
    # members 5 and 15 (20 in all, 10 each; sd sqrt(50)). Increment (25 - 10) x 4 treated = 60 of
    # revenue, x margin 0.5 = 30 of gross profit; cost 20: ROI (30 - 20) / 20 = 0.5. Variance of
    # the increment 0.5^2 x 4^2 x (500/3 / 4 + 50 / 2) = 800/3, so SE of the ROI sqrt(800/3) / 20
    r = incremental_campaign_roi(4, 100, math.sqrt(500 / 3), 2, 20, math.sqrt(50), 20, gross_margin=0.5)
    assert r.value == pytest.approx(0.5) and r.unit == "ratio"
    assert (r.numerator, r.denominator, r.n) == (pytest.approx(10.0), 20.0, 6)
    assert r.components["incremental_gross_profit"] == pytest.approx(30.0)
    se = math.sqrt(800 / 3) / 20
    assert r.components["incremental_gross_profit_se"] == pytest.approx(math.sqrt(800 / 3))
    assert (r.ci.low, r.ci.high) == (pytest.approx(0.5 - Z_975 * se), pytest.approx(0.5 + Z_975 * se))
    assert r.ci.method == "normal approximation"


def test_incremental_campaign_roi_adds_up_campaigns_and_ignores_what_control_members_earn_anyway():
    # campaign 1 as above (increment 30 after margin); campaign 2: 10 treated earning 50 in all
    # against 5 control members earning 50 (10 each, more than the treated): (5 - 10) x 10 x 0.5
    # = -25; a third campaign without treated members adds nothing. Total 5, cost 40 -> -35 / 40
    r = incremental_campaign_roi(
        [4, 10, 0],
        [100, 50, 0],
        [math.sqrt(500 / 3), 3.0, NAN],
        [2, 5, 3],
        [20, 50, 12],
        [math.sqrt(50), 4.0, 1.0],
        40,
        gross_margin=0.5,
    )
    assert r.components["incremental_gross_profit"] == pytest.approx(5.0)
    assert r.value == pytest.approx(-35 / 40)
    var = 800 / 3 + 0.25 * 100 * (9 / 10 + 16 / 5)
    assert r.components["incremental_gross_profit_se"] == pytest.approx(math.sqrt(var))


def test_incremental_campaign_roi_counts_revenue_the_attributed_roi_would_not_subtract():
    # what the old headline did: all members' revenue as profit. Here the treated group earned
    # no more per member than the control group, so nothing is incremental and the cost is lost
    attributed = campaign_roi((1_000 + 100) * 0.5, 200)
    incremental = incremental_campaign_roi(10, 1_000, 5.0, 1, 100, NAN, 200, gross_margin=0.5)
    assert attributed.value == pytest.approx(1.75)
    assert incremental.value == pytest.approx(-1.0)
    assert math.isnan(incremental.ci.low)  # one control member: no spread to measure


def test_incremental_campaign_roi_undefined_cases():
    with pytest.warns(MetricUndefinedWarning, match="has no control group"):
        r = incremental_campaign_roi([4, 3], [100, 30], [1.0, 1.0], [2, 0], [20, 0], [1.0, NAN], 20)
    assert math.isnan(r.value) and "control_n is 0" in r.reason
    with pytest.warns(MetricUndefinedWarning, match="cost is 0"):
        r = incremental_campaign_roi(4, 100, 1.0, 2, 20, 1.0, 0)
    assert math.isnan(r.value)


@pytest.mark.parametrize(
    "args, match",
    [
        (([4, 3], [100], [1.0], [2], [20], [1.0], 20), r"one entry per campaign each; their lengths differ"),
        ((4, -100, 1.0, 2, 20, 1.0, 20), r"`treated_revenue` contains -100"),
        ((4.5, 100, 1.0, 2, 20, 1.0, 20), r"`treated_n` \(4.5\) must be a whole number"),
        ((4, 100, 1.0, 2, NAN, 1.0, 20), r"`control_revenue` has a missing value at position 0"),
        ((4, 100, -1.0, 2, 20, 1.0, 20), r"`treated_revenue_std` contains -1"),
        ((4, 100, 1.0, 2, 20, 1.0, -5), r"`cost` \(-5\) must be a finite number >= 0"),
    ],
)
def test_incremental_campaign_roi_rejects(args, match):
    with pytest.raises(ValueError, match=match):
        incremental_campaign_roi(*args)


campaign = st.tuples(
    st.integers(0, 500),
    st.floats(0, 1e6),
    st.floats(0, 1e4),
    st.integers(1, 500),
    st.floats(0, 1e6),
    st.floats(0, 1e4),
)


@given(
    st.lists(campaign, min_size=1, max_size=5),
    st.floats(1, 1e6),
    st.floats(-1, 1),
    st.integers(0, 4),
    st.floats(0, 1e6),
)
def test_raising_control_revenue_never_raises_the_roi(camps, cost, margin, which, extra):
    cols = [list(c) for c in zip(*camps)]
    before = incremental_campaign_roi(*cols, cost, gross_margin=margin)
    cols[4][which % len(camps)] += extra
    after = incremental_campaign_roi(*cols, cost, gross_margin=margin)
    if margin >= 0:
        assert after.value <= before.value + 1e-9 * max(1.0, abs(before.value))
    else:  # a negative margin turns every revenue into a loss: more control revenue, less loss
        assert after.value >= before.value - 1e-9 * max(1.0, abs(before.value))


# --- minimum detectable lift ----------------------------------------------------------------


def _statsmodels_mde(p, n_t, n_c):
    """The detectable lift by statsmodels: Cohen's h solved for power 0.8 at alpha 0.05."""
    from statsmodels.stats.power import NormalIndPower

    h = NormalIndPower().solve_power(effect_size=None, nobs1=n_t, alpha=0.05, power=0.8, ratio=n_c / n_t)
    return math.sin(math.asin(math.sqrt(p)) + h / 2) ** 2 - p


def test_minimum_detectable_lift_of_1000_against_1000_at_10_percent():
    # h = (1.96 + 0.8416) x sqrt(2 / 1000) = 0.1253; sin^2(asin(sqrt(0.1)) + h / 2) = 0.1406:
    # about 4.1 pp. The shortcut (1.96 + 0.8416) x sqrt(2 x 0.1 x 0.9 / 1000) = 3.8 pp takes the
    # control's variance for both groups and has only about 74% power
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    r = minimum_detectable_lift(0.10, 1000, 1000)
    assert r.value == pytest.approx(_statsmodels_mde(0.10, 1000, 1000), abs=1e-5)
    assert r.value == pytest.approx(0.0406, abs=5e-5)
    assert r.components["detectable_rate"] == pytest.approx(0.1406, abs=5e-5)
    power = NormalIndPower().power(proportion_effectsize(0.10 + r.value, 0.10), 1000, 0.05, ratio=1.0)
    assert power == pytest.approx(0.8, abs=1e-4)
    shortcut = 0.0376
    assert NormalIndPower().power(proportion_effectsize(0.10 + shortcut, 0.10), 1000, 0.05) < 0.75


@pytest.mark.parametrize("p, n_t, n_c", [(0.0588, 468, 51), (0.5, 200, 800), (0.0, 300, 300)])
def test_minimum_detectable_lift_agrees_with_statsmodels(p, n_t, n_c):
    assert minimum_detectable_lift(p, n_t, n_c).value == pytest.approx(
        _statsmodels_mde(p, n_t, n_c), abs=1e-5
    )


def test_larger_groups_detect_smaller_lifts():
    sizes = [100, 400, 1600, 6400]
    lifts = [minimum_detectable_lift(0.1, n, n).value for n in sizes]
    assert lifts == sorted(lifts, reverse=True)


def test_minimum_detectable_lift_undefined_cases():
    with pytest.warns(MetricUndefinedWarning, match="the control group is empty"):
        assert math.isnan(minimum_detectable_lift(0.1, 100, 0).value)
    with pytest.warns(MetricUndefinedWarning, match="not even a treated conversion rate of 100%"):
        r = minimum_detectable_lift(0.0, 2, 1)
    assert math.isnan(r.value) and "2 treated and 1 control" in r.reason


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((1.2, 100, 100), {}, r"`control_rate` \(1.2\) must be <= 1"),
        ((0.1, -1, 100), {}, r"`treated_n` \(-1\) must be a finite number >= 0"),
        ((0.1, 100, 100), {"power": 1.0}, r"`power` \(1.0\) must lie strictly between 0 and 1"),
        ((0.1, 100, 100), {"alpha": 0}, r"`alpha` \(0\) must lie strictly between 0 and 1"),
    ],
)
def test_minimum_detectable_lift_rejects(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        minimum_detectable_lift(*args, **kwargs)

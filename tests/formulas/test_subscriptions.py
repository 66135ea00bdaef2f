"""MRR movements, quick ratio and ARPA against hand-worked values and the bridge identity."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrics_lib.core.results import MetricUndefinedWarning
from metrics_lib.formulas.retention import gross_revenue_retention, net_revenue_retention
from metrics_lib.formulas.subscriptions import arpa, mrr_movements, quick_ratio

# five customers: kept and grew, churned, new, came back, kept and shrank
START = [100.0, 50.0, 0.0, 0.0, 80.0]
END = [120.0, 0.0, 30.0, 40.0, 60.0]
BEFORE = [True, True, False, True, True]


def test_each_customer_makes_one_movement():
    m = mrr_movements(START, END, BEFORE)
    assert (m.new, m.expansion, m.reactivation, m.contraction, m.churned) == (30, 20, 40, 20, 50)
    # 230 + 30 + 20 + 40 - 20 - 50 = 250
    assert (m.start, m.end, m.bridged_end) == (230, 250, 250)


def test_movements_agree_with_revenue_retention():
    m = mrr_movements(START, END, BEFORE)
    # NRR = (230 + 20 - 20 - 50) / 230; GRR = (230 - 50 - 20) / 230
    assert net_revenue_retention(m.start, m.expansion, m.contraction, m.churned).value == pytest.approx(
        180 / 230
    )
    assert gross_revenue_retention(m.start, m.churned, m.contraction).value == pytest.approx(160 / 230)


def test_a_customer_paying_nothing_at_either_snapshot_moves_nothing():
    m = mrr_movements([0.0, 10.0], [0.0, 10.0], [True, True])
    assert (m.new, m.expansion, m.reactivation, m.contraction, m.churned) == (0, 0, 0, 0, 0)


amounts = st.lists(
    st.tuples(
        st.sampled_from([0.0, 0.0, 12.5, 99.99, 250.0, 1_000.0]),
        st.sampled_from([0.0, 0.0, 12.5, 99.99, 250.0, 1_000.0]),
        st.booleans(),
    ),
    max_size=30,
)


@given(amounts)
def test_the_movements_bridge_start_to_end(rows):
    m0, m1, before = (list(c) for c in zip(*rows)) if rows else ([], [], [])
    m = mrr_movements(m0, m1, before)
    assert m.bridged_end == pytest.approx(m.end, abs=1e-6)
    assert min(m.new, m.expansion, m.reactivation, m.contraction, m.churned) >= 0


def test_movements_reject_bad_input():
    with pytest.raises(ValueError, match=r"must have one value per customer"):
        mrr_movements([1.0], [1.0, 2.0], [True])
    with pytest.raises(ValueError, match=r"`end_mrr` must be finite amounts >= 0; found \[-5.0\]"):
        mrr_movements([1.0], [-5.0], [True])


def test_quick_ratio_by_hand():
    # (3,000 + 1,000 + 500) / (500 + 1,000) = 3
    r = quick_ratio(3_000, 1_000, 500, 500, 1_000)
    assert r.value == pytest.approx(3.0)
    assert (r.numerator, r.denominator, r.unit) == (4_500, 1_500, "ratio")


def test_quick_ratio_without_losses_is_undefined_not_infinite():
    with pytest.warns(MetricUndefinedWarning, match="no MRR was lost"):
        r = quick_ratio(3_000, 0, 0, 0, 0)
    assert math.isnan(r.value) and r.numerator == 3_000


def test_quick_ratio_rejects_a_negative_amount():
    with pytest.raises(ValueError, match=r"`churned_mrr` \(-1\) must be a finite number >= 0"):
        quick_ratio(1, 1, 1, 1, -1)


def test_arpa_by_hand():
    # accounts paying 150, 60, 40, 90, 35: mean 75, squares of deviations 8,900 -> std sqrt(2,225)
    values = np.array([150.0, 60.0, 40.0, 90.0, 35.0])
    r = arpa(values.sum(), 5, mrr_std=values.std(ddof=1))
    assert r.value == 75.0 and r.n == 5 and r.unit == "currency"
    half = 2.776445 * math.sqrt(2_225) / math.sqrt(5)  # t(0.975, 4)
    assert (r.ci.low, r.ci.high) == pytest.approx((75 - half, 75 + half), rel=1e-5)


def test_arpa_without_accounts_is_undefined():
    with pytest.warns(MetricUndefinedWarning, match="no account pays MRR"):
        assert math.isnan(arpa(0, 0).value)
    with pytest.raises(ValueError, match=r"`accounts` \(2.5\) must be a whole number"):
        arpa(10, 2.5)


def test_arpa_interval_is_truncated_at_zero():
    # two accounts paying 100 and 500: mean 300, s = sqrt(2 * 200^2), s / sqrt(2) = 200,
    # 300 +- 12.7062 * 200 = [-2241.24, 2841.24]; an MRR cannot be negative, so the low bound is 0.
    r = arpa(600, 2, mrr_std=math.sqrt(2 * 200**2))
    assert r.value == 300.0
    assert r.ci.low == 0.0
    assert r.ci.high == pytest.approx(300 + 12.706204736 * 200)

"""Hand-worked checks of the customer service formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrics_lib.core.results import MetricUndefinedWarning, RateResult
from metrics_lib.formulas.service import (
    TimeSummary,
    first_contact_resolution,
    response_time_summary,
    response_within_target,
    unanswered_share,
)


def test_first_contact_resolution():
    r = first_contact_resolution(72, 90)
    assert r.value == 0.8
    assert (r.numerator, r.denominator) == (72, 90)


def test_first_contact_resolution_no_resolved_tickets():
    with pytest.warns(MetricUndefinedWarning, match="first contact resolution is undefined"):
        r = first_contact_resolution(0, 0)
    assert math.isnan(r.value)


def test_first_contact_resolution_rejects_numerator_above_denominator():
    with pytest.raises(ValueError, match=r"`resolved_in_one_contact` \(5\) cannot exceed `resolved` \(4\)"):
        first_contact_resolution(5, 4)


def test_response_time_summary_hand_example():
    # Sorted: 0.5 1 1.5 2 3 4 5 6 8 10. p90 at position 0.9 * 9 = 8.1: 8 + 0.1 * (10 - 8).
    s = response_time_summary([10, 0.5, 3, 1, 8, 1.5, 6, 2, 5, 4])
    assert isinstance(s, TimeSummary)
    assert s.n == 10
    assert s.median == 3.5 and s.value == 3.5
    assert s.mean == pytest.approx(4.1)
    assert s.p90 == pytest.approx(8.2)
    assert isinstance(s.within_target, RateResult)
    assert (s.within_target.numerator, s.within_target.denominator) == (4, 10)
    assert (s.ci.low, s.ci.high) == (1.0, 8.0)  # order statistics 2 and 9
    assert s.quantity == "first response time" and s.target_hours == 2.0


def test_target_is_inclusive():
    s = response_time_summary([1.0, 2.0, 3.0], target_hours=2.0)
    assert s.within_target.value == pytest.approx(2 / 3)


def test_same_function_serves_resolution_time():
    s = response_time_summary([20.0, 30.0, 50.0], target_hours=24, quantity="resolution time")
    assert s.quantity == "resolution time"
    assert s.median == 30.0
    assert s.within_target.value == pytest.approx(1 / 3)


def test_missing_times_are_left_out():
    s = response_time_summary([1.0, np.nan, 3.0])
    assert s.n == 2 and s.mean == 2.0


def test_no_times_gives_nan_and_reason_naming_quantity():
    with pytest.warns(MetricUndefinedWarning, match="resolution time summary is undefined"):
        s = response_time_summary([], quantity="resolution time")
    assert math.isnan(s.value) and math.isnan(s.p90) and math.isnan(s.mean)
    assert math.isnan(s.within_target.value)
    assert s.reason == "resolution time summary is undefined: no times"


def test_single_time():
    s = response_time_summary([1.5])
    assert (s.median, s.mean, s.p90) == (1.5, 1.5, 1.5)
    assert s.within_target.value == 1.0


def test_response_time_summary_errors():
    with pytest.raises(ValueError, match="`hours` contains -1"):
        response_time_summary([1.0, -1.0])
    with pytest.raises(ValueError, match=r"`target_hours` \(0\) must be > 0"):
        response_time_summary([1.0], target_hours=0)
    with pytest.raises(ValueError, match="`quantity`"):
        response_time_summary([1.0], quantity="")


def test_to_dict_is_plain():
    d = response_time_summary([1.0, 3.0]).to_dict()
    assert d["median"] == 2.0
    assert d["within_target"]["value"] == 0.5


@given(st.lists(st.floats(0, 1e4, allow_nan=False), min_size=1, max_size=60), st.floats(0.01, 100))
def test_summary_laws(hours, target):
    s = response_time_summary(hours, target_hours=target)
    assert 0.0 <= s.within_target.value <= 1.0
    assert min(hours) <= s.median <= s.p90 <= max(hours)
    assert min(hours) - 1e-9 <= s.mean <= max(hours) + 1e-9


NAN = float("nan")


def test_unanswered_tickets_older_than_the_target_are_misses():
    # 10 tickets: 6 answered within 2 h (2.0 itself is within), 2 answered later, 2 never answered
    # that have waited 5 h and 40 h -> 6 / (8 answered + 2 overdue) = 60%
    response = [0.25, 0.5, 1.0, 1.0, 1.5, 2.0, 3.0, 26.0, NAN, NAN]
    waited = [NAN] * 8 + [5.0, 40.0]
    r = response_within_target(response, waited, target_hours=2.0)
    assert (r.value, r.numerator, r.denominator) == (0.6, 6, 10)
    assert unanswered_share(2, 10).value == 0.2
    # ignoring the unanswered tickets, as before, would have said 6 / 8 = 75%
    assert response_time_summary([x for x in response if x == x]).within_target.value == 0.75


def test_an_unanswered_ticket_within_the_target_is_not_yet_a_miss():
    # an 11th ticket, unanswered and 1.5 h old (2.0 h old is still not a miss): in neither count
    for age in (1.5, 2.0):
        r = response_within_target([1.0, 3.0, NAN, NAN], [NAN, NAN, 5.0, age])
        assert (r.numerator, r.denominator) == (1, 3)
    r = response_within_target([1.0, 3.0, NAN, NAN], [NAN, NAN, 5.0, 2.01])
    assert (r.numerator, r.denominator) == (1, 4)
    # waiting hours of answered tickets are ignored
    assert response_within_target([1.0], [99.0]).value == 1.0


def test_response_within_target_undefined_and_errors():
    with pytest.warns(MetricUndefinedWarning, match="share answered within target is undefined"):
        r = response_within_target([NAN], [1.0])
    assert math.isnan(r.value) and r.denominator == 0
    with pytest.raises(ValueError, match="must have the same length"):
        response_within_target([1.0, 2.0], [NAN])
    with pytest.raises(ValueError, match="`unanswered_hours` is missing at position 1, an unanswered ticket"):
        response_within_target([1.0, NAN], [NAN, NAN])
    with pytest.raises(ValueError, match="`response_hours` contains -1; hours must be >= 0"):
        response_within_target([-1.0], [NAN])
    with pytest.raises(ValueError, match=r"`target_hours` \(0\) must be > 0"):
        response_within_target([1.0], [NAN], target_hours=0)


def test_unanswered_share_counts_and_undefined():
    r = unanswered_share(3, 11)
    assert (r.numerator, r.denominator) == (3, 11) and r.value == pytest.approx(3 / 11)
    with pytest.warns(MetricUndefinedWarning):
        assert math.isnan(unanswered_share(0, 0).value)
    with pytest.raises(ValueError, match=r"`unanswered` \(4\) cannot exceed `tickets` \(3\)"):
        unanswered_share(4, 3)


def test_mean_response_time_interval_is_truncated_at_zero():
    # [0.5, 3.5] h: mean 2 h, t interval 2 +- 12.7062 * 1.5 = [-17.06, 21.06] h; times cannot be
    # negative, so the lower bound is 0.
    r = response_time_summary([0.5, 3.5])
    assert r.mean == 2.0
    assert r.mean_ci.low == 0.0
    assert r.mean_ci.high == pytest.approx(2 + 12.706204736 * 1.5)

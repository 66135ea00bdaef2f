"""Hand-worked checks of the advocacy and engagement formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrics_lib.core.results import MetricUndefinedWarning
from metrics_lib.formulas.advocacy import (
    bounce_rate,
    referral_rate,
    referrals_per_referrer,
    review_summary,
    web_engagement_summary,
)


def test_referral_rate():
    r = referral_rate(12, 80)
    assert r.value == 0.15 and r.denominator == 80


def test_referral_rate_no_new_customers():
    r = referral_rate(0, 0)
    assert math.isnan(r.value) and "new_customers is 0" in r.reason


def test_referral_rate_rejects_more_referred_than_new():
    with pytest.raises(
        ValueError, match=r"`referred_new_customers` \(9\) cannot exceed `new_customers` \(8\)"
    ):
        referral_rate(9, 8)


def test_referrals_per_referrer():
    r = referrals_per_referrer(30, 20)
    assert r.value == 1.5 and (r.numerator, r.denominator) == (30, 20)


def test_referrals_per_referrer_no_referrers():
    with pytest.warns(MetricUndefinedWarning, match="referrers is 0"):
        r = referrals_per_referrer(0, 0)
    assert math.isnan(r.value)


def test_referrals_per_referrer_rejects_negative():
    with pytest.raises(ValueError, match="`referrals`"):
        referrals_per_referrer(-1, 3)


def test_review_summary_hand_example():
    s = review_summary([5, 4, 3, 5, 1])
    assert s.volume == 5
    assert s.value == 3.6 and s.mean.value == 3.6
    assert (s.positive.numerator, s.positive.denominator) == (3, 5)
    assert s.positive.value == 0.6
    assert s.ci == s.mean.ci


def test_review_summary_other_scale_and_threshold():
    s = review_summary([10, 9, 8, 7], scale=(1, 10), positive_threshold=9)
    assert s.positive.value == 0.5
    assert s.scale == (1.0, 10.0)


def test_review_summary_drops_missing_ratings():
    s = review_summary([5, np.nan, 3])
    assert s.volume == 2 and s.value == 4.0


def test_review_summary_empty():
    s = review_summary([])
    assert s.volume == 0
    assert math.isnan(s.value) and math.isnan(s.positive.value)
    assert s.reason == "review summary is undefined: no ratings"


def test_review_summary_errors():
    with pytest.raises(ValueError, match="`ratings` contains 6; values must be <= 5"):
        review_summary([5, 6])
    with pytest.raises(ValueError, match="`ratings` contains 0; values must be >= 1"):
        review_summary([0, 3])
    with pytest.raises(ValueError, match=r"`positive_threshold` \(7\) must be <= 5"):
        review_summary([5], positive_threshold=7)
    with pytest.raises(ValueError, match="`scale`"):
        review_summary([5], scale=(5, 1))


def test_bounce_rate():
    assert bounce_rate(450, 1000).value == 0.45
    assert math.isnan(bounce_rate(0, 0).value)
    with pytest.raises(ValueError, match=r"`bounces` \(11\) cannot exceed `sessions` \(10\)"):
        bounce_rate(11, 10)


def test_web_engagement_summary_totals():
    w = web_engagement_summary(1000, 3500, 450, 210_000)
    assert w.sessions == 1000 and w.page_views == 3500
    assert w.pages_per_session.value == 3.5
    assert w.average_time_on_page_s.value == 60.0  # 210,000 s / 3,500 views
    assert w.bounce_rate.value == 0.45 and w.value == 0.45


def test_web_engagement_summary_sums_daily_rows_ratio_of_totals():
    w = web_engagement_summary([100, 300], [200, 900], [50, 60], [2_000, 9_000])
    assert w.pages_per_session.value == 1100 / 400
    assert w.average_time_on_page_s.value == 10.0
    assert w.bounce_rate.value == 110 / 400


def test_web_engagement_summary_no_sessions_or_views():
    w = web_engagement_summary(0, 0, 0, 0)
    assert math.isnan(w.value)
    assert math.isnan(w.pages_per_session.value) and "sessions is 0" in w.pages_per_session.reason
    assert math.isnan(w.average_time_on_page_s.value)
    assert "page_views is 0" in w.average_time_on_page_s.reason


def test_web_engagement_summary_errors():
    with pytest.raises(ValueError, match=r"`bounces` \(20\) cannot exceed `sessions` \(10\)"):
        web_engagement_summary(10, 30, 20, 100)
    with pytest.raises(ValueError, match="`page_views`"):
        web_engagement_summary(10, -1, 2, 100)


@given(st.lists(st.integers(1, 5), max_size=40))
def test_review_summary_laws(ratings):
    s = review_summary(ratings)
    assert s.volume == len(ratings)
    if ratings:
        assert 1.0 <= s.value <= 5.0
        assert 0.0 <= s.positive.value <= 1.0


@given(st.integers(0, 10_000), st.integers(0, 10_000))
def test_bounce_and_referral_rates_in_unit_interval(a, b):
    small, large = min(a, b), max(a, b)
    for r in (bounce_rate(small, large), referral_rate(small, large)):
        assert math.isnan(r.value) if large == 0 else 0.0 <= r.value <= 1.0

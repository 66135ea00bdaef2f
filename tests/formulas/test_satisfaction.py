"""CSAT, NPS and CES against hand-worked values (metrics_lib.formulas.satisfaction)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy import stats as sps

from metrics_lib.core.results import MetricUndefinedWarning, NPSResult
from metrics_lib.formulas.satisfaction import (
    CESResult,
    CSATResult,
    ces,
    compare_nps,
    csat,
    csat_from_counts,
    low_sample,
    nps,
    nps_from_counts,
)

Z95 = 1.959963984540054


def wilson(successes, n, z=Z95):
    """Wilson score interval written out from its textbook formula."""
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


# --- CSAT -----------------------------------------------------------------------------------


def test_csat_worked_example():
    r = csat([5, 4, 4, 3, 5, 2, 5, 4, 1, 5])
    assert isinstance(r, CSATResult)
    assert (r.value, r.numerator, r.denominator, r.n) == (0.7, 7, 10, 10)
    assert r.percent == pytest.approx(70.0)
    low, high = wilson(7, 10)
    assert r.ci.low == pytest.approx(low) and r.ci.high == pytest.approx(high)
    assert r.ci.method == "wilson"


def test_csat_mean_has_t_interval():
    scores = [5, 4, 4, 3, 5, 2, 5, 4, 1, 5]
    r = csat(scores)
    mean = 38 / 10
    std = math.sqrt(sum((s - mean) ** 2 for s in scores) / 9)
    half = sps.t.ppf(0.975, 9) * std / math.sqrt(10)
    assert r.mean.value == pytest.approx(3.8)
    assert r.mean.ci.low == pytest.approx(mean - half)
    assert r.mean.ci.high == pytest.approx(mean + half)


def test_csat_ten_point_scale_with_threshold_nine():
    r = csat([9, 10, 7, 8, 10, 3], scale=(1, 10), satisfied_threshold=9)
    assert (r.numerator, r.denominator) == (3, 6)
    assert r.value == 0.5
    assert r.scale == (1, 10) and r.satisfied_threshold == 9


def test_csat_drops_missing_answers():
    r = csat(pd.Series([5, None, 4, np.nan, 1], dtype="Float64"))
    assert (r.numerator, r.denominator) == (2, 3)


def test_csat_single_answer():
    r = csat([2])
    assert r.value == 0.0 and r.n == 1
    assert r.ci.low == 0.0 and r.ci.high == pytest.approx(wilson(0, 1)[1])
    assert r.mean.value == 2.0
    assert math.isnan(r.mean.ci.low) and math.isnan(r.mean.ci.high)


def test_csat_no_answers_is_nan_with_reason():
    with pytest.warns(MetricUndefinedWarning, match="no answers"):
        r = csat([])
    assert math.isnan(r.value) and math.isnan(r.mean.value)
    assert r.n == 0 and "no answers" in r.reason
    assert not r.defined


def test_csat_all_missing_is_nan():
    with pytest.warns(MetricUndefinedWarning, match="CSAT is undefined"):
        r = csat([None, np.nan])
    assert math.isnan(r.value)


def test_csat_result_is_frozen():
    r = csat([5, 4])
    with pytest.raises(AttributeError, match="cannot assign"):
        r.value = 1.0


def test_csat_to_dict_is_plain():
    d = csat([5, 4, 1]).to_dict()
    assert d["numerator"] == 2 and d["ci_low"] < d["value"] < d["ci_high"]
    assert d["mean"]["value"] == pytest.approx(10 / 3)


@pytest.mark.parametrize(
    "scores, match",
    [
        ([5, 6, 4], r"`scores` contains 6, outside the scale 1-5"),
        ([0, 4], r"`scores` contains 0, outside the scale 1-5"),
        ([4.5, 4], r"`scores` contains 4.5; answers must be whole numbers"),
        (["good", 4], r"`scores` must contain numbers only"),
        ("45", r"`scores` \('45'\) must be a sequence of answers"),
        (5, r"`scores` \(5\) must be a sequence of answers"),
    ],
)
def test_csat_rejects_bad_answers(scores, match):
    with pytest.raises(ValueError, match=match):
        csat(scores)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            {"satisfied_threshold": 6},
            r"`satisfied_threshold` \(6\) must be a whole number within the scale 1-5",
        ),
        ({"satisfied_threshold": 3.5}, r"`satisfied_threshold` \(3.5\)"),
        ({"scale": (5, 1)}, r"`scale` \(\(5, 1\)\) must be a pair .* with low < high"),
        ({"scale": 5}, r"`scale` \(5\) must be a pair"),
        ({"confidence_level": 1.5}, r"`confidence_level` \(1.5\) must lie strictly between 0 and 1"),
    ],
)
def test_csat_rejects_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        csat([4, 5], **kwargs)


def test_csat_from_counts():
    r = csat_from_counts(80, 100)
    assert (r.value, r.numerator, r.denominator) == (0.8, 80, 100)
    low, high = wilson(80, 100)
    assert r.ci.low == pytest.approx(low) and r.ci.high == pytest.approx(high)


def test_csat_from_counts_zero_total():
    with pytest.warns(MetricUndefinedWarning, match="CSAT is undefined: total is 0"):
        r = csat_from_counts(0, 0)
    assert math.isnan(r.value) and r.reason == "CSAT is undefined: total is 0"


@pytest.mark.parametrize(
    "args, match",
    [
        ((12, 10), r"`satisfied` \(12\) cannot exceed `total` \(10\)"),
        ((-1, 10), r"`satisfied` \(-1\) must be a finite number >= 0"),
        ((2.5, 10), r"`satisfied` \(2.5\) must be a whole number"),
        ((2, float("nan")), r"`total` \(nan\) must be a finite number >= 0"),
    ],
)
def test_csat_from_counts_rejects(args, match):
    with pytest.raises(ValueError, match=match):
        csat_from_counts(*args)


# --- NPS ------------------------------------------------------------------------------------


def test_nps_from_scores_groups_answers():
    r = nps([10, 9, 9, 8, 7, 6, 3, 10, 9, 0])
    assert isinstance(r, NPSResult)
    assert (r.promoters, r.passives, r.detractors, r.n) == (5, 2, 3, 10)
    assert r.value == 20.0
    assert (r.promoter_share, r.passive_share, r.detractor_share) == (0.5, 0.2, 0.3)


def test_nps_group_boundaries():
    # 6 is a detractor, 7 and 8 passives, 9 a promoter.
    r = nps([6, 7, 8, 9])
    assert (r.detractors, r.passives, r.promoters) == (1, 2, 1)
    assert r.value == 0.0


def test_nps_all_promoters_is_100_and_all_detractors_minus_100():
    top = nps([9, 10, 10])
    bottom = nps([0, 3, 6, 6])
    assert top.value == 100.0 and bottom.value == -100.0
    assert top.variance == 0.0 and bottom.variance == 0.0
    # The Wald interval collapses onto the score when nobody disagrees.
    assert (top.ci.low, top.ci.high) == (100.0, 100.0)
    assert (bottom.ci.low, bottom.ci.high) == (-100.0, -100.0)


def test_nps_only_passives_is_zero():
    r = nps_from_counts(0, 7, 0)
    assert r.value == 0.0 and r.variance == 0.0


def test_nps_wald_interval_by_hand():
    # P = .5, D = .2: NPS 30, variance .7 - .09 = .61, se = sqrt(.61 / 100).
    r = nps_from_counts(50, 30, 20)
    assert r.value == 30.0
    assert r.variance == pytest.approx(0.61)
    half = 100 * Z95 * math.sqrt(0.61 / 100)
    assert half == pytest.approx(15.3079, abs=1e-4)
    assert r.ci.low == pytest.approx(30 - half)
    assert r.ci.high == pytest.approx(30 + half)
    assert (r.ci.level, r.ci.method) == (0.95, "wald")


def test_nps_interval_at_90_percent():
    r = nps_from_counts(50, 30, 20, confidence_level=0.90)
    half = 100 * 1.6448536269514722 * math.sqrt(0.61 / 100)
    assert r.ci.low == pytest.approx(30 - half)
    assert r.ci.level == 0.90


def test_nps_adjusted_wald_by_hand():
    # n' = 103, promoters' = 50.75, detractors' = 20.75.
    r = nps_from_counts(50, 30, 20, method="adjusted_wald")
    p, d = 50.75 / 103, 20.75 / 103
    centre = 100 * (p - d)
    half = 100 * Z95 * math.sqrt(((p + d) - (p - d) ** 2) / 103)
    assert r.value == 30.0  # the reported score stays the observed one
    assert r.ci.low == pytest.approx(centre - half)
    assert r.ci.high == pytest.approx(centre + half)
    assert (round(r.ci.low, 2), round(r.ci.high, 2)) == (14.05, 44.2)
    assert r.ci.method == "adjusted_wald"


def test_nps_adjusted_wald_one_promoter():
    # n' = 4, P' = 1.75 / 4, D' = .75 / 4: centre 25, variance .5625, se .375.
    r = nps_from_counts(1, 0, 0, method="adjusted_wald")
    assert r.value == 100.0
    assert r.ci.low == pytest.approx(25 - 100 * Z95 * 0.375)
    assert r.ci.high == pytest.approx(25 + 100 * Z95 * 0.375)
    assert r.ci.high < 100  # documented: can leave out the observed score at tiny n


def test_nps_interval_is_clipped_to_range():
    # 9 promoters, 1 detractor: NPS 80, variance 1 - .64 = .36, half width 37.2 > 20.
    r = nps_from_counts(9, 0, 1)
    assert r.value == 80.0
    assert r.ci.high == 100.0
    assert r.ci.low == pytest.approx(80 - 100 * Z95 * math.sqrt(0.36 / 10))


def test_nps_from_scores_matches_counts():
    scores = [10, 9, 9, 8, 7, 6, 3, 10, 9, 0]
    assert nps(scores, method="adjusted_wald") == nps_from_counts(5, 2, 3, method="adjusted_wald")


def test_nps_no_answers_is_nan_with_reason():
    with pytest.warns(MetricUndefinedWarning, match="NPS is undefined: no answers"):
        r = nps([])
    assert math.isnan(r.value) and math.isnan(r.ci.low) and r.n == 0
    assert r.reason == "NPS is undefined: no answers"


@pytest.mark.parametrize(
    "scores, match",
    [
        ([10, 11], r"`scores` contains 11, outside the scale 0-10"),
        ([-1, 5], r"`scores` contains -1, outside the scale 0-10"),
        ([8.5, 9], r"`scores` contains 8.5; answers must be whole numbers"),
    ],
)
def test_nps_rejects_bad_answers(scores, match):
    with pytest.raises(ValueError, match=match):
        nps(scores)


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((-1, 0, 3), {}, r"`promoters` \(-1\) must be a finite number >= 0"),
        ((1, 2.5, 3), {}, r"`passives` \(2.5\) must be a whole number"),
        ((1, 2, True), {}, r"`detractors` \(True\) must be a whole number >= 0, not a boolean"),
        ((1, 2, 3), {"method": "wilson"}, r"`method` \('wilson'\) must be one of 'wald', 'adjusted_wald'"),
        ((1, 2, 3), {"confidence_level": 0}, r"`confidence_level` \(0\) must lie strictly between"),
    ],
)
def test_nps_from_counts_rejects(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        nps_from_counts(*args, **kwargs)


def test_compare_nps_z_test_by_hand():
    cur, prev = nps_from_counts(50, 30, 20), nps_from_counts(40, 30, 30)
    c = compare_nps(cur, prev)
    var_cur = (0.5 + 0.2) - 0.3**2  # .61
    var_prev = (0.4 + 0.3) - 0.1**2  # .69
    se = math.sqrt(var_cur / 100 + var_prev / 100)
    z = (0.30 - 0.10) / se
    assert z == pytest.approx(1.7541, abs=1e-4)
    assert c.value == 20.0 and (c.current, c.previous) == (30.0, 10.0)
    assert c.statistic == pytest.approx(z)
    assert c.p_value == pytest.approx(2 * (1 - sps.norm.cdf(z)))
    assert not c.significant
    assert c.ci.low == pytest.approx(20 - 100 * Z95 * se)
    assert c.ci.high == pytest.approx(20 + 100 * Z95 * se)


def test_compare_nps_large_samples_are_significant():
    c = compare_nps(nps_from_counts(500, 300, 200), nps_from_counts(400, 300, 300))
    assert c.p_value < 0.001 and c.significant


def test_compare_nps_uses_alpha():
    cur, prev = nps_from_counts(50, 30, 20), nps_from_counts(40, 30, 30)
    assert compare_nps(cur, prev, alpha=0.10).significant
    assert not compare_nps(cur, prev, alpha=0.05).significant


def test_compare_nps_with_an_empty_period():
    empty = NPSResult(
        float("nan"),
        0,
        0,
        0,
        0,
        float("nan"),
        float("nan"),
        float("nan"),
        reason="NPS is undefined: no answers",
    )
    with pytest.warns(MetricUndefinedWarning, match="a period has no answers"):
        c = compare_nps(nps_from_counts(5, 1, 1), empty)
    assert math.isnan(c.value) and math.isnan(c.p_value) and c.reason


def test_compare_nps_without_variance():
    same = compare_nps(nps_from_counts(5, 0, 0), nps_from_counts(9, 0, 0))
    assert (same.value, same.p_value, same.statistic) == (0.0, 1.0, 0.0)
    with pytest.warns(MetricUndefinedWarning, match="neither period varies"):
        apart = compare_nps(nps_from_counts(5, 0, 0), nps_from_counts(0, 0, 5))
    assert apart.value == 200.0 and math.isnan(apart.p_value) and not apart.significant


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((30.0, nps_from_counts(1, 1, 1)), {}, r"`current` \(float\) must be an NPSResult"),
        ((nps_from_counts(1, 1, 1), [9, 10]), {}, r"`previous` \(list\) must be an NPSResult"),
        (
            (nps_from_counts(1, 1, 1), nps_from_counts(1, 1, 1)),
            {"alpha": 5},
            r"`alpha` \(5\) must lie strictly",
        ),
    ],
)
def test_compare_nps_rejects(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        compare_nps(*args, **kwargs)


# --- CES ------------------------------------------------------------------------------------


def test_ces_mean_and_easy_share():
    r = ces([7, 6, 5, 3, 2, 6, 7, 4])
    assert isinstance(r, CESResult)
    assert r.value == 5.0 and r.n == 8 and r.median == 5.5
    assert (r.easy.numerator, r.easy.denominator, r.easy.value) == (5, 8, 0.625)
    std = np.std([7, 6, 5, 3, 2, 6, 7, 4], ddof=1)
    half = sps.t.ppf(0.975, 7) * std / math.sqrt(8)
    assert r.ci.low == pytest.approx(5 - half) and r.ci.high == pytest.approx(5 + half)
    low, high = wilson(5, 8)
    assert r.easy.ci.low == pytest.approx(low) and r.easy.ci.high == pytest.approx(high)


def test_ces_lower_is_easier():
    r = ces([1, 2, 5, 4], scale=(1, 5), higher_is_easier=False, easy_threshold=2)
    assert r.easy.numerator == 2 and r.value == 3.0
    assert not r.higher_is_easier


def test_ces_zero_to_ten_scale():
    r = ces([0, 10, 8, 9], scale=(0, 10), easy_threshold=8)
    assert r.easy.value == 0.75 and r.value == 6.75


def test_ces_single_answer():
    r = ces([6])
    assert r.value == 6.0 and r.easy.value == 1.0 and math.isnan(r.ci.low)


def test_ces_no_answers():
    with pytest.warns(MetricUndefinedWarning, match="CES is undefined: no answers"):
        r = ces([])
    assert math.isnan(r.value) and math.isnan(r.easy.value) and r.reason


@pytest.mark.parametrize(
    "scores, kwargs, match",
    [
        ([8], {}, r"`scores` contains 8, outside the scale 1-7"),
        ([3], {"easy_threshold": 0}, r"`easy_threshold` \(0\) must be a whole number within the scale 1-7"),
        ([3], {"higher_is_easier": "yes"}, r"`higher_is_easier` \('yes'\) must be True or False"),
    ],
)
def test_ces_rejects(scores, kwargs, match):
    with pytest.raises(ValueError, match=match):
        ces(scores, **kwargs)


# --- low sample -----------------------------------------------------------------------------


def test_low_sample_threshold():
    assert low_sample(29) and not low_sample(30)
    assert low_sample(99, threshold=100)
    assert low_sample(nps_from_counts(5, 5, 5)) and not low_sample(csat([5] * 40))


def test_low_sample_rejects_negative():
    with pytest.raises(ValueError, match=r"`n` \(-3\) must be a finite number >= 0"):
        low_sample(-3)


# --- properties -----------------------------------------------------------------------------

counts = st.integers(min_value=0, max_value=10_000)


@given(counts, counts, counts)
def test_nps_in_range_for_any_counts(p, m, d):
    assume(p + m + d > 0)
    r = nps_from_counts(p, m, d)
    assert -100.0 <= r.value <= 100.0
    assert -100.0 <= r.ci.low <= r.value <= r.ci.high <= 100.0
    assert 0.0 <= r.variance <= 1.0
    assert r.promoter_share + r.passive_share + r.detractor_share == pytest.approx(1.0)


@given(counts, counts, counts)
def test_adjusted_wald_interval_in_range(p, m, d):
    assume(p + m + d > 0)
    r = nps_from_counts(p, m, d, method="adjusted_wald")
    assert -100.0 <= r.ci.low <= r.ci.high <= 100.0


@given(st.lists(st.integers(min_value=0, max_value=10), min_size=1, max_size=200))
def test_nps_from_scores_agrees_with_counts(scores):
    r = nps(scores)
    p = sum(s >= 9 for s in scores)
    d = sum(s <= 6 for s in scores)
    assert r.value == pytest.approx(100 * (p - d) / len(scores))
    assert r == nps_from_counts(p, len(scores) - p - d, d)


@given(
    st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=200),
    st.integers(min_value=1, max_value=5),
)
def test_csat_share_in_unit_interval(scores, threshold):
    r = csat(scores, satisfied_threshold=threshold)
    assert 0.0 <= r.value <= 1.0
    assert r.ci.low <= r.value <= r.ci.high
    assert r.value == pytest.approx(sum(s >= threshold for s in scores) / len(scores))
    assert 1.0 <= r.mean.value <= 5.0


@given(counts.filter(bool), counts.filter(bool), st.data())
def test_compare_nps_is_antisymmetric(n1, n2, data):
    p1 = data.draw(st.integers(0, n1))
    d1 = data.draw(st.integers(0, n1 - p1))
    p2 = data.draw(st.integers(0, n2))
    d2 = data.draw(st.integers(0, n2 - p2))
    a, b = nps_from_counts(p1, n1 - p1 - d1, d1), nps_from_counts(p2, n2 - p2 - d2, d2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MetricUndefinedWarning)
        ab, ba = compare_nps(a, b), compare_nps(b, a)
    assert ab.value == pytest.approx(-ba.value)
    if not math.isnan(ab.p_value):
        assert ab.p_value == pytest.approx(ba.p_value)
        assert 0.0 <= ab.p_value <= 1.0
        assert ab.ci.contains(ab.value)


def test_mean_score_interval_stays_on_the_scale():
    # answers 1 and 5: mean 3, s / sqrt(2) = 2, 3 +- 25.41 -> truncated to the 1-5 scale
    ci = csat([1, 5]).mean.ci
    assert (ci.low, ci.high) == (1.0, 5.0)
    ci = ces([1, 7]).ci
    assert (ci.low, ci.high) == (1.0, 7.0)

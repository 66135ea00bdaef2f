"""Hand-worked checks of the health score, its bands, the healthy share and AUC."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrics_lib.core.results import MetricUndefinedWarning
from metrics_lib.formulas.health import (
    DEFAULT_HEALTH_WEIGHTS,
    RISK_BANDS,
    auc,
    band_cut_points,
    effective_weights,
    health_band,
    health_score,
    healthy_share,
)

Z_975 = 1.959963984540054


# --- health score ---------------------------------------------------------------------------


def test_default_weights_sum_to_one():
    assert sum(DEFAULT_HEALTH_WEIGHTS.values()) == pytest.approx(1.0)
    assert set(DEFAULT_HEALTH_WEIGHTS) == {"recency", "nps", "support_load", "resolution", "renewal"}


def test_health_score_hand_example():
    frame = pd.DataFrame(
        {
            "recency": [1.0, 0.0, 0.0, 1.0],
            "nps": [1.0, 0.0, 0.5, 1.0],
            "support_load": [1.0, 0.0, 0.5, 1.0],
            "resolution": [1.0, 0.0, 0.5, 1.0],
            "renewal": [1.0, 0.0, 1.0, 0.0],
        },
        index=pd.Index(["best", "worst", "mixed", "lapsed"], name="customer_id"),
    )
    s = health_score(frame)
    assert s.name == "health_score"
    assert list(s.index) == ["best", "worst", "mixed", "lapsed"]
    assert s["best"] == 10.0 and s["worst"] == 1.0
    # mixed: 0.25*0 + 0.2*0.5 + 0.15*0.5 + 0.15*0.5 + 0.25*1 = 0.5 -> 1 + 4.5
    assert s["mixed"] == pytest.approx(5.5)
    # lapsed: 1 - 0.25 (renewal 0) = 0.75 -> 1 + 6.75
    assert s["lapsed"] == pytest.approx(7.75)


def test_health_score_renormalises_over_present_components():
    frame = pd.DataFrame({"recency": [1.0, np.nan], "nps": [np.nan, np.nan], "renewal": [0.0, 1.0]})
    s = health_score(frame)
    # Row 0: (0.25 * 1 + 0.25 * 0) / 0.5 = 0.5 -> 5.5; row 1: only renewal -> 10.
    assert s.iloc[0] == pytest.approx(5.5)
    assert s.iloc[1] == 10.0


def test_health_score_row_without_components_is_nan():
    s = health_score(pd.DataFrame({"recency": [np.nan, 0.5]}))
    assert math.isnan(s.iloc[0]) and s.iloc[1] == 5.5


def test_health_score_custom_weights():
    frame = pd.DataFrame({"usage": [1.0], "nps": [0.0]})
    s = health_score(frame, weights={"usage": 3, "nps": 1})
    assert s.iloc[0] == pytest.approx(1 + 9 * 0.75)


def test_health_score_errors():
    with pytest.raises(ValueError, match=r"unknown column\(s\) \['customer_id'\]"):
        health_score(pd.DataFrame({"customer_id": [1], "nps": [0.5]}))
    with pytest.raises(ValueError, match=r"`weights` names unknown component\(s\) \['nsp'\]"):
        health_score(pd.DataFrame({"nps": [0.5]}), weights={"nsp": 1.0})
    with pytest.raises(ValueError, match=r"have no entry in `weights`"):
        health_score(pd.DataFrame({"nps": [0.5], "recency": [1.0]}), weights={"nps": 1.0})
    with pytest.raises(ValueError, match=r"`weights\['nps'\]` \(-1\) must be >= 0"):
        health_score(pd.DataFrame({"nps": [0.5]}), weights={"nps": -1})
    with pytest.raises(ValueError, match="are all 0"):
        health_score(pd.DataFrame({"nps": [0.5]}), weights={"nps": 0})
    with pytest.raises(
        ValueError, match=r"`components\['nps'\]` contains 8; components must be scaled to \[0, 1\]"
    ):
        health_score(pd.DataFrame({"nps": [8.0]}))
    with pytest.raises(ValueError, match="must be a pandas DataFrame"):
        health_score([0.5, 0.5])


@given(
    st.lists(st.tuples(*[st.one_of(st.none(), st.floats(0, 1)) for _ in range(5)]), min_size=1, max_size=20),
    st.lists(st.floats(0, 10), min_size=5, max_size=5).filter(lambda w: sum(w) > 0),
)
def test_health_score_always_within_1_and_10(rows, weights):
    names = list(DEFAULT_HEALTH_WEIGHTS)
    frame = pd.DataFrame([[np.nan if v is None else v for v in r] for r in rows], columns=names)
    for w in (None, dict(zip(names, weights))):
        s = health_score(frame, weights=w).dropna()
        assert ((s >= 1 - 1e-12) & (s <= 10 + 1e-12)).all()


# --- bands ----------------------------------------------------------------------------------


def test_health_band_boundaries():
    assert health_band(3.999) == "at risk"
    assert health_band(4.0) == "neutral"
    assert health_band(6.999) == "neutral"
    assert health_band(7.0) == "healthy"
    assert health_band(10) == "healthy"
    assert health_band(float("nan")) is None


def test_health_band_series_keeps_index_and_order():
    scores = pd.Series([8.0, 2.0, np.nan, 5.0], index=["a", "b", "c", "d"])
    bands = health_band(scores)
    assert list(bands.index) == ["a", "b", "c", "d"]
    assert bands.cat.ordered and list(bands.cat.categories) == ["at risk", "neutral", "healthy"]
    assert bands.tolist()[:2] == ["healthy", "at risk"] and pd.isna(bands["c"])


def test_health_band_custom_cuts_and_errors():
    assert health_band(6.0, healthy_from=6.0) == "healthy"
    with pytest.raises(ValueError, match="`score` contains 11"):
        health_band(11)
    with pytest.raises(ValueError, match="cannot exceed `healthy_from`"):
        health_band(5, at_risk_below=8, healthy_from=7)


def test_health_band_labels_for_calibrated_bands():
    bands = health_band(pd.Series([7.0, 8.0, 9.0]), at_risk_below=7.5, healthy_from=9.0, labels=RISK_BANDS)
    assert bands.tolist() == ["higher risk", "middle", "lower risk"]
    assert list(bands.cat.categories) == ["higher risk", "middle", "lower risk"]
    with pytest.raises(ValueError, match="`labels` .* must be three different band names"):
        health_band(5.0, labels=("low", "low", "high"))


def test_band_cut_points_are_the_calibration_terciles():
    # 1..10: the 1/3 quantile is 1 + 9/3 = 4, the 2/3 quantile 1 + 18/3 = 7 (linear interpolation)
    lo, hi = band_cut_points(list(range(1, 11)), min_customers=10)
    assert (lo, hi) == pytest.approx((4.0, 7.0))
    # quartiles of 1..9 (positions 2 and 6): 3 and 7; NaN is ignored
    assert band_cut_points([*range(1, 10), np.nan], quantiles=(0.25, 0.75), min_customers=9) == (3.0, 7.0)


def test_band_cut_points_need_enough_calibration_scores():
    lo, hi = band_cut_points([5.0] * 29)
    assert math.isnan(lo) and math.isnan(hi)
    assert band_cut_points([5.0] * 30) == (5.0, 5.0)
    with pytest.raises(ValueError, match="must be two numbers 0 < q1 <= q2 < 1"):
        band_cut_points([5.0], quantiles=(0.7, 0.3))
    with pytest.raises(ValueError, match="`calibration_scores` contains 11"):
        band_cut_points([11.0])


def test_effective_weights_renormalise_over_the_components_present():
    # without renewal (0.25) the others share 1: 0.25 / 0.75, 0.20 / 0.75, 0.15 / 0.75 twice
    w = effective_weights(pd.DataFrame(columns=["recency", "nps", "support_load", "resolution"]))
    assert w == pytest.approx({"recency": 1 / 3, "nps": 4 / 15, "support_load": 0.2, "resolution": 0.2})
    assert effective_weights(["recency", "renewal"]) == {"recency": 0.5, "renewal": 0.5}
    assert effective_weights(["usage", "nps"], weights={"usage": 3, "nps": 1}) == {"usage": 0.75, "nps": 0.25}
    with pytest.raises(ValueError, match=r"unknown column\(s\) \['usage'\]"):
        effective_weights(["usage"])


def test_healthy_share_counts_seven_or_more_with_wilson():
    # 10 scored customers, 7 of them at 7 or more (7.0 itself counts); NaN is not scored
    scores = [9.5, 8.0, 7.0, 7.0, 7.2, 9.9, 10.0, 6.99, 3.0, 1.0, np.nan]
    r = healthy_share(scores)
    assert (r.value, r.numerator, r.denominator, r.n) == (0.7, 7, 10, 10)
    # Wilson: (p + z^2/2n) / (1 + z^2/n) +- z sqrt(p(1-p)/n + z^2/4n^2) / (1 + z^2/n)
    z, n, p = Z_975, 10, 0.7
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert (r.ci.low, r.ci.high) == pytest.approx((centre - half, centre + half))
    assert healthy_share([6.0, 8.0], healthy_from=6.0).value == 1.0


def test_healthy_share_undefined_and_errors():
    with pytest.warns(MetricUndefinedWarning):
        r = healthy_share([np.nan])
    assert math.isnan(r.value) and r.reason == "healthy customer share is undefined: scored customers is 0"
    with pytest.raises(ValueError, match="`scores` contains 0.5"):
        healthy_share([0.5])


# --- AUC ------------------------------------------------------------------------------------


def test_auc_hand_case_with_tie():
    # Stayers score 2 and 3, churners 1 and 2. Pairs (stayer, churner):
    # (2,1)=1, (2,2)=1/2, (3,1)=1, (3,2)=1 -> 3.5 / 4.
    r = auc([1, 2, 2, 3], [1, 1, 0, 0])
    assert r.value == 0.875
    assert (r.numerator, r.denominator, r.n) == (3.5, 4.0, 4)
    assert r.components == {"stayed": 2.0, "churned": 2.0}
    a = 0.875
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    se = math.sqrt((a * (1 - a) + (2 - 1) * (q1 - a * a) + (2 - 1) * (q2 - a * a)) / 4)
    assert r.ci.low == pytest.approx(a - Z_975 * se)
    assert r.ci.high == 1.0  # clipped


def test_auc_extremes_and_no_signal():
    assert auc([5, 6, 1, 2], [0, 0, 1, 1]).value == 1.0
    assert auc([1, 2, 5, 6], [0, 0, 1, 1]).value == 0.0
    assert auc([3, 3, 3, 3], [0, 1, 0, 1]).value == 0.5


def test_auc_accepts_booleans_and_drops_missing():
    r = auc([5, np.nan, 1, 4], [False, True, True, np.nan])
    assert r.value == 1.0 and r.n == 2


def test_auc_one_class_is_undefined():
    with pytest.warns(MetricUndefinedWarning, match="needs customers who stayed and who churned"):
        r = auc([1, 2, 3], [0, 0, 0])
    assert math.isnan(r.value) and "0 churned" in r.reason


def test_auc_errors():
    with pytest.raises(ValueError, match=r"`scores` \(3 values\) and `outcomes` \(2 values\)"):
        auc([1, 2, 3], [0, 1])
    with pytest.raises(ValueError, match="`outcomes` contains 2"):
        auc([1, 2], [0, 2])
    with pytest.raises(ValueError, match="`scores` contains an infinite value"):
        auc([1, np.inf], [0, 1])


@given(st.lists(st.tuples(st.integers(1, 10), st.booleans()), min_size=2, max_size=40))
def test_auc_in_unit_interval_and_flips(rows):
    scores = [float(s) for s, _ in rows]
    churned = [c for _, c in rows]
    r = auc(scores, churned)
    if all(churned) or not any(churned):
        assert math.isnan(r.value)
        return
    assert 0.0 <= r.value <= 1.0
    assert 0.0 <= r.ci.low <= r.value <= r.ci.high <= 1.0
    assert auc([-s for s in scores], churned).value == pytest.approx(1 - r.value)
    assert auc(scores, [not c for c in churned]).value == pytest.approx(1 - r.value)

"""The sBG model against Fader & Hardie (2007)'s published fits, its survival, retention and
discounted lifetimes against hand computation and direct sums; saving fits as JSON; the
delta-method intervals against a variance worked by hand and a coverage simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

from metrics_lib.clv import (
    BetaGeoModel,
    CLVInputError,
    GammaGammaModel,
    ShiftedBetaGeoModel,
    delta_method_interval,
    simulate_bgnbd,
    simulate_gamma_gamma,
)

# Fader & Hardie (2007), Table 1 and the estimates in their text
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]


@pytest.mark.parametrize(("survivors", "alpha", "beta"), [(HIGH_END, 0.668, 3.806), (REGULAR, 0.704, 1.182)])
def test_fit_reproduces_the_published_estimates(survivors, alpha, beta):
    m = ShiftedBetaGeoModel().fit(survivors)
    assert m.params_["alpha"] == pytest.approx(alpha, abs=6e-4)
    assert m.params_["beta"] == pytest.approx(beta, abs=6e-4)
    assert m.n_customers_ == 1000
    assert set(m.standard_errors_) == {"alpha", "beta"}
    assert all(0 < se < v for se, v in zip(m.standard_errors_.values(), m.params_.values()))
    ci = m.confidence_intervals_["alpha"]
    assert ci.low < m.params_["alpha"] < ci.high


def test_log_likelihood_is_the_published_formula_evaluated_directly():
    m = ShiftedBetaGeoModel().fit(REGULAR)
    a, b = m.params_["alpha"], m.params_["beta"]
    # P(T=1) = a/(a+b); P(T=t) = (b+t-2)/(a+b+t-1) P(T=t-1); S(t) = S(t-1) - P(T=t)
    p, s, ll = a / (a + b), 1.0, 0.0
    for t in range(1, 8):
        if t > 1:
            p *= (b + t - 2) / (a + b + t - 1)
        s -= p
        ll += (REGULAR[t - 1] - REGULAR[t]) * math.log(p)
    ll += REGULAR[7] * math.log(s)
    assert m.log_likelihood_ == pytest.approx(ll, rel=1e-10)


def test_survival_and_retention_by_hand():
    m = ShiftedBetaGeoModel.from_params(alpha=0.5, beta=1.5)
    # r(t) = (b + t - 1) / (a + b + t - 1): 1.5/2, 2.5/3, 3.5/4
    assert m.retention_rate(1) == pytest.approx(0.75)
    assert m.retention_rate([2, 3]) == pytest.approx([2.5 / 3, 3.5 / 4])
    assert m.survival(0) == pytest.approx(1.0)
    assert m.survival(3) == pytest.approx(0.75 * 2.5 / 3 * 3.5 / 4)
    t = np.arange(1, 20)
    assert m.survival(t) / m.survival(t - 1) == pytest.approx(m.retention_rate(t))


def test_cohorts_padded_with_nan_add_up_like_separate_cohorts():
    a = ShiftedBetaGeoModel().fit([[1000, 631, 468, 382], [500, 320, np.nan, np.nan]])
    ll_separate = ShiftedBetaGeoModel._loglik(
        np.log(list(a.params_.values())),
        np.array([1.0, 2, 3, 1]),
        np.array([369.0, 163, 86, 180]),
        np.array([3.0, 1]),
        np.array([382.0, 320]),
    )[0]
    assert a.log_likelihood_ == pytest.approx(ll_separate, rel=1e-12)
    np.testing.assert_allclose(a.expected_survivors()[1, :2], [500, 500 * a.survival(1)])
    assert np.isnan(a.expected_survivors()[1, 2])


def test_derl_matches_its_closed_form_and_a_long_direct_sum():
    m = ShiftedBetaGeoModel().fit(HIGH_END)
    a, b = m.params_["alpha"], m.params_["beta"]
    d = 0.10
    t = np.arange(0, 4000)
    for renewals in (0, 3, 10):
        n = renewals + 1
        closed = (b + n - 1) / (a + b + n - 1) * special.hyp2f1(1, b + n, a + b + n, 1 / (1 + d))
        # payments of periods n+1, n+2, ... given alive in period n, the first undiscounted
        direct = np.sum(m.survival(n + t) / m.survival(n - 1) / (1 + d) ** t)
        assert m.discounted_expected_residual_lifetime(d, renewals) == pytest.approx(closed, rel=1e-12)
        assert m.discounted_expected_residual_lifetime(d, renewals) == pytest.approx(direct, rel=1e-9)
    assert m.discounted_expected_lifetime(d) == pytest.approx(np.sum(m.survival(t) / (1 + d) ** t), rel=1e-9)
    assert m.customer_lifetime_value(100.0, d) == pytest.approx(100 * m.discounted_expected_lifetime(d))
    np.testing.assert_allclose(
        m.customer_lifetime_value(100.0, d, renewals=[0, 3]),
        100 * m.discounted_expected_residual_lifetime(d, [0, 3]),
    )
    # a customer who has renewed more is more likely to stay: DERL rises with tenure
    assert np.all(np.diff(m.discounted_expected_residual_lifetime(d, np.arange(10))) > 0)


@pytest.mark.parametrize(
    ("survivors", "match"),
    [
        ([1000, 900, 950], r"increases from 900 at t=1 to 950 at t=2"),
        ([1000, -5], r"whole numbers of customers >= 0"),
        ([1000], r"at least 2 periods"),
        ([[1000, 900], [100, np.nan]], r"cohort 1 `survivors` needs at least 2 periods"),
        ([1000, np.nan, 800], r"has a gap"),
        ([1000.5, 900], r"whole numbers"),
        (["a", "b"], r"must hold numbers"),
        ([5, 4], r"at least 10"),
        ([100, 100, 100], r"no customer of the cohorts left"),
    ],
)
def test_bad_survivors_are_refused_with_the_rule(survivors, match):
    with pytest.raises(CLVInputError, match=match):
        ShiftedBetaGeoModel().fit(survivors)


def test_bad_prediction_inputs_are_refused():
    m = ShiftedBetaGeoModel.from_params(alpha=0.7, beta=1.2)
    with pytest.raises(CLVInputError, match=r"`discount_rate` \(0\) must be a number > 0"):
        m.discounted_expected_lifetime(0)
    with pytest.raises(CLVInputError, match=r"`t` must be >= 1"):
        m.retention_rate(0)
    with pytest.raises(CLVInputError, match=r"`renewals` must be whole numbers"):
        m.discounted_expected_residual_lifetime(0.1, 1.5)
    with pytest.raises(CLVInputError, match=r"not fitted yet"):
        ShiftedBetaGeoModel().survival(1)


# -- saving fits --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bg_gg():
    rng = np.random.default_rng(7)
    summary = simulate_bgnbd(3000, r=0.24, alpha=4.4, a=0.79, b=2.4, T=rng.uniform(30, 78, 3000), rng=rng)
    summary["monetary_value"] = simulate_gamma_gamma(
        summary["frequency"], p=6.25, q=3.74, gamma=15.4, rng=rng
    )
    return summary, BetaGeoModel().fit(summary), GammaGammaModel().fit(summary)


def test_fits_saved_as_json_load_back_with_identical_predictions(bg_gg):
    summary, bg, gg = bg_gg
    sbg = ShiftedBetaGeoModel().fit([[1000, 631, 468, 382], [500, 320, np.nan, np.nan]])
    bg2 = BetaGeoModel.from_json(bg.to_json())
    gg2 = GammaGammaModel.from_json(gg.to_json())
    sbg2 = ShiftedBetaGeoModel.from_json(sbg.to_json())
    for a, b in ((bg, bg2), (gg, gg2), (sbg, sbg2)):
        assert a.params_ == b.params_
        assert a.standard_errors_ == b.standard_errors_
        np.testing.assert_array_equal(a.covariance_log_, b.covariance_log_)
        assert a.confidence_intervals_ == b.confidence_intervals_
        assert a.n_customers_ == b.n_customers_
    f, r, T, mv = (summary[c].to_numpy() for c in ("frequency", "recency", "T", "monetary_value"))
    np.testing.assert_array_equal(bg.probability_alive(f, r, T), bg2.probability_alive(f, r, T))
    np.testing.assert_array_equal(bg.expected_purchases(52, f, r, T), bg2.expected_purchases(52, f, r, T))
    np.testing.assert_array_equal(gg.expected_spend(f, mv), gg2.expected_spend(f, mv))
    bg2.summary_ = summary
    np.testing.assert_array_equal(
        gg.customer_lifetime_value(bg, summary, horizon=52, discount_rate=0.002),
        gg2.customer_lifetime_value(bg2, summary, horizon=52, discount_rate=0.002),
    )
    np.testing.assert_array_equal(sbg.survivors_, sbg2.survivors_)
    assert sbg.discounted_expected_residual_lifetime(0.1, 2) == sbg2.discounted_expected_residual_lifetime(
        0.1, 2
    )


def test_loading_the_wrong_model_or_damaged_json_is_refused(bg_gg):
    _, bg, _ = bg_gg
    with pytest.raises(CLVInputError, match=r"not a saved GammaGammaModel \(it says 'BetaGeoModel'\)"):
        GammaGammaModel.from_json(bg.to_json())
    with pytest.raises(CLVInputError, match=r"not valid JSON"):
        BetaGeoModel.from_json("{nope")
    with pytest.raises(CLVInputError, match=r"incomplete or damaged"):
        BetaGeoModel.from_json('{"model": "BetaGeoModel"}')


# -- intervals ----------------------------------------------------------------------------------


def test_delta_method_variance_of_a_product_worked_by_hand():
    # log(alpha * beta) = log alpha + log beta: Var = s11 + s22 + 2 s12, exactly (linear)
    m = ShiftedBetaGeoModel.from_params(alpha=2.0, beta=5.0)
    cov = np.array([[0.04, 0.01], [0.01, 0.09]])
    m._set_covariance(np.log([2.0, 5.0]), cov)
    est, low, high = delta_method_interval([m], lambda s: s.params_["alpha"] * s.params_["beta"])
    se = math.sqrt(0.04 + 0.09 + 2 * 0.01)
    z = 1.959963984540054
    assert est == pytest.approx(10.0)
    assert low == pytest.approx(10 * math.exp(-z * se), rel=1e-8)
    assert high == pytest.approx(10 * math.exp(z * se), rel=1e-8)
    # two models count as independent: the variances add
    n = ShiftedBetaGeoModel.from_params(alpha=3.0, beta=1.0)
    n._set_covariance(np.log([3.0, 1.0]), np.diag([0.01, 0.0]))
    _, low2, _ = delta_method_interval([m, n], lambda s, t: s.params_["alpha"] * t.params_["alpha"])
    assert low2 == pytest.approx(6 * math.exp(-z * math.sqrt(0.04 + 0.01)), rel=1e-8)


def test_delta_method_interval_is_nan_without_a_covariance():
    m = ShiftedBetaGeoModel.from_params(alpha=2.0, beta=5.0)
    est, low, high = delta_method_interval([m], lambda s: s.survival(np.arange(3)))
    assert np.all(np.isfinite(est)) and np.all(np.isnan(low)) and np.all(np.isnan(high))


@pytest.mark.filterwarnings("error")
def test_intervals_cover_the_true_survival_about_95_percent_of_the_time():
    # 300 cohorts of 400 customers simulated from a known sBG, observed for 5 renewals
    rng = np.random.default_rng(2007)
    alpha, beta = 0.7, 1.2
    truth = ShiftedBetaGeoModel.from_params(alpha=alpha, beta=beta)
    target = float(truth.survival(10))  # an extrapolation beyond the 5 periods observed
    hits = 0
    runs = 300
    for _ in range(runs):
        theta = rng.beta(alpha, beta, 400)
        life = rng.geometric(theta)  # periods until leaving, >= 1
        survivors = [(life > t).sum() for t in range(6)]
        m = ShiftedBetaGeoModel().fit(survivors)
        _, low, high = delta_method_interval([m], lambda s: s.survival(10))
        hits += low <= target <= high
    assert 0.91 <= hits / runs <= 0.98


def test_per_customer_intervals_bracket_the_estimates(bg_gg):
    summary, bg, gg = bg_gg
    est, low, high = delta_method_interval([bg], lambda b: b.probability_alive(), scale="logit")
    assert np.all((low <= est + 1e-12) & (est <= high + 1e-12))
    est, low, high = delta_method_interval(
        [bg, gg], lambda b, g: g.customer_lifetime_value(b, summary, horizon=26, discount_rate=0.002)
    )
    assert np.all((low < est) & (est < high))

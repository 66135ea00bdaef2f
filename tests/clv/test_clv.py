"""BG/NBD and Gamma-Gamma: summaries worked by hand, likelihoods against the published formulas
evaluated directly, parameters recovered from data simulated from the models' own stories."""

from __future__ import annotations

import math

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, special

from metrics_lib.clv import (
    BetaGeoModel,
    CLVInputError,
    GammaGammaModel,
    calibration_holdout_split,
    calibration_holdout_table,
    probability_alive_matrix,
    simulate_bgnbd,
    simulate_gamma_gamma,
    summarize_transactions,
)
from metrics_lib.core.errors import WorkbookError

BG_TRUE = {"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.4}
GG_TRUE = {"p": 6.25, "q": 3.74, "gamma": 15.4}


def _orders() -> pd.DataFrame:
    # A: three purchase days (two orders on Jan 1), one order after the observation end;
    # B: one order; C: two orders on one day (no repeat purchase); D: first buys on Jan 20.
    rows = [
        ("A", "2025-01-01 09:00", 10.0),
        ("A", "2025-01-01 17:30", 5.0),
        ("A", "2025-01-15 12:00", 20.0),
        ("A", "2025-01-29 08:00", 30.0),
        ("A", "2025-03-01 10:00", 100.0),
        ("B", "2025-01-08 10:00", 7.0),
        ("C", "2025-01-10 10:00", 4.0),
        ("C", "2025-01-10 11:00", 6.0),
        ("D", "2025-01-20 10:00", 9.0),
    ]
    df = pd.DataFrame(rows, columns=["customer_id", "order_date", "revenue"])
    df["order_date"] = pd.to_datetime(df["order_date"])
    return df


@pytest.fixture(scope="module")
def bg_sample():
    """30k customers simulated from the BG/NBD story, T spread over 30-78 weeks, with spend."""
    rng = np.random.default_rng(20250101)
    n = 30_000
    summary = simulate_bgnbd(n, **BG_TRUE, T=rng.uniform(30, 78, n), rng=rng)
    summary["monetary_value"] = simulate_gamma_gamma(summary["frequency"], **GG_TRUE, rng=rng)
    return summary


@pytest.fixture(scope="module")
def fitted(bg_sample):
    return BetaGeoModel().fit(bg_sample), GammaGammaModel().fit(bg_sample)


# -- summaries -------------------------------------------------------------------------------------


def test_summary_by_hand_in_weeks():
    s = summarize_transactions(_orders(), value_col="revenue", observation_end="2025-01-31")
    assert list(s.index) == ["A", "B", "C", "D"]
    assert s.index.name == "customer_id"
    # A: days Jan 1, 15, 29 -> 2 repeat days; first to last 28 days; first to Jan 31 30 days;
    # repeat days' values 20 and 30 (Jan 1's 10 + 5 excluded); the March order ignored
    assert s.loc["A"].to_dict() == pytest.approx(
        {"frequency": 2, "recency": 4.0, "T": 30 / 7, "monetary_value": 25.0}
    )
    assert s.loc["B"].to_dict() == pytest.approx(
        {"frequency": 0, "recency": 0.0, "T": 23 / 7, "monetary_value": 0.0}
    )
    assert s.loc["C"].to_dict() == pytest.approx(
        {"frequency": 0, "recency": 0.0, "T": 3.0, "monetary_value": 0.0}
    )
    assert s.loc["D", "T"] == pytest.approx(11 / 7)
    assert s["frequency"].dtype == "int64"
    assert s.attrs["time_unit"] == "W"


def test_summary_in_days_and_months_without_values():
    days = summarize_transactions(_orders(), observation_end="2025-01-31", time_unit="D")
    assert list(days.columns) == ["frequency", "recency", "T"]
    assert days.loc["A"].tolist() == [2, 28.0, 30.0]
    months = summarize_transactions(_orders(), observation_end="2025-01-31", time_unit="M")
    assert months.loc["A", "T"] == pytest.approx(30 / 30.4375)


def test_orders_after_observation_end_ignored():
    early = summarize_transactions(_orders(), value_col="revenue", observation_end="2025-01-16")
    assert "D" not in early.index  # first purchase after the end
    assert early.loc["A"].to_dict() == pytest.approx(
        {"frequency": 1, "recency": 2.0, "T": 15 / 7, "monetary_value": 20.0}
    )


def test_dataframe_and_ibis_table_agree():
    df = _orders()
    con = ibis.duckdb.connect()
    table = con.create_table("orders", df)
    from_df = summarize_transactions(df, value_col="revenue", observation_end="2025-01-31")
    from_ibis = summarize_transactions(table, value_col="revenue", observation_end="2025-01-31")
    pd.testing.assert_frame_equal(from_df, from_ibis)
    text_dates = df.assign(order_date=df["order_date"].dt.strftime("%Y-%m-%d"))
    pd.testing.assert_frame_equal(
        summarize_transactions(text_dates, value_col="revenue", observation_end="2025-01-31"), from_df
    )


def test_calibration_holdout_split_by_hand():
    split = calibration_holdout_split(
        _orders(), value_col="revenue", calibration_end="2025-01-15", observation_end="2025-01-31"
    )
    assert list(split.index) == ["A", "B", "C"]  # D first buys in the holdout
    a = split.loc["A"]
    assert a[["frequency", "recency", "T", "monetary_value"]].tolist() == pytest.approx([1, 2.0, 2.0, 20.0])
    assert a["frequency_holdout"] == 1 and a["monetary_value_holdout"] == pytest.approx(30.0)
    assert split.loc["B", "frequency_holdout"] == 0 and split.loc["B", "monetary_value_holdout"] == 0
    assert np.allclose(split["duration_holdout"], 16 / 7)
    assert split.attrs["calibration_end"] == "2025-01-15"


def test_summary_input_errors():
    with pytest.raises(CLVInputError, match=r"no column `when`.*date_col="):
        summarize_transactions(_orders(), date_col="when", observation_end="2025-01-31")
    with pytest.raises(ValueError, match=r"`time_unit` \('Y'\) must be one of"):
        summarize_transactions(_orders(), observation_end="2025-01-31", time_unit="Y")
    with pytest.raises(WorkbookError, match=r"`calibration_end` \(2025-02-01\) must be before"):
        calibration_holdout_split(_orders(), calibration_end="2025-02-01", observation_end="2025-01-31")
    with pytest.raises(CLVInputError, match=r"`observation_end` \('soon'\) is not a date"):
        summarize_transactions(_orders(), observation_end="soon")


# -- BG/NBD ----------------------------------------------------------------------------------------


def _bgnbd_likelihood_direct(x, tx, T, r, alpha, a, b):
    """The published likelihood, term by term, without logs."""
    B, G = special.beta, special.gamma
    common = G(r + x) * alpha**r / G(r)
    first = B(a, b + x) / B(a, b) * common / (alpha + T) ** (r + x)
    second = B(a + 1, b + x - 1) / B(a, b) * common / (alpha + tx) ** (r + x) if x > 0 else 0.0
    return first + second


def test_bgnbd_log_likelihood_matches_the_formula():
    params = {"r": 0.5, "alpha": 3.0, "a": 0.8, "b": 2.5}
    model = BetaGeoModel.from_params(**params)
    rows = [(0, 0.0, 10.0), (1, 1.0, 4.0), (3, 5.5, 12.0), (7, 30.0, 31.0)]
    got = model.log_likelihood(*map(np.array, zip(*rows)))
    want = [math.log(_bgnbd_likelihood_direct(*row, **params)) for row in rows]
    assert got == pytest.approx(want, rel=1e-10)


def test_bgnbd_gradient_matches_finite_differences(bg_sample):
    x, tx, T = (bg_sample[c].to_numpy(float)[:500] for c in ("frequency", "recency", "T"))
    lp = np.log([0.3, 3.0, 0.9, 2.0])
    grad = BetaGeoModel._loglik(lp, x, tx, T, gradient=True)[1]
    numeric = optimize.approx_fprime(lp, lambda v: BetaGeoModel._loglik(v, x, tx, T)[0], 1e-7)
    assert grad == pytest.approx(numeric, rel=1e-4)


def test_bgnbd_recovers_simulated_parameters(fitted):
    model, _ = fitted
    assert model.converged_ and model.n_customers_ == 30_000
    for name, true in BG_TRUE.items():
        est, se = model.params_[name], model.standard_errors_[name]
        assert 0 < se < 0.2 * est
        assert abs(est - true) < 3 * se, (name, est, se)
        assert est == pytest.approx(true, rel=0.15)
        ci = model.confidence_intervals_[name]
        assert ci.low < est < ci.high


def test_expected_purchases_formulas(bg_sample):
    model = BetaGeoModel.from_params(**BG_TRUE)
    r, alpha, a, b = BG_TRUE.values()
    # conditional expectation against eq. (10) with the untransformed hypergeometric function
    for x, tx, T, t in [(0, 0.0, 40.0, 10.0), (2, 20.0, 52.0, 26.0), (6, 50.0, 60.0, 5.0)]:
        z = t / (alpha + T + t)
        num = (
            (a + b + x - 1)
            / (a - 1)
            * (
                1
                - ((alpha + T) / (alpha + T + t)) ** (r + x) * special.hyp2f1(r + x, b + x, a + b + x - 1, z)
            )
        )
        den = 1 + (x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x)
        assert model.expected_purchases(t, x, tx, T) == pytest.approx(num / den, rel=1e-9)
    # E[X(t)] of a new customer against simulated customers all observed for 52 weeks
    sim = simulate_bgnbd(20_000, **BG_TRUE, T=52.0, rng=np.random.default_rng(7))
    mean, sem = sim["frequency"].mean(), sim["frequency"].std() / math.sqrt(len(sim))
    assert abs(model.expected_purchases_new_customer(52.0) - mean) < 4 * sem
    # the law of total expectation: the mean conditional forecast for the next 26 weeks equals
    # E[X(78)] - E[X(52)]
    forecast = model.expected_purchases(26.0, sim["frequency"], sim["recency"], sim["T"]).mean()
    want = model.expected_purchases_new_customer(78.0) - model.expected_purchases_new_customer(52.0)
    assert forecast == pytest.approx(want, rel=0.05)


def test_predictions_default_to_the_fitted_summary(fitted, bg_sample):
    model, _ = fitted
    alive = model.probability_alive()
    assert isinstance(alive, pd.Series) and alive.index.equals(bg_sample.index)
    assert (alive[bg_sample["frequency"] == 0] == 1.0).all()
    ahead = model.expected_purchases(10)
    assert ahead.iloc[3] == pytest.approx(
        model.expected_purchases(10, *bg_sample[["frequency", "recency", "T"]].iloc[3])
    )


def test_huge_histories_stay_finite():
    model = BetaGeoModel.from_params(**BG_TRUE)
    x, tx, T = np.array([500, 500, 2000, 1]), np.array([999.5, 10.0, 999.0, 0.5]), np.array([1000.0] * 4)
    assert np.isfinite(model.log_likelihood(x, tx, T)).all()
    alive = model.probability_alive(x, tx, T)
    assert np.all((alive >= 0) & (alive <= 1))
    assert alive[0] > 0.9 and alive[1] < 1e-10
    ahead = model.expected_purchases(52, x, tx, T)
    assert np.isfinite(ahead).all() and (ahead >= 0).all()
    assert ahead[0] == pytest.approx(52 * 500 / 1000, rel=0.1)  # a steady buyer keeps their pace


@settings(max_examples=60, deadline=None)
@given(
    x=st.integers(0, 300),
    share=st.floats(0, 1),
    T=st.floats(0.1, 500),
    t=st.floats(0.1, 200),
    dt=st.floats(0.1, 50),
)
def test_alive_is_a_probability_and_purchases_grow_with_t(x, share, T, t, dt):
    model = BetaGeoModel.from_params(**BG_TRUE)
    tx = share * T if x > 0 else 0.0
    alive = model.probability_alive(x, tx, T)
    assert 0 <= alive <= 1
    if x == 0:
        assert alive == 1.0
    near, far = model.expected_purchases(t, x, tx, T), model.expected_purchases(t + dt, x, tx, T)
    assert 0 <= near <= far + 1e-12


def test_grouped_fit_weights_identical_rows(bg_sample):
    small = bg_sample.iloc[:2_000]
    big = pd.concat([small] * 100, ignore_index=True)  # 200k rows, 2k distinct
    one, many = BetaGeoModel().fit(small), BetaGeoModel().fit(big)
    for name in BG_TRUE:
        assert many.params_[name] == pytest.approx(one.params_[name], rel=1e-4)
        assert many.standard_errors_[name] == pytest.approx(one.standard_errors_[name] / 10, rel=1e-2)


def test_penalizer_shrinks_parameters(bg_sample):
    plain = BetaGeoModel().fit(bg_sample.iloc[:3_000])
    shrunk = BetaGeoModel(penalizer=0.1).fit(bg_sample.iloc[:3_000])
    assert sum(v**2 for v in shrunk.params_.values()) < sum(v**2 for v in plain.params_.values())


def _summary(**cols) -> pd.DataFrame:
    base = {
        "frequency": [1, 0, 2, 3] * 3,
        "recency": [2.0, 0.0, 5.0, 7.0] * 3,
        "T": [10.0, 8.0, 9.0, 7.5] * 3,
        "monetary_value": [10.0, 0.0, 12.0, 8.0] * 3,
    }
    base.update(cols)
    return pd.DataFrame(base, index=pd.Index([f"C{i}" for i in range(12)], name="customer_id"))


def test_bgnbd_input_errors():
    late = r"`recency` is greater than `T` for 1 customer \(C3: recency=9, T=7.5\): recency runs"
    with pytest.raises(CLVInputError, match=late):
        BetaGeoModel().fit(_summary(recency=[2.0, 0.0, 5.0, 9.0] + [2.0, 0.0, 5.0, 7.0] * 2))
    with pytest.raises(ValueError, match=r"column `T` is negative for 1 customer \(C1: T=-8\).*must be >= 0"):
        BetaGeoModel().fit(_summary(T=[10.0, -8.0, 9.0, 7.5] + [10.0, 8.0, 9.0, 7.5] * 2))
    fractional = (
        r"`frequency` is not a whole number for 3 customers \(C0: frequency=1.5; C4: frequency=1.5; C8"
    )
    with pytest.raises(CLVInputError, match=fractional):
        BetaGeoModel().fit(_summary(frequency=[1.5, 0, 2, 3] * 3))
    with pytest.raises(
        CLVInputError, match=r"no customer of the 12 .* has a repeat purchase.*nothing to fit"
    ):
        BetaGeoModel().fit(_summary(frequency=[0] * 12, recency=[0.0] * 12))
    with pytest.raises(CLVInputError, match=r"has 4 customers; the BG/NBD model needs at least 10"):
        BetaGeoModel().fit(_summary().iloc[:4])
    with pytest.raises(CLVInputError, match=r"no column `recency`"):
        BetaGeoModel().fit(_summary().drop(columns="recency"))
    with pytest.raises(CLVInputError, match=r"`frequency` is missing or infinite"):
        BetaGeoModel().fit(_summary(frequency=[np.nan] + [1] * 11))
    with pytest.raises(CLVInputError, match=r"not fitted yet"):
        BetaGeoModel().probability_alive()


# -- Gamma-Gamma and CLV ---------------------------------------------------------------------------


def test_gamma_gamma_log_likelihood_matches_the_density():
    p, q, g = 6.0, 4.0, 15.0
    x, m = np.array([1.0, 3.0, 10.0]), np.array([12.0, 30.5, 8.25])
    got = GammaGammaModel._loglik(np.log([p, q, g]), x, m, np.ones(3))[0]
    G = special.gamma
    dens = (
        G(p * x + q) / (G(p * x) * G(q)) * g**q * m ** (p * x - 1) * x ** (p * x) / (g + m * x) ** (p * x + q)
    )
    assert got == pytest.approx(np.log(dens).sum(), rel=1e-10)


def test_gamma_gamma_recovers_simulated_parameters(fitted, bg_sample):
    _, model = fitted
    assert model.n_customers_ == int((bg_sample["frequency"] > 0).sum())
    for name, true in GG_TRUE.items():
        est, se = model.params_[name], model.standard_errors_[name]
        assert abs(est - true) < 3 * se, (name, est, se)
        assert est == pytest.approx(true, rel=0.2)


def test_expected_spend_and_clv_by_hand():
    gg = GammaGammaModel.from_params(p=6.0, q=4.0, gamma=15.0)
    # (gamma + m x) p / (p x + q - 1): (15 + 2 * 20) * 6 / (12 + 3) = 22
    assert gg.expected_spend(2, 20.0) == pytest.approx(22.0)
    assert gg.expected_spend(0, 0.0) == pytest.approx(6 * 15 / 3)  # the population mean
    bg = BetaGeoModel.from_params(**BG_TRUE)
    summary = _summary()
    one = gg.customer_lifetime_value(bg, summary, horizon=1, discount_rate=0.02)
    row = summary.loc["C2"]
    spend = gg.expected_spend(row["frequency"], row["monetary_value"])
    assert one["C2"] == pytest.approx(
        spend * bg.expected_purchases(1, *row[["frequency", "recency", "T"]]) / 1.02
    )
    undiscounted = gg.customer_lifetime_value(bg, summary, horizon=3, discount_rate=0.0)
    assert undiscounted["C2"] == pytest.approx(
        spend * bg.expected_purchases(3, *row[["frequency", "recency", "T"]])
    )
    discounted = gg.customer_lifetime_value(bg, summary, horizon=3, discount_rate=0.05)
    assert (discounted < undiscounted).all() and discounted.name == "clv"


def test_clv_of_a_fitted_pair(fitted, bg_sample):
    bg, gg = fitted
    value = gg.customer_lifetime_value(bg, bg_sample, horizon=52, discount_rate=0.002)
    assert value.index.equals(bg_sample.index) and (value >= 0).all() and np.isfinite(value).all()
    wrong_unit = bg_sample.copy()
    wrong_unit.attrs["time_unit"] = "D"
    with pytest.raises(CLVInputError, match=r"time unit 'W' but this summary is in 'D'"):
        gg.customer_lifetime_value(bg, wrong_unit)


def test_gamma_gamma_input_errors():
    with pytest.raises(CLVInputError, match=r"positive `monetary_value`.*nothing to fit"):
        GammaGammaModel().fit(_summary(monetary_value=[0.0] * 12))
    with pytest.raises(
        ValueError, match=r"`monetary_value` is negative for 1 customer \(C0: monetary_value=-10\)"
    ):
        GammaGammaModel().fit(_summary(monetary_value=[-10.0, 0.0, 12.0, 8.0] + [10.0, 0.0, 12.0, 8.0] * 2))
    with pytest.raises(CLVInputError, match=r"only 9 customers .* at least 10"):
        GammaGammaModel().fit(_summary())
    with pytest.raises(CLVInputError, match=r"no column `monetary_value`.*value_col="):
        GammaGammaModel().fit(_summary().drop(columns="monetary_value"))


# -- checks of a fit and their plots ---------------------------------------------------------------


def _split(bg_sample):
    rng = np.random.default_rng(3)
    return bg_sample.assign(frequency_holdout=rng.poisson(0.5, len(bg_sample)), duration_holdout=26.0)


def test_calibration_holdout_table(fitted, bg_sample):
    bg, _ = fitted
    split = _split(bg_sample)
    table = calibration_holdout_table(bg, split, max_frequency=7)
    assert list(table.index) == list(range(8)) and table["label"].iloc[-1] == "7+"
    assert table["customers"].sum() == len(split)
    assert table.loc[7, "customers"] == (split["frequency"] >= 7).sum()
    assert table.loc[0, "actual"] == pytest.approx(
        split.loc[split["frequency"] == 0, "frequency_holdout"].mean()
    )
    assert table["predicted"].is_monotonic_increasing


def test_probability_alive_matrix(fitted):
    bg, _ = fitted
    matrix = probability_alive_matrix(bg, max_frequency=10, max_recency=52, T=52)
    assert matrix.shape == (11, 53)
    assert matrix.loc[0, 0.0] == 1.0 and np.isnan(matrix.loc[0, 5.0])
    assert matrix.loc[5, 52.0] == pytest.approx(bg.probability_alive(5, 52, 52))
    assert (matrix.loc[3].dropna().diff().dropna() > 0).all()  # a later last purchase: more alive


def test_plots_draw_the_tables(fitted, bg_sample):
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes

    from metrics_lib.reporting import plots

    bg, _ = fitted
    fig, ax = plt.subplots()
    out = plots.plot_calibration_holdout(calibration_holdout_table(bg, _split(bg_sample)), ax=ax)
    assert out is ax and len(ax.get_lines()) == 2
    assert [t.get_text() for t in ax.get_xticklabels()][-1] == "7+"
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"actual", "predicted (BG/NBD)"}
    plt.figure()
    heat = plots.plot_probability_alive(probability_alive_matrix(bg, max_frequency=8, max_recency=20, T=52))
    assert isinstance(heat, Axes) and len(heat.collections) == 1
    assert len(heat.figure.axes) == 2  # the heatmap and its colour bar
    assert "observed for 52 weeks" in heat.get_title(loc="left")


def test_returns_are_no_purchase_days_and_net_the_monetary_value():
    """a: 100 on day 1, 50 on day 8, 50 on day 15 and a refund of 40 on day 22 (bought 200, kept
    80%): frequency 2, recency 2 weeks (the refund is no purchase day), monetary (50 + 50) / 2 x 0.8
    = 40. b: 30 then 30, both given back: kept 0%, monetary 0. The holdout (after day 15) nets
    the same way: a bought nothing there, so 0 whatever came back."""
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "b", "b"],
            "order_date": [
                "2025-01-01",
                "2025-01-08",
                "2025-01-15",
                "2025-01-22",
                "2025-01-01",
                "2025-01-08",
                "2025-01-09",
            ],
            "revenue": [100.0, 50.0, 50.0, -40.0, 30.0, 30.0, -60.0],
        }
    )
    s = summarize_transactions(orders, value_col="revenue", observation_end="2025-01-29")
    assert s.loc["a"].to_dict() == {"frequency": 2, "recency": 2.0, "T": 4.0, "monetary_value": 40.0}
    assert s.loc["b", "frequency"] == 1 and s.loc["b", "monetary_value"] == 0.0
    gross = summarize_transactions(orders[orders["revenue"] > 0], observation_end="2025-01-29")
    assert s[["frequency", "recency", "T"]].equals(gross[["frequency", "recency", "T"]])
    split = calibration_holdout_split(
        orders, value_col="revenue", calibration_end="2025-01-15", observation_end="2025-01-29"
    )
    # calibration: a's refund falls in the holdout, so a kept everything: (50 + 50) / 2 = 50
    assert split.loc["a", "monetary_value"] == 50.0
    assert (split.loc["a", "frequency_holdout"], split.loc["a", "monetary_value_holdout"]) == (0, 0.0)

"""The report sections' sentences and summary tables, written from the metrics layer's numbers:
exact strings from hand-made numbers."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd

from metrics_lib.core.stats import compare_rates, rate_result
from metrics_lib.metrics import aggregate as agg
from metrics_lib.metrics.analyses import NPSChurn
from metrics_lib.metrics.clv_views import CLVView
from metrics_lib.metrics.health_views import BandCuts
from metrics_lib.reporting.views import (
    CLVModelsView,
    HealthValidationView,
    clv_steps_table,
    describe_bands,
    detectable_lift_table,
    nps_churn_verdict,
)

NAN = float("nan")


def test_band_cuts_in_words():
    assert describe_bands(BandCuts(7.25, 8.5, "2025-Q3", 1200)) == (
        "higher risk below 7.25, middle from 7.25 to below 8.50, lower risk from 8.50: the terciles of the 1,200 scores at "
        "the end of 2025-Q3"
    )
    assert describe_bands(BandCuts(4.0, 7.0, "2024-Q4", 5, fixed=True)) == (
        "higher risk below 4.00, middle from 4.00 to below 7.00, lower risk from 7.00: the fixed cut points of the 1-10 "
        "scale, as the calibration period 2024-Q4 scored only 5 customers (fewer than 30)"
    )


def _validation(auc, ci, comparison=None, cuts=None) -> HealthValidationView:
    return HealthValidationView(pd.DataFrame(), auc, ci, 2703, 88, cuts=cuts, band_comparison=comparison)


def test_health_validation_reads_its_auc_and_its_bands():
    assert _validation(0.628, (0.574, 0.682)).reading == (
        "the score separates customers who stayed from those who churned better than chance"
    )
    assert _validation(0.4, (0.3, 0.45)).reading.startswith("the score points the wrong way")
    assert _validation(0.52, (0.45, 0.6)).reading.startswith("no evidence that the score predicts churn")
    # higher risk 20 of 100 churned against lower risk 5 of 100: 15 points; pooled 0.125,
    # se sqrt(0.125 x 0.875 x 2 / 100) = 0.04677, z = 3.207, p = 0.00134
    comp = compare_rates(rate_result(20, 100), rate_result(5, 100))
    hv = _validation(0.628, (0.574, 0.682), comp, BandCuts(8.3, 9.04, "2025-Q2", 2703))
    assert hv.separation == (
        "the higher risk band churned 20.0% against 5.0% for the lower risk band (more by 15.0 "
        "points; p=0.001): the bands separate churn risk beyond noise"
    )
    assert hv.summary()["value"].tolist() == [
        "2,703",
        "88",
        "0.628",
        "0.574 to 0.682",
        hv.reading,
        "higher risk below 8.30, middle from 8.30 to below 9.04, lower risk from 9.04: the terciles of the 2,703 scores at "
        "the end of 2025-Q2",
        hv.separation,
    ]
    empty = compare_rates(rate_result(0, 0), rate_result(5, 100))
    assert _validation(NAN, (NAN, NAN), empty).separation == (
        "not enough customers in the higher risk and lower risk bands to compare their churn"
    )
    skipped = HealthValidationView(pd.DataFrame(), NAN, (NAN, NAN), 0, 0, "skipped: needs orders")
    assert skipped.summary()["value"].tolist() == [
        "0",
        "0",
        "n/a",
        "n/a",
        "skipped: needs orders",
        "n/a",
        "n/a",
    ]


def test_nps_churn_verdict():
    # detractors 1 of 1 churned, promoters 0 of 3: pooled 1 / 4, se sqrt(0.25 x 0.75 x (1 + 1/3))
    # = 0.5, z = 2, p = 0.0455
    comp = compare_rates(rate_result(1, 1), rate_result(0, 3))
    result = NPSChurn("2025-Q1", pd.DataFrame(), comp.value, comp.p_value, comp)
    assert nps_churn_verdict(result) == (
        "Detractors churned at 100.0% against 0.0% for promoters (more by 100.0 points; p=0.046): "
        "a difference beyond noise."
    )
    none = compare_rates(rate_result(0, 0), rate_result(0, 3))
    assert nps_churn_verdict(NPSChurn("2025-Q1", pd.DataFrame(), none.value, none.p_value, none)) == (
        "Not enough answers to compare detractors with promoters in this period."
    )


def test_detectable_lifts_read_each_campaigns_lift_against_what_its_groups_can_detect():
    # 1,000 treated and 1,000 control members with a control conversion of 10% detect 4.1 pp
    # (minimum_detectable_lift); a lift of +2 pp is below it, +5 pp (not significant) above it
    lifts = pd.DataFrame(
        {
            "treated": [1000, 1000, 1000, 2, 0],
            "control": [1000, 1000, 1000, 1, 5],
            "control_rate": [0.10, 0.10, 0.10, 0.0, 0.2],
            "lift": [0.02, 0.05, 0.06, 0.5, NAN],
            "detectable_lift": [0.0406, 0.0406, 0.0406, NAN, NAN],
            "significant": [False, False, True, False, False],
        },
        index=pd.Index(["small", "near", "clear", "tiny groups", "no members"], name="campaign"),
    )
    out = detectable_lift_table(lifts)
    assert list(out.columns) == ["treated", "control", "control_rate", "lift", "detectable_lift", "reading"]
    assert out.loc["small"].tolist() == [
        1000,
        1000,
        "10.0%",
        "+2.0 pp",
        "+4.1 pp",
        "these groups detect a lift of 4.1 pp or more; the +2.0 pp seen is below it, so the test "
        "cannot tell whether the campaign worked",
    ]
    assert (
        out.loc["near", "reading"]
        == "lift of +5.0 pp reaches the 4.1 pp these groups detect, yet is within noise"
    )
    assert (
        out.loc["clear", "reading"] == "lift of +6.0 pp is beyond noise (these groups detect 4.1 pp or more)"
    )
    assert out.loc["tiny groups", "reading"] == "groups too small to detect even a treated conversion of 100%"
    assert out.loc["no members", ["lift", "reading"]].tolist() == ["n/a", "no test: a group is empty"]
    empty = lifts.iloc[:0]
    empty.attrs["note"] = "no campaign started in the window"
    shown = detectable_lift_table(empty)
    assert shown.empty and list(shown.columns) == list(out.columns)
    assert shown.attrs["note"] == "no campaign started in the window"


def test_clv_steps_in_their_units_with_the_share_of_the_year_covered():
    steps = pd.DataFrame(
        {
            "value": [790.0, 3.0055, 0.123],
            "unit": ["currency", "ratio", "share"],
            "how": ["revenue of the orders of the 12 months", "purchases / customers", "annual churn"],
        },
        index=pd.Index(["revenue", "2. purchase frequency (per year)", "annual churn"], name="step"),
    )
    # the orders cover 182 of the 365 days of the twelve months
    steps.attrs.update(
        window=agg.DateWindow(date(2024, 10, 1), date(2025, 4, 1)), share_of_year_covered=182 / 365
    )
    out = clv_steps_table(steps)
    assert out["value"].tolist() == ["790", "3.01", "12.3%"]
    assert out.loc["2. purchase frequency (per year)", "how"] == (
        "purchases / customers / 0.499 (the share of the 12 months the orders cover)"
    )
    assert out.attrs["window"] == "01 Oct 2024 to 31 Mar 2025"
    steps.attrs.update(window=None, share_of_year_covered=1.0)
    whole = clv_steps_table(steps)
    assert whole.loc["2. purchase frequency (per year)", "how"] == "purchases / customers"
    assert whole.attrs["window"] == "none"


def test_clv_models_summary():
    # ten customers: CLV 1..10 (mean 5.5; the top one, 10, holds 10 / 55 = 18.2% of it)
    customers = pd.DataFrame(
        {
            "probability_alive": [0.9] * 5 + [0.5] * 5,
            "expected_purchases": [2.0] * 10,
            "clv": [float(v) for v in range(1, 11)],
        }
    )
    empty = pd.DataFrame()
    view = CLVModelsView.of(CLVView(empty, empty, empty, customers, 52))
    assert view.summary()["value"].to_dict() == {
        "customers modelled": "10",
        "mean probability alive": "70.0%",
        "expected purchase days, next 52 weeks (mean)": "2.00",
        "discounted CLV, next 52 weeks (mean)": "6",
        "discounted CLV of the top 10% of customers (share of all)": "18.2%",
    }
    # with the customers' interval bounds: the means of the bounds, under the mean CLV
    bounded = customers.assign(clv_low=customers["clv"] - 1, clv_high=customers["clv"] + 2)
    rows = CLVModelsView.of(CLVView(empty, empty, empty, bounded, 52)).summary()["value"]
    assert list(rows.index)[3:5] == [
        "discounted CLV, next 52 weeks (mean)",
        "  95% interval (mean of the customers' bounds)",
    ]
    assert rows.iloc[4] == "4 to 8"
    skipped = CLVModelsView(empty, empty, empty, empty, 52, "skipped: needs orders")
    assert skipped.summary()["value"].tolist() == ["skipped: needs orders"]
    assert math.isclose(view.key_numbers().top_decile_clv_share, 10 / 55)

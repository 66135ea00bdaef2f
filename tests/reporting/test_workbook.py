"""The Workbook the notebooks call: parameters checked, display tables shaped, sections computed.

Exact expectations come from the tiny source of conftest.py (four customers, four orders, ...),
worked by hand in the comments; the demo data is used only for properties that hold whatever its
numbers are (intervals around estimates, shares that add up, an AUC in [0, 1]).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from metrics_lib.core.errors import WorkbookError
from metrics_lib.data import DEMO_DATA
from metrics_lib.metrics.health_views import HealthValidation
from metrics_lib.reporting.workbook import Workbook


@pytest.fixture
def tiny(make_source):
    """The tiny source for 2025-Q1; it lies under tmp_path, outside the project, hence the opt-out."""
    return Workbook("2025-Q1", str(make_source()), restrict_paths=False)


@pytest.fixture(scope="module")
def demo():
    return Workbook("2025-Q4", "data/demo")


# -- parameters ---------------------------------------------------------------------------------


def test_summary_names_the_period_the_source_and_row_counts(tiny):
    s = tiny.summary()["value"]
    assert s["period"] == "2025-Q1 (01 Jan 2025 to 31 Mar 2025)"
    assert s["compared with"] == "2024-Q4"
    assert s["as of"] == "15 Mar 2025"  # the last order
    assert s["segment"] == "all customers"
    assert s["rows: orders"] == "4" and s["rows: customers"] == "4"
    # the tiny source's orders run from 6 January to 15 March 2025: the quarter is partial
    assert s["note"] == (
        "period 2025-Q1 (2025-01-01 to 2025-03-31) is partial: it starts before the data's first date, "
        "2025-01-06, and runs past its last date, 2025-03-15 (table `orders`), so its numbers cover "
        "2025-01-06 to 2025-03-15 only"
    )
    assert s["note 2"].startswith(
        "the previous period 2024-Q4 (2024-10-01 to 2024-12-31) lies outside the data"
    )


def test_summary_lists_the_families_a_missing_table_skips(make_source):
    wb = Workbook("2025-Q1", str(make_source(drop=("tickets",))), restrict_paths=False)
    assert wb.summary().loc["skipped: service", "value"] == "needs tickets"


def test_relative_data_path_resolves_from_the_project_folder(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert Workbook("2025-Q4", "data/demo").source.path == DEMO_DATA


def test_relative_data_path_may_not_climb_out_of_the_project():
    with pytest.raises(WorkbookError, match="data '../../etc' leads outside the project folder"):
        Workbook("2025-Q1", "../../etc")


def test_relative_targets_path_may_not_climb_out_of_the_project():
    with pytest.raises(WorkbookError, match=r"targets '../outside.yml' leads outside the project folder"):
        Workbook("2025-Q4", "data/demo", "../outside.yml")


def test_absolute_data_path_elsewhere_is_the_users_choice(make_source):
    wb = Workbook("2025-Q1", str(make_source()))
    assert wb.source.path.is_absolute()


def test_unknown_segment_is_rejected_with_the_known_ones(make_source):
    with pytest.raises(
        WorkbookError,
        match=r"segment 'nope' is not in the data \(column `segment` of table `customers`\); "
        r"segments: 'enterprise', 'mid', 'smb'",
    ):
        Workbook("2025-Q1", str(make_source()), segment="nope", restrict_paths=False)


def test_bad_period_is_rejected():
    with pytest.raises(WorkbookError, match="period '2025-Q5'"):
        Workbook("2025-Q5", "data/demo")


# -- headline tables ----------------------------------------------------------------------------


def test_headline_table_has_the_display_columns(tiny):
    table = tiny.headline(["satisfaction"])
    assert list(table.columns) == [
        "value",
        "95% CI",
        "n",
        "previous (2024-Q4)",
        "last year (2024-Q1)",
        "change",
        "change vs noise",
        "target",
        "status",
        "note",
    ]
    assert list(table.index) == ["CSAT", "NPS", "CES (customer effort)"]
    # one csat answer (S3: 4) is satisfied: 100%; two NPS answers, a 9 and a 6: 50% - 50% = 0
    assert table.loc["CSAT", "value"] == "100.0%"
    assert table.loc["NPS", "value"] == "0.00"
    assert table.loc["NPS", "status"] == "off"  # target 30
    assert table.loc["NPS", "note"] == "low sample (n=2)"
    assert table.loc["NPS", "change vs noise"] == "not comparable"  # 2024-Q4 lies before the data
    assert table.loc["NPS", "last year (2024-Q1)"] == "n/a"  # so does 2024-Q1


def test_headline_numbers_are_rounded_values_named_after_the_period(tiny):
    numbers = tiny.headline_numbers(["csat", "nps", "ces"])
    assert numbers.to_dict() == {"csat": 1.0, "nps": 0.0, "ces": 2.0}
    assert numbers.name == "2025-Q1"


def test_unknown_metric_is_rejected(tiny):
    with pytest.raises(WorkbookError, match="unknown metric or family 'nope'"):
        tiny.headline(["nope"])


def test_trend_has_one_row_per_period_and_metric_and_ends_with_the_headline(tiny):
    trend = tiny.trend(["csat", "nps"], periods=3)
    assert list(trend["period"]) == ["2024-Q3", "2024-Q3", "2024-Q4", "2024-Q4", "2025-Q1", "2025-Q1"]
    assert list(trend["current"]) == [False, False, False, False, True, True]
    now = trend[trend["current"]].set_index("metric")["value"]
    assert now.to_dict() == tiny.headline_numbers(["csat", "nps"]).to_dict()
    assert trend[~trend["current"]]["value"].isna().all()  # no answers before 2025
    assert trend.set_index("metric").loc["nps", "target"].tolist() == [30.0] * 3


def test_trend_needs_at_least_one_period(tiny):
    with pytest.raises(WorkbookError, match=r"periods \(0\) must be a whole number >= 1"):
        tiny.trend(["nps"], periods=0)


# -- sections on the tiny source ----------------------------------------------------------------


def test_nps_mix_counts_each_group(tiny):
    mix = tiny.nps_mix(periods=2)
    assert list(mix.index) == ["2024-Q4", "2025-Q1"]
    row = mix.loc["2025-Q1"]
    assert (row["n"], row["promoters"], row["passives"], row["detractors"]) == (2, 1, 0, 1)
    assert (row["promoter_share"], row["detractor_share"], row["nps"]) == (0.5, 0.5, 0.0)
    assert mix.loc["2024-Q4", "n"] == 0 and math.isnan(mix.loc["2024-Q4", "nps"])


def test_breakdown_flags_low_samples_and_adds_a_total(tiny):
    table = tiny.breakdown("nps", by="touchpoint")
    assert list(table.index) == ["onboarding", "all"]
    assert table.loc["onboarding", "n"] == 2 and table.loc["onboarding", "nps"] == 0.0
    assert table["low_sample"].all()


def test_breakdown_by_segment_joins_the_customers(tiny):
    table = tiny.breakdown("csat", by="segment")
    assert table.loc["enterprise", "n"] == 1 and table.loc["enterprise", "csat"] == 1.0


def test_breakdown_rejects_unknown_survey_and_grouping(tiny):
    with pytest.raises(WorkbookError, match="survey 'ltv' must be one of 'csat', 'nps', 'ces'"):
        tiny.breakdown("ltv")
    with pytest.raises(WorkbookError, match="by 'region' must be one of 'touchpoint', 'segment', 'channel'"):
        tiny.breakdown("nps", by="region")


def test_cohort_retention_by_hand(tiny):
    # Cohorts by signup month: Jan {C1, C2}, Feb {C3}, Mar {C4}. Active = a subscription on the
    # month's last day: C1 all three months; C3 on 28 Feb only (cancelled 1 Mar); C2, C4 never.
    view = tiny.cohort_retention(months=3)
    m = view.matrix
    assert list(m.index) == ["2025-01", "2025-02", "2025-03"]
    assert m.loc["2025-01"].tolist() == [1.0, 0.5, 0.5]
    assert m.loc["2025-02", 0] == 1.0 and m.loc["2025-02", 1] == 0.0 and math.isnan(m.loc["2025-02", 2])
    assert math.isnan(m.loc["2025-03", 1])  # not yet observed
    assert view.sizes.to_dict() == {"2025-01": 2, "2025-02": 1, "2025-03": 1}
    assert view.basis == "an active subscription on the month's last day"


def test_campaign_lift_by_hand(tiny):
    # K1: treatment C1 (converted) and C2; control C3 (not converted): lift 0.5 - 0.0
    lift = tiny.campaign_lift(months=3)
    row = lift.loc["spring mail"]
    assert (row["treated"], row["control"], row["treated_rate"], row["control_rate"]) == (2, 1, 0.5, 0.0)
    assert row["lift"] == 0.5 and row["cost"] == 300.0


def test_relationship_groups_of_one_active_customer(tiny):
    # only C1 holds a subscription on 31 Mar; its profit over 12 months is 120-40 + 80.5-30 = 130.5
    groups = tiny.relationship_groups()
    c = groups.customers.set_index("customer_id")
    assert list(c.index) == ["C1"]
    assert c.loc["C1", "profit"] == pytest.approx(130.5)
    assert groups.summary["customers"].sum() == 1
    assert groups.summary.loc["stranger", "action"].startswith("Low profit and low loyalty")


# -- missing tables -----------------------------------------------------------------------------


def test_missing_tables_give_empty_frames_with_a_note(make_source):
    wb = Workbook(
        "2025-Q1",
        str(make_source(drop=("tickets", "surveys", "campaigns", "campaign_members"))),
        restrict_paths=False,
    )
    for frame, needs in [
        (wb.response_times(), "tickets"),
        (wb.response_summary(), "tickets"),
        (wb.nps_mix(), "surveys"),
        (wb.breakdown("csat"), "surveys"),
        (wb.nps_churn(), "surveys"),
        (wb.campaign_lift(), "campaigns, campaign_members"),
        (wb.reviews(), "reviews"),
        (wb.web_engagement(), "web_engagement"),
    ]:
        assert frame.empty
        assert frame.attrs["note"] == f"skipped: needs {needs}"


def test_missing_stage_history_skips_the_pipeline_stages(tiny):
    stages = tiny.pipeline_stages()  # the tiny source has deals but no deal_stages
    assert stages.note == "skipped: needs deal_stages"
    assert stages.time_in_stage.empty and stages.funnel.empty and stages.bottleneck is None


def test_missing_orders_skip_health_and_value_sections(make_source):
    wb = Workbook("2025-Q1", str(make_source(drop=("orders",))), restrict_paths=False)
    hv = wb.health_validation()
    assert hv.bands.empty and hv.note == "skipped: needs orders" and math.isnan(hv.auc)
    assert wb.revenue_trend().attrs["note"] == "skipped: needs orders"
    assert wb.relationship_groups().note == "skipped: needs orders"


# -- sections on the demo data: properties, not numbers -----------------------------------------


def test_health_validation_auc_is_a_probability_with_its_interval(demo):
    hv = demo.health_validation()
    assert isinstance(hv, HealthValidation)
    assert 0.0 <= hv.auc_ci[0] <= hv.auc <= hv.auc_ci[1] <= 1.0
    assert hv.bands["customers"].sum() == hv.customers
    assert hv.bands["churned"].sum() == hv.churned
    assert list(hv.summary().index) == [
        "customers scored at the start",
        "churned in the period",
        "AUC (0.5 = chance, 1 = perfect)",
        "AUC 95% CI",
        "reading",
        "bands",
        "do the bands separate churn?",
    ]
    assert list(hv.bands.index) == ["higher risk", "middle", "lower risk"]
    # the bands' cut points come from the period before the scored one (2025-Q3 scores -> 2025-Q2)
    assert hv.cuts.calibration == "2025-Q2" and not hv.cuts.fixed and hv.cuts.low < hv.cuts.high


def test_pipeline_funnel_narrows_and_one_stage_is_the_bottleneck(demo):
    stages = demo.pipeline_stages()
    deals = stages.funnel["deals"].to_numpy()
    assert (np.diff(deals) <= 0).all() and stages.funnel.index[-1] == "won"
    # no demo deal skips a stage: "deals entered" would repeat the deals reaching each stage
    assert "entered" not in stages.funnel.columns
    table = stages.time_in_stage
    assert table["bottleneck"].sum() == 1
    assert table.loc[table["bottleneck"]].index[0] == table["mean_days"].idxmax() == stages.bottleneck


def test_relationship_groups_add_up(demo):
    groups = demo.relationship_groups()
    assert groups.summary["customers"].sum() == groups.customers["group"].notna().sum()
    assert groups.summary["customer_share"].sum() == pytest.approx(1.0, abs=1e-3)
    rows = groups.transitions.sum(axis=1).dropna()
    assert np.allclose(rows, 1.0, atol=1e-3)
    assert groups.customers.attrs["profit_split"] == groups.profit_split


def test_campaign_lift_intervals_surround_the_lift(demo):
    lift = demo.campaign_lift()
    assert not lift.empty
    assert (lift["ci_low"] <= lift["lift"]).all() and (lift["lift"] <= lift["ci_high"]).all()
    assert lift["p_value"].between(0, 1).all()


def test_detectable_lifts_state_each_campaigns_smallest_detectable_lift(demo):
    lift, table = demo.campaign_lift(), demo.detectable_lifts()
    assert list(table.index) == list(lift.index)
    for name, row in table.iterrows():
        assert row["detectable_lift"] == f"+{100 * lift.loc[name, 'detectable_lift']:.1f} pp"
        assert row["reading"]  # a sentence for each campaign


def test_clv_steps_end_with_the_headline_clv(demo):
    steps = demo.clv_steps()
    clv = demo.records(["clv"])["clv"]["value"]
    assert steps.loc["CLV (margin, the headline)", "value"] == f"{clv:,.0f}"
    assert steps.attrs["window"] == "01 Jan 2025 to 31 Dec 2025"
    assert steps.index[3:6].tolist() == [
        "1. average purchase value",
        "2. purchase frequency (per year)",
        "3. customer value (per year)",
    ]


def test_clv_steps_without_orders_are_skipped(make_source):
    wb = Workbook("2025-Q1", str(make_source(drop=("orders",))), restrict_paths=False)
    assert wb.clv_steps().attrs["note"] == "skipped: needs orders"


def test_nps_mix_shares_add_up_and_the_last_period_is_current(demo):
    mix = demo.nps_mix(periods=4)
    shares = mix[["promoter_share", "passive_share", "detractor_share"]].sum(axis=1)
    assert np.allclose(shares, 1.0, atol=1e-3)
    assert mix["current"].tolist() == [False, False, False, True]
    assert mix.index[-1] == "2025-Q4"


def test_cohort_matrix_is_a_share_and_starts_at_one(demo):
    m = demo.cohort_retention(months=6).matrix
    assert m.shape == (6, 6)
    assert (m[0] == 1.0).all()
    values = m.to_numpy()
    assert np.nanmin(values) >= 0 and np.nanmax(values) <= 1
    assert np.isnan(values[-1, 1:]).all()  # the period's last cohort is observed for one month


def test_response_summary_total_matches_the_tickets(demo):
    summary = demo.response_summary()
    assert summary.loc["all", "tickets"] == len(demo.response_times())
    assert summary.drop(index="all")["tickets"].sum() == summary.loc["all", "tickets"]


def test_revenue_trend_marks_the_period_months(demo):
    rev = demo.revenue_trend(months=12)
    assert len(rev) == 12
    assert list(rev.index[rev["in_period"]]) == ["2025-10", "2025-11", "2025-12"]
    assert rev.loc["2025-10":, "revenue"].sum() == pytest.approx(
        demo.headline_numbers(["revenue"])["revenue"], rel=1e-6
    )


def test_segment_restricts_every_section(make_source):
    wb = Workbook("2025-Q1", str(make_source()), segment="smb", restrict_paths=False)
    # smb customers C1 and C2 answered the two NPS surveys; the enterprise CSAT answer is gone
    assert wb.breakdown("nps").loc["all", "n"] == 2
    assert wb.breakdown("csat").loc["all", "n"] == 0
    assert isinstance(wb.summary(), pd.DataFrame)


def test_nps_churn_is_the_analysis_table_with_its_verdict():
    from metrics_lib.metrics.analyses import nps_vs_churn

    wb = Workbook("2024-Q4", "data/demo")
    table = wb.nps_churn()
    expected = nps_vs_churn(wb.source, "2024-Q4").table
    assert table["churned"].tolist() == expected["churned"].tolist()
    assert table["churn_rate"].tolist() == expected["churn_rate"].round(4).tolist()
    assert table.attrs["verdict"].startswith("Detractors churned at")


def test_clv_models_on_the_demo_data():
    wb = Workbook("2025-Q4", "data/demo")
    view = wb.clv_models(horizon_weeks=52)
    assert view.note == ""
    assert set(view.parameters.index.get_level_values("parameter")) == {
        "r",
        "alpha",
        "a",
        "b",
        "p",
        "q",
        "gamma",
    }
    assert len(view.customers) == wb.source.frame("customers")["customer_id"].nunique()
    assert view.customers["probability_alive"].between(0, 1).all()
    assert (view.customers["clv"] >= 0).all()
    # the holdout check groups customers by calibration frequency 0..7+
    assert list(view.calibration["label"]) == ["0", "1", "2", "3", "4", "5", "6", "7+"]


def test_clv_models_without_orders_is_skipped(make_source):
    wb = Workbook("2025-Q1", str(make_source(drop=("orders",))))
    view = wb.clv_models()
    assert view.note == "skipped: needs orders" and view.customers.empty


def test_before_after_uses_the_source_change_date():
    wb = Workbook("2025-Q4", "data/demo")
    table = wb.before_after(window_days=365)
    assert "(01 Jul 2024): the 365 days before it (02 Jul 2023 to 30 Jun 2024)" in table.attrs["note"]
    numbers = table.attrs["numbers"]
    assert numbers.loc["nps", "change"] > 20 and bool(numbers.loc["nps", "significant"])
    assert table.loc["NPS", "change vs noise"] == "significant (p < 0.001)"


def test_comments_are_hidden_unless_personal_data_is_asked_for(make_source):
    folder = make_source()
    hidden = Workbook("2025-Q1", str(folder)).comments("nps", group="all")
    assert hidden.empty and "--show-pii" in hidden.attrs["note"]
    shown = Workbook("2025-Q1", str(folder), show_pii=True).comments("nps", group="all")
    surveys = pd.read_csv(folder / "surveys.csv")
    expected = surveys[
        (surveys["survey"] == "nps")
        & surveys["comment"].notna()
        & surveys["response_date"].between("2025-01-01", "2025-03-31")
    ]
    assert len(expected) > 0
    assert sorted(shown["comment"]) == sorted(expected["comment"])


def test_health_components_signal_on_the_demo_data():
    """The demo plants churn by NPS group, so the NPS component must carry the most signal; its
    five components carry their default weights (the demo has every one of them)."""
    hv = Workbook("2025-Q4", "data/demo").health_validation()
    comps = hv.components
    assert set(comps.index) == {"recency", "nps", "support_load", "resolution", "renewal"}
    assert comps["weight"].sum() == pytest.approx(1.0) and (comps["weight"] == comps["default_weight"]).all()
    # the higher-risk band (bottom tercile at the end of 2025-Q3) churns more than the lower-risk one
    assert hv.bands.loc["higher risk", "ci_low"] > hv.bands.loc["lower risk", "ci_high"]
    assert "separate churn risk beyond noise" in hv.separation
    assert comps.index[0] == "nps" and comps.loc["nps", "ci_low"] > 0.5
    assert comps["auc"].between(0, 1).all()


def test_relationship_groups_with_loyalty_from_probability_alive():
    wb = Workbook("2025-Q4", "data/demo")
    groups = wb.relationship_groups(loyalty="probability_alive")
    assert set(groups.summary.index) == {"stranger", "butterfly", "barnacle", "true friend"}
    assert groups.customers["probability_alive"].between(0, 1).all()
    assert int(groups.summary["customers"].sum()) == len(groups.customers)
    with pytest.raises(WorkbookError, match="loyalty \\('age'\\) must be 'tenure' or 'probability_alive'"):
        wb.relationship_groups(loyalty="age")


def test_about_the_data_names_tables_in_words(demo):
    rows = [k for k in demo.summary()["value"].index if k.startswith("rows: ")]
    assert "rows: deal stages" in rows and "rows: marketing spend" in rows
    assert not [k for k in rows if "_" in k]


def test_hidden_comments_tell_the_reader_the_run_option_only(demo):
    note = demo.comments("nps", group="detractor", n=5).attrs["note"]
    assert note.endswith("run the report with --show-pii to see them") and "show_pii=" not in note


def test_the_before_after_note_is_shown_as_text_not_printed(demo):
    from metrics_lib.reporting.format import Markdown

    table = demo.before_after(window_days=365)
    note = demo.before_after_note(table)
    assert isinstance(note, Markdown) and note._repr_markdown_()
    assert note.text.replace("\\", "") == table.attrs["note"].replace("\\", "")


def test_the_pipeline_report_prints_no_note():
    import nbformat

    nb = nbformat.read("notebooks/04_pipeline.ipynb", as_version=4)
    assert not [
        c for c in nb.cells if c.cell_type == "code" and "print(" in c.source and ".attrs" in c.source
    ]


def test_the_funnel_keeps_deals_entered_when_a_deal_skipped_a_stage(demo, monkeypatch):
    from dataclasses import replace

    import metrics_lib.reporting.workbook as workbook

    real = workbook.pipeline_stages

    def skipping(*args, **kwargs):  # one deal went from the first stage straight to the third
        stages = real(*args, **kwargs)
        funnel = stages.funnel.copy()
        funnel.iloc[1, funnel.columns.get_loc("entered")] -= 1
        return replace(stages, funnel=funnel)

    monkeypatch.setattr(workbook, "pipeline_stages", skipping)
    funnel = demo.pipeline_stages().funnel
    assert (funnel["deals"] - funnel["entered"]).tolist()[:3] == [0, 1, 0]

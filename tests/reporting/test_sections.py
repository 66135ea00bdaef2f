"""The sections reached through ``Workbook.sections``: numbers formatted in their units, an empty
section saying which table or column it needs, and a note for what is not shown."""

from __future__ import annotations

import pytest

from metrics_lib.reporting.workbook import Workbook


@pytest.fixture(scope="module")
def demo():
    return Workbook("2025-Q4", "data/demo")


def test_mrr_waterfall_table_is_formatted_and_bridges(demo):
    view = demo.sections.mrr_waterfall()
    n = view.numbers
    assert n["after"].iloc[-2] == pytest.approx(n["after"].iloc[-1])  # the steps reach the end MRR
    t = view.table
    assert t.loc["start MRR", "of start MRR"] == "100.0%"
    assert t.loc["churned", "MRR change"].startswith("-") and t.loc["new", "MRR change"].startswith("+")
    assert "," in t.loc["end MRR", "MRR after"]


def test_mrr_trend_has_eight_periods_and_arr_is_twelve_times_mrr(demo):
    view = demo.sections.mrr_trend(periods=8)
    assert len(view.table) == 8 and view.numbers["current"].tolist() == [False] * 7 + [True]
    assert (view.numbers["arr"] == 12 * view.numbers["end_mrr"]).all()
    assert {"start MRR", "end MRR", "ARR", "ARPA", "quick ratio"} <= set(view.table.columns)
    # the plot marks the demo's strategy change (01 Jul 2024) like the other trends
    when, label = view.numbers.attrs["strategy_change"]
    assert str(when) == "2024-07-01" and "01 Jul 2024" in label


def test_sales_leaderboard_shows_the_interval_and_says_what_it_hides(demo):
    view = demo.sections.sales_leaderboard(min_closed=20)
    assert list(view.table.columns[:4]) == ["team", "closed", "won", "win rate"]
    assert view.table["95% CI"].str.contains(r"^\d+\.\d% to \d+\.\d%$").all()
    assert view.numbers["closed"].min() >= 20
    assert view.numbers.attrs["hidden"] == 0 or "not shown" in view.note
    assert "rep" in view._repr_html_() and view.table.index.name == "rep"


def test_a_section_without_its_table_or_column_says_what_it_needs(make_source):
    wb = Workbook("2025-Q1", str(make_source(drop=("subscriptions",))), restrict_paths=False)
    for view in (wb.sections.mrr_trend(), wb.sections.mrr_waterfall(), wb.sections.social_engagement()):
        assert view.numbers.empty and view.note.startswith("skipped: needs")
    assert wb.sections.mrr_trend().note == "skipped: needs subscriptions"
    assert "skipped: needs social" in wb.sections.social_engagement()._repr_html_()


def test_referrals_need_the_referred_by_column_with_values(make_source):
    folder = make_source(set={("customers", 1, "referred_by"): ""})  # the only referral removed
    wb = Workbook("2025-Q1", str(folder), restrict_paths=False)
    assert wb.sections.referral_distribution().note == "skipped: needs customers.referred_by"


def test_a_section_reads_as_its_note_and_table_in_text(demo):
    text = repr(demo.sections.referral_distribution(months=12))
    first, second = text.splitlines()[:2]
    assert first.startswith("customers who signed up through a referral, ") and "referrers" in second

"""Per-group and per-month views on the tiny source (conftest.py), numbers worked by hand.

Tickets of 2025-Q1: T1 (email) answered after 0.5 h and resolved after 3 h; T2 (phone) answered
after 18 h and resolved after 44 h; T3 (chat) still unanswered. Orders: January 120 (cost 40) and
200 (no cost), February 80.50 (cost 30), March 950.25 (cost 300).
"""

from __future__ import annotations

import math

import pytest

from metrics_lib.core.errors import WorkbookError
from metrics_lib.data import open_source
from metrics_lib.metrics import aggregate as agg
from metrics_lib.metrics import breakdowns, trends


@pytest.fixture
def q1(make_source):
    return agg.Scope.of(open_source(make_source()), "2025-Q1")


def test_response_summary_per_channel_and_all(q1):
    t = breakdowns.response_summary(q1, target_hours=2.0)
    assert list(t.index) == ["chat", "email", "phone", "all"]
    assert t.loc["all", "tickets"] == 3 and t.loc["all", "unanswered"] == 1
    assert t.loc["email", "first_response_median_h"] == 0.5 and t.loc["email", "within_target"] == 1.0
    assert t.loc["phone", "resolution_median_h"] == 44.0 and t.loc["phone", "within_target"] == 0.0
    assert t.loc["all", "within_target"] == 0.5  # one of the two answered tickets within 2 h
    assert math.isnan(t.loc["chat", "first_response_median_h"])


def test_survey_breakdown_by_touchpoint(q1):
    t = breakdowns.survey_breakdown(q1, "nps", "touchpoint")
    # one promoter (9) and one detractor (6) at onboarding: NPS 0
    assert list(t.index) == ["onboarding", "all"]
    assert (t.loc["all", "n"], t.loc["all", "nps"]) == (2, 0.0)
    assert t["low_sample"].all()


def test_breakdown_arguments_are_checked():
    with pytest.raises(WorkbookError, match="by 'region' must be one of 'touchpoint', 'segment', 'channel'"):
        breakdowns.check_breakdown("nps", "region")


def test_comments_of_one_nps_group(q1):
    frame = breakdowns.survey_comments(q1, "nps", group="promoter")
    assert frame["comment"].tolist() == ["quick setup"] and list(frame.index) == ["C1"]
    with pytest.raises(WorkbookError, match="group 'fans' must be one of detractor, passive, promoter, all"):
        breakdowns.survey_comments(q1, "nps", group="fans")


def test_revenue_trend_is_unrounded_with_the_margin_of_known_costs(q1):
    t = trends.revenue_trend(q1, months=3)
    assert list(t.index) == ["2025-01", "2025-02", "2025-03"] and t["in_period"].all()
    assert t.loc["2025-01", "revenue"] == 320.0 and t.loc["2025-01", "gross_profit"] == 280.0
    assert t.loc["2025-02", "gross_margin"] == pytest.approx(50.5 / 80.5)
    assert t["orders"].tolist() == [2, 1, 1]

"""Campaign lift and the scorecard's campaign summary, both from one per-campaign, per-group query.

The tiny source (conftest.py) has campaign K1 "spring mail" (email, cost 300, starting 1 Mar 2025):
treatment C1 (converted, revenue 80) and C2 (not converted), control C3 (not converted). The tests
add K2 (starting 10 Mar 2025, cost 50, no members) and K3 (starting 10 Jan 2024, outside the
window, one treated member).
"""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest
from conftest import valid_tables

from metrics_lib.data import open_source
from metrics_lib.metrics import aggregate as agg
from metrics_lib.metrics import aggregate_marketing
from metrics_lib.metrics.campaigns import DETECTABLE_COLUMNS, LIFT_COLUMNS, campaign_lift, detectable_lifts

Q1_2025 = agg.DateWindow(date(2025, 1, 1), date(2025, 4, 1))


def _tables(tables):
    tables["campaigns"] += [
        {
            "campaign_id": "K2",
            "name": "summer call",
            "channel": "phone",
            "start_date": "2025-03-10",
            "end_date": "2025-03-20",
            "cost": "50",
        },
        {
            "campaign_id": "K3",
            "name": "old promo",
            "channel": "email",
            "start_date": "2024-01-10",
            "end_date": "2024-01-31",
            "cost": "10",
        },
    ]
    tables["campaign_members"].append(
        {"campaign_id": "K3", "customer_id": "C4", "group": "treatment", "converted": "true", "revenue": "5"}
    )
    return tables


@pytest.fixture
def campaigns_source(make_source):
    return open_source(make_source(_tables(valid_tables())))


@pytest.fixture
def campaigns_without_orders(make_source):
    tables = _tables(valid_tables())
    del tables["orders"]
    return open_source(make_source(tables))


def test_lift_of_the_one_campaign_with_members_by_hand(campaigns_without_orders):
    lift = campaign_lift(agg.Scope.of(campaigns_without_orders, Q1_2025))
    assert list(lift.columns) == LIFT_COLUMNS
    assert list(lift.index) == ["spring mail"]  # K2 has no members, K3 started before the window
    row = lift.loc["spring mail"]
    assert (row["channel"], row["start_date"], row["cost"]) == ("email", date(2025, 3, 1), 300.0)
    assert (row["treated"], row["control"]) == (2, 1)
    assert (row["treated_rate"], row["control_rate"], row["lift"]) == (0.5, 0.0, 0.5)
    # without orders revenue is its own gross profit: treated revenue per member 80 / 2 against 0 / 1
    assert row["incremental_profit"] == pytest.approx(80.0)
    assert row["incremental_roi"] == pytest.approx((80 - 300) / 300)
    # one control member: no spread to measure, so no interval of the ROI
    assert math.isnan(row["roi_ci_low"]) and math.isnan(row["roi_ci_high"])
    # 2 treated against 1 control member, control rate 0: h = (1.96 + 0.84) x sqrt(1/2 + 1) exceeds
    # what a rise to 100% gives (pi), so no lift could be detected
    assert math.isnan(row["detectable_lift"])


def test_lift_turns_revenue_into_gross_profit_with_the_windows_margin(campaigns_source):
    # orders of Q1 2025: revenue 120 + 80.5 + 200 + 950.25 = 1350.75; known costs 40 + 30 + 300 = 370
    margin = (1350.75 - 370) / 1350.75
    row = campaign_lift(agg.Scope.of(campaigns_source, Q1_2025)).loc["spring mail"]
    assert row["incremental_profit"] == pytest.approx(80 * margin)
    assert row["incremental_roi"] == pytest.approx((80 * margin - 300) / 300)


def test_no_campaign_in_the_window_gives_an_empty_table_with_a_note(campaigns_source):
    lift = campaign_lift(agg.Scope.of(campaigns_source, "2023"))
    assert lift.empty and lift.attrs["note"] == "no campaign started in the window"


def test_campaign_summary_and_lift_share_one_query(campaigns_source):
    groups = aggregate_marketing.campaign_groups(agg.Scope.of(campaigns_source, Q1_2025))
    assert sorted(groups["campaign_id"]) == ["K1", "K1", "K2"]  # K2, without members, has no group
    assert groups.loc[groups["campaign_id"] == "K2", "group"].isna().all()
    summary = aggregate_marketing.campaign_summary(agg.Scope.of(campaigns_source, Q1_2025)).set_index(
        "campaign_id"
    )
    assert "K3" not in summary.index  # started before the window
    k1 = summary.loc["K1"]
    assert (k1["treatment_members"], k1["treatment_converted"], k1["treatment_revenue"]) == (2, 1, 80)
    assert (k1["control_members"], k1["control_converted"], k1["cost"]) == (1, 0, 300)


def test_detectable_lifts_are_numbers_beside_the_lift_seen():
    # the sentences reading them are the reporting layer's (tests/reporting/test_views.py)
    lift = pd.DataFrame(
        {
            "treated": [1000, 1000, 1000, 2],
            "control": [1000, 1000, 1000, 1],
            "control_rate": [0.10, 0.10, 0.10, 0.0],
            "lift": [0.02, 0.05, 0.06, 0.5],
            "significant": [False, False, True, False],
            "detectable_lift": [0.0406, 0.0406, 0.0406, float("nan")],
        },
        index=pd.Index(["small", "near", "clear", "tiny groups"], name="campaign"),
    )
    out = detectable_lifts(lift)
    assert list(out.columns) == DETECTABLE_COLUMNS
    assert out.loc["near"].tolist() == [1000, 1000, 0.10, 0.05, 0.0406, False]
    assert math.isnan(out.loc["tiny groups", "detectable_lift"])
    empty = detectable_lifts(pd.DataFrame(columns=LIFT_COLUMNS).rename_axis("campaign"))
    assert empty.empty and list(empty.columns) == DETECTABLE_COLUMNS

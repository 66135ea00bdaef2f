"""The coverage tables and headlines of issue #14 on a hand-made source, each number by hand.

Customers (signup; referred by): C1 2023-06-01; C2 2024-06-01; C3 2025-02-01 (C1); C4 2025-03-01
(C1); C5 2025-01-15 (C2); C6 2024-03-15. Orders of 2025-Q1 (revenue / cost, type):

=====  ========  ==========  =========  ==========  ===================================
order  customer  date        amount     type        customer's age at the order
=====  ========  ==========  =========  ==========  ===================================
O1     C1        2025-01-10  100 / 40   repeat      beyond the first year
O2     C1        2025-02-10  50 / 20    upsell      beyond the first year
O3     C2        2025-01-20  200 / 100  cross_sell  first year, acquired earlier
O4     C3        2025-02-01  80 / 30    new         acquired in the period
O5     C4        2025-03-01  60 / 20    new         acquired in the period
O6     C5        2025-01-15  40 / 10    new         acquired in the period
O7     C6        2025-03-14  30 / 10    repeat      first year (day 364 after signup)
O8     C6        2025-03-15  20 / 5     cross_sell  beyond the first year (day 365)
=====  ========  ==========  =========  ==========  ===================================

Before the period: C1 2024-12-01 and C2 2024-11-01, so C1 and C2 are active at the start (180-day
window) and, buying in the quarter, retained: 2. Retention spend 300 in January and February.

Deals closed in 2025-Q1 (all new business): rep_a (team T1) 25 closed, 10 won at 100, of them 5
from referrals (2 won); rep_b (T1) 5 won at 1,000; rep_c (T2) 20 closed, 15 won at 50, upsell
deals. Tickets of 2025-Q1 answered after 1, 2 and 6 hours, and one not answered.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from metrics_lib.data import open_source
from metrics_lib.metrics import aggregate_revenue, engagement_views, sales_views
from metrics_lib.metrics.aggregate import Scope
from metrics_lib.metrics.scorecard import headline_metrics

CUSTOMERS = [
    ("C1", "2023-06-01", ""),
    ("C2", "2024-06-01", ""),
    ("C3", "2025-02-01", "C1"),
    ("C4", "2025-03-01", "C1"),
    ("C5", "2025-01-15", "C2"),
    ("C6", "2024-03-15", ""),
]
ORDERS = [
    ("O0", "C1", "2024-12-01", 999, 1, "repeat"),
    ("O00", "C2", "2024-11-01", 10, 1, "repeat"),
    ("O1", "C1", "2025-01-10", 100, 40, "repeat"),
    ("O2", "C1", "2025-02-10", 50, 20, "upsell"),
    ("O3", "C2", "2025-01-20", 200, 100, "cross_sell"),
    ("O4", "C3", "2025-02-01", 80, 30, "new"),
    ("O5", "C4", "2025-03-01", 60, 20, "new"),
    ("O6", "C5", "2025-01-15", 40, 10, "new"),
    ("O7", "C6", "2025-03-14", 30, 10, "repeat"),
    ("O8", "C6", "2025-03-15", 20, 5, "cross_sell"),
]
SOCIAL = [
    ("2024-12-31", "x", 100, 100, 100),
    ("2025-01-01", "linkedin", 1, 2, 10),
    ("2025-02-01", "linkedin", 3, 0, 5),
    ("2025-01-05", "x", 0, 4, 6),
]


def _deals() -> list[tuple]:
    rows = []

    def add(owner, team, won, amount, source="organic", deal_type="new_business"):
        i = len(rows) + 1
        rows.append(
            (
                f"D{i}",
                "",
                owner,
                team,
                source,
                "2025-01-02",
                "2025-02-15",
                "won" if won else "lost",
                amount,
                deal_type,
            )
        )

    for k in range(25):  # rep_a: the first 5 from referrals, won 2 of them; 10 won in all
        add("rep_a", "T1", k in (0, 1, 5, 6, 7, 8, 9, 10, 11, 12), 100, "referral" if k < 5 else "organic")
    for _ in range(5):
        add("rep_b", "T1", True, 1_000)
    for k in range(20):
        add("rep_c", "T2", k < 15, 50, deal_type="upsell")
    rows.append(
        ("D99", "", "rep_a", "T1", "organic", "2024-10-01", "2024-12-20", "won", 5_000, "new_business")
    )
    rows.append(("D100", "", "rep_a", "T1", "organic", "2025-01-10", "", "open", 700, "new_business"))
    return rows


@pytest.fixture(scope="module")
def src(tmp_path_factory):
    folder = tmp_path_factory.mktemp("coverage")
    pd.DataFrame(
        [(c, s, "organic", "SMB", "north", r) for c, s, r in CUSTOMERS],
        columns=["customer_id", "signup_date", "acquisition_channel", "segment", "region", "referred_by"],
    ).to_csv(folder / "customers.csv", index=False)
    pd.DataFrame(
        ORDERS, columns=["order_id", "customer_id", "order_date", "revenue", "cost", "order_type"]
    ).to_csv(folder / "orders.csv", index=False)
    pd.DataFrame(SOCIAL, columns=["date", "platform", "follows", "shares", "likes"]).to_csv(
        folder / "social.csv", index=False
    )
    pd.DataFrame(
        _deals(),
        columns=[
            "deal_id",
            "customer_id",
            "owner",
            "team",
            "source",
            "created_date",
            "closed_date",
            "outcome",
            "amount",
            "deal_type",
        ],
    ).to_csv(folder / "deals.csv", index=False)
    pd.DataFrame(
        [
            ("2025-01-01", "customer_success", "", "retention", 300),
            ("2025-02-01", "customer_success", "", "retention", 300),
            ("2025-01-01", "organic", "", "acquisition", 1_000),
            ("2025-04-01", "customer_success", "", "retention", 900),
        ],
        columns=["month", "channel", "campaign_id", "purpose", "spend"],
    ).to_csv(folder / "marketing_spend.csv", index=False)
    pd.DataFrame(
        [
            ("T1", "C1", "2025-01-10 09:00:00", "2025-01-10 10:00:00", "2025-01-10 12:00:00", 1, "email"),
            ("T2", "C2", "2025-02-10 09:00:00", "2025-02-10 11:00:00", "2025-02-11 09:00:00", 1, "chat"),
            ("T3", "C3", "2025-03-10 09:00:00", "2025-03-10 15:00:00", "", 2, "chat"),
            ("T4", "C4", "2025-03-20 09:00:00", "", "", "", "email"),
        ],
        columns=[
            "ticket_id",
            "customer_id",
            "opened_at",
            "first_response_at",
            "resolved_at",
            "contacts_to_resolve",
            "channel",
        ],
    ).to_csv(folder / "tickets.csv", index=False)
    return open_source(folder)


def _scope(src, period="2025-Q1"):
    return Scope.of(src, period)


def test_revenue_by_order_type_keeps_cross_sell_apart_from_upsell(src):
    t = aggregate_revenue.revenue_by_order_type(_scope(src))
    assert t.index.tolist() == ["new", "repeat", "upsell", "cross_sell", "all"]
    assert t["revenue"].tolist() == [180, 130, 50, 220, 580]
    assert t["orders"].tolist() == [3, 2, 1, 2, 8]
    assert t["buyers"].tolist() == [3, 2, 1, 2, 6]
    assert t["gross_profit"].tolist() == [120, 80, 30, 115, 345]
    assert t.loc["cross_sell", "share_of_revenue"] == pytest.approx(220 / 580)
    assert t.loc["cross_sell", "revenue_per_buyer"] == 110


def test_revenue_by_customer_age_and_new_revenue(src):
    t = aggregate_revenue.revenue_by_customer_age(_scope(src))
    assert t["revenue"].tolist() == [180, 230, 170, 0]
    assert t["orders"].tolist() == [3, 2, 3, 0]
    assert t["buyers"].tolist() == [3, 2, 2, 0]  # C6 is in both of the last two groups
    assert t.loc["beyond the first year", "revenue_per_buyer"] == 85
    assert aggregate_revenue.new_revenue(_scope(src)) == 410


def test_new_revenue_retention_cost_and_mean_response_headlines(src):
    rec = headline_metrics(
        src, "2025-Q1", ids=["new_revenue", "retention_cost_per_client", "first_response_hours_mean"]
    )["metrics"]
    assert rec["new_revenue"]["value"] == 410
    # 600 of retention spend over C1 and C2, retained
    assert rec["retention_cost_per_client"]["value"] == 300 and rec["retention_cost_per_client"]["n"] == 2
    # answered after 1, 2 and 6 hours: mean 3 (the median is 2)
    assert (
        rec["first_response_hours_mean"]["value"] == pytest.approx(3.0)
        and rec["first_response_hours_mean"]["n"] == 3
    )


def test_retention_cost_is_null_for_a_segment(src):
    rec = headline_metrics(src, "2025-Q1", ids=["retention_cost_per_client"], segment="SMB")["metrics"]
    assert rec["retention_cost_per_client"]["value"] is None
    assert "not split by segment" in rec["retention_cost_per_client"]["reason"]


def test_social_by_platform_sums_the_period_only(src):
    t = engagement_views.social_by_platform(_scope(src))
    assert t.index.tolist() == ["linkedin", "x", "all"]
    assert (
        t["follows"].tolist() == [4, 0, 4]
        and t["shares"].tolist() == [2, 4, 6]
        and t["likes"].tolist() == [15, 6, 21]
    )
    assert t["share_of_interactions"].tolist() == pytest.approx([21 / 31, 10 / 31, 1.0])
    assert t["days"].tolist() == [2, 1, 3]


def test_social_trend_has_no_numbers_for_a_period_without_rows(src):
    t = engagement_views.social_trend([_scope(src, p) for p in ("2024-Q3", "2024-Q4", "2025-Q1")])
    assert t["days"].tolist() == [0, 1, 3]
    assert math.isnan(t.loc["2024-Q3", "likes"]) and t.loc["2024-Q4", "likes"] == 100
    assert t.loc["2025-Q1", "shares"] == 6


def test_referral_distribution(src):
    t = engagement_views.referral_distribution(_scope(src))
    # C1 referred C3 and C4, C2 referred C5
    assert t.index.tolist() == ["1", "2", "all"]
    assert t["referrers"].tolist() == [1, 1, 2] and t["referrals"].tolist() == [1, 2, 3]
    assert t["share_of_referrals"].tolist() == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert t.loc["all", "referrals_per_referrer"] == 1.5
    capped = engagement_views.referral_distribution(_scope(src), cap=2)
    assert capped.index.tolist() == ["1", "2 or more", "all"]
    with pytest.raises(ValueError, match=r"`cap` \(1\) must be a whole number >= 2"):
        engagement_views.referral_distribution(_scope(src), cap=1)


def test_referral_lead_conversion_counts_new_business_only(src):
    t = engagement_views.referral_lead_conversion(_scope(src))
    # referral: 2 of 5; other sources: rep_a's other 20 (8 won) and rep_b's 5 won; rep_c's upsells out
    assert t["closed"].tolist() == [5, 25, 30] and t["won"].tolist() == [2, 13, 15]
    assert t.loc["referral", "win_rate"] == pytest.approx(0.4)


def test_sales_leaderboard_by_rep_hides_small_groups(src):
    t = sales_views.sales_leaderboard(_scope(src), by="owner", min_closed=20)
    assert t.index.tolist() == ["rep_a", "rep_c"]  # by value won: 1,000 then 750; rep_b has 5 closed
    assert t["closed"].tolist() == [25, 20] and t["won"].tolist() == [10, 15]
    assert t["won_value"].tolist() == [1_000, 750] and t["average_won"].tolist() == [100, 50]
    assert t.loc["rep_a", "win_rate"] == 0.4
    # Wilson 95% for 10 of 25
    assert (t.loc["rep_a", "ci_low"], t.loc["rep_a", "ci_high"]) == pytest.approx((0.2340, 0.5926), abs=1e-4)
    assert t.loc["rep_a", "team"] == "T1"
    assert (t.attrs["hidden"], t.attrs["hidden_closed"]) == (1, 5)
    assert sales_views.sales_leaderboard(_scope(src), min_closed=5).index.tolist() == [
        "rep_b",
        "rep_a",
        "rep_c",
    ]


def test_sales_leaderboard_by_team(src):
    t = sales_views.sales_leaderboard(_scope(src), by="team", min_closed=20)
    assert t.index.tolist() == ["T1", "T2"]
    assert t["closed"].tolist() == [30, 20] and t["won"].tolist() == [15, 15]
    assert t["won_value"].tolist() == [6_000, 750]
    with pytest.raises(ValueError, match=r"`by` \('region'\) must be one of"):
        sales_views.sales_leaderboard(_scope(src), by="region")
    with pytest.raises(ValueError, match=r"`min_closed` \(0\) must be a whole number >= 1"):
        sales_views.sales_leaderboard(_scope(src), min_closed=0)

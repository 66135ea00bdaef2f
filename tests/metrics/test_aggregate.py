"""Period aggregations on a hand-made transaction log, every expected number worked out by hand.

The log (no subscriptions table, so activity is non-contractual with the 180-day window):

========  ===========  =====================================================
customer  signed up    orders (date: revenue / cost)
========  ===========  =====================================================
C1        2024-01-10   2024-01-10: 100/40, 2024-12-01: 50/20,
                       2025-02-10: 30/10 and 20/10 (same day, both upsell)
C2        2024-06-01   2024-06-01: 200/100, 2024-08-01: 100/50
C3        2025-01-15   2025-01-15: 80/20, 2025-03-20: 40/10
C4        2025-02-01   2025-02-01: 60/30 (referred by C1)
C5        2024-07-05   2024-07-05: 10/5 (exactly 179 days before 2024-12-31)
C6        2024-07-04   2024-07-04: 10/5 (one day too early to be active at the start)
C7        2023-01-10   2023-01-10: 10/5 (joins and leaves within 2023)
========  ===========  =====================================================

2025-Q1: the day before is 2024-12-31; active then = a purchase in [2024-07-05, 2024-12-31]:
C1, C2, C5 (3). Active on 2025-03-31 = a purchase in [2024-10-03, 2025-03-31]: C1, C3, C4.
Lost = C2, C5 -> churn 2/3. Orders in Q1: 5, revenue 230, cost 80, buyers C1, C3, C4;
repeat buyers (two or more distinct days): C3 only (C1's two orders share a day) -> 1/3.
"""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from metrics_lib.data import open_source
from metrics_lib.metrics import aggregate as agg
from metrics_lib.metrics.scorecard import headline_metrics

CUSTOMERS = [
    ("C1", "2024-01-10", "organic", "SMB", ""),
    ("C2", "2024-06-01", "events", "Enterprise", ""),
    ("C3", "2025-01-15", "paid_search", "SMB", ""),
    ("C4", "2025-02-01", "referral", "SMB", "C1"),
    ("C5", "2024-07-05", "organic", "SMB", ""),
    ("C6", "2024-07-04", "organic", "SMB", ""),
    ("C7", "2023-01-10", "organic", "SMB", ""),
]
ORDERS = [
    ("O1", "C1", "2024-01-10", 100, 40, "new"),
    ("O2", "C1", "2024-12-01", 50, 20, "repeat"),
    ("O3", "C1", "2025-02-10", 30, 10, "upsell"),
    ("O4", "C1", "2025-02-10", 20, 10, "upsell"),
    ("O5", "C2", "2024-06-01", 200, 100, "new"),
    ("O6", "C2", "2024-08-01", 100, 50, "repeat"),
    ("O7", "C3", "2025-01-15", 80, 20, "new"),
    ("O8", "C3", "2025-03-20", 40, 10, "repeat"),
    ("O9", "C4", "2025-02-01", 60, 30, "new"),
    ("O10", "C5", "2024-07-05", 10, 5, "new"),
    ("O11", "C6", "2024-07-04", 10, 5, "new"),
    ("O12", "C7", "2023-01-10", 10, 5, "new"),
]


@pytest.fixture(scope="module")
def log_source(tmp_path_factory):
    folder = tmp_path_factory.mktemp("log")
    pd.DataFrame(
        CUSTOMERS, columns=["customer_id", "signup_date", "acquisition_channel", "segment", "referred_by"]
    ).to_csv(folder / "customers.csv", index=False)
    pd.DataFrame(
        ORDERS, columns=["order_id", "customer_id", "order_date", "revenue", "cost", "order_type"]
    ).to_csv(folder / "orders.csv", index=False)
    return open_source(folder)


def scope(src, period, segment=None):
    return agg.Scope.of(src, period, segment)


def test_activity_counts_use_the_inactivity_window_edges(log_source):
    a = agg.activity_counts(scope(log_source, "2025-Q1"))
    assert a.basis == "non-contractual"
    assert (a.active_at_start, a.lost, a.retained, a.active_at_end) == (3, 2, 1, 3)
    assert a.joined_and_left == 0


def test_joiners_who_leave_in_the_same_period_are_reported_apart(log_source):
    a = agg.activity_counts(scope(log_source, "2023"))
    assert a.active_at_start == 0
    assert a.lost == 0
    assert a.joined_and_left == 1


def test_orders_summary_merges_same_day_purchases_for_repeat_buyers(log_source):
    o = agg.orders_summary(scope(log_source, "2025-Q1"))
    assert o.orders == 5
    assert o.revenue == pytest.approx(230)
    assert o.cost == pytest.approx(80)
    assert (o.buyers, o.repeat_buyers, o.upsell_buyers) == (3, 1, 1)
    # purchase days: C1 one (two orders on 2025-02-10), C3 two, C4 one
    assert o.purchases == 4


def test_segment_restricts_every_table(log_source):
    o = agg.orders_summary(scope(log_source, "2024-Q3", segment="Enterprise"))
    assert (o.orders, o.revenue) == (1, pytest.approx(100))


def test_new_customers_and_referrals(log_source):
    n = agg.new_customers_summary(scope(log_source, "2025-Q1"))
    assert (n.new_customers, n.referred, n.referrers) == (2, 1, 1)


def _months(df):
    return list(pd.to_datetime(df["month"]).dt.strftime("%Y-%m"))


def test_monthly_revenue_of_a_calendar_period(log_source):
    df = agg.monthly_revenue(scope(log_source, "2025-Q1"), months=12)
    # the twelve months ending with March 2025, months without orders absent
    assert _months(df) == ["2024-06", "2024-07", "2024-08", "2024-12", "2025-01", "2025-02", "2025-03"]
    assert list(df["revenue"]) == pytest.approx([200, 20, 100, 50, 80, 110, 40])
    assert list(df["gross_profit"]) == pytest.approx([100, 10, 50, 30, 60, 60, 30])
    assert (list(df["orders"]), list(df["buyers"])) == ([1, 2, 1, 1, 1, 3, 1], [1, 2, 1, 1, 1, 2, 1])


def test_monthly_revenue_of_a_date_window(log_source):
    # a DateWindow has no calendar kind: the months end with the one holding its last day
    same = agg.monthly_revenue(
        scope(log_source, agg.DateWindow(date(2025, 1, 1), date(2025, 4, 1))), months=3
    )
    calendar = agg.monthly_revenue(scope(log_source, "2025-Q1"), months=3)
    pd.testing.assert_frame_equal(same, calendar)
    mid = agg.monthly_revenue(
        scope(log_source, agg.DateWindow(date(2024, 12, 15), date(2025, 2, 5))), months=2
    )
    assert _months(mid) == ["2025-01", "2025-02"]
    assert list(mid["revenue"]) == pytest.approx([80, 60])  # February up to the window's end: C4's order


def test_headline_metrics_from_a_plain_transaction_log(log_source):
    out = headline_metrics(log_source, "2025-Q1")
    m = out["metrics"]
    assert out["start"] == "2025-01-01" and out["end"] == "2025-03-31"
    assert m["churn_rate"]["value"] == pytest.approx(2 / 3)
    assert (m["churn_rate"]["numerator"], m["churn_rate"]["denominator"]) == (2, 3)
    assert m["retention_rate"]["value"] == pytest.approx(1 / 3)
    assert m["revenue"]["value"] == pytest.approx(230)
    assert m["gross_profit"]["value"] == pytest.approx(150)
    assert m["gross_margin"]["value"] == pytest.approx(150 / 230)
    assert m["average_order_value"]["value"] == pytest.approx(46)
    assert m["repeat_customer_rate"]["value"] == pytest.approx(1 / 3)
    assert m["new_customers"]["value"] == 2
    assert m["referral_rate"]["value"] == pytest.approx(0.5)
    assert m["active_customers"]["value"] == 3
    # margin CLV over the twelve months ending with March 2025, [2024-04-01, 2025-04-01), cut to
    # the last order (2025-03-20): 354 of its 365 days. Its orders O2-O11: revenue 600, cost 260;
    # purchase days C1 2, C2 2, C3 2, C4 1, C5 1, C6 1 = 9 by 6 customers. Average purchase value
    # 600 / 9 x frequency 9 / 6 / (354 / 365) = customer value 100 x 365 / 354 a year; x 1 / annual
    # churn (quarterly 2/3 converted: 1 - (1/3)^(365/90)) x margin 340 / 600
    expected_clv = 100 * 365 / 354 / (1 - (1 / 3) ** (365 / 90)) * 340 / 600
    assert m["clv"]["value"] == pytest.approx(expected_clv)
    assert m["clv"]["n"] == 6
    # tables this source lacks: present, null, with the reason
    assert m["nps"]["value"] is None and "surveys" in m["nps"]["reason"]
    assert m["nps"]["status"] == "skipped"
    # the previous quarter (2024-Q4): active at its start (2024-09-30) = C1? no: C1's last purchase
    # before then is 2024-01-10; C2 (08-01), C5 (07-05), C6 (07-04) -> 3 active, all but none lost
    # by 2024-12-31 except C6 (window [2024-07-05, 2024-12-31]) -> churn 1/3
    assert m["churn_rate"]["previous"] == pytest.approx(1 / 3)


def test_churn_is_undefined_not_zero_when_nobody_was_active(log_source):
    m = headline_metrics(log_source, "2023")["metrics"]
    assert m["churn_rate"]["value"] is None
    assert "undefined" in m["churn_rate"]["reason"]
    assert not math.isnan(m["revenue"]["value"])

"""Guest orders and returns in the value interval, the churn model's features and the revenue by
order type, on the small shop of ``test_guests_and_returns`` (2025-Q1), worked out by hand.

Gross profit per customer in 2025-Q1 (a return's empty cost gives nothing back at cost):
K1 (100 - 40) + (50 - 20) = 90; K2 (200 - 90) - 50 = 60; K3 30 - 10 = 20; K4 -60 (only a
return). Mean 110 / 4 = 27.5; deviations 62.5, 32.5, -7.5, -87.5, squares summing to 12,675;
sample variance 12,675 / 3 = 4,225, standard deviation 65.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from metrics_lib.core.periods import parse_period
from metrics_lib.data import open_source
from metrics_lib.metrics import aggregate as agg
from metrics_lib.metrics import aggregate_revenue, clv_contractual
from metrics_lib.metrics.aggregate_value import buyer_profit_spread
from metrics_lib.metrics.churn_model import customer_features
from metrics_lib.metrics.period_data import PeriodData
from metrics_lib.metrics.scorecard import headline_metrics
from metrics_lib.reporting.workbook import Workbook
from tests.metrics.test_guests_and_returns import ORDERS, _shop


def _scope(folder, orders: str = ORDERS, period: str = "2025-Q1"):
    return agg.Scope.of(open_source(_shop(folder, orders)), period)


def test_buyer_profit_spread_over_customers_with_returns_at_no_cost(tmp_path):
    s = buyer_profit_spread(_scope(tmp_path / "shop"))
    assert s.buyers == 4
    assert s.mean == pytest.approx(27.5)
    assert s.std == pytest.approx(65.0)


def test_buyer_profit_spread_unchanged_by_guest_orders(tmp_path):
    guests = "".join(f"X{i},,2025-02-{1 + i % 28:02d},500.00,10.00,new\n" for i in range(200))
    base = buyer_profit_spread(_scope(tmp_path / "a"))
    more = buyer_profit_spread(_scope(tmp_path / "b", ORDERS + guests))
    assert (more.buyers, more.mean, more.std) == (base.buyers, base.mean, base.std)


def test_buyer_profit_spread_missing_cost_of_a_purchase_is_nan(tmp_path):
    s = buyer_profit_spread(
        _scope(tmp_path / "shop", ORDERS.replace("O6,K3,2025-03-31,30.00,10.00", "O6,K3,2025-03-31,30.00,"))
    )
    assert s.std != s.std  # NaN: a purchase without its cost


def test_churn_features_take_recency_and_frequency_from_purchases(tmp_path):
    # K2 bought on 2025-02-15 and was refunded on 2025-03-01: 44 days since the last purchase,
    # one purchase day; spend over 3 and 6 months is net, 200 - 50 = 150 both, so the trend is 10.
    f = customer_features(_scope(tmp_path / "shop"), datetime(2025, 3, 31), datetime(2025, 6, 30))
    assert f.loc["K2", "months_since_last_order"] == pytest.approx(44 / 30.4375)
    assert f.loc["K2", "purchase_days_12m"] == 1.0
    assert f.loc["K2", "spend_trend"] == pytest.approx(10.0)


def test_revenue_by_order_type_counts_purchases_as_orders_and_returns_apart(tmp_path):
    # new: O1, G1, O4, G2, O6 (buyers K1, K2, K3; guests are nobody), revenue 480, cost 195;
    # repeat: O2; return: R0, R1, no order and no buyer, revenue -110 and an empty cost that is
    # no gap; all: 6 orders as in the headline, 3 buyers, 2 returns, revenue 420, profit 205.
    t = aggregate_revenue.revenue_by_order_type(_scope(tmp_path / "shop"))
    assert t.index.tolist() == ["new", "repeat", "return", "all"]
    assert t["orders"].tolist() == [5, 1, 0, 6]
    assert t["buyers"].tolist() == [3, 1, 0, 3]
    assert t["returns"].tolist() == [0, 0, 2, 2]
    assert t["revenue"].tolist() == [480, 50, -110, 420]
    assert t["gross_profit"].tolist() == [285, 30, -110, 205]
    assert t.loc["all", "revenue_per_buyer"] == 140


def test_revenue_by_order_type_labels_an_empty_type(tmp_path):
    orders = ORDERS + "N1,K3,2025-03-20,10.00,4.00,\n"
    t = aggregate_revenue.revenue_by_order_type(_scope(tmp_path / "shop", orders))
    assert t.index.tolist() == ["new", "repeat", "return", None, "all"]
    assert t.loc["all", "orders"] == 7
    view = Workbook("2025-Q1", str(tmp_path / "shop"), restrict_paths=False).sections.revenue_by_order_type()
    assert view.table.index.tolist() == ["new", "repeat", "return", "(no type)", "all"]
    assert view.table.loc["(no type)", "orders"] == "1"


SPEND = "month,channel,purpose,spend\n2025-01-01,search,acquisition,500.0\n"


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ("", "marketing_spend has no rows with purpose `retention`"),
        ("2025-02-01,email,retention,300.0\n", "customers_retained is 0"),
    ],
)
def test_retention_cost_is_null_without_retention_spend_rows(tmp_path, extra, reason):
    folder = _shop(tmp_path / "shop")
    (folder / "marketing_spend.csv").write_text(SPEND + extra, encoding="utf-8")
    rec = headline_metrics(open_source(folder), "2025-Q1", ids=["retention_cost_per_client"])["metrics"]
    m = rec["retention_cost_per_client"]
    assert m["value"] is None
    assert reason in m["reason"]


SEG_CUSTOMERS = (
    "customer_id,signup_date,segment\nA1,2024-01-01,A\nA2,2024-01-01,A\nB1,2024-06-01,B\nB2,2024-06-01,B\n"
)
SEG_SUBSCRIPTIONS = (
    "subscription_id,customer_id,plan,start_date,end_date,cancelled_date,mrr,renewed_from\n"
    "S1,A1,pro,2024-01-01,2026-01-01,,100.0,\n"
    "S2,A2,pro,2024-01-01,2025-01-01,,50.0,\n"
)
SEG_ORDERS = (
    "order_id,customer_id,order_date,revenue,cost,order_type\n"
    "O1,A1,2025-02-01,100.00,40.00,upsell\n"
    "O2,B1,2024-11-01,100.00,40.00,new\n"
    "O3,B2,2024-08-01,80.00,30.00,new\n"
)


@pytest.fixture
def segmented(tmp_path):
    tmp_path = tmp_path / "seg"
    tmp_path.mkdir()
    for name, text in (
        ("customers", SEG_CUSTOMERS),
        ("subscriptions", SEG_SUBSCRIPTIONS),
        ("orders", SEG_ORDERS),
    ):
        (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")
    return open_source(tmp_path)


def test_segment_without_subscriptions_is_active_by_its_orders(segmented):
    # 2025-Q1, B by the order rule (180 days): B1 (order 2024-11-01) is active on 2024-12-31 and
    # on 2025-03-31; B2 (2024-08-01) on 2024-12-31 only (its window ended 2025-01-27): 2 active at
    # the start, 1 lost, churn 1/2. A by subscriptions: A1 and A2 at the start, A2's term ends on
    # 2025-01-01 without renewal: 1 active at the end, churn 1/2, 50 of MRR churned.
    ids = ["active_customers", "churn_rate", "mrr_new", "mrr_churned"]
    b = headline_metrics(segmented, "2025-Q1", ids=ids, segment="B")
    assert b["metrics"]["active_customers"]["value"] == 1
    assert b["metrics"]["churn_rate"]["value"] == pytest.approx(0.5)
    for mid in ("mrr_new", "mrr_churned"):
        assert b["metrics"][mid]["value"] is None
        assert b["metrics"][mid]["reason"] == "segment B has no subscriptions"
    assert any(
        "segment B has no subscriptions: its customers are active by the order rule" in n for n in b["notes"]
    )
    a = headline_metrics(segmented, "2025-Q1", ids=ids, segment="A")
    assert a["metrics"]["active_customers"]["value"] == 1
    assert a["metrics"]["churn_rate"]["value"] == pytest.approx(0.5)
    assert a["metrics"]["mrr_churned"]["value"] == 50
    assert not any("order rule" in n for n in a["notes"])


def test_segment_without_subscriptions_says_so_in_the_lifetime_model(segmented):
    d = PeriodData(segmented, parse_period("2025-Q1"), "B")
    assert clv_contractual.clv_choice(d.scope).basis == "no subscriptions"
    assert clv_contractual.contractual_clv(d).note == "not fitted: segment B has no subscriptions"
    assert clv_contractual.clv_choice(PeriodData(segmented, parse_period("2025-Q1"), "A").scope).basis != (
        "no subscriptions"
    )


def test_segment_without_subscriptions_has_no_mrr_sections(segmented, tmp_path):
    wb = Workbook("2025-Q1", str(tmp_path / "seg"), segment="B", restrict_paths=False)
    assert wb.sections.mrr_waterfall().note == "skipped: segment B has no subscriptions"
    assert wb.sections.mrr_trend().note == "skipped: segment B has no subscriptions"

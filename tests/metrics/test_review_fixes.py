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

from metrics_lib.data import open_source
from metrics_lib.metrics import aggregate as agg
from metrics_lib.metrics import aggregate_revenue
from metrics_lib.metrics.aggregate_value import buyer_profit_spread
from metrics_lib.metrics.churn_model import customer_features
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

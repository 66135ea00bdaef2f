"""Returns in the revenue by customer age, and acquisition spend the data does not record, on the
small shop of ``test_guests_and_returns`` (2025-Q1), worked out by hand.

Revenue by customer age (signups K1 2025-01-01, K2 2025-01-10, K3 2025-02-01, K4 2024-05-01):

* acquired in the period: O1 100, O2 50 (K1), O4 200 and its return R1 -50 (K2), O6 30 (K3):
  revenue 330, 4 orders, 3 buyers, 1 return, 110 per buyer;
* first year, acquired earlier: K4's return R0 -60 on 2025-01-20, 264 days after signup: revenue
  -60, no order, no buyer, 1 return, no revenue per buyer;
* beyond the first year: nothing;
* no customer: G1 80 and G2 70, 2 orders of no buyer.
"""

from __future__ import annotations

import math

from metrics_lib.data import open_source
from metrics_lib.metrics import aggregate as agg
from metrics_lib.metrics import aggregate_revenue
from metrics_lib.reporting.workbook import Workbook
from tests.metrics.test_guests_and_returns import ORDERS, _shop


def _scope(folder, orders: str = ORDERS, period: str = "2025-Q1"):
    return agg.Scope.of(open_source(_shop(folder, orders)), period)


def test_revenue_by_customer_age_counts_purchases_and_nets_returns(tmp_path):
    t = aggregate_revenue.revenue_by_customer_age(_scope(tmp_path / "shop"))
    assert t["revenue"].tolist() == [330, -60, 0, 150]
    assert t["orders"].tolist() == [4, 0, 0, 2]
    assert t["buyers"].tolist() == [3, 0, 0, 0]
    assert t["returns"].tolist() == [1, 1, 0, 0]
    assert t.loc["acquired in the period", "revenue_per_buyer"] == 110
    assert math.isnan(t.loc["first year, acquired earlier", "revenue_per_buyer"])
    assert t["revenue"].sum() == 420  # the headline revenue, net of returns
    assert t["orders"].sum() == 6  # the headline orders
    assert aggregate_revenue.new_revenue(_scope(tmp_path / "shop")) == 270


def test_revenue_by_customer_age_report_shows_the_returns(tmp_path):
    _shop(tmp_path / "shop")
    view = Workbook(
        "2025-Q1", str(tmp_path / "shop"), restrict_paths=False
    ).sections.revenue_by_customer_age()
    assert "returns" in view.table.columns
    assert view.table.loc["first year, acquired earlier", "returns"] == "1"
    assert view.table.loc["first year, acquired earlier", "buyers"] == "0"

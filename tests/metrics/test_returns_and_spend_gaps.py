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

import pytest

from metrics_lib.data import open_source
from metrics_lib.metrics import aggregate as agg
from metrics_lib.metrics import aggregate_marketing, aggregate_revenue
from metrics_lib.metrics.scorecard import headline_metrics
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


# Acquisition spend: new customers of 2025-Q1 are K1 (search, A), K2 (search, B) and K3 (email, A).
CUSTOMERS = (
    "customer_id,signup_date,acquisition_channel,segment\n"
    "K1,2025-01-01,search,A\nK2,2025-01-10,search,B\nK3,2025-02-01,email,A\nK4,2024-05-01,email,B\n"
)
SPEND = "month,channel,purpose,spend\n"
CAC_IDS = ["cac", "ltv_cac_ratio"]


def _spend_shop(folder, spend_rows: str):
    _shop(folder)
    (folder / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    (folder / "marketing_spend.csv").write_text(SPEND + spend_rows, encoding="utf-8")
    return folder


@pytest.mark.parametrize("segment", [None, "A"])
def test_cac_is_null_when_no_row_has_purpose_acquisition(tmp_path, segment):
    folder = _spend_shop(tmp_path / "shop", "2025-01-01,search,retention,300.0\n")
    rec = headline_metrics(open_source(folder), "2025-Q1", ids=CAC_IDS, segment=segment)["metrics"]
    for mid in CAC_IDS:
        assert rec[mid]["value"] is None
        assert rec[mid]["reason"] == "marketing_spend has no rows with purpose `acquisition`"
    spend = aggregate_marketing.spend_summary(agg.Scope.of(open_source(folder), "2025-Q1", segment))
    assert math.isnan(spend.acquisition) and math.isnan(spend.company_acquisition)
    assert spend.retention == 300


def test_cac_is_zero_in_a_period_without_acquisition_rows_when_others_have_some(tmp_path):
    # acquisition spend recorded in December 2024 only: 2025-Q1 spent 0 on 3 new customers
    folder = _spend_shop(tmp_path / "shop", "2024-12-01,search,acquisition,900.0\n")
    cac = headline_metrics(open_source(folder), "2025-Q1", ids=["cac"])["metrics"]["cac"]
    assert (cac["value"], cac["numerator"], cac["n"], cac["reason"]) == (0, 0, 3, None)


def test_cac_with_acquisition_rows_company_and_segment(tmp_path):
    # 600 on search in January: company 600 / 3 = 200; segment A gets search's 600 x 1/2 (K1 of
    # K1, K2) = 300 over its 2 new customers (K1, K3) = 150
    folder = _spend_shop(tmp_path / "shop", "2025-01-01,search,acquisition,600.0\n")
    assert headline_metrics(open_source(folder), "2025-Q1", ids=["cac"])["metrics"]["cac"]["value"] == 200
    seg = headline_metrics(open_source(folder), "2025-Q1", ids=["cac"], segment="A")["metrics"]["cac"]
    assert seg["value"] == 150


def test_cac_by_channel_says_the_spend_is_not_recorded(tmp_path):
    folder = _spend_shop(tmp_path / "shop", "2025-01-01,search,retention,300.0\n")
    t = Workbook("2025-Q1", str(folder), restrict_paths=False).cac_by_channel()
    assert t["new_customers"].tolist() == [1, 2, 3]  # email, search, all
    assert t["spend"].isna().all() and t["cac"].isna().all()
    assert t.display().loc["all"].tolist()[0] == "n/a (no acquisition spend in the data)"


# A source with subscriptions but no orders table, whose segment B holds no subscription: B's
# customers follow the order rule, so B's cohort and NPS-churn tables need orders, as they would
# for a source without subscriptions; A's follow its subscriptions. Cohort 2025-01 of A: A1
# (subscribed until 2026) and A2 (until 2025-02-15) are active on 31 January, A1 alone on 28
# February and 31 March: 1, 1/2, 1/2.
NO_ORDERS = {
    "customers": "customer_id,signup_date,segment\n"
    "A1,2025-01-05,A\nA2,2025-01-20,A\nB1,2025-01-10,B\nB2,2025-02-10,B\n",
    "subscriptions": "subscription_id,customer_id,plan,start_date,end_date,cancelled_date,mrr,renewed_from\n"
    "S1,A1,pro,2025-01-05,2026-01-01,,100.0,\nS2,A2,pro,2025-01-20,2025-02-15,,50.0,\n",
    "surveys": "response_id,customer_id,response_date,survey,score\n"
    "R1,A1,2024-12-20,nps,9\nR2,B1,2024-12-20,nps,3\n",
}


def test_segment_without_subscriptions_needs_orders_like_a_source_without_them(tmp_path):
    folder = tmp_path / "subs"
    folder.mkdir()
    for name, text in NO_ORDERS.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    b = Workbook("2025-Q1", str(folder), segment="B", restrict_paths=False)
    assert b.cohort_retention(months=3).note == "skipped: needs orders"
    assert b.nps_churn().attrs["note"] == "skipped: needs orders"
    a = Workbook("2025-Q1", str(folder), segment="A", restrict_paths=False)
    assert a.cohort_retention(months=3).matrix.loc["2025-01"].tolist() == [1.0, 0.5, 0.5]
    assert "needs orders" not in a.nps_churn().attrs.get("note", "")

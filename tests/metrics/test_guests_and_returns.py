"""Guest orders and returns in the headline metrics, through the real command line and the
Python API, on a small shop written to ``tmp_path`` and worked out by hand.

The shop (no subscriptions: activity is non-contractual, 180 days), 2025-Q1:

=====  ========  ==========  =======  =====  ======
order  customer  date        revenue  cost   type
=====  ========  ==========  =======  =====  ======
O0     K4        2024-06-01     60.0   20.0  new     (before the period)
O1     K1        2025-01-01    100.0   40.0  new
R0     K4        2025-01-20    -60.0         return  (K4 gives O0 back)
O2     K1        2025-02-10     50.0   20.0  repeat
G1     (guest)   2025-02-11     80.0   30.0  new
O4     K2        2025-02-15    200.0   90.0  new
R1     K2        2025-03-01    -50.0         return
G2     (guest)   2025-03-05     70.0   25.0  new
O6     K3        2025-03-31     30.0   10.0  new
=====  ========  ==========  =======  =====  ======

* gross sales 100 + 50 + 80 + 200 + 70 + 30 = 530; returned 60 + 50 = 110; revenue (net) 420;
* orders 6 (returns are not orders), 2 of them guest orders; AOV 420 / 6 = 70;
* return_rate 110 / 530 = 0.2075471698;
* cost 40 + 20 + 30 + 90 + 25 + 10 = 215 (the returns' empty cost is no gap); gross profit
  420 - 215 = 205;
* customers who bought: K1, K2, K3 = 3 (guests are nobody; K4 only returned); repeat buyers: K1
  (two days; K2's refund is no purchase day) = 1, repeat rate 1/3;
* active at the end: K1, K2, K3 = 3 (K4's last purchase, 2024-06-01, is more than 180 days before
  2025-03-31, and a return is no activity); active at the start (2024-12-31): nobody (K4's window
  ended 2024-11-27).
"""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from metrics_lib.cli import main
from metrics_lib.data import open_source
from metrics_lib.metrics.scorecard import headline_metrics

CUSTOMERS = "customer_id,signup_date\nK1,2025-01-01\nK2,2025-01-10\nK3,2025-02-01\nK4,2024-05-01\n"
ORDERS = (
    "order_id,customer_id,order_date,revenue,cost,order_type\n"
    "O0,K4,2024-06-01,60.00,20.00,new\n"
    "O1,K1,2025-01-01,100.00,40.00,new\n"
    "R0,K4,2025-01-20,-60.00,,return\n"
    "O2,K1,2025-02-10,50.00,20.00,repeat\n"
    "G1,,2025-02-11,80.00,30.00,new\n"
    "O4,K2,2025-02-15,200.00,90.00,new\n"
    "R1,K2,2025-03-01,-50.00,,return\n"
    "G2,,2025-03-05,70.00,25.00,new\n"
    "O6,K3,2025-03-31,30.00,10.00,new\n"
)


def _shop(folder, orders: str = ORDERS):
    folder.mkdir(exist_ok=True)
    (folder / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    (folder / "orders.csv").write_text(orders, encoding="utf-8")
    return folder


def _cli(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue() + err.getvalue()


def _values(folder, period: str = "2025-Q1") -> dict:
    code, text = _cli("metrics", "--data", str(folder), "--period", period, "--format", "json")
    assert code == 0, text
    return json.loads(text[: text.rindex("}") + 1])["metrics"]


def test_validate_counts_guest_orders_and_returns(tmp_path):
    code, text = _cli("validate", "--data", str(_shop(tmp_path / "shop")))
    assert code == 0, text
    assert "No problems found." in text  # the guest orders are no orphans
    assert "Orders: 7 sold, 2 of them guest orders" in text
    assert "returns: 2, giving back 110.00 in all" in text


def test_metrics_are_net_of_returns_and_count_guests_as_orders_only(tmp_path):
    m = _values(_shop(tmp_path / "shop"))
    assert m["revenue"]["value"] == pytest.approx(420.0)
    assert m["orders"]["value"] == 6
    assert m["average_order_value"]["value"] == pytest.approx(70.0)
    assert (m["return_rate"]["numerator"], m["return_rate"]["denominator"]) == (110.0, 530.0)
    assert m["return_rate"]["value"] == pytest.approx(110 / 530)
    assert m["gross_profit"]["value"] == pytest.approx(205.0)
    assert m["active_customers"]["value"] == 3
    rep = m["repeat_customer_rate"]
    assert (rep["numerator"], rep["denominator"]) == (1.0, 3.0)


def test_guest_orders_move_no_customer_metric(tmp_path):
    """Adding guest orders moves revenue and orders by exactly their amounts and count, and no
    customer metric at all."""
    more = ORDERS + "G3,,2025-03-20,45.00,15.00,new\nG4,,2025-01-07,5.00,1.00,new\n"
    before, after = _values(_shop(tmp_path / "a")), _values(_shop(tmp_path / "b", more))
    assert after["revenue"]["value"] == pytest.approx(before["revenue"]["value"] + 50)
    assert after["orders"]["value"] == before["orders"]["value"] + 2
    for mid in ("active_customers", "repeat_customer_rate", "churn_rate", "new_customers"):
        assert after[mid] == before[mid], mid


def test_a_return_is_no_order_and_no_purchase(tmp_path):
    """A return lowers revenue by its refund, leaves the order count alone and makes nobody a
    repeat buyer."""
    refund = ORDERS + "R2,K3,2025-03-31,-30.00,,return\n"
    before, after = _values(_shop(tmp_path / "a")), _values(_shop(tmp_path / "b", refund))
    assert after["revenue"]["value"] == pytest.approx(before["revenue"]["value"] - 30)
    assert after["orders"]["value"] == before["orders"]["value"]
    assert after["repeat_customer_rate"] == before["repeat_customer_rate"]
    assert after["return_rate"]["value"] == pytest.approx(140 / 530)


def test_return_rate_is_null_with_a_reason_without_sales(tmp_path):
    # 2024-Q3 has O0 only... and 2024-Q4 nothing: no sales, so no return rate
    m = _values(_shop(tmp_path / "shop"), "2024-Q4")
    assert m["return_rate"]["value"] is None
    assert "no sales" in m["return_rate"]["reason"] or "outside" in m["return_rate"]["reason"]
    only_returns = ORDERS.replace("O1,K1,2025-01-01,100.00,40.00,new\n", "").replace(
        "O2,K1,2025-02-10,50.00,20.00,repeat\n", ""
    )
    only_returns = "\n".join(
        line for line in only_returns.splitlines() if line.startswith(("order_id", "O0", "R0"))
    )
    src = open_source(_shop(tmp_path / "returns", only_returns + "\nO9,K1,2025-03-31,10,1,new\n"))
    rec = headline_metrics(src, "2025-01", ids=["return_rate"])["metrics"]["return_rate"]
    assert rec["value"] is None
    assert rec["reason"] == "return rate is undefined: there are no sales (gross sales are 0)"
    assert rec["numerator"] == 60.0


def test_without_order_types_the_return_rate_is_null(tmp_path):
    plain = "order_id,customer_id,order_date,revenue\nO1,K1,2025-01-01,100\nO2,K1,2025-03-31,20\n"
    rec = headline_metrics(open_source(_shop(tmp_path / "shop", plain)), "2025-Q1", ids=["return_rate"])
    assert rec["metrics"]["return_rate"]["value"] is None
    assert "orders.order_type" in rec["metrics"]["return_rate"]["reason"]


def test_the_clv_four_steps_leave_guests_out(tmp_path):
    """CLV is per customer: its revenue is the customers' net revenue of the twelve months
    2024-04 to 2025-03 (K1 150, K2 200 - 50, K3 30, K4 60 - 60 -> 330; the guests' 150 left out),
    over their purchase days (5: K1 two, K2, K3 and K4 one each; the returns none) and buyers (4)."""
    src = open_source(_shop(tmp_path / "shop"))
    from metrics_lib.metrics.period_data import PeriodData

    y = PeriodData(src, "2025-Q1").year_orders
    assert y.customer_revenue == pytest.approx(330.0)
    assert y.revenue == pytest.approx(480.0)  # 420 in 2025-Q1 + O0's 60
    assert (y.purchases, y.buyers, y.guest_orders, y.orders) == (5, 4, 2, 7)


@pytest.mark.parametrize(
    "example, period, expected",
    [
        # README "Common export shapes": 530 sold, 50 refunded, 6 orders (two guests), K1 alone twice
        (
            "shop-orders",
            "2025-Q1",
            {"revenue": 480.0, "orders": 6, "average_order_value": 80.0, "return_rate": 50 / 530},
        ),
        # 42.42 + 11.10 + 66.68 + 20.00 = 140.20 sold, 27.50 returned, 4 orders
        (
            "shop-invoice-lines",
            "2010-12",
            {"revenue": 112.70, "orders": 4, "average_order_value": 28.175, "return_rate": 27.5 / 140.2},
        ),
    ],
)
def test_the_readme_examples_give_the_numbers_it_shows(example, period, expected):
    from metrics_lib.data import PROJECT_ROOT

    folder = PROJECT_ROOT / "data" / "examples" / example
    m = _values(folder, period)
    for mid, value in expected.items():
        assert m[mid]["value"] == pytest.approx(value, abs=1e-9), mid
    assert m["active_customers"]["value"] == {"shop-orders": 3, "shop-invoice-lines": 2}[example]
    rep = m["repeat_customer_rate"]
    assert (rep["numerator"], rep["denominator"]) == {"shop-orders": (1, 3), "shop-invoice-lines": (1, 2)}[
        example
    ]
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    code, text = _cli("validate", "--data", str(folder))
    assert code == 0
    shown = next(line for line in text.splitlines() if line.startswith("Orders: "))
    assert shown in readme or example != "shop-orders"  # the README quotes this one in full


def test_a_returns_rule_alone_gives_no_upsell_rate(tmp_path):
    """A `returns:` rule types the returns only; the sales have no type, so the upsell rate is
    unknown (null with its reason), not 0."""
    from metrics_lib.data import PROJECT_ROOT

    m = _values(PROJECT_ROOT / "data" / "examples" / "shop-orders", "2025-Q1")
    assert m["upsell_rate"]["value"] is None
    assert "only returns do" in m["upsell_rate"]["reason"]
    assert m["return_rate"]["value"] == pytest.approx(50 / 530)


def test_the_shop_as_typed_parquet_is_checked_in_the_engine_and_agrees(tmp_path):
    """Guest orders and returns in a typed Parquet file pass the engine's checks in place (no
    trip through pandas) and give the same numbers as the CSV files."""
    csv = _shop(tmp_path / "csv")
    typed = tmp_path / "parquet"
    typed.mkdir()
    src = open_source(csv)
    for table in ("customers", "orders"):
        src.frame(table).to_parquet(typed / f"{table}.parquet", index=False)
    parquet = open_source(typed)
    parquet.check_all()
    assert parquet.engine_checks["orders"].clean
    assert "orders" not in parquet._frames  # used in place
    assert _values(typed) == _values(csv)

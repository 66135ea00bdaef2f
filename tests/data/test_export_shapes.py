"""Real exports load through mapping.yml alone: invoice lines rolled up into orders, returns marked
by a rule, guest orders, and a date format per column (README "Common export shapes").

Each fixture is written here to ``tmp_path``; the expected orders are worked out by hand in the
comments.
"""

from __future__ import annotations

import pandas as pd
import pytest

from metrics_lib.core.errors import ContractError, WorkbookError
from metrics_lib.data import ColumnMapping, open_source

CUSTOMERS = "customer_id,signup_date\nK1,2025-01-02\nK2,2025-01-10\n"

# Five lines, three orders and a return:
#   A1: 2 x 10.00 + 1 x 5.50 = 25.50, K1, earliest line 03/02/2025
#   A2: 4 x 10.00 = 40.00, no customer (a guest order)
#   CA1: -1 x 10.00 = -10.00, K1: a return by the "C" prefix
#   A3: 3 x 20.00 = 60.00, K2
LINES = (
    "Invoice,Item,Qty,Price,When,Buyer\n"
    "A1,x,2,10.00,04/02/2025 10:00,K1\n"
    "A1,y,1,5.50,03/02/2025 09:15,K1\n"
    "A2,x,4,10.00,10/02/2025 14:00,\n"
    "CA1,x,-1,10.00,12/02/2025 10:00,K1\n"
    "A3,z,3,20.00,20/02/2025 11:30,K2\n"
)

LINES_MAPPING = """\
tables:
  orders:
    source: lines.csv
    columns: {Invoice: order_id, Buyer: customer_id, When: order_date}
    date_formats: {order_date: "%d/%m/%Y %H:%M"}
    lines: {quantity: Qty, unit_price: Price}
    returns: {order_id_prefix: C}
"""


def _folder(tmp_path, files: dict[str, str]):
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def _mapping_error(tmp_path, text: str) -> str:
    path = tmp_path / "mapping.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(WorkbookError) as exc:
        ColumnMapping.read(path)
    return str(exc.value)


def test_invoice_lines_roll_up_into_orders(tmp_path):
    src = open_source(
        _folder(tmp_path, {"customers.csv": CUSTOMERS, "lines.csv": LINES, "mapping.yml": LINES_MAPPING})
    )
    orders = src.frame("orders").set_index("order_id")
    assert list(orders.index) == ["A1", "A2", "CA1", "A3"]
    assert orders["revenue"].tolist() == pytest.approx([25.5, 40.0, -10.0, 60.0])
    assert orders["customer_id"].tolist()[:1] == ["K1"] and pd.isna(orders.loc["A2", "customer_id"])
    assert orders["order_type"].fillna("").tolist() == ["", "", "return", ""]
    # the earliest line's day, time dropped (order_date is a date)
    assert orders.loc["A1", "order_date"] == pd.Timestamp("2025-02-03")


def test_line_messages_name_the_line_of_the_file(tmp_path):
    broken = LINES.replace("A2,x,4,10.00", "A2,x,four,10.00")
    src = open_source(
        _folder(tmp_path, {"customers.csv": CUSTOMERS, "lines.csv": broken, "mapping.yml": LINES_MAPPING})
    )
    with pytest.raises(ContractError, match=r"lines.csv: table `orders`, column `Qty`: not a number") as exc:
        src.frame("orders")
    assert "line 4: 'four'" in str(exc.value)  # header is line 1: A2's line is line 4


def test_in_quarantine_an_order_with_a_broken_line_is_set_aside_whole(tmp_path):
    # A1's second line (line 3) has no price: A1's total is unknown, so A1 goes, with that line
    broken = LINES.replace("A1,y,1,5.50,", "A1,y,1,,")
    src = open_source(
        _folder(tmp_path, {"customers.csv": CUSTOMERS, "lines.csv": broken, "mapping.yml": LINES_MAPPING}),
        on_invalid="quarantine",
    )
    kept = src.frame("orders")
    assert kept["order_id"].tolist() == ["A2", "CA1", "A3"]
    assert src.rejected["orders"]["line"].tolist() == [3]


def test_lines_of_one_order_naming_two_customers_are_refused(tmp_path):
    broken = LINES.replace("A1,y,1,5.50,03/02/2025 09:15,K1", "A1,y,1,5.50,03/02/2025 09:15,K2")
    src = open_source(
        _folder(tmp_path, {"customers.csv": CUSTOMERS, "lines.csv": broken, "mapping.yml": LINES_MAPPING})
    )
    with pytest.raises(ContractError, match="the lines of one order name different customers"):
        src.frame("orders")


def test_a_return_rule_on_negative_totals_marks_refunds(tmp_path):
    orders = "Order,Customer,Date,Total\n1,K1,2025-01-05,100\n2,K1,2025-02-01,-30\n3,,2025-02-02,20\n"
    mapping = (
        "tables:\n  orders:\n    columns: {Order: order_id, Customer: customer_id, Date: order_date, "
        "Total: revenue}\n    returns: {negative_revenue: true}\n"
    )
    src = open_source(
        _folder(tmp_path, {"customers.csv": CUSTOMERS, "orders.csv": orders, "mapping.yml": mapping})
    )
    assert src.frame("orders")["order_type"].fillna("").tolist() == ["", "return", ""]
    assert src.validate().ok  # the guest order (3) is no orphan
    assert src.order_mix() == {"orders": 2, "guest_orders": 1, "returns": 1, "returned": 30.0}


def test_without_a_rule_a_negative_total_is_still_an_error(tmp_path):
    orders = "order_id,customer_id,order_date,revenue\n1,K1,2025-01-05,100\n2,K1,2025-02-01,-30\n"
    src = open_source(_folder(tmp_path, {"customers.csv": CUSTOMERS, "orders.csv": orders}))
    with pytest.raises(ContractError, match="value below the minimum 0"):
        src.frame("orders")


def test_a_return_with_a_positive_revenue_is_refused(tmp_path):
    orders = "order_id,customer_id,order_date,revenue,order_type\n1,K1,2025-01-05,100,return\n"
    src = open_source(_folder(tmp_path, {"customers.csv": CUSTOMERS, "orders.csv": orders}))
    with pytest.raises(ContractError, match="a return's revenue is the refund: 0 or negative") as exc:
        src.frame("orders")
    assert "write a return's refund as a negative revenue" in str(exc.value)


def test_each_date_column_reads_its_own_format(tmp_path):
    # start day first, term end YYYYMMDD, cancellation ISO (no entry, no table format)
    subs = (
        "Contract,Account,Start,Term End,Cancelled,MRR\n"
        "S1,K1,15/01/2025,20251231,,49.00\n"
        "S2,K2,01/02/2025,20260131,2025-06-30,99.00\n"
    )
    mapping = (
        "tables:\n  subscriptions:\n    columns: {Contract: subscription_id, Account: customer_id, "
        "Start: start_date, Term End: end_date, Cancelled: cancelled_date, MRR: mrr}\n"
        '    date_formats: {start_date: "%d/%m/%Y", end_date: "%Y%m%d"}\n'
    )
    src = open_source(
        _folder(tmp_path, {"customers.csv": CUSTOMERS, "subscriptions.csv": subs, "mapping.yml": mapping})
    )
    s = src.frame("subscriptions")
    assert s["start_date"].dt.strftime("%Y-%m-%d").tolist() == ["2025-01-15", "2025-02-01"]
    assert s["end_date"].dt.strftime("%Y-%m-%d").tolist() == ["2025-12-31", "2026-01-31"]
    assert s["cancelled_date"].dt.strftime("%Y-%m-%d").fillna("").tolist() == ["", "2025-06-30"]


def test_a_column_format_wins_over_the_table_format(tmp_path):
    subs = "subscription_id,customer_id,start_date,end_date,cancelled_date,mrr\nS1,K1,15.01.2025,2025/12/31,,49\n"
    mapping = (
        'tables:\n  subscriptions:\n    date_format: "%d.%m.%Y"\n    date_formats: {end_date: "%Y/%m/%d"}\n'
    )
    src = open_source(
        _folder(tmp_path, {"customers.csv": CUSTOMERS, "subscriptions.csv": subs, "mapping.yml": mapping})
    )
    s = src.frame("subscriptions")
    assert (s.loc[0, "start_date"], s.loc[0, "end_date"]) == (
        pd.Timestamp("2025-01-15"),
        pd.Timestamp("2025-12-31"),
    )


@pytest.mark.parametrize(
    "entry, fragments",
    [
        (
            "  orders:\n    date_formats: {revenue: '%d/%m/%Y'}\n",
            ["`tables: orders: date_formats: revenue` is not a date column of table `orders`", "order_date"],
        ),
        (
            "  orders:\n    date_formats: {order_date: '%d/%m'}\n",
            ["setting `tables: orders: date_formats: order_date` is '%d/%m', which is not allowed"],
        ),
        (
            "  orders:\n    date_formats: '%d/%m/%Y'\n",
            ["setting `tables: orders: date_formats`", "`column: format`"],
        ),
        (
            "  orders:\n    lines: {quantity: Qty}\n",
            ["setting `tables: orders: lines: unit_price` is null", "name the column of your export"],
        ),
        ("  orders:\n    lines: [Qty, Price]\n", ["setting `tables: orders: lines` is [Qty, Price]"]),
        (
            "  orders:\n    lines: {quantity: Qty, price: Price}\n",
            ["`tables: orders: lines: price` is not a setting (did you mean `unit_price`?)"],
        ),
        (
            "  customers:\n    lines: {quantity: Qty, unit_price: Price}\n",
            ["`tables: customers: lines` is a setting of table `orders` only"],
        ),
        (
            "  orders:\n    columns: {Total: revenue}\n    lines: {quantity: Qty, unit_price: Price}\n",
            ["maps `Total` to `revenue` and also rolls `lines:` up into orders", "remove one of the two"],
        ),
        (
            "  orders:\n    returns: {order_id_prefix: C, negative_revenue: true}\n",
            ["setting `tables: orders: returns`", "it must hold one rule"],
        ),
        (
            "  orders:\n    returns: {negative_revenue: false}\n",
            ["setting `tables: orders: returns: negative_revenue` is false", "it must be true"],
        ),
        (
            "  orders:\n    returns: {prefix: C}\n",
            ["`tables: orders: returns: prefix` is not a setting (did you mean `order_id_prefix`?)"],
        ),
        (
            "  orders:\n    returns: {order_id_prefix: ''}\n",
            ["`tables: orders: returns: order_id_prefix` is ''"],
        ),
    ],
)
def test_a_bad_rule_names_the_file_the_setting_and_the_fix(tmp_path, entry, fragments):
    message = _mapping_error(tmp_path, "tables:\n" + entry)
    assert str(tmp_path / "mapping.yml") in message
    for fragment in fragments:
        assert fragment in message, message


def test_line_costs_add_up_and_a_missing_one_leaves_the_order_without_cost(tmp_path):
    # A1: 3.00 + 1.50 = 4.50; A2: one line without a cost, so its cost is unknown (empty)
    lines = "Invoice,Qty,Price,Cost,When,Buyer\nA1,2,10,3.00,2025-02-03,K1\nA1,1,5,1.50,2025-02-03,K1\n"
    lines += "A2,1,8,,2025-02-04,K2\nA2,1,8,2.00,2025-02-04,K2\n"
    mapping = (
        "tables:\n  orders:\n    source: lines.csv\n    columns: {Invoice: order_id, Buyer: customer_id, "
        "When: order_date, Cost: cost}\n    lines: {quantity: Qty, unit_price: Price}\n"
    )
    src = open_source(
        _folder(tmp_path, {"customers.csv": CUSTOMERS, "lines.csv": lines, "mapping.yml": mapping})
    )
    orders = src.frame("orders").set_index("order_id")
    assert orders.loc["A1", ["revenue", "cost"]].tolist() == [25.0, 4.5]
    assert orders.loc["A2", "revenue"] == 16.0 and pd.isna(orders.loc["A2", "cost"])

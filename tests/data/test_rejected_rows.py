"""The rows quarantine sets aside (``rejected/<table>.csv``): each with the text that broke the rule,
as it was in the file, and the line (CSV) or row (Parquet) every message names it by."""

from __future__ import annotations

import csv

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import valid_tables

from metrics_lib.core.errors import ContractError
from metrics_lib.data import open_source
from metrics_lib.data.csv_out import HIDDEN, write_csv


def _order(order_id, revenue="100", *, customer="C1", day="2025-01-06", order_type="new"):
    return {
        "order_id": order_id,
        "customer_id": customer,
        "order_date": day,
        "revenue": revenue,
        "cost": "1",
        "order_type": order_type,
    }


@pytest.fixture
def broken_orders(make_source):
    tables = valid_tables()
    tables["orders"] = [
        _order("O1", order_type="new\nrepeat"),  # a quoted field over two lines: lines 2 and 3
        _order("O2", "=1+2"),
        _order("O3", "@SUM(A1:A9)"),
        _order("O4", "+cmd|' /C calc'!A0"),
        _order("O5", "-5"),
        _order("O6", "1,000"),
        _order("O7", customer="C9"),
        _order("O8", day="31/03/2025"),
        _order("O9", "250"),
    ]
    return make_source(tables={t: tables[t] for t in ("customers", "orders")})


def _written(src, table, tmp_path, **kw):
    """``rejected/<table>.csv`` as ``run`` writes it, read back as text."""
    path = write_csv(src.rejected[table], tmp_path / f"{table}.csv", table=table, **kw)
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_a_row_set_aside_keeps_the_text_that_broke_the_rule_and_its_line(broken_orders, tmp_path):
    with pytest.raises(ContractError) as strict:
        open_source(broken_orders).load_all()
    named = {label for p in strict.value.problems for label, _value in p.examples}
    src = open_source(broken_orders, on_invalid="quarantine")
    src.load_all()
    rows = _written(src, "orders", tmp_path)
    assert list(rows[0])[:3] == ["line", "reason", "order_id"]
    got = {r["order_id"]: (r["line"], r["revenue"], r["order_date"], r["order_type"]) for r in rows}
    assert got == {
        "O1": ("2", "100", "2025-01-06", "new\nrepeat"),
        # the cell as written in the file, made safe for a spreadsheet by the one CSV writer
        "O2": ("4", "'=1+2", "2025-01-06", "new"),
        "O3": ("5", "'@SUM(A1:A9)", "2025-01-06", "new"),
        "O4": ("6", "'+cmd|' /C calc'!A0", "2025-01-06", "new"),
        "O5": ("7", "-5", "2025-01-06", "new"),
        "O6": ("8", "1,000", "2025-01-06", "new"),
        "O7": ("9", "100", "2025-01-06", "new"),
        "O8": ("10", "100", "31/03/2025", "new"),
    }
    # the lines are those the messages name (the orphan is only named once the others are aside)
    assert {f"line {r['line']}" for r in rows} - {"line 9"} == named
    assert rows[6]["reason"] == (
        "customer_id: references a `customer_id` not in table `customers` (orphan foreign key)"
    )


def test_free_text_set_aside_stays_hidden_unless_asked(make_source, tmp_path):
    folder = make_source(set={("surveys", 0, "score"): "11", ("surveys", 0, "comment"): "=call +44 20 7946"})
    src = open_source(folder, on_invalid="quarantine")
    src.load_all()
    (row,) = _written(src, "surveys", tmp_path)
    assert (row["line"], row["score"], row["comment"]) == ("2", "11", HIDDEN)
    (tmp_path / "pii").mkdir()
    (shown,) = _written(src, "surveys", tmp_path / "pii", show_pii=True)
    assert shown["comment"] == "'=call +44 20 7946"


def test_a_parquet_row_set_aside_is_named_by_its_row_with_the_value_stored(tmp_path, make_source):
    folder = tmp_path / "pq"
    folder.mkdir()
    valid = open_source(make_source())
    pq.write_table(
        pa.Table.from_pandas(valid.frame("customers"), preserve_index=False), folder / "customers.parquet"
    )
    orders = valid.frame("orders").astype({"order_date": "str"})  # dates stored as text
    orders.loc[2, "order_date"] = "31/03/2025"
    pq.write_table(pa.Table.from_pandas(orders, preserve_index=False), folder / "orders.parquet")
    src = open_source(folder, on_invalid="quarantine")
    src.load_all()
    (row,) = _written(src, "orders", tmp_path)
    assert (row["row"], row["order_id"], row["order_date"]) == ("3", "O3", "31/03/2025")
    assert "mixes date formats" in row["reason"]

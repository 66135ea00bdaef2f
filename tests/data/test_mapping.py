"""The column mapping: a YAML file renaming a user's CRM export to the contract's columns."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
from conftest import valid_tables, write_csv

from metrics_lib.core.errors import ContractError, WorkbookError
from metrics_lib.data import ColumnMapping, open_source

# orders as a CRM exports them: its own column names, day-first dates
CRM_ORDERS = [
    {"Order Number": "O1", "Account": "C1", "Order Date": "06/01/2025", "Amount": "120.00", "Kind": "new"},
    {"Order Number": "O2", "Account": "C1", "Order Date": "10/02/2025", "Amount": "80.50", "Kind": "repeat"},
    {"Order Number": "O3", "Account": "C2", "Order Date": "21/01/2025", "Amount": "200", "Kind": "new"},
]

MAPPING = """\
tables:
  orders:
    source: sales_export.csv
    date_format: "%d/%m/%Y"
    columns:
      Order Number: order_id
      Account: customer_id
      Order Date: order_date
      Amount: revenue
      Kind: order_type
"""


@pytest.fixture
def crm_source(make_source):
    """The valid source with orders replaced by a CRM export in ``sales_export.csv``."""
    folder = make_source(drop=("orders",))
    write_csv(folder / "sales_export.csv", CRM_ORDERS)
    return folder


def write_mapping(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def test_mapping_renames_columns_and_picks_the_file(crm_source, tmp_path):
    mapping = write_mapping(tmp_path / "crm.yml", MAPPING)
    src = open_source(crm_source, mapping=mapping)
    assert src.locations["orders"].name == "sales_export.csv"
    orders = src.frame("orders")
    assert orders["order_id"].tolist() == ["O1", "O2", "O3"]
    assert orders["customer_id"].tolist() == ["C1", "C1", "C2"]
    assert orders["order_date"].tolist() == [
        pd.Timestamp("2025-01-06"),
        pd.Timestamp("2025-02-10"),
        pd.Timestamp("2025-01-21"),
    ]
    assert orders["revenue"].tolist() == [120.0, 80.5, 200.0]
    assert orders["order_type"].tolist() == ["new", "repeat", "new"]
    assert src.validate().ok


def test_mapping_yml_beside_the_data_is_used(crm_source):
    write_mapping(crm_source / "mapping.yml", MAPPING)
    src = open_source(crm_source)
    assert src.mapping.path == crm_source / "mapping.yml"
    assert len(src.frame("orders")) == 3


def test_without_the_mapping_the_export_is_not_found(crm_source):
    src = open_source(crm_source)
    assert not src.has("orders")
    assert src.validate().skipped_families["value"] == ["orders"]


def test_date_format_parses_day_first_dates(crm_source, tmp_path):
    # 03/04/2025 is the 3rd of April when the mapping says day first
    rows = [dict(CRM_ORDERS[0], **{"Order Date": "03/04/2025"})]
    write_csv(crm_source / "sales_export.csv", rows)
    src = open_source(crm_source, mapping=write_mapping(tmp_path / "m.yml", MAPPING))
    assert src.frame("orders")["order_date"].tolist() == [pd.Timestamp("2025-04-03")]


def test_a_date_not_in_the_date_format_is_reported(crm_source, tmp_path):
    rows = [CRM_ORDERS[0], dict(CRM_ORDERS[1], **{"Order Date": "2025-02-10"})]
    write_csv(crm_source / "sales_export.csv", rows)
    src = open_source(crm_source, mapping=write_mapping(tmp_path / "m.yml", MAPPING))
    with pytest.raises(
        ContractError,
        match=r"column `order_date`: not a date \(1 row\)\n    line 3: '2025-02-10'\n"
        r"  fix: dates must follow the mapping's date_format '%d/%m/%Y'",
    ):
        src.frame("orders")


def test_two_columns_mapped_to_one_target_name_both(tmp_path):
    path = write_mapping(
        tmp_path / "m.yml", "tables:\n  orders:\n    columns:\n      Amount: revenue\n      Total: revenue\n"
    )
    with pytest.raises(
        WorkbookError,
        match=r"table `orders` maps 2 columns \(`Amount`, `Total`\) to `revenue`; "
        r"map exactly one",
    ):
        ColumnMapping.read(path)


def test_mapping_to_an_unknown_contract_column(tmp_path):
    path = write_mapping(tmp_path / "m.yml", "tables:\n  orders:\n    columns:\n      Amount: turnover\n")
    with pytest.raises(
        WorkbookError,
        match=r"maps `Amount` to `turnover`, which is not a column of the contract; "
        r"columns: order_id, customer_id, order_date, revenue, cost, order_type",
    ):
        ColumnMapping.read(path)


def test_mapping_an_unknown_table(tmp_path):
    path = write_mapping(tmp_path / "m.yml", "tables:\n  sales:\n    columns:\n      Amount: revenue\n")
    with pytest.raises(
        WorkbookError, match=r"table `sales` is not in the data contract; known tables: customers, "
    ):
        ColumnMapping.read(path)


@pytest.mark.parametrize(
    "text, message",
    [
        ("orders:\n  columns: {}\n", r"the mapping file needs a `tables:` section"),
        ("tables: [orders\n", r"not valid YAML"),
        ("- orders\n", r"expected a mapping of keys to values at the top level"),
    ],
)
def test_malformed_mapping_file(tmp_path, text, message):
    with pytest.raises(WorkbookError, match=message):
        ColumnMapping.read(write_mapping(tmp_path / "m.yml", text))


def test_mapping_file_not_found(make_source, tmp_path):
    with pytest.raises(WorkbookError, match=r"nope\.yml: file not found"):
        open_source(make_source(), mapping=tmp_path / "nope.yml")


def test_mapping_a_column_the_file_lacks_lists_the_columns_found(crm_source, tmp_path):
    text = MAPPING.replace("Amount: revenue", "Revenue (EUR): revenue")
    src = open_source(crm_source, mapping=write_mapping(tmp_path / "m.yml", text))
    with pytest.raises(
        ContractError, match=r"the mapping names column\(s\) `Revenue \(EUR\)` that the file lacks"
    ) as info:
        src.frame("orders")
    message = str(info.value)
    assert f"{crm_source / 'sales_export.csv'}: table `orders`" in message
    assert "columns found: Order Number, Account, Order Date, Amount, Kind" in message
    assert str(tmp_path / "m.yml") in message


def test_mapping_onto_a_column_the_file_already_has(make_source, tmp_path):
    tables = valid_tables()
    for row in tables["orders"]:
        row["Total"] = row["revenue"]
    folder = make_source(tables)
    path = write_mapping(tmp_path / "m.yml", "tables:\n  orders:\n    columns:\n      Total: revenue\n")
    with pytest.raises(ContractError, match=r"renames a column to `revenue`, which the file already has"):
        open_source(folder, mapping=path).frame("orders")


def test_source_naming_a_file_that_is_not_there(make_source, tmp_path):
    path = write_mapping(tmp_path / "m.yml", "tables:\n  orders:\n    source: export.csv\n")
    with pytest.raises(
        WorkbookError, match=r"table `orders` is mapped to file `export.csv`, which is not in"
    ):
        open_source(make_source(), mapping=path)


def test_source_picks_a_duckdb_table(make_source, tmp_path):
    folder = make_source()
    db = tmp_path / "crm.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE sales AS SELECT * FROM read_csv(?)", [str(folder / "orders.csv")])
    write_mapping(tmp_path / "crm.mapping.yml", "tables:\n  orders:\n    source: sales\n")
    src = open_source(db)
    assert src.tables == ["orders"]
    assert src.frame("orders")["order_id"].tolist() == ["O1", "O2", "O3", "O4"]

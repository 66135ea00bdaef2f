"""Values that used to pass without a word: partial dates, a repeated header name, ids with
spaces around them, and a segment the data does not have.

The source is the tiny valid one of ``conftest.py``; row ``i`` of a table is CSV line ``i + 2``.
"""

from __future__ import annotations

import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from metrics_lib.core.errors import ContractError, WorkbookError
from metrics_lib.data import open_source
from metrics_lib.metrics import aggregate as agg
from metrics_lib.metrics.scorecard import headline_metrics


@pytest.mark.parametrize("value", ["2025", "2025-03", "2025-3"])
def test_a_year_or_a_month_alone_is_not_a_date(make_source, value):
    src = open_source(make_source(set={("customers", 1, "signup_date"): value}))
    with pytest.raises(
        ContractError,
        match=rf"(?s)column `signup_date`: not a full date \(YYYY-MM-DD\).*"
        rf"line 3: '{value}'.*date_format: \"%Y-%m\"",
    ):
        src.frame("customers")


@pytest.mark.parametrize("value", ["2025-03-02", "2025-03-02 00:00:00", "2025-03-02T00:00", "20250302"])
def test_a_full_date_in_any_iso_form_is_read(make_source, value):
    src = open_source(make_source(set={("customers", 1, "signup_date"): value}))
    assert src.frame("customers")["signup_date"].iloc[1] == pd.Timestamp("2025-03-02")


def test_months_are_read_when_the_mapping_says_so(make_source):
    folder = make_source()
    spend = pd.DataFrame(
        {
            "month": ["2025-01", "2025-02"],
            "channel": ["ads", "ads"],
            "purpose": ["acquisition", "acquisition"],
            "spend": ["500", "300"],
        }
    )
    spend.to_csv(folder / "marketing_spend.csv", index=False)
    with pytest.raises(ContractError, match="not a full date"):
        open_source(folder).frame("marketing_spend")
    (folder / "mapping.yml").write_text(
        'tables:\n  marketing_spend:\n    date_format: "%Y-%m"\n', encoding="utf-8"
    )
    months = open_source(folder).frame("marketing_spend")["month"]
    assert list(months) == [pd.Timestamp("2025-01-01"), pd.Timestamp("2025-02-01")]


def _write(path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def test_a_repeated_column_name_is_named_with_both_positions(make_source):
    folder = make_source()
    _write(folder / "orders.csv", "order_id,customer_id,order_date,revenue,revenue\nO1,C1,2025-02-01,100,5\n")
    with pytest.raises(ContractError, match=r"column `revenue` appears twice \(columns 4 and 5\)"):
        open_source(folder).frame("orders")


def test_a_repeated_column_the_mapping_renames_is_named_as_in_the_file(make_source):
    folder = make_source()
    _write(folder / "orders.csv", "order_id,customer_id,order_date,Amount,Amount\nO1,C1,2025-02-01,100,5\n")
    _write(folder / "mapping.yml", "tables:\n  orders:\n    columns:\n      Amount: revenue\n")
    with pytest.raises(
        ContractError,
        match=r"column `revenue` \(`Amount` in the file\) appears twice "
        r"\(columns 4 and 5\)",
    ):
        open_source(folder).frame("orders")


def test_a_repeated_column_outside_the_contract_is_not_read_and_not_an_error(make_source):
    folder = make_source()
    _write(
        folder / "orders.csv", "order_id,customer_id,order_date,revenue,note,note\nO1,C1,2025-02-01,100,a,b\n"
    )
    assert open_source(folder).frame("orders")["revenue"].tolist() == [100.0]


# -- ids with spaces around them -------------------------------------------------------------


def test_an_id_with_spaces_around_it_is_the_id(make_source):
    # O2 is written for 'C1 ', O3 for ' C2': they are C1's and C2's orders, not orphans
    src = open_source(
        make_source(set={("orders", 1, "customer_id"): "C1 ", ("orders", 2, "customer_id"): " C2"})
    )
    assert list(src.frame("orders")["customer_id"]) == ["C1", "C1", "C2", "C3"]
    assert headline_metrics(src, "2025-Q1", ids=["revenue"])["metrics"]["revenue"]["value"] == pytest.approx(
        120 + 80.50 + 200 + 950.25
    )


def test_twins_that_differ_by_a_space_are_one_id_twice(make_source):
    src = open_source(make_source(set={("customers", 1, "customer_id"): "C1 "}))
    with pytest.raises(
        ContractError,
        match=r"(?s)column `customer_id`: duplicate values in a unique key.*"
        r"line 2: 'C1'.*line 3: 'C1'.*'C1' and 'C1 ' are one id",
    ):
        src.frame("customers")


def test_an_id_of_blanks_alone_is_empty(make_source):
    src = open_source(make_source(set={("orders", 1, "order_id"): "   "}))
    with pytest.raises(ContractError, match=r"(?s)column `order_id`: empty values are not allowed.*line 3"):
        src.frame("orders")


def test_the_engine_reads_ids_as_the_parser_does(tmp_path):
    customers = pa.table(
        {"customer_id": ["C1", "C2 "], "signup_date": pa.array([pd.Timestamp("2025-01-05").date()] * 2)}
    )
    orders = pa.table(
        {
            "order_id": ["O1", " O2"],
            "customer_id": [" C1", "C2"],
            "order_date": pa.array([pd.Timestamp("2025-02-01").date()] * 2),
            "revenue": [10.0, 20.0],
        }
    )
    pq.write_table(customers, tmp_path / "customers.parquet")
    pq.write_table(orders, tmp_path / "orders.parquet")
    src = open_source(tmp_path)
    got = src.table("orders").execute()
    assert src.engine_checks["orders"].clean and "orders" not in src._frames  # checked in place
    assert list(got["order_id"]) == ["O1", "O2"] and list(got["customer_id"]) == ["C1", "C2"]
    assert list(open_source(tmp_path).frame("orders")["customer_id"]) == ["C1", "C2"]  # as pandas reads it
    assert headline_metrics(src, "2025-Q1", ids=["revenue"])["metrics"]["revenue"]["value"] == 30.0


def test_only_the_id_columns_with_blanks_are_trimmed_in_every_query(tmp_path, monkeypatch):
    # trimming ten million ids in every join costs seconds: a column found clean is read as stored
    monkeypatch.setenv("METRICS_LIB_CACHE_DIR", str(tmp_path / "cache"))
    day = pa.array([pd.Timestamp("2025-02-01").date()] * 2)
    pq.write_table(
        pa.table({"customer_id": ["C1", "C2"], "signup_date": day}), tmp_path / "customers.parquet"
    )
    pq.write_table(
        pa.table(
            {
                "order_id": ["O1", "O2"],
                "customer_id": [" C1", "C2"],
                "order_date": day,
                "revenue": [10.0, 20.0],
            }
        ),
        tmp_path / "orders.parquet",
    )
    for run in ("checked", "remembered"):
        src = open_source(tmp_path)
        orders = src.table("orders")
        check = src.engine_checks["orders"]
        assert check.cached == (run == "remembered")
        assert check.ids_to_trim == {"order_id": 0, "customer_id": 1}
        assert ibis.to_sql(orders).upper().count("TRIM(") == 1  # customer_id's alone
        assert list(orders.execute()["customer_id"]) == ["C1", "C2"]
        assert headline_metrics(src, "2025-Q1", ids=["revenue"])["metrics"]["revenue"]["value"] == 30.0


def test_engine_twins_go_the_careful_way_and_are_named(tmp_path):
    pq.write_table(
        pa.table(
            {"customer_id": ["C1", "C1 "], "signup_date": pa.array([pd.Timestamp("2025-01-05").date()] * 2)}
        ),
        tmp_path / "customers.parquet",
    )
    src = open_source(tmp_path)
    with pytest.raises(
        ContractError, match=r"(?s)duplicate values in a unique key.*row 1: 'C1'.*row 2: 'C1'"
    ):
        src.table("customers")
    assert src.engine_checks["customers"].violations["customer_id: duplicates"] == 1


# -- segments ----------------------------------------------------------------------------------


def test_the_segments_are_the_datas(make_source):
    assert open_source(make_source()).segments() == ["enterprise", "mid", "smb"]


def test_a_segment_that_differs_only_in_case_is_pointed_out(make_source):
    src = open_source(make_source())
    with pytest.raises(
        WorkbookError,
        match=r"segment 'SMB' is not in the data \(column `segment` of table "
        r"`customers`\); segments: 'enterprise', 'mid', 'smb'; "
        r"did you mean 'smb'\?",
    ):
        agg.Scope.of(src, "2025-Q1", "SMB")


def test_an_unknown_segment_lists_the_segments(make_source):
    src = open_source(make_source())
    with pytest.raises(
        WorkbookError,
        match=r"segment 'retail' is not in the data .*segments: 'enterprise', "
        r"'mid', 'smb'$",
    ):
        headline_metrics(src, "2025-Q1", segment="retail")
    headline_metrics(src, "2025-Q1", segment="smb")  # a known one is fine


def test_a_segment_without_segments_in_the_data_says_what_is_missing(make_source):
    tables = {
        "customers": [{"customer_id": "C1", "signup_date": "2025-01-05"}],
        "orders": [{"order_id": "O1", "customer_id": "C1", "order_date": "2025-01-06", "revenue": "1"}],
    }
    src = open_source(make_source(tables=tables))
    with pytest.raises(WorkbookError, match=r"its column `segment` is missing or empty"):
        agg.Scope.of(src, "2025-Q1", "smb")
    src = open_source(
        make_source(drop=("customers", "orders", "surveys", "tickets", "subscriptions", "campaign_members"))
    )
    with pytest.raises(WorkbookError, match=r"has no table `customers`"):
        agg.Scope.of(src, "2025-Q1", "smb")

"""Foreign keys are checked by everything that computes a number, not only by ``validate`` and
``run``: an order for an unknown customer stops the metrics (strict) or is set aside and counted
(quarantine), with the rows named as in the file, and the rows that point at a row set aside
follow it.

The source is the tiny valid one of ``conftest.py``; row ``i`` of a table is CSV line ``i + 2``.
Its four orders are all in 2025-Q1: O1 120.00 (C1), O2 80.50 (C1), O3 200 (C2), O4 950.25 (C3).
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from metrics_lib.core.errors import ContractError
from metrics_lib.data import contract as C
from metrics_lib.data import open_source
from metrics_lib.metrics import aggregate as agg
from metrics_lib.metrics.context import ReportContext
from metrics_lib.metrics.scorecard import headline_metrics

ORPHAN = {("orders", 1, "customer_id"): "C99"}  # O2 (line 3) for a customer who does not exist


def revenue(src, period="2025-Q1") -> float:
    return headline_metrics(src, period, ids=["revenue"])["metrics"]["revenue"]["value"]


def test_an_aggregation_stops_on_an_orphan_in_strict_mode(make_source):
    src = open_source(make_source(set=ORPHAN))
    with pytest.raises(
        ContractError,
        match=r"(?s)column `customer_id`: references a `customer_id` not in "
        r"table `customers` \(orphan foreign key\).*line 3: 'C99'",
    ):
        agg.Scope.of(src, "2025-Q1")
    with pytest.raises(ContractError, match="orphan foreign key"):
        headline_metrics(open_source(make_source(set=ORPHAN)), "2025-Q1")


def test_a_report_stops_on_an_orphan_before_any_section(make_source):
    with pytest.raises(ContractError, match=r"orphan foreign key"):
        ReportContext.resolve(str(make_source(set=ORPHAN)), period="2025-Q1")


def test_quarantine_sets_an_orphan_aside_counts_it_and_computes_without_it(make_source):
    src = open_source(make_source(set=ORPHAN), on_invalid="quarantine")
    assert revenue(src) == pytest.approx(120 + 200 + 950.25)  # O2's 80.50 is not counted
    rejected = src.rejected["orders"]
    assert list(rejected["line"]) == [3] and list(rejected["order_id"]) == ["O2"]
    assert rejected["reason"].iloc[0] == (
        "customer_id: references a `customer_id` not in table `customers` (orphan foreign key)"
    )
    assert src.rows("orders") == 3
    # what `validate --on-invalid quarantine` says: the problem once, the rows kept counted
    report = src.validate()
    orders = next(s for s in report.tables if s.table == "orders")
    assert orders.rows == 3 and [p.rule for p in orders.problems] == [
        "references a `customer_id` not in table `customers` (orphan foreign key)"
    ]


def test_rows_pointing_at_a_row_set_aside_follow_it(make_source):
    # C3's signup date cannot be read: C3 is set aside, and so is every row that belongs to C3
    src = open_source(make_source(set={("customers", 2, "signup_date"): "someday"}), on_invalid="quarantine")
    assert revenue(src) == pytest.approx(120 + 80.50 + 200)  # O4 (950.25, C3's) is set aside
    assert list(src.rejected["customers"]["customer_id"]) == ["C3"]
    orders = src.rejected["orders"]
    assert list(orders["order_id"]) == ["O4"] and list(orders["line"]) == [5]
    assert orders["reason"].iloc[0] == (
        "customer_id: references a `customer_id` whose row in table `customers` was set aside "
        "(orphan foreign key)"
    )
    for table, key in [("surveys", "S3"), ("tickets", "T3"), ("deals", "D3"), ("subscriptions", "SUB2")]:
        assert key in set(src.rejected[table].iloc[:, 2]), table
    assert list(src.rejected["campaign_members"]["customer_id"]) == ["C3"]
    problem = next(p for p in src.set_aside("orders") if p.column == "customer_id")
    assert problem.examples == (("line 5", "'C3'"),)
    assert "correct the rows of `customers` that were set aside" in problem.fix


def test_an_orphan_after_a_row_set_aside_is_named_by_its_line_in_the_file(make_source):
    # O1 (line 2) breaks a rule and is set aside first; O4 (line 5) is an orphan: line 5, not 4
    src = open_source(
        make_source(set={("orders", 0, "revenue"): "-5", ("orders", 3, "customer_id"): "C99"}),
        on_invalid="quarantine",
    )
    assert revenue(src) == pytest.approx(80.50 + 200)
    assert list(src.rejected["orders"]["line"]) == [2, 5]  # as the messages say
    orphan = next(p for p in src.set_aside("orders") if p.column == "customer_id")
    assert orphan.examples == (("line 5", "'C99'"),)


def test_an_orphan_in_a_clean_parquet_table_is_found_in_the_engine(tmp_path, make_source):
    valid = open_source(make_source())
    folder = tmp_path / "pq"
    folder.mkdir()
    for table in ("customers", "orders"):
        pq.write_table(
            _typed(valid.frame(table), C.arrow_schema(C.TABLES[table])), folder / f"{table}.parquet"
        )
    orders = pq.read_table(folder / "orders.parquet")
    orphan = {**orders.to_pylist()[0], "order_id": "O9", "customer_id": "C99", "revenue": 1_000_000.0}
    pq.write_table(
        pa.Table.from_pylist([*orders.to_pylist(), orphan], schema=orders.schema), folder / "orders.parquet"
    )

    strict = open_source(folder)
    with pytest.raises(ContractError, match=r"(?s)orphan foreign key.*row 5: 'C99'"):
        revenue(strict)
    assert strict.engine_checks["orders"].clean  # the table itself is clean: the anti-join found it
    src = open_source(folder, on_invalid="quarantine")
    assert revenue(src) == pytest.approx(120 + 80.50 + 200 + 950.25)  # not 1,001,350.75
    assert list(src.rejected["orders"]["order_id"]) == ["O9"]


def _typed(frame, schema: pa.Schema) -> pa.Table:
    """A validated frame as a typed Arrow table (dates as date32)."""
    columns = {}
    for field in schema:
        values = frame[field.name]
        if pa.types.is_date32(field.type):
            values = values.dt.date
        columns[field.name] = pa.array(
            [None if pd.isna(v) else v for v in values.astype(object)], type=field.type
        )
    return pa.table(columns, schema=pa.schema([f.with_nullable(True) for f in schema]))

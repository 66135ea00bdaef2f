"""The data's one span (first and last date of its activity) and the default period it gives.

The small valid source of conftest has orders from 2025-01-06 to 2025-03-15 (and a deal created
on 2024-12-10, a survey answered on 2025-03-22: other tables' dates never widen the span).
"""

from __future__ import annotations

from datetime import date

import duckdb
import pytest
from conftest import valid_tables

from metrics_lib.core.errors import ContractError
from metrics_lib.data import open_source
from metrics_lib.data.engine_checks import EngineCheck

ORPHAN = {  # an order of a customer not in customers, dated after every valid order (2025-03-15)
    "order_id": "O9",
    "customer_id": "C99",
    "order_date": "2025-03-28",
    "revenue": "10",
    "cost": "1",
    "order_type": "new",
}


def _with_orphan(make_source):
    tables = valid_tables()
    tables["orders"].append(ORPHAN)
    return make_source(tables)


def test_the_span_is_the_orders_dates_whatever_was_read_first(make_source):
    folder = make_source()
    for first_read in ("deals", "surveys", "orders"):
        src = open_source(folder)
        src.frame(first_read)
        assert src.activity_span() == ("orders", date(2025, 1, 6), date(2025, 3, 15)), first_read


def test_in_quarantine_an_orphan_row_set_aside_does_not_stretch_the_span(make_source):
    src = open_source(_with_orphan(make_source), on_invalid="quarantine")
    src.frame("orders")  # read before the foreign keys were checked: the orphan is still in it
    assert src.activity_span() == ("orders", date(2025, 1, 6), date(2025, 3, 15))
    assert list(src.rejected["orders"]["order_id"]) == ["O9"]
    assert src.last_date() == date(2025, 3, 15)


def test_in_quarantine_the_engine_checked_span_leaves_the_orphan_out_too(make_source, tmp_path):
    """A typed Parquet table is checked in the engine, whose first and last dates would count the
    orphan: they are taken once the source was checked whole."""
    csv_folder = _with_orphan(make_source)
    folder = tmp_path / "parquet"
    folder.mkdir()
    for table in ("customers", "orders"):
        duckdb.execute(
            f"COPY (SELECT * FROM read_csv_auto('{csv_folder / table}.csv')) TO '{folder / table}.parquet' "
            "(FORMAT parquet)"
        )
    src = open_source(folder, on_invalid="quarantine")
    src.table("orders")
    assert isinstance(src.engine_checks["orders"], EngineCheck)
    assert src.engine_checks["orders"].last_date == date(2025, 3, 28)  # the stored table, orphan and all
    assert src.activity_span() == ("orders", date(2025, 1, 6), date(2025, 3, 15))


def test_strict_mode_stops_at_the_orphan_before_naming_a_span(make_source):
    src = open_source(_with_orphan(make_source))
    with pytest.raises(ContractError, match=r"orders.csv: table `orders`, column `customer_id`.*orphan"):
        src.activity_span()


def _orders_between(make_source, first: str, last: str):
    tables = valid_tables()
    tables["orders"][0]["order_date"] = first  # O1, the earliest
    tables["orders"][3]["order_date"] = last  # O4, the latest
    return make_source(tables)


@pytest.mark.parametrize(
    "first, last, default",
    [
        # no quarter whole in 10 January to 12 March: the latest the data overlaps, 2025-Q1
        ("2025-01-10", "2025-03-12", "2025-Q1"),
        # 2024-Q4 would end before the data's first date: still 2025-Q1
        ("2025-01-01", "2025-03-30", "2025-Q1"),
        # 1 January to 31 March: 2025-Q1 is whole
        ("2025-01-01", "2025-03-31", "2025-Q1"),
        # 2 January to 31 March: not whole (it starts a day early), and no other quarter is
        ("2025-01-02", "2025-03-31", "2025-Q1"),
        # 15 February to 20 May: no quarter whole; the latest overlapped is 2025-Q2, not 2025-Q1
        ("2025-02-15", "2025-05-20", "2025-Q2"),
        # 15 November 2024 to 20 July: 2025-Q1 and 2025-Q2 are whole, 2025-Q2 the latest
        ("2024-11-15", "2025-07-20", "2025-Q2"),
    ],
)
def test_the_default_period_lies_in_the_data(make_source, first, last, default):
    src = open_source(_orders_between(make_source, first, last))
    assert src.default_period().label == default


def test_the_default_period_is_the_latest_whole_quarter_when_there_is_one(partial_source):
    # orders from 2024-02-10 to 2025-12-09: 2025-Q4 runs past the last date, 2025-Q3 is whole
    assert open_source(partial_source).default_period().label == "2025-Q3"


def test_metrics_without_a_period_report_the_partial_quarter_the_data_overlaps(make_source, cli_run):
    folder = _orders_between(make_source, "2025-01-10", "2025-03-12")
    code, text = cli_run("metrics", "--data", folder, "--format", "json")
    assert code == 0
    assert '"period": "2025-Q1"' in text and '"complete": false' in text
    assert (
        "note: period 2025-Q1 (2025-01-01 to 2025-03-31) is partial: it starts before the data's first "
        "date, 2025-01-10, and runs past its last date, 2025-03-12 (table `orders`), so its numbers cover "
        "2025-01-10 to 2025-03-12 only"
    ) in text

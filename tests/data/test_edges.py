"""Inputs at the edges: values a tool cannot hold, files that are not what their name says, and
messages that name the right line.

What users rely on: a date or number outside what the tool holds gets the usual message with its
rows, never a crash, whether the table is parsed from CSV or checked in the engine; a row is named
by the line it starts on in the file; a compressed file, a semicolon-separated file or an
unreadable file is named for what it is; a file rewritten under its old size and time stamp is
checked again.
"""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import os

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import valid_tables, write_csv

from metrics_lib.core.errors import ContractError, WorkbookError
from metrics_lib.data import contract as C
from metrics_lib.data import open_source
from metrics_lib.data.parsing import csv_row_lines, parse_column, row_labeler
from metrics_lib.data.sources.files import FileSource

END_DATE = C.TABLES["subscriptions"].column("end_date")  # a date that may not be empty
CANCELLED = C.TABLES["subscriptions"].column("cancelled_date")  # one that may
OPENED_AT = C.TABLES["tickets"].column("opened_at")
REVENUE = C.TABLES["orders"].column("revenue")
SCORE = C.TABLES["surveys"].column("score")
CONTACTS = C.TABLES["tickets"].column("contacts_to_resolve")


# -- dates outside the years the tool holds -------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        pd.Series(["2025-01-05", "9999-12-31", None], dtype="string"),  # CSV text
        pd.Series(
            [dt.datetime(2025, 1, 5), dt.datetime(9999, 12, 31), None], dtype="datetime64[ms]"
        ),  # Parquet
        pd.Series(["2025-01-05", "0001-01-01", None], dtype="string"),
        pd.Series(["2025-01-05", "2262-04-12", None], dtype="string"),  # one day past pandas' last
    ],
)
def test_a_date_outside_the_calendar_is_named_with_its_row(raw):
    _values, [(rows, rule, fix)] = parse_column(raw, END_DATE, None)
    assert list(rows) == [1]
    assert rule == "date outside the years 1678 to 2261 (a placeholder such as 9999-12-31 or 0001-01-01?)"
    assert fix.startswith(
        "write the day the term ends: `end_date` may not be empty, so a placeholder cannot "
        "stand for 'never ends'"
    )


def test_where_a_date_may_be_empty_the_fix_says_to_leave_it_empty():
    _values, [(_rows, _rule, fix)] = parse_column(pd.Series(["9999-12-31"], dtype="string"), CANCELLED, None)
    assert (
        fix
        == "write the real date, or leave the cell empty when there is none (never ends, not yet, unknown)"
    )


def test_the_first_and_last_days_of_the_calendar_are_dates():
    values, bad = parse_column(pd.Series(["1678-01-01", "2261-12-31"], dtype="string"), END_DATE, None)
    assert bad == [] and values.tolist() == [pd.Timestamp("1678-01-01"), pd.Timestamp("2261-12-31")]


def test_an_hour_only_offset_counts_as_an_offset():
    mixed = pd.Series(["2025-02-02 09:00:00+05", "2025-02-05 14:00:00"], dtype="string")
    _values, [(rows, rule, _fix)] = parse_column(mixed, OPENED_AT, None)
    assert list(rows) == [1] and rule.startswith("time zones are mixed")
    every = pd.Series(
        ["2025-02-02 09:00:00+05", "2025-02-05 14:00:00-0330", "2025-02-06 10:00Z"], dtype="string"
    )
    values, bad = parse_column(every, OPENED_AT, None)
    assert bad == []
    assert values.tolist() == [
        pd.Timestamp("2025-02-02 04:00"),
        pd.Timestamp("2025-02-05 17:30"),
        pd.Timestamp("2025-02-06 10:00"),
    ]


def test_a_date_alone_is_not_taken_for_an_offset():
    values, bad = parse_column(pd.Series(["2025-02-02", "2025-02-05"], dtype="string"), END_DATE, None)
    assert bad == [] and values.tolist() == [pd.Timestamp("2025-02-02"), pd.Timestamp("2025-02-05")]


# -- numbers beyond what the tool holds -------------------------------------------------------


@pytest.mark.parametrize(
    "col, raw, bad",
    [
        (SCORE, pd.Series(["9", "inf", "-Infinity"], dtype="string"), [1, 2]),
        (REVENUE, pd.Series(["120", "1e300", "1e500"], dtype="string"), [1, 2]),
        (SCORE, pd.Series(["12345678901234567890", "7"], dtype="string"), [0]),
        (CONTACTS, pd.Series(["18446744073709551615", "1", None], dtype="string"), [0]),
        (CONTACTS, pd.Series([2**64 - 1, 1], dtype="uint64"), [0]),  # as Parquet stores it
        (REVENUE, pd.Series([float("inf"), 5.0]), [0]),
    ],
)
def test_an_infinite_or_huge_number_is_named_with_its_row(col, raw, bad):
    _values, [(rows, rule, _fix)] = parse_column(raw, col, None)
    assert list(rows) == bad
    assert rule == "not a finite number of at most 1,000,000,000,000,000 (10^15) either way"


def test_numbers_up_to_the_largest_are_accepted():
    values, bad = parse_column(pd.Series(["1e15", "-1e15", "0"], dtype="string"), REVENUE, None)
    assert bad == [] and values.tolist() == [1e15, -1e15, 0.0]
    values, bad = parse_column(pd.Series(["1000000000000000", None], dtype="string"), CONTACTS, None)
    assert bad == [] and values.tolist() == [10**15, pd.NA]


# -- the engine and the reader agree ----------------------------------------------------------


def _subscriptions_parquet(folder, end):
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(folder / "customers.csv", valid_tables()["customers"])
    pq.write_table(
        pa.table(
            {
                "subscription_id": ["SUB1", "SUB2"],
                "customer_id": ["C1", "C3"],
                "start_date": pa.array([dt.date(2025, 1, 5), dt.date(2025, 2, 11)], pa.date32()),
                "end_date": pa.array([dt.date(2026, 1, 4), end], pa.date32()),
                "cancelled_date": pa.array([None, None], pa.date32()),
                "mrr": pa.array([10.0, 99.5]),
            }
        ),
        folder / "subscriptions.parquet",
    )
    return folder


def test_a_parquet_date_of_9999_is_caught_by_the_engine_and_named_by_the_reader(tmp_path):
    src = open_source(_subscriptions_parquet(tmp_path / "d", dt.date(9999, 12, 31)))
    with pytest.raises(
        ContractError,
        match=r"subscriptions\.parquet: table `subscriptions`, column `end_date`: date "
        r"outside the years 1678 to 2261 .*\(1 row\)\n    row 2: 9999-12-31\n",
    ):
        src.table("subscriptions")
    assert src.engine_checks["subscriptions"].violations["end_date: outside 1678 to 2261"] == 1


def test_a_parquet_revenue_of_1e300_is_caught_by_the_engine_and_named_by_the_reader(tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    write_csv(folder / "customers.csv", valid_tables()["customers"])
    pq.write_table(
        pa.table(
            {
                "order_id": ["O1", "O2", "O3"],
                "customer_id": ["C1", "C2", "C3"],
                "order_date": pa.array([dt.date(2025, 1, 6)] * 3, pa.date32()),
                "revenue": pa.array([120.0, 1e300, float("nan")]),
            }
        ),
        folder / "orders.parquet",
    )
    src = open_source(folder)
    with pytest.raises(
        ContractError, match=r"column `revenue`: not a finite number of at most .*\n    row 2: 1e\+300"
    ):
        src.table("orders")
    # NaN is counted as NaN, not as a huge number (DuckDB sorts NaN above every number)
    assert src.engine_checks["orders"].violations["revenue: beyond 1e+15"] == 1


# -- line numbers -------------------------------------------------------------------------------


def test_rows_are_named_by_the_line_they_start_on(tmp_path):
    path = tmp_path / "surveys.csv"
    path.write_text('response_id,comment\n\nS1,"one\ntwo\nthree"\nS2,x\n\n"S\n3",y\nS4,z\n', encoding="utf-8")
    assert csv_row_lines(path) == [
        (1, False),
        (2, True),
        (3, False),
        (6, False),
        (7, True),
        (8, False),
        (10, False),
    ]
    label = row_labeler("csv", path)
    assert [label(i) for i in range(4)] == ["line 3", "line 6", "line 8", "line 10"]
    assert pd.read_csv(path)["response_id"].tolist() == [
        "S1",
        "S2",
        "S\n3",
        "S4",
    ]  # the same rows pandas reads
    assert row_labeler("csv")(0) == "line 2" and row_labeler("parquet", path)(0) == "row 1"


def test_a_ragged_row_after_a_field_over_several_lines_is_named_by_its_line(make_source):
    folder = make_source()
    (folder / "orders.csv").write_text(
        'order_id,customer_id,order_date,revenue\n"O\n1",C1,2025-01-06,1\n\nO2,C1,2025-01-06,1,9\n',
        encoding="utf-8",
    )
    with pytest.raises(ContractError, match=r"Expected 4 fields in line 5, saw 5"):
        open_source(folder).frame("orders")


# -- files that are not what their name says ------------------------------------------------------


@pytest.mark.parametrize(
    "pack, rule, fix",
    [
        (gzip.compress, "the file is a gzip-compressed file, not CSV text", "decompress it first (gunzip)"),
        (bz2.compress, "the file is a bzip2-compressed file, not CSV text", "decompress it first (bunzip2)"),
    ],
)
def test_a_compressed_csv_is_named_for_what_it_is(make_source, pack, rule, fix):
    folder = make_source()
    (folder / "orders.csv").write_bytes(pack((folder / "orders.csv").read_bytes()))
    with pytest.raises(ContractError) as info:
        open_source(folder).frame("orders")
    (problem,) = info.value.problems
    assert problem.rule == rule and problem.fix.startswith(fix)


@pytest.mark.parametrize(
    "sep, name", [(";", "';' (semicolon)"), ("\t", "a tab"), ("|", "'|' (vertical bar)")]
)
def test_a_file_separated_by_another_delimiter_gets_one_problem_naming_it(make_source, sep, name):
    folder = make_source()
    path = folder / "orders.csv"
    path.write_text(path.read_text().replace(",", sep))
    with pytest.raises(ContractError) as info:
        open_source(folder).frame("orders")
    (problem,) = info.value.problems
    assert problem.rule.startswith(
        f"the delimiter looks like {name}, not a comma: the header line is `order_id{sep}"
    )
    assert problem.fix.startswith("files must be comma-separated")


def test_a_comma_file_with_semicolons_in_its_values_is_read(make_source):
    folder = make_source(set={("orders", 0, "order_type"): ""})
    path = folder / "customers.csv"
    path.write_text(path.read_text().replace("north", '"north;a;b;c;d;e;f;g"', 1))
    assert open_source(folder).frame("customers")["region"].iloc[0] == "north;a;b;c;d;e;f;g"


def test_an_unreadable_file_says_permission_denied(make_source, monkeypatch):
    folder = make_source()
    locked = str(folder / "orders.csv")
    real_open = os.open

    def refuse(path, *args, **kw):  # as for a file of another user with mode 600 (tests may run as root)
        if str(path) == locked:
            raise PermissionError(13, "Permission denied", locked)
        return real_open(path, *args, **kw)

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(
        WorkbookError, match=rf"{locked}: permission denied; make the file readable \(chmod u\+r\)"
    ):
        open_source(folder).frame("orders")


# -- the check cache notices a rewrite ------------------------------------------------------------


def test_a_parquet_file_rewritten_with_its_old_size_and_time_is_checked_again(tmp_path, monkeypatch):
    monkeypatch.setenv("METRICS_LIB_CACHE_DIR", str(tmp_path / "cache"))
    folder = _subscriptions_parquet(tmp_path / "d", dt.date(2026, 2, 10))
    path = folder / "subscriptions.parquet"
    assert FileSource(folder).table("subscriptions") is not None
    again = FileSource(folder)
    again.table("subscriptions")
    assert again.engine_checks["subscriptions"].cached

    st = path.stat()
    t = pq.read_table(path)
    mrr = pa.array([10.0, -99.5])  # same size on disk, new content that breaks `mrr >= 0`
    pq.write_table(t.set_column(t.schema.get_field_index("mrr"), "mrr", mrr), path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    now = path.stat()
    assert (now.st_size, now.st_mtime_ns, now.st_ino) == (st.st_size, st.st_mtime_ns, st.st_ino)

    src = FileSource(folder)
    with pytest.raises(ContractError, match=r"column `mrr`: value below the minimum 0"):
        src.table("subscriptions")
    assert not src.engine_checks["subscriptions"].cached


def test_a_date_format_with_an_offset_is_read_as_utc():
    stamps = pd.Series(["2025-02-02 09:00+0100", "2025-02-02 09:00-0500", "31/12/9999"], dtype="string")
    values, [(rows, rule, _fix)] = parse_column(stamps, OPENED_AT, "%Y-%m-%d %H:%M%z")
    assert values.tolist()[:2] == [pd.Timestamp("2025-02-02 08:00"), pd.Timestamp("2025-02-02 14:00")]
    assert list(rows) == [2] and rule == "not a date"


@pytest.mark.parametrize(
    "col, raw, found, parsed",
    [
        (
            SCORE,
            ["abc", "inf", "7"],
            [([0], "not a number"), ([1], "not a finite number")],
            [pd.NA, pd.NA, 7],
        ),
        (
            END_DATE,
            ["1677-09-21", "0", "2025-01-01"],
            [([1], "not a date"), ([0], "date outside the years")],
            [pd.NaT, pd.NaT, pd.Timestamp("2025-01-01")],
        ),
        (
            OPENED_AT,
            ["2025-02-02 09:00+01:00", "2025-02-02 10:00", "9999-12-31 00:00+00:00"],
            [([1], "time zones are mixed"), ([2], "date outside the years")],
            [pd.Timestamp("2025-02-02 08:00"), pd.NaT, pd.NaT],
        ),
    ],
)
def test_every_kind_of_bad_value_in_a_column_is_named_and_the_rest_keeps_its_type(col, raw, found, parsed):
    # the rows left are checked by the contract's rules next: they must have the column's type
    values, problems = parse_column(pd.Series(raw, dtype="string"), col, None)
    assert [
        (list(rows), rule[: len(start)]) for (rows, rule, _fix), (_r, start) in zip(problems, found)
    ] == found
    assert str(values.dtype) == str(C.pandas_dtype(col.kind))
    assert [None if pd.isna(v) else v for v in values] == [None if pd.isna(v) else v for v in parsed]


def test_a_date_outside_the_calendar_beside_an_unreadable_one_is_reported_not_a_crash(make_source):
    folder = make_source(
        set={("tickets", 1, "first_response_at"): "1677-09-21", ("tickets", 2, "first_response_at"): "0"}
    )
    report = open_source(folder).validate()
    rules = sorted((p.column, p.rule.split(" (")[0], p.examples[0][0]) for p in report.problems)
    assert rules == [
        ("first_response_at", "date outside the years 1678 to 2261", "line 3"),
        ("first_response_at", "not a date", "line 4"),
    ]

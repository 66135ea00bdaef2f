"""The data contract as a user meets it: every rule broken once, and the message it gets.

Each case starts from the tiny valid source of ``conftest.py`` and changes one cell; row ``i`` of a
table is CSV line ``i + 2``. The message must name the file, the table, the column (or the columns
of a row rule), the offending line with its value, the rule and the fix.
"""

from __future__ import annotations

import hashlib

import duckdb
import pandas as pd
import pytest
from conftest import valid_tables, write_csv, write_source

from metrics_lib.core.errors import ContractError, WorkbookError
from metrics_lib.data import contract as C
from metrics_lib.data import open_source


def contract_error(folder, **kw) -> ContractError:
    """Load every table of the source at ``folder``; it must raise a ContractError."""
    with pytest.raises(ContractError, match=r"The data breaks the contract \(\d+ problems?\)") as info:
        open_source(folder, **kw).load_all()
    return info.value


def assert_mentions(message: str, *parts: str) -> None:
    missing = [p for p in parts if p not in message]
    assert not missing, f"message lacks {missing}:\n{message}"


# (id, cells to set, file, table, column or None, "line N: value", rule text, fix text)
CELL_RULES = [
    (
        "text in an amount",
        {("orders", 1, "revenue"): "12 EUR"},
        "orders.csv",
        "orders",
        "revenue",
        "line 3: '12 EUR'",
        "not a number",
        "no currency symbols",
    ),
    (
        "unparseable date",
        {("orders", 1, "order_date"): "2025-02-30"},
        "orders.csv",
        "orders",
        "order_date",
        "line 3: '2025-02-30'",
        "not a date",
        "write dates as YYYY-MM-DD",
    ),
    (
        "day-first date",
        {("orders", 1, "order_date"): "03/04/2025"},
        "orders.csv",
        "orders",
        "order_date",
        "line 3: '03/04/2025'",
        "day-first or month-first is ambiguous",
        "set `date_format` for this table in the mapping file",
    ),
    (
        "mixed time zones",
        {
            ("tickets", 0, "opened_at"): "2025-02-02T09:00:00+00:00",
            ("tickets", 2, "opened_at"): "2025-03-10T11:15:00Z",
        },
        "tickets.csv",
        "tickets",
        "opened_at",
        "line 3: '2025-02-05 14:00:00'",
        "time zones are mixed",
        "all with an offset (e.g. +00:00) or all without",
    ),
    (
        "fractional score",
        {("surveys", 0, "score"): "7.5"},
        "surveys.csv",
        "surveys",
        "score",
        "line 2: '7.5'",
        "not a whole number",
        "whole numbers",
    ),
    (
        "not true/false",
        {("campaign_members", 2, "converted"): "maybe"},
        "campaign_members.csv",
        "campaign_members",
        "converted",
        "line 4: 'maybe'",
        "not true/false",
        "write true or false",
    ),
    (
        "NPS 11",
        {("surveys", 0, "score"): "11"},
        "surveys.csv",
        "surveys",
        None,
        "line 2: response_id='S1', survey='nps', score=11",
        "rule broken: score within the survey's scale",
        "NPS answers are 0-10, CSAT 1-5",
    ),
    (
        "CSAT 0",
        {("surveys", 2, "score"): "0"},
        "surveys.csv",
        "surveys",
        None,
        "line 4: response_id='S3', survey='csat', score=0",
        "rule broken: score within the survey's scale",
        "correct the scores or the configured scale",
    ),
    (
        "negative revenue",
        {("orders", 1, "revenue"): "-5"},
        "orders.csv",
        "orders",
        "revenue",
        "line 3: -5.0",
        "value below the minimum 0",
        "`revenue` must be at least 0",
    ),
    (
        "contacts_to_resolve 0",
        {("tickets", 0, "contacts_to_resolve"): "0"},
        "tickets.csv",
        "tickets",
        "contacts_to_resolve",
        "line 2: 0",
        "value below the minimum 1",
        "`contacts_to_resolve` must be at least 1",
    ),
    (
        "duplicate key",
        {("orders", 1, "order_id"): "O1"},
        "orders.csv",
        "orders",
        "order_id",
        "line 3: 'O1'",
        "duplicate values in a unique key",
        "each `order_id` may appear once",
    ),
    (
        "duplicate composite key",
        {("campaign_members", 1, "customer_id"): "C1"},
        "campaign_members.csv",
        "campaign_members",
        None,
        "line 3: campaign_id='K1', customer_id='C1'",
        "duplicate key (campaign_id, customer_id)",
        "remove the duplicate rows",
    ),
    (
        "orphan foreign key",
        {("orders", 1, "customer_id"): "C99"},
        "orders.csv",
        "orders",
        "customer_id",
        "line 3: 'C99'",
        "references a `customer_id` not in table `customers` (orphan foreign key)",
        "add the missing rows to `customers` or remove these rows from `orders`",
    ),
    (
        "closed before created",
        {("deals", 0, "closed_date"): "2024-12-01"},
        "deals.csv",
        "deals",
        None,
        "line 2: deal_id='D1', created_date=2024-12-10, closed_date=2024-12-01",
        "rule broken: closed_date >= created_date",
        "check that the two columns are not swapped",
    ),
    (
        "first response before opened",
        {("tickets", 0, "first_response_at"): "2025-02-02 08:00:00"},
        "tickets.csv",
        "tickets",
        None,
        "line 2: ticket_id='T1', opened_at=2025-02-02 09:00:00, first_response_at=2025-02-02 08:00:00",
        "rule broken: first_response_at >= opened_at",
        "`first_response_at` must not be before `opened_at`",
    ),
    (
        "closed_date on an open deal",
        {("deals", 2, "closed_date"): "2025-03-05"},
        "deals.csv",
        "deals",
        None,
        "line 4: deal_id='D3', outcome='open', closed_date=2025-03-05",
        "rule broken: closed_date is set exactly when outcome is won or lost",
        "leave it empty for open deals",
    ),
    (
        "won deal without closed_date",
        {("deals", 0, "closed_date"): ""},
        "deals.csv",
        "deals",
        None,
        "line 2: deal_id='D1', outcome='won', closed_date=(empty)",
        "rule broken: closed_date is set exactly when outcome is won or lost",
        "give won and lost deals a closed_date",
    ),
    (
        "resolved before opened",
        {("tickets", 1, "resolved_at"): "2025-02-05 13:00:00"},
        "tickets.csv",
        "tickets",
        None,
        "line 3: ticket_id='T2', opened_at=2025-02-05 14:00:00, resolved_at=2025-02-05 13:00:00",
        "rule broken: resolved_at >= opened_at",
        "`resolved_at` must not be before `opened_at`",
    ),
    (
        "subscription ends before it starts",
        {("subscriptions", 0, "end_date"): "2024-01-04"},
        "subscriptions.csv",
        "subscriptions",
        None,
        "line 2: subscription_id='SUB1', start_date=2025-01-05, end_date=2024-01-04",
        "rule broken: end_date >= start_date",
        "`end_date` must not be before `start_date`",
    ),
    (
        "campaign ends before it starts",
        {("campaigns", 0, "end_date"): "2025-02-28"},
        "campaigns.csv",
        "campaigns",
        None,
        "line 2: campaign_id='K1', start_date=2025-03-01, end_date=2025-02-28",
        "rule broken: end_date >= start_date",
        "`end_date` must not be before `start_date`",
    ),
    (
        "value not allowed",
        {("orders", 1, "order_type"): "refund"},
        "orders.csv",
        "orders",
        "order_type",
        "line 3: 'refund'",
        "value not allowed (allowed: new, repeat, upsell, cross_sell, return)",
        "use one of new, repeat, upsell",
    ),
    (
        "null in a non-nullable column",
        {("orders", 1, "order_date"): ""},
        "orders.csv",
        "orders",
        "order_date",
        "line 3: (empty)",
        "empty values are not allowed",
        "fill `order_date` in every row",
    ),
    (
        "null id",  # (an empty orders.customer_id is a guest order, allowed)
        {("orders", 2, "order_id"): ""},
        "orders.csv",
        "orders",
        "order_id",
        "line 4: (empty)",
        "empty values are not allowed",
        "fill `order_id` in every row",
    ),
]


@pytest.mark.parametrize(
    "cells, file, table, column, example, rule, fix",
    [case[1:] for case in CELL_RULES],
    ids=[case[0] for case in CELL_RULES],
)
def test_each_rule_gives_one_readable_problem(make_source, cells, file, table, column, example, rule, fix):
    folder = make_source(set=cells)
    err = contract_error(folder)
    assert len(err.problems) == 1, str(err)
    p = err.problems[0]
    assert (p.table, p.column, p.count) == (table, column, len(p.examples))
    where = f"{folder / file}: table `{table}`" + (f", column `{column}`" if column else "")
    assert_mentions(str(err), where, example, rule, fix)
    assert fix in str(err).split("\n  fix: ")[1]


@pytest.mark.parametrize(
    "table, rows, column, example, rule",
    [
        (
            "reviews",
            [
                {"review_id": "R1", "customer_id": "C1", "review_date": "2025-02-01", "rating": "5"},
                {"review_id": "R2", "customer_id": "", "review_date": "2025-02-02", "rating": "6"},
            ],
            "rating",
            "line 3: 6",
            "value above the maximum 5",
        ),
        (
            "web_engagement",
            [
                {
                    "date": "2025-02-01",
                    "sessions": "10",
                    "page_views": "30",
                    "bounces": "4",
                    "total_time_on_page_s": "600",
                },
                {
                    "date": "2025-02-02",
                    "sessions": "10",
                    "page_views": "12",
                    "bounces": "11",
                    "total_time_on_page_s": "80",
                },
            ],
            None,
            "line 3: date=2025-02-02, sessions=10, bounces=11",
            "rule broken: bounces <= sessions",
        ),
        (
            "marketing_spend",
            [
                {"month": "2025-01-01", "channel": "ads", "purpose": "acquisition", "spend": "500"},
                {"month": "2025-01-01", "channel": "email", "purpose": "branding", "spend": "90"},
            ],
            "purpose",
            "line 3: 'branding'",
            "value not allowed (allowed: acquisition, retention)",
        ),
    ],
)
def test_rules_of_the_other_tables(make_source, table, rows, column, example, rule):
    folder = make_source(dict(valid_tables(), **{table: rows}))
    (p,) = contract_error(folder).problems
    assert (p.table, p.column, p.count) == (table, column, 1)
    assert_mentions(p.describe(), f"{folder / (table + '.csv')}: table `{table}`", example, rule)


def test_mixed_time_zones_flag_the_rows_without_an_offset(make_source):
    err = contract_error(make_source(set={("tickets", 1, "opened_at"): "2025-02-05 14:00:00+02:00"}))
    (p,) = err.problems
    assert (p.column, p.count) == ("opened_at", 2)
    assert [label for label, _ in p.examples] == ["line 2", "line 4"]


def test_timestamps_with_offsets_are_converted_to_utc(make_source):
    folder = make_source(
        set={
            ("tickets", 0, "opened_at"): "2025-02-02T09:00:00+02:00",
            ("tickets", 1, "opened_at"): "2025-02-05T14:00:00Z",
            ("tickets", 2, "opened_at"): "2025-03-10T11:15:00+00:00",
        }
    )
    opened = open_source(folder).frame("tickets")["opened_at"]
    assert list(opened) == [
        pd.Timestamp("2025-02-02 07:00"),
        pd.Timestamp("2025-02-05 14:00"),
        pd.Timestamp("2025-03-10 11:15"),
    ]


def test_survey_scale_comes_from_source_yml(make_source):
    folder = make_source(set={("surveys", 2, "score"): "7"})
    contract_error(folder)
    (folder / "source.yml").write_text("csat_scale: [1, 7]\n", encoding="utf-8")
    assert open_source(folder).frame("surveys")["score"].tolist() == [9, 6, 7, 2]


def test_missing_table_is_fine_and_its_families_are_skipped(make_source):
    src = open_source(make_source(drop=("tickets",)))
    report = src.validate()
    assert report.ok
    assert "tickets" in report.missing
    assert report.skipped_families == {"service": ["tickets"]}
    assert "family `service` will be skipped: needs tickets" in report.to_text()
    assert set(src.load_all()) == {
        "customers",
        "orders",
        "surveys",
        "deals",
        "subscriptions",
        "campaigns",
        "campaign_members",
    }
    with pytest.raises(
        WorkbookError, match=r"table `tickets` not found .* the families that need it are skipped"
    ):
        src.frame("tickets")


def test_a_missing_referenced_table_skips_the_foreign_key_check(make_source):
    tables = valid_tables()
    tables["orders"][1]["customer_id"] = "C99"
    del tables["customers"]
    folder = make_source(tables)
    src = open_source(folder)
    assert src.frame("orders")["customer_id"].tolist() == ["C1", "C99", "C2", "C3"]
    assert src.validate().skipped_families["retention"] == ["customers"]


def test_missing_required_column_names_the_columns_found_and_the_closest(make_source):
    tables = valid_tables()
    tables["orders"] = [
        {("Revenue" if k == "revenue" else k): v for k, v in row.items()} for row in tables["orders"]
    ]
    folder = make_source(tables)
    err = contract_error(folder)
    (p,) = err.problems
    assert (p.table, p.column) == ("orders", "revenue")
    assert_mentions(
        str(err),
        f"{folder / 'orders.csv'}: table `orders`, column `revenue`",
        "required column `revenue` is missing",
        "the closest column is `Revenue`",
        "(`Revenue: revenue`)",
        "columns found: order_id, customer_id, order_date, Revenue, cost, order_type",
    )


def test_missing_required_column_without_a_close_name(make_source):
    tables = valid_tables()
    for row in tables["surveys"]:
        del row["score"]
    err = contract_error(make_source(tables))
    assert_mentions(
        str(err),
        "required column `score` is missing",
        "add it or map one",
        "columns found: response_id, customer_id, response_date, survey, touchpoint, comment",
    )
    assert "closest" not in str(err)


def test_extra_columns_are_accepted_and_missing_optional_ones_added_empty(make_source):
    tables = valid_tables()
    for row in tables["orders"]:
        row["sales_rep"] = "zoe"
        del row["cost"]
    orders = open_source(make_source(tables)).frame("orders")
    assert list(orders.columns) == C.TABLES["orders"].column_names
    assert orders["cost"].isna().all()
    assert orders["revenue"].tolist() == [120.0, 80.5, 200.0, 950.25]


def test_parsed_types_follow_the_contract(make_source):
    src = open_source(make_source())
    for table, frame in src.load_all().items():
        spec = C.TABLES[table]
        assert {c: str(t) for c, t in frame.dtypes.items()} == {
            c.name: str(C.pandas_dtype(c.kind)) for c in spec.columns
        }, table
    tickets = src.frame("tickets")
    assert tickets["contacts_to_resolve"].tolist()[:2] == [1, 3]
    assert tickets["contacts_to_resolve"].isna().tolist() == [False, False, True]
    assert src.frame("campaign_members")["converted"].tolist() == [True, False, False]


def test_every_problem_of_every_table_is_in_one_message(make_source):
    err = contract_error(
        make_source(
            set={
                ("orders", 1, "revenue"): "-5",
                ("orders", 2, "order_type"): "refund",
                ("tickets", 0, "contacts_to_resolve"): "0",
            }
        )
    )
    assert [(p.table, p.column) for p in err.problems] == [
        ("orders", "revenue"),
        ("orders", "order_type"),
        ("tickets", "contacts_to_resolve"),
    ]
    assert str(err).startswith("The data breaks the contract (3 problems):")


def test_unparseable_and_out_of_range_rows_are_both_reported(make_source):
    err = contract_error(make_source(set={("orders", 1, "revenue"): "abc", ("orders", 2, "revenue"): "-4"}))
    assert [(p.rule, p.examples) for p in err.problems] == [
        ("not a number (expected a number)", (("line 3", "'abc'"),)),
        ("value below the minimum 0", (("line 4", "-4.0"),)),
    ]


def test_at_most_five_example_rows_then_a_count_of_the_rest(make_source):
    rows = [dict(valid_tables()["orders"][0], order_id=f"O{i}", revenue=f"bad{i}") for i in range(1, 9)]
    tables = valid_tables()
    tables["orders"] = rows
    err = contract_error(make_source(tables))
    (p,) = err.problems
    assert p.count == 8
    message = str(err)
    assert "(8 rows)" in message
    assert [f"line {i + 1}: 'bad{i}'" in message for i in range(1, 9)] == [True] * 5 + [False] * 3
    assert "    ... and 3 more" in message


def test_empty_file(make_source):
    folder = make_source()
    (folder / "orders.csv").write_bytes(b"")
    err = contract_error(folder)
    assert_mentions(
        str(err),
        f"{folder / 'orders.csv'}: table `orders`",
        "the file is empty (not even a header line)",
        "fix: export the table with its header line: order_id, customer_id, order_date, revenue",
    )


def test_header_only_file_is_valid_with_no_rows(make_source):
    folder = make_source()
    (folder / "orders.csv").write_text("order_id,customer_id,order_date,revenue\n", encoding="utf-8")
    src = open_source(folder)
    orders = src.frame("orders")
    assert len(orders) == 0
    assert list(orders.columns) == C.TABLES["orders"].column_names
    report = src.validate()
    assert report.ok
    assert next(t.rows for t in report.tables if t.table == "orders") == 0


def test_non_utf8_file(make_source):
    folder = make_source()
    (folder / "customers.csv").write_bytes(
        "customer_id,signup_date,region\nC1,2025-01-05,Zürich\n".encode("latin-1")
    )
    before = (folder / "customers.csv").read_bytes()
    err = contract_error(folder)
    assert_mentions(
        str(err),
        f"{folder / 'customers.csv'}: table `customers`",
        "the file is not UTF-8 text (byte 46: b'\\xfc')",
        "save the export as UTF-8",
    )
    assert (folder / "customers.csv").read_bytes() == before


def test_byte_order_mark_is_accepted(make_source):
    folder = make_source()
    path = folder / "customers.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    customers = open_source(folder).frame("customers")
    assert customers["customer_id"].tolist() == ["C1", "C2", "C3", "C4"]


def test_ragged_csv_row(make_source):
    folder = make_source()
    with open(folder / "orders.csv", "a", encoding="utf-8") as fh:
        fh.write("O5,C4,2025-03-20,10,0,new,surplus\n")
    err = contract_error(folder)
    assert_mentions(
        str(err),
        f"{folder / 'orders.csv'}: table `orders`",
        "the CSV cannot be read",
        "Expected 6 fields in line 6, saw 7",
        "every line needs as many fields as the header",
    )


def test_parquet_file_that_is_not_parquet(make_source):
    folder = make_source()
    (folder / "orders.csv").unlink()
    (folder / "orders.parquet").write_text("order_id,revenue\nO1,5\n", encoding="utf-8")
    err = contract_error(folder)
    assert_mentions(
        str(err),
        f"{folder / 'orders.parquet'}: table `orders`",
        "the file cannot be read as parquet",
        "check that orders.parquet really is a parquet file, or export it again",
    )


def test_a_table_in_two_files_is_an_error(make_source):
    folder = make_source()
    pd.DataFrame({"order_id": ["O1"]}).to_parquet(folder / "orders.parquet")
    with pytest.raises(
        WorkbookError, match=r"table `orders` is in more than one file \(orders.csv, orders.parquet\)"
    ):
        open_source(folder)


def _typed(folder, table: str) -> pd.DataFrame:
    """The CSV as a user's tool would type it: numbers and booleans inferred, dates parsed."""
    df = pd.read_csv(folder / f"{table}.csv")
    for col in C.TABLES[table].columns:
        if col.kind in ("date", "timestamp") and col.name in df:
            df[col.name] = pd.to_datetime(df[col.name])
    return df


def test_parquet_and_duckdb_sources_load_the_same_data_as_csv(make_source, tmp_path):
    csv_folder = make_source()
    expected = open_source(csv_folder).load_all()

    pq_folder = tmp_path / "parquet"
    pq_folder.mkdir()
    for table in expected:
        _typed(csv_folder, table).to_parquet(pq_folder / f"{table}.parquet")

    db = tmp_path / "crm.duckdb"
    con = duckdb.connect(str(db))
    for table in expected:
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv(?)", [str(csv_folder / f"{table}.csv")])
    con.close()

    for src in (open_source(pq_folder), open_source(db)):
        got = src.load_all()
        assert set(got) == set(expected)
        for table, frame in expected.items():
            pd.testing.assert_frame_equal(got[table], frame, obj=f"{src.kind} {table}")


def test_parquet_and_duckdb_problems_name_the_row(make_source, tmp_path):
    folder = make_source(set={("orders", 1, "revenue"): "-5"})
    pq_folder = tmp_path / "pq"
    pq_folder.mkdir()
    _typed(folder, "orders").to_parquet(pq_folder / "orders.parquet")
    err = contract_error(pq_folder)
    assert_mentions(
        str(err), f"{pq_folder / 'orders.parquet'}: table `orders`, column `revenue`", "row 2: -5.0"
    )

    db = tmp_path / "crm.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE orders AS SELECT * FROM read_csv(?)", [str(folder / "orders.csv")])
    err = contract_error(db)
    assert_mentions(str(err), f"{db} (table orders): table `orders`, column `revenue`", "row 2: -5.0")


def _hashes(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_input_files_are_never_written(make_source, tmp_path):
    good = make_source()
    bad = make_source(set={("orders", 1, "revenue"): "-5", ("surveys", 0, "score"): "11"})
    (bad / "customers.csv").write_bytes(b"\xef\xbb\xbf" + (bad / "customers.csv").read_bytes())
    db = tmp_path / "db" / "crm.duckdb"
    db.parent.mkdir()
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE orders AS SELECT * FROM read_csv(?)", [str(good / "orders.csv")])
    before = {f: _hashes(f) for f in (good, bad, db.parent)}

    src = open_source(good)
    src.load_all()
    src.fingerprints()
    open_source(bad).validate()
    open_source(bad, on_invalid="quarantine").load_all()
    contract_error(bad)
    open_source(db).load_all()

    assert {f: _hashes(f) for f in (good, bad, db.parent)} == before


def test_fingerprints_record_each_input_file(make_source):
    folder = make_source()
    src = open_source(folder)
    src.load_all()
    prints = {f["table"]: f for f in src.fingerprints()}
    orders = prints["orders"]
    assert orders["sha256"] == hashlib.sha256((folder / "orders.csv").read_bytes()).hexdigest()
    assert (orders["rows"], orders["latest_date"]) == (4, "2025-03-15")


def test_quarantine_sets_bad_rows_aside_and_keeps_the_good_ones(make_source):
    folder = make_source(
        set={
            ("orders", 1, "revenue"): "abc",
            ("orders", 2, "revenue"): "-4",
            ("orders", 3, "order_type"): "refund",
        }
    )
    src = open_source(folder, on_invalid="quarantine")
    tables = src.load_all()
    good, rejected = tables["orders"], src.rejected["orders"]
    assert len(good) + len(rejected) == len(valid_tables()["orders"])
    assert good["order_id"].tolist() == ["O1"]
    assert rejected["order_id"].tolist() == ["O2", "O3", "O4"]
    assert rejected["reason"].tolist() == [
        "revenue: not a number (expected a number)",
        "revenue: value below the minimum 0",
        "order_type: value not allowed (allowed: new, repeat, upsell, cross_sell, return)",
    ]
    assert rejected["line"].tolist() == [3, 4, 5]  # the lines of the file, as messages say
    # set aside, not dropped silently: the report still lists every problem
    report = src.validate()
    assert not report.ok
    assert len(report.problems) == 3
    assert set(src.rejected) == {"orders"}


def test_quarantine_still_stops_on_a_problem_without_rows(make_source):
    tables = valid_tables()
    for row in tables["orders"]:
        del row["revenue"]
    with pytest.raises(ContractError, match="required column `revenue` is missing"):
        open_source(make_source(tables), on_invalid="quarantine").frame("orders")


def test_on_invalid_must_be_known(make_source):
    with pytest.raises(WorkbookError, match=r"on_invalid \('drop'\) must be 'strict' or 'quarantine'"):
        open_source(make_source(), on_invalid="drop")


def test_source_not_found(tmp_path):
    with pytest.raises(WorkbookError, match="data source not found"):
        open_source(tmp_path / "nowhere")


def test_a_file_source_must_be_duckdb(make_source):
    with pytest.raises(WorkbookError, match=r"must be a DuckDB database \(.duckdb\); for CSV or Parquet"):
        open_source(make_source() / "orders.csv")


def test_validate_counts_rows_and_date_ranges(make_source):
    report = open_source(make_source()).validate()
    summary = {
        t.table: (t.rows, str(t.first_date.date()) if t.first_date is not None else None)
        for t in report.tables
    }
    assert summary["orders"] == (4, "2025-01-06")
    assert summary["campaign_members"] == (3, None)
    assert report.ok and "No problems found." in report.to_text()


def test_write_csv_round_trips(tmp_path):
    rows = [{"a": "1", "b": "x, y"}]
    path = write_csv(tmp_path / "t.csv", rows)
    assert path.read_text(encoding="utf-8") == 'a,b\n1,"x, y"\n'
    assert write_source(tmp_path / "s", {"t": rows}) == tmp_path / "s"

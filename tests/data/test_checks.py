"""The contract checked in the engine (metrics_lib/data/engine_checks.py, check_cache.py).

What users rely on: a clean typed table is used in place and gives the same numbers as the
careful pandas path; a table that breaks any rule is never used in place, so it gets the same
error (and quarantine) as a CSV file; row rules mean the same in pandas and in the engine.
"""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from metrics_lib.core.errors import ContractError
from metrics_lib.data import DEMO_DATA, open_source
from metrics_lib.data import contract as C
from metrics_lib.data.engine_checks import EngineCheck
from metrics_lib.metrics.scorecard import headline_metrics, to_json


def _write_parquet(folder, frames: dict[str, pd.DataFrame]):
    """Validated frames as typed Parquet files (dates as date32), as an export would hold them."""
    folder.mkdir(parents=True, exist_ok=True)
    for table, df in frames.items():
        schema = C.arrow_schema(C.TABLES[table])
        arrays = []
        for field in schema:
            values = df[field.name]
            if pa.types.is_date32(field.type):
                values = values.dt.date
            cells = [None if pd.isna(v) else v for v in values.astype(object)]
            arrays.append(pa.array(cells, type=field.type))
        nullable = pa.schema([f.with_nullable(True) for f in schema])
        pq.write_table(pa.Table.from_arrays(arrays, schema=nullable), folder / f"{table}.parquet")
    return folder


@pytest.fixture
def typed_frames(make_source):
    """The small valid source of conftest, read and validated from CSV: {table: frame}."""
    src = open_source(make_source())
    return {t: src.frame(t).copy() for t in src.tables}


def test_clean_parquet_is_checked_in_the_engine_and_never_read_into_pandas():
    src = open_source(DEMO_DATA)
    headline_metrics(src, "2025-Q4")
    assert src._frames == {}, "a clean Parquet table was read into pandas"
    checked = {t: c for t, c in src.engine_checks.items() if isinstance(c, EngineCheck)}
    assert checked and all(c.clean for c in checked.values())
    # the engine's counts are the table's: rows and date span as pandas sees them
    orders = pd.read_parquet(DEMO_DATA / "orders.parquet")
    assert checked["orders"].rows == len(orders)
    assert checked["orders"].first_date == orders["order_date"].min()
    assert checked["orders"].last_date == orders["order_date"].max()


def test_in_place_and_through_pandas_give_identical_metrics():
    in_place = open_source(DEMO_DATA)
    careful = open_source(DEMO_DATA)
    careful.load_all()  # every table read and validated in pandas first: the copy path
    for period in ("2025-Q3", "2024-11"):
        assert to_json(headline_metrics(in_place, period)) == to_json(headline_metrics(careful, period))
    assert in_place._frames == {} and set(careful._frames) == set(careful.tables)


def _write_duckdb(path, frames: dict[str, pd.DataFrame], views=()):
    """The frames as tables of a DuckDB file; the tables named in ``views`` as views over a
    table ``<name>_t`` instead."""
    import duckdb

    with duckdb.connect(str(path)) as con:
        for table, df in frames.items():
            con.register("frame", df)
            stored = f"{table}_t" if table in views else table
            con.execute(f'CREATE TABLE "{stored}" AS SELECT * FROM frame')
            if table in views:
                con.execute(f'CREATE VIEW "{table}" AS SELECT * FROM "{stored}"')
            con.unregister("frame")
    return path


def test_a_duckdb_file_is_checked_in_place(tmp_path, typed_frames):
    path = _write_duckdb(tmp_path / "crm.duckdb", typed_frames)
    src = open_source(path)
    careful = open_source(path)
    careful.load_all()
    assert to_json(headline_metrics(src, "2025-Q1")) == to_json(headline_metrics(careful, "2025-Q1"))
    assert isinstance(src.engine_checks["orders"], EngineCheck) and src._frames == {}


def test_only_checks_of_stored_tables_are_handed_to_another_process(tmp_path, typed_frames):
    # a report run's kernels take the runner's checks (DataSource.file_checks): a view's data lies
    # elsewhere, so its check is never handed on
    path = _write_duckdb(tmp_path / "crm.duckdb", typed_frames, views=("orders",))
    src = open_source(path)
    src.check_all()
    assert isinstance(src.engine_checks["orders"], EngineCheck) and src.engine_checks["orders"].clean
    handed = src.file_checks()
    assert "orders" not in handed and handed["customers"] == src.engine_checks["customers"]


def _set_cell(parquet, row, column, value):
    """Change one stored cell (NaN stays NaN: pandas would read it as empty, the engine not)."""
    t = pq.read_table(parquet)
    i = t.schema.get_field_index(column)
    cells = t[column].to_pylist()
    cells[row] = value
    pq.write_table(
        t.set_column(i, t.schema.field(i), pa.array(cells, t.schema.field(i).type, from_pandas=False)),
        parquet,
    )


# (table, row, column, new value, the engine checks that count it, the pandas path's message)
BROKEN = [
    ("orders", 1, "revenue", -5.0, "revenue: below minimum", "value below the minimum 0"),
    ("orders", 1, "revenue", float("nan"), "revenue: NaN|revenue: empty", "empty values are not allowed"),
    ("orders", 1, "order_id", "O1", "order_id: duplicates", "duplicate values in a unique key"),
    ("orders", 2, "order_type", "gift", "order_type: not allowed", "value not allowed"),
    # a guest order (no customer_id) is allowed; a "return" with positive revenue is not
    ("orders", 0, "order_type", "return", "rule 0: a return's revenue", "a return's revenue is the refund"),
    (
        "deals",
        0,
        "closed_date",
        dt.date(2024, 1, 1),
        "rule 0: closed_date >= created_date",
        "rule broken: closed_date >= created_date",
    ),
    ("surveys", 0, "score", 11, "rule 0: score within the survey's scale", "rule broken: score within"),
    ("campaign_members", 1, "customer_id", None, "customer_id: empty", "empty values are not allowed"),
]


@pytest.mark.parametrize(
    "table, row, column, value, check, message", BROKEN, ids=[f"{b[0]}.{b[2]}={b[3]}" for b in BROKEN]
)
def test_a_broken_rule_sends_the_table_to_pandas_with_the_usual_message(
    tmp_path, typed_frames, table, row, column, value, check, message
):
    folder = _write_parquet(tmp_path / "broken", typed_frames)
    _set_cell(folder / f"{table}.parquet", row, column, value)
    src = open_source(folder)
    with pytest.raises(ContractError, match=message.replace("(", r"\(")):
        src.table(table)
    found = src.engine_checks[table]
    broken = {k: v for k, v in found.violations.items() if v}
    assert broken == {k: 1 for k in found.violations if k.startswith(tuple(check.split("|")))}
    assert len(broken) == len(check.split("|"))
    assert not found.clean


def test_a_duplicated_composite_key_is_counted_once_per_extra_row(tmp_path, typed_frames):
    members = typed_frames["campaign_members"]
    typed_frames["campaign_members"] = pd.concat([members, members.iloc[[0, 0]]], ignore_index=True)
    src = open_source(_write_parquet(tmp_path / "dup", typed_frames))
    with pytest.raises(ContractError, match="duplicate key"):
        src.table("campaign_members")
    assert src.engine_checks["campaign_members"].violations["key (campaign_id, customer_id): duplicates"] == 2


def test_quarantine_still_sets_rows_aside_for_a_parquet_table(tmp_path, typed_frames):
    folder = _write_parquet(tmp_path / "q", typed_frames)
    _set_cell(folder / "orders.parquet", 1, "revenue", -5.0)
    src = open_source(folder, on_invalid="quarantine")
    orders = src.table("orders").execute()
    assert len(orders) == len(typed_frames["orders"]) - 1
    assert list(src.rejected["orders"]["row"]) == [2]  # row 2 of the file, as messages say


def test_dates_stored_as_text_are_parsed_in_pandas(tmp_path, typed_frames):
    folder = _write_parquet(tmp_path / "text", typed_frames)
    orders = pq.read_table(folder / "orders.parquet")
    i = orders.schema.get_field_index("order_date")
    pq.write_table(
        orders.set_column(i, "order_date", orders["order_date"].cast(pa.string())), folder / "orders.parquet"
    )
    src = open_source(folder)
    assert src.table("orders").schema()["order_date"].is_timestamp()
    assert "stored as string" in src.engine_checks["orders"]
    assert "orders" in src._frames


def test_an_unreadable_parquet_file_gets_the_readers_message(tmp_path, typed_frames):
    folder = _write_parquet(tmp_path / "bad", typed_frames)
    (folder / "orders.parquet").write_bytes(b"PAR1 not really parquet")
    src = open_source(folder)
    with pytest.raises(ContractError, match="cannot be read as parquet"):
        src.table("orders")
    assert src.engine_checks["orders"].startswith("not checked in the engine")


# -- row rules: the pandas and the engine form agree ------------------------------------------


def _rule_cases():
    t0 = pd.Timestamp("2025-03-01")
    return {
        "subscriptions": pd.DataFrame(
            {
                "start_date": [t0, t0, t0, pd.NaT, t0],
                "end_date": [t0, t0 - pd.Timedelta(days=1), pd.NaT, t0, t0 + pd.Timedelta(days=3)],
                "cancelled_date": [pd.NaT, t0, t0 - pd.Timedelta(days=2), t0, t0 + pd.Timedelta(days=1)],
            }
        ),
        "deals": pd.DataFrame(
            {
                "created_date": [t0] * 5,
                "closed_date": [pd.NaT, t0, t0 - pd.Timedelta(days=1), pd.NaT, t0 + pd.Timedelta(days=9)],
                "outcome": ["open", "open", "won", "lost", "won"],
            }
        ),
        "surveys": pd.DataFrame(
            {
                "survey": ["nps", "nps", "csat", "csat", "ces", "ces", "nps"],
                "score": pd.array([0, 11, 5, 6, 7, 0, 10], dtype="Int64"),
            }
        ),
        "tickets": pd.DataFrame(
            {
                "opened_at": [t0] * 4,
                "first_response_at": [pd.NaT, t0 - pd.Timedelta(hours=1), t0, t0 + pd.Timedelta(hours=2)],
                "resolved_at": [pd.NaT, t0, t0 + pd.Timedelta(hours=5), t0 - pd.Timedelta(hours=1)],
                "contacts_to_resolve": pd.array([None, 1, None, 2], dtype="Int64"),
            }
        ),
        "web_engagement": pd.DataFrame(
            {
                "sessions": pd.array([10, 5, 0], dtype="Int64"),
                "bounces": pd.array([3, 6, 0], dtype="Int64"),
            }
        ),
        "campaigns": pd.DataFrame({"start_date": [t0, t0], "end_date": [t0, t0 - pd.Timedelta(days=1)]}),
    }


@pytest.mark.parametrize("table", sorted(_rule_cases()))
@pytest.mark.parametrize(
    "options",
    [C.ContractOptions(), C.ContractOptions(csat_scale=(0, 10), ces_scale=(1, 5))],
    ids=["default scales", "other scales"],
)
def test_row_rules_mean_the_same_in_pandas_and_in_the_engine(table, options):
    df = _rule_cases()[table]
    con = ibis.duckdb.connect()
    t = con.create_table("t", df)
    for rule in C.TABLES[table].rules:
        in_pandas = rule.test(df, options).fillna(False).astype(bool).tolist()
        in_engine = t.select(ok=rule.engine_test(t, options).fill_null(False)).execute()["ok"].tolist()
        assert in_engine == in_pandas, rule.name
        assert not all(in_pandas) and any(in_pandas), f"the cases should pass and fail {rule.name!r}"


def test_dates_and_timestamps_keep_their_meaning(tmp_path, typed_frames):
    """A timestamp in a date column is read as its day; a date in a timestamp column as midnight."""
    folder = _write_parquet(tmp_path / "ts", typed_frames)
    orders = pq.read_table(folder / "orders.parquet")
    i = orders.schema.get_field_index("order_date")
    stamps = pa.array(
        [
            dt.datetime(2025, 1, 6, 15, 30),
            dt.datetime(2025, 2, 10, 0, 0),
            dt.datetime(2025, 1, 21, 23, 59),
            dt.datetime(2025, 3, 15, 8, 0),
        ],
        pa.timestamp("us"),
    )
    pq.write_table(orders.set_column(i, "order_date", stamps), folder / "orders.parquet")
    src = open_source(folder)
    got = src.table("orders").execute()["order_date"].tolist()
    assert isinstance(src.engine_checks["orders"], EngineCheck)
    assert got == [pd.Timestamp(d) for d in ("2025-01-06", "2025-02-10", "2025-01-21", "2025-03-15")]


# -- remembering clean checks ---------------------------------------------------------------


def test_a_clean_check_is_remembered_for_the_next_run_on_the_same_files(tmp_path, typed_frames, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("METRICS_LIB_CACHE_DIR", str(cache))
    folder = _write_parquet(tmp_path / "data", typed_frames)
    first = open_source(folder)
    expected = to_json(headline_metrics(first, "2025-Q1"))
    assert not first.engine_checks["orders"].cached
    assert len(list((cache / "checks").glob("*.json"))) == len(first.engine_checks)
    again = open_source(folder)
    assert to_json(headline_metrics(again, "2025-Q1")) == expected
    orders = again.engine_checks["orders"]
    assert orders.cached and orders.clean and orders.rows == len(typed_frames["orders"])
    assert orders.last_date == first.engine_checks["orders"].last_date


def test_the_foreign_keys_are_remembered_for_the_same_files_and_checked_again_after_a_change(
    tmp_path, typed_frames, monkeypatch
):
    import ibis

    monkeypatch.setenv("METRICS_LIB_CACHE_DIR", str(tmp_path / "cache"))
    folder = _write_parquet(tmp_path / "data", typed_frames)
    open_source(folder).check_all()  # every reference holds: remembered
    assert len(list((tmp_path / "cache" / "references").glob("*.json"))) == 1
    anti_join = ibis.expr.types.Table.anti_join
    asked = []

    def counted(self, *args, **kwargs):
        asked.append(1)
        return anti_join(self, *args, **kwargs)

    monkeypatch.setattr(ibis.expr.types.Table, "anti_join", counted)
    open_source(folder).check_all()
    assert asked == []  # the same files: not asked again
    _set_cell(folder / "orders.parquet", 1, "customer_id", "C9")  # an order of no customer
    with pytest.raises(ContractError, match="C9"):
        open_source(folder).check_all()
    assert asked  # another file: asked again


def test_a_changed_file_is_checked_again(tmp_path, typed_frames, monkeypatch):
    monkeypatch.setenv("METRICS_LIB_CACHE_DIR", str(tmp_path / "cache"))
    folder = _write_parquet(tmp_path / "data", typed_frames)
    open_source(folder).table("orders")
    _set_cell(folder / "orders.parquet", 1, "revenue", -5.0)  # same size on disk, new content
    src = open_source(folder)
    with pytest.raises(ContractError, match="value below the minimum 0"):
        src.table("orders")
    assert not src.engine_checks["orders"].cached
    assert src.engine_checks["orders"].violations["revenue: below minimum"] == 1


def test_a_broken_table_is_never_remembered_and_the_cache_can_be_turned_off(
    tmp_path, typed_frames, monkeypatch
):
    cache = tmp_path / "cache"
    monkeypatch.setenv("METRICS_LIB_CACHE_DIR", str(cache))
    folder = _write_parquet(tmp_path / "data", typed_frames)
    _set_cell(folder / "orders.parquet", 1, "revenue", -5.0)
    with pytest.raises(ContractError):
        open_source(folder).table("orders")
    assert not (cache / "checks").exists() or not list((cache / "checks").glob("*.json"))
    monkeypatch.setenv("METRICS_LIB_CACHE_DIR", "off")
    clean = _write_parquet(tmp_path / "clean", typed_frames)
    open_source(clean).table("customers")
    src = open_source(clean)
    src.table("customers")
    assert not src.engine_checks["customers"].cached
    assert not (cache / "checks").exists() or not list((cache / "checks").glob("*.json"))


# -- the whole source at once (what `run` and the notebooks do) --------------------------------


def test_check_all_reads_nothing_into_pandas_when_the_data_is_clean():
    src = open_source(DEMO_DATA)
    src.check_all()
    assert src._frames == {}
    assert set(src.engine_checks) == set(src.tables)
    assert all(c.clean for c in src.engine_checks.values())


def test_check_all_finds_an_orphan_reference_and_lists_it_with_its_row(tmp_path, typed_frames):
    folder = _write_parquet(tmp_path / "orphan", typed_frames)
    _set_cell(folder / "orders.parquet", 2, "customer_id", "C99")
    src = open_source(folder)
    with pytest.raises(ContractError, match=r"orphan foreign key") as err:
        src.check_all()
    assert "'C99'" in str(err.value) and "row 3" in str(err.value)


def test_a_period_outside_parquet_data_gets_the_note(tmp_path, typed_frames, capsys):
    from metrics_lib.cli import main as cli_main

    folder = _write_parquet(tmp_path / "data", typed_frames)
    assert cli_main(["metrics", "--data", str(folder), "--period", "1999-Q1", "--format", "json"]) == 0
    err = capsys.readouterr().err
    # the data's dates are the orders' (checked in the engine), whatever other tables hold
    orders = typed_frames["orders"]["order_date"]
    assert (orders.min(), orders.max()) == (pd.Timestamp("2025-01-06"), pd.Timestamp("2025-03-15"))
    assert (
        "lies outside the data, which runs from 2025-01-06 to 2025-03-15 (`order_date` of table `orders`), "
        "so it has no numbers"
    ) in err


def test_integer_ids_too_long_for_a_float_go_the_careful_way(tmp_path, typed_frames):
    """pandas reads an integer column with empty cells as floats; the engine may not accept ids
    that the pandas path would round."""
    folder = _write_parquet(tmp_path / "ints", typed_frames)
    deals = pq.read_table(folder / "deals.parquet")
    i = deals.schema.get_field_index("customer_id")
    n = deals.num_rows

    def with_ids(ids):
        pq.write_table(
            deals.set_column(i, pa.field("customer_id", pa.int64()), pa.array(ids, pa.int64())),
            folder / "deals.parquet",
        )

    with_ids([7] + [None] * (n - 1))
    src = open_source(folder)
    assert src.table("deals").execute()["customer_id"].iloc[0] == "7"
    assert isinstance(src.engine_checks["deals"], EngineCheck) and src.engine_checks["deals"].clean
    with_ids([2**60 + 1] + [None] * (n - 1))
    src = open_source(folder)
    src.table("deals")
    assert src.engine_checks["deals"].violations["customer_id: integer id of more than 15 digits"] == 1
    assert "deals" in src._frames


def test_a_view_in_a_duckdb_file_is_checked_every_time(tmp_path, typed_frames, monkeypatch):
    monkeypatch.setenv("METRICS_LIB_CACHE_DIR", str(tmp_path / "cache"))
    path = _write_duckdb(tmp_path / "crm.duckdb", typed_frames, views=("orders",))
    for _ in range(2):
        src = open_source(path)
        src.table("orders")
        src.table("customers")
        assert not src.engine_checks["orders"].cached  # a view: never remembered
    assert src.engine_checks["customers"].cached  # a base table of the file: remembered


def test_a_mapping_onto_a_column_that_exists_once_trimmed_goes_the_careful_way(tmp_path, typed_frames):
    folder = _write_parquet(tmp_path / "clash", typed_frames)
    orders = pq.read_table(folder / "orders.parquet")
    orders = orders.append_column(" order_ref", orders["order_id"])
    pq.write_table(
        orders.rename_columns([c if c != "order_id" else " order_id" for c in orders.column_names]),
        folder / "orders.parquet",
    )
    (folder / "mapping.yml").write_text("tables:\n  orders:\n    columns:\n      ' order_ref': order_id\n")
    src = open_source(folder)
    with pytest.raises(ContractError, match=r"column `order_id` appears twice"):
        src.table("orders")
    assert "renames onto existing" in src.engine_checks["orders"]

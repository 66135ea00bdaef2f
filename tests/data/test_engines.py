"""The same metrics on every engine: the demo data's headline metrics for two periods computed on
DuckDB (the default), in a real PostgreSQL server and on Spark in local mode must agree to
floating-point tolerance.

The PostgreSQL server is a throwaway cluster (``initdb`` + ``pg_ctl``, trust authentication, on
127.0.0.1 and a free port, in a temporary folder) started once for the session and stopped at the
end; Spark runs in local mode. When the server binaries, ``pyspark`` or Java are absent the tests
skip and say why, except under CI (the ``CI`` environment variable set), where they fail.
"""

from __future__ import annotations

import glob
import json
import math
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest

from metrics_lib.cli import main as cli_main
from metrics_lib.core.errors import WorkbookError
from metrics_lib.data import DEMO_DATA, PostgresSource, SparkSource, is_database_url, open_source, redact
from metrics_lib.data import contract as C
from metrics_lib.metrics.scorecard import headline_metrics

pytestmark = pytest.mark.integration  # starts a throwaway PostgreSQL server and local Spark

PERIODS = ("2025-Q3", "2025-Q4")
TARGETS = DEMO_DATA / "targets.yml"
CONFIG = DEMO_DATA / "source.yml"
IN_CI = bool(os.environ.get("CI"))


def _absent(reason: str):
    """Skip on a developer machine; under CI an absent engine is a broken CI set-up."""
    if IN_CI:
        pytest.fail(f"{reason} (CI is set: .ci/run must provide this engine)")
    pytest.skip(reason)


# -- the reference: DuckDB ------------------------------------------------------------------


@pytest.fixture(scope="session")
def duckdb_metrics() -> dict:
    src = open_source(DEMO_DATA)
    return {p: headline_metrics(src, p, targets=TARGETS) for p in PERIODS}


def _same(a, b, where: str, problems: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            problems.append(f"{where}: keys differ {sorted(set(a) ^ set(b))}")
        for k in a.keys() & b.keys():
            _same(a[k], b[k], f"{where}.{k}", problems)
    elif isinstance(a, float) or isinstance(b, float):
        if a is None or b is None or isinstance(a, bool) or isinstance(b, bool):
            problems.append(f"{where}: {a!r} != {b!r}")
        elif math.isnan(a) or math.isnan(b):
            if not (math.isnan(a) and math.isnan(b)):
                problems.append(f"{where}: {a!r} != {b!r}")
        elif not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12):
            problems.append(f"{where}: {a!r} != {b!r}")
    elif a != b:
        problems.append(f"{where}: {a!r} != {b!r}")


def assert_same_metrics(expected: dict, got: dict) -> None:
    """Every field of every metric equal (floats to 1e-9 relative tolerance, None to None)."""
    assert got["period"] == expected["period"]
    assert set(got["metrics"]) == set(expected["metrics"])
    problems: list[str] = []
    for mid, rec in expected["metrics"].items():
        _same(rec, got["metrics"][mid], mid, problems)
    assert problems == [], "\n".join(problems)


def test_the_comparison_notices_a_difference(duckdb_metrics):
    a = duckdb_metrics["2025-Q4"]
    b = {
        **a,
        "metrics": {
            **a["metrics"],
            "revenue": {**a["metrics"]["revenue"], "value": a["metrics"]["revenue"]["value"] * (1 + 1e-8)},
        },
    }
    with pytest.raises(AssertionError, match="revenue.value"):
        assert_same_metrics(a, b)
    assert_same_metrics(a, a)


# -- PostgreSQL -----------------------------------------------------------------------------


def _pg_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    # Debian keeps the server programs off the PATH, under /usr/lib/postgresql/<version>/bin
    versions = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return versions[-1] if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_PG_TYPES = {
    "id": "text",
    "str": "text",
    "date": "date",
    "timestamp": "timestamp",
    "float": "numeric",
    "int": "integer",
    "bool": "boolean",
}


def _load_demo_into_postgres(dsn: str) -> None:
    """Every demo table, as validated, into PostgreSQL tables of natural SQL types (dates as
    ``date``, money as ``numeric``, counts as ``integer``), so the engine casts are exercised."""
    import psycopg
    from psycopg import sql

    src = open_source(DEMO_DATA)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for table in src.tables:
            df = src.frame(table)
            cols = [c for c in C.TABLES[table].columns if c.name in df.columns]
            names = sql.SQL(", ").join(sql.Identifier(c.name) for c in cols)
            conn.execute(
                sql.SQL("CREATE TABLE {} ({})").format(
                    sql.Identifier(table),
                    sql.SQL(", ").join(
                        sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(_PG_TYPES[c.kind]))
                        for c in cols
                    ),
                )
            )
            values = []
            for c in cols:
                s = df[c.name]
                if c.kind == "date":
                    values.append([None if pd.isna(x) else x.date() for x in s])
                elif c.kind == "timestamp":
                    values.append([None if pd.isna(x) else x.to_pydatetime() for x in s])
                else:
                    values.append([None if pd.isna(x) else x for x in s.astype(object)])
            with (
                conn.cursor() as cur,
                cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), names)) as copy,
            ):
                for row in zip(*values):
                    copy.write_row(row)


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway PostgreSQL cluster holding the demo data; its URL."""
    initdb, pg_ctl = _pg_binary("initdb"), _pg_binary("pg_ctl")
    if not (initdb and pg_ctl):
        _absent("PostgreSQL server programs (initdb, pg_ctl) not found; install the `postgresql` package")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _absent("the PostgreSQL driver psycopg is not installed (pip install -e .)")
    prefix: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="metrics-pg-"))
    if os.geteuid() == 0:  # the server refuses to run as root: run it as `postgres`
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(folder, ignore_errors=True)
            _absent("running as root and there is no `postgres` user to run the PostgreSQL server as")
        os.chown(folder, user.pw_uid, user.pw_gid)
        runuser = shutil.which("runuser")
        prefix = [runuser, "-u", "postgres", "--"] if runuser else ["su", "postgres", "-s", "/bin/sh", "-c"]
    data, log, port = folder / "data", folder / "server.log", _free_port()

    def run(args: list[str], timeout: int = 120):
        cmd = prefix + ([shlex.join(args)] if prefix[:1] == ["su"] else args)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            extra = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}\n{extra}")

    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={folder} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    started = False
    try:
        run([initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
        run([pg_ctl, "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o", options, "start"])
        started = True
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE demo")
        url = f"postgresql://postgres@127.0.0.1:{port}/demo"
        _load_demo_into_postgres(url)
        yield url
    finally:
        if started:
            try:
                run([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], timeout=60)
            except Exception:  # pragma: no cover - leave the folder for inspection
                pass
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_source(postgres_url) -> PostgresSource:
    return PostgresSource(postgres_url, config=CONFIG)


def test_a_postgresql_url_opens_a_database_source(postgres_source, postgres_url):
    assert isinstance(postgres_source, PostgresSource) and postgres_source.kind == "postgres"
    assert isinstance(open_source(postgres_url), PostgresSource)
    assert postgres_source.tables == open_source(DEMO_DATA).tables
    assert str(postgres_source.path) == postgres_url
    # the aggregations run in PostgreSQL itself, on its tables, not on a copy in DuckDB
    expr = postgres_source.table("orders")
    assert expr._find_backend().name == "postgres"
    assert postgres_source.con.list_tables() == sorted(postgres_source.tables)
    # cast to the contract's types in the query (the table holds dates, numeric and integer)
    schema = expr.schema()
    assert schema["order_date"].is_timestamp() and schema["revenue"].is_float64()
    assert postgres_source.table("surveys").schema()["score"].is_int64()
    # checked against the contract in PostgreSQL: the clean tables were never pulled out of it
    for table in ("orders", "surveys"):
        assert postgres_source.engine_checks[table].clean and table not in postgres_source._frames


@pytest.mark.parametrize("period", PERIODS)
def test_postgresql_gives_the_same_metrics_as_duckdb(postgres_source, duckdb_metrics, period):
    got = headline_metrics(postgres_source, period, targets=TARGETS)
    assert_same_metrics(duckdb_metrics[period], got)


def test_the_cli_takes_a_postgresql_url(postgres_url, duckdb_metrics, capsys):
    import json

    assert (
        cli_main(
            [
                "metrics",
                "--data",
                postgres_url,
                "--period",
                "2025-Q4",
                "--format",
                "json",
                "--targets",
                str(TARGETS),
            ]
        )
        == 0
    )
    got = json.loads(capsys.readouterr().out)
    assert got["source"] == postgres_url
    expected = json.loads(json.dumps(duckdb_metrics["2025-Q4"], default=str))
    for mid, rec in expected["metrics"].items():
        for key in ("value", "numerator", "denominator", "previous"):
            a, b = rec[key], got["metrics"][mid][key]
            assert (a is None and b is None) or (
                a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9)
            ), (mid, key, a, b)


def test_a_mapped_postgresql_table_is_renamed_and_cast_in_the_query(postgres_url, tmp_path):
    """A CRM export kept as text under its own column names: validated like a CSV file, and read
    in PostgreSQL through the mapping with the dates parsed there."""
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(
            'CREATE TABLE IF NOT EXISTS sales_export AS SELECT order_id AS "Order Number", '
            'customer_id AS "Account", to_char(order_date, \'DD/MM/YYYY\') AS "Date", '
            'revenue::text AS "Amount", order_type AS "Kind" FROM orders'
        )
    mapping = tmp_path / "mapping.yml"
    mapping.write_text(
        'tables:\n  orders:\n    source: sales_export\n    date_format: "%d/%m/%Y"\n    columns:\n'
        "      Order Number: order_id\n      Account: customer_id\n      Date: order_date\n"
        "      Amount: revenue\n      Kind: order_type\n",
        encoding="utf-8",
    )
    src = open_source(postgres_url, mapping=mapping)
    frame = src.frame("orders")
    t = src.table("orders")
    assert t._find_backend().name == "postgres"
    assert list(t.columns) == list(C.TABLES["orders"].column_names)
    got = (
        t.aggregate(
            revenue=t.revenue.sum(), first=t.order_date.min(), last=t.order_date.max(), costs=t.cost.count()
        )
        .execute()
        .iloc[0]
    )
    assert got["revenue"] == pytest.approx(frame["revenue"].sum(), rel=1e-9)
    assert pd.Timestamp(got["first"]) == frame["order_date"].min()
    assert pd.Timestamp(got["last"]) == frame["order_date"].max()
    assert got["costs"] == 0  # `cost` is optional and absent: all null


def test_blank_padded_char_ids_in_postgresql_are_trimmed_as_the_parser_reads_them(postgres_url, tmp_path):
    """PostgreSQL compares ``char(n)`` without its padding but hands the padded text out: the ids
    are trimmed in the query, so that ids matched in pandas still match (a cohort per signup
    month joins customers to their activity by id)."""
    import psycopg

    from metrics_lib.metrics import aggregate as agg
    from metrics_lib.metrics.cohorts import cohort_retention

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS customers_char AS SELECT * FROM customers")
        conn.execute("ALTER TABLE customers_char ALTER COLUMN customer_id TYPE char(12)")
    mapping = tmp_path / "mapping.yml"
    mapping.write_text("tables:\n  customers:\n    source: customers_char\n", encoding="utf-8")
    src = open_source(postgres_url, mapping=mapping)
    ids = src.table("customers").customer_id.execute()
    assert not ids.str.endswith(" ").any()
    assert src.engine_checks["customers"].plain_ids == frozenset()
    got = cohort_retention(agg.Scope.of(src, "2025-Q4")).matrix
    pd.testing.assert_frame_equal(
        got, cohort_retention(agg.Scope.of(open_source(DEMO_DATA), "2025-Q4")).matrix
    )


def test_the_report_notebooks_run_on_postgresql(postgres_url, tmp_path):
    from metrics_lib.reporting.runner import run_reports

    summary = run_reports(["2025-Q4"], data=postgres_url, families="scorecard", out=tmp_path, progress=None)
    assert summary.ok, summary.text()
    manifest = json.loads((tmp_path / "2025-Q4" / "manifest.json").read_text())
    assert manifest["parameters"]["data"] == postgres_url and manifest["data_source"]["kind"] == "postgres"
    orders = next(f for f in manifest["inputs"] if f["table"] == "orders")
    assert orders["rows"] == len(open_source(DEMO_DATA).table("orders").execute())
    assert orders["size"] is None and orders["sha256"] is None  # a database table is not a file
    page = (tmp_path / "2025-Q4" / "scorecard.html").read_text()
    assert "Scorecard" in page and "Traceback" not in page


def test_quarantined_rows_in_a_database_stop_the_aggregation(postgres_url):
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS broken")
        conn.execute("CREATE TABLE IF NOT EXISTS broken.orders AS SELECT * FROM public.orders")
        conn.execute(
            "UPDATE broken.orders SET revenue = -1 WHERE order_id IN "
            "(SELECT order_id FROM broken.orders ORDER BY order_id LIMIT 2)"
        )
    src = open_source(postgres_url + "/broken", on_invalid="quarantine")  # the schema `broken`
    assert src.tables == ["orders"]
    assert len(src.frame("orders")) == len(open_source(DEMO_DATA).frame("orders")) - 2
    with pytest.raises(WorkbookError, match="2 row"):
        src.table("orders")


# -- Spark ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def spark():
    """A local Spark session (two cores, no UI) with the demo tables as views of its Parquet files."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        _absent("pyspark is not installed (pip install -e '.[spark]')")
    java_home = os.environ.get("JAVA_HOME")
    if not (shutil.which("java") or (java_home and Path(java_home, "bin", "java").exists())):
        _absent("no Java runtime for Spark (install a JRE 17 or 21, e.g. Debian's default-jre-headless)")
    t0 = time.perf_counter()
    warehouse = tempfile.mkdtemp(prefix="metrics-spark-")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("metrics-lib-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.sql.codegen.wholeStage", "false")  # tiny tables: compiling costs more than it saves
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.warehouse.dir", warehouse)
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    for parquet in sorted(DEMO_DATA.glob("*.parquet")):
        session.read.parquet(str(parquet)).createOrReplaceTempView(parquet.stem)
        session.catalog.cacheTable(parquet.stem)
    print(f"Spark session ready in {time.perf_counter() - t0:.1f} s")
    yield session
    session.stop()
    shutil.rmtree(warehouse, ignore_errors=True)


@pytest.fixture(scope="session")
def spark_source(spark) -> SparkSource:
    return SparkSource(spark, config=CONFIG)


def test_a_spark_session_is_a_data_source(spark_source):
    assert isinstance(spark_source, SparkSource) and spark_source.kind == "spark"
    assert isinstance(open_source(spark_source.session), SparkSource)
    assert spark_source.tables == open_source(DEMO_DATA).tables
    assert spark_source.table("orders")._find_backend().name == "pyspark"
    assert spark_source.engine_checks["orders"].clean and "orders" not in spark_source._frames


@pytest.mark.parametrize("period", PERIODS)
def test_spark_gives_the_same_metrics_as_duckdb(spark_source, duckdb_metrics, period):
    got = headline_metrics(spark_source, period, targets=TARGETS)
    assert_same_metrics(duckdb_metrics[period], got)


# -- no engine needed -----------------------------------------------------------------------


def test_database_urls_are_told_from_paths():
    assert is_database_url("postgresql://me@db.example.com:5432/crm")
    assert is_database_url("postgres://me@localhost/crm")
    assert not is_database_url("data/demo")
    assert not is_database_url(Path("postgresql:/x"))
    assert not is_database_url(None)
    assert redact("postgresql://me:secret@db:5432/crm") == "postgresql://me:***@db:5432/crm"
    assert redact("postgresql://me@db/crm") == "postgresql://me@db/crm"


def test_an_unreachable_server_is_a_clear_error():
    with pytest.raises(WorkbookError, match="cannot connect to PostgreSQL"):
        open_source(f"postgresql://nobody:pw@127.0.0.1:{_free_port()}/nothing")


def test_the_reports_refuse_a_url_with_a_password(tmp_path):
    from metrics_lib.reporting.runner import run_reports

    with pytest.raises(
        WorkbookError, match=r"postgresql://me:\*\*\*@db.example.com/crm holds a password.*PGPASSWORD"
    ):
        run_reports(
            ["2025-Q4"], data="postgresql://me:secret@db.example.com/crm", out=tmp_path, progress=None
        )
    assert not any(tmp_path.iterdir())

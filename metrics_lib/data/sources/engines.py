"""Data sources whose tables live in a database engine: PostgreSQL and Spark.

A folder or a DuckDB file is queried by an in-process DuckDB connection
(:class:`~metrics_lib.data.sources.files.FileSource`). When the data is too big for one machine, or
already sits in a warehouse, the tables stay where they are:

* ``open_source("postgresql://user@host:5432/dbname")`` opens a PostgreSQL database (a schema
  other than the search path's: ``postgresql://user@host/dbname/schema``);
* ``open_source(session, database=None)`` uses the tables of a Spark session's catalog.

Validation works as for Parquet files: the engine counts, per table, the rows that break the
contract (:mod:`metrics_lib.data.engine_checks`); a clean table stays where it is, and only a table
with text to parse or a broken rule is pulled into pandas, parsed and checked there, so the
messages are the same as for files. The aggregations of :mod:`metrics_lib.metrics.aggregate` then
run in the engine, on the real tables, through Ibis: each table is renamed to the contract's
column names and cast to the contract's types in the query, and only the small results come
back. The metric code does not know which engine it runs on.

Settings that ``source.yml`` gives a folder are passed to :class:`PostgresSource` or
:class:`SparkSource` as ``config=`` (a path to such a file or a
:class:`~metrics_lib.data.config.SourceConfig`); targets are given to the scorecard explicitly,
or the defaults apply. The helpers :func:`is_database_url`, :func:`data_argument` and
:func:`redact` tell a URL from a path and keep passwords out of messages.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pandas as pd

from metrics_lib.core.errors import ContractError, Problem, WorkbookError
from metrics_lib.data import contract as C
from metrics_lib.data.config import Location, SourceConfig
from metrics_lib.data.engine_checks import contract_expr
from metrics_lib.data.sources.base import DataSource

__all__ = ["EngineSource", "PostgresSource", "SparkSource", "is_database_url", "data_argument", "redact"]

_URL = re.compile(r"^(postgres|postgresql)(\+[a-z0-9]+)?://", re.IGNORECASE)


def is_database_url(path) -> bool:
    """Whether ``path`` names a database server rather than a file (``postgresql://...``)."""
    return isinstance(path, str) and bool(_URL.match(path.strip()))


def data_argument(data):
    """A command line's ``--data``: a database URL untouched, a path resolved from the cwd, or None."""
    if not data:
        return None
    return data if is_database_url(data) else Path(data).expanduser().resolve()


def redact(url: str) -> str:
    """The URL without its password, for messages and reports."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ""
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


class EngineSource(DataSource):
    """A data source whose tables live in an engine (base of :class:`PostgresSource` and
    :class:`SparkSource`); see the module's documentation."""

    kind = "engine"
    _default_name = "engine tables"  # the source's name when no ``config`` names it

    # -- what a backend provides ------------------------------------------------------------
    def _connect(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _list_tables(self) -> set[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _raw_table(self, name: str):
        """The engine's table ``name`` as an Ibis expression, untouched."""
        return self.con.table(name)

    # -- DataSource hooks -------------------------------------------------------------------
    def _default_config(self) -> SourceConfig:
        return SourceConfig(name=self._default_name)

    @property
    def con(self):
        """The Ibis connection to the engine where the aggregations run."""
        if self._con is None:
            self._con = self._connect()
        return self._con

    def _locate(self) -> dict[str, Location]:
        names = self._list_tables()
        found = {}
        for table in C.TABLES:
            name = self.mapping.for_table(table).source or table
            if name in names:
                found[table] = Location(table, self.kind, f"{self.path} (table {name})", name)
        return found

    def _read_raw(self, loc: Location) -> pd.DataFrame:
        try:
            return self._raw_table(loc.name).to_pandas()
        except Exception as exc:  # the engine's own errors: say which table and what it said
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ContractError(
                [
                    Problem(
                        loc.table,
                        f"the table cannot be read from {self.kind} ({first})",
                        "check that the table exists and that this user may read it",
                        file=str(loc.path),
                    )
                ]
            ) from None

    def _raw_engine_table(self, loc: Location):
        return self._raw_table(loc.name)

    def table(self, name: str):
        """The table in the engine, renamed and cast to the contract, as an Ibis expression.

        The engine checks the table against the contract first (:mod:`metrics_lib.data.engine_checks`); a
        clean table is never pulled out of it. A table with text to parse or a broken rule is
        pulled into pandas once and validated there, so the messages name the rows; in quarantine
        mode a table with rejected rows cannot be used, since the rows would still be in the
        engine's table.
        """
        if name not in self._tables:
            expr = self._checked_in_engine(name)
            if expr is None:
                self.frame(name)
                if len(self.rejected.get(name, ())):
                    raise WorkbookError(
                        f"{self.path}: table `{name}` has {len(self.rejected[name])} row(s) that break the "
                        "contract; on a database the aggregations read the table itself, so correct or "
                        "remove those rows there (see `validate`)"
                    )
                expr = contract_expr(self._raw_table(self.locations[name].name), name, self.mapping)
            self._tables[name] = expr
        return self._tables[name]


class PostgresSource(EngineSource):
    """Tables in a PostgreSQL database: ``open_source("postgresql://user@host:port/dbname")``.

    Give the password through ``PGPASSWORD`` or ``~/.pgpass`` rather than in the URL: the URL is
    shown in reports (with any password hidden) and passed to the report notebooks.
    """

    kind = "postgres"
    _reopen_with = ("url",)

    def __init__(self, url, *, mapping=None, on_invalid: str = "strict", config=None):
        self.url = str(url).strip()
        database = urlsplit(self.url).path.lstrip("/").split("/")[0]
        self._default_name = f"PostgreSQL database {database}" if database else "PostgreSQL database"
        super().__init__(redact(self.url), mapping=mapping, on_invalid=on_invalid, config=config)

    def _connect(self):
        import ibis

        parts = urlsplit(self.url)
        url = urlunsplit(("postgres",) + tuple(parts)[1:])  # ibis knows the scheme as `postgres`
        try:
            return ibis.connect(url)
        except ModuleNotFoundError as exc:
            raise WorkbookError(
                f"PostgreSQL needs the `{exc.name}` package: pip install 'psycopg[binary]'"
            ) from None
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise WorkbookError(f"{self.path}: cannot connect to PostgreSQL ({first})") from None

    def _list_tables(self) -> set[str]:
        return set(self.con.list_tables())


class SparkSource(EngineSource):
    """Tables of a Spark session's catalog: ``open_source(session, database=None)``.

    Connecting sets the session's time zone to UTC (``spark.sql.session.timeZone``), as Ibis does,
    so that timestamps mean the same on every engine.
    """

    kind = "spark"
    _reopen_with = ("session", "database")

    def __init__(
        self, session, database: str | None = None, *, mapping=None, on_invalid: str = "strict", config=None
    ):
        self.session = session
        self.database = database
        app = session.sparkContext.appName if hasattr(session, "sparkContext") else "spark"
        self._default_name = f"Spark {database or 'session'} tables"
        super().__init__(
            f"spark://{app}/{database or 'default'}", mapping=mapping, on_invalid=on_invalid, config=config
        )

    def _connect(self):
        try:
            import ibis

            return ibis.pyspark.connect(self.session)
        except ModuleNotFoundError as exc:
            raise WorkbookError(
                f"Spark needs the `{exc.name}` package: pip install 'metrics-lib[spark]'"
            ) from None

    def _list_tables(self) -> set[str]:
        return {t.name for t in self.session.catalog.listTables(self.database)}

    def _raw_table(self, name: str):
        if self.database:
            return self.con.table(name, database=self.database)
        return self.con.table(name)

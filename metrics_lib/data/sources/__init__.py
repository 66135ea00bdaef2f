"""The kinds of data source, and :func:`open_source`, which opens the right one.

:class:`DataSource` (:mod:`.base`) holds what every kind shares, with :mod:`.pandas_reader` turning
a table read into pandas into the contract's typed columns; :class:`FileSource` (:mod:`.files`)
reads a folder of CSV / Parquet files or a DuckDB file, :class:`PostgresSource` and
:class:`SparkSource` (:mod:`.engines`) leave the tables in a PostgreSQL database or a Spark
session's catalog and run the aggregations there.
"""

from __future__ import annotations

from pathlib import Path

from metrics_lib.core.errors import WorkbookError
from metrics_lib.data.config import PROJECT_ROOT
from metrics_lib.data.sources.base import DataSource
from metrics_lib.data.sources.engines import (
    EngineSource,
    PostgresSource,
    SparkSource,
    data_argument,
    is_database_url,
    redact,
)
from metrics_lib.data.sources.files import FileSource

__all__ = [
    "open_source",
    "DataSource",
    "FileSource",
    "EngineSource",
    "PostgresSource",
    "SparkSource",
    "is_database_url",
    "data_argument",
    "redact",
]


def open_source(
    data=None,
    *,
    mapping=None,
    on_invalid: str = "strict",
    base: Path = PROJECT_ROOT,
    database: str | None = None,
) -> DataSource:
    """Open a data source, of the kind ``data`` names.

    Parameters
    ----------
    data : path-like, URL or Spark session, optional
        A folder of CSV / Parquet files or a ``.duckdb`` file (relative paths resolve from
        ``base``, the project folder; the bundled demo data when None); a
        ``postgresql://user@host:port/dbname`` URL opens a PostgreSQL database
        (:class:`PostgresSource`), and a Spark session its catalog's tables
        (:class:`SparkSource`): the aggregations then run there.
    mapping : path-like, optional
        A column-mapping YAML file; ``mapping.yml`` beside a folder or DuckDB file is used when
        present.
    on_invalid : {"strict", "quarantine"}
        ``strict`` (default) stops at the first table that breaks the contract;
        ``quarantine`` sets the offending rows aside in ``rejected`` and goes on.
    database : str, optional
        For a Spark session: the catalog's database (the session's current one when None).

    Settings for a database or Spark (what ``source.yml`` says beside files) are given to
    :class:`PostgresSource` or :class:`SparkSource` directly, as ``config=``.

    >>> src = open_source()  # the bundled demo data
    >>> src.kind, "orders" in src.tables
    ('folder', True)
    """
    if _is_spark_session(data):
        return SparkSource(data, database, mapping=mapping, on_invalid=on_invalid)
    if database is not None:
        raise WorkbookError(
            f"database ({database!r}) names a database of a Spark session's catalog; give it only "
            "with a Spark session"
        )
    if is_database_url(data):
        return PostgresSource(data, mapping=mapping, on_invalid=on_invalid)
    return FileSource(data, mapping=mapping, on_invalid=on_invalid, base=base)


def _is_spark_session(data) -> bool:
    """Whether ``data`` is a Spark session (classic or Spark Connect), told without importing
    pyspark."""
    return any(
        cls.__name__ == "SparkSession" and cls.__module__.startswith("pyspark.") for cls in type(data).__mro__
    )

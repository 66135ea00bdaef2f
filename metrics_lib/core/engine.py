"""Small helpers over engine connections and Ibis expressions that several layers share."""

from __future__ import annotations

#: Settings of every DuckDB connection the project opens: DuckDB never downloads, installs or loads
#: an extension on its own (a file that is really an SQLite database would otherwise make it fetch
#: one from the network into ``~/.duckdb``). The extensions it needs are built in.
DUCKDB_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


def duckdb_connect(database: str = ":memory:", *, read_only: bool = False):
    """A DuckDB connection with :data:`DUCKDB_CONFIG`: the one way the project opens one."""
    import duckdb

    return duckdb.connect(database, read_only=read_only, config=dict(DUCKDB_CONFIG))


def ibis_duckdb_connect():
    """An in-process Ibis DuckDB connection with :data:`DUCKDB_CONFIG` and no progress bars."""
    import ibis

    con = ibis.duckdb.connect(**DUCKDB_CONFIG)
    disable_progress_bar(con)
    return con


def count_true(cond):
    """How many rows satisfy ``cond`` (null counts as false), as an integer sum.

    Not ``cond.cast("int64").sum()``: PostgreSQL cannot cast a boolean to bigint or double.
    """
    return cond.ifelse(1, 0).sum()


def disable_progress_bar(con) -> None:
    """No DuckDB progress bars in CLI output and logs. Inside a Jupyter kernel DuckDB refuses the
    setting (it wants ipywidgets there) and draws no bar anyway, so a refusal is fine."""
    import duckdb

    try:
        con.raw_sql("SET enable_progress_bar = false")
    except duckdb.Error:
        pass

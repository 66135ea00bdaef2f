"""Small helpers over engine connections and Ibis expressions that several layers share."""

from __future__ import annotations

import itertools
import os
import tempfile
from pathlib import Path

from metrics_lib.core.errors import WorkbookError

#: Settings of every DuckDB connection the project opens: DuckDB never downloads, installs or loads
#: an extension on its own (a file that is really an SQLite database would otherwise make it fetch
#: one from the network into ``~/.duckdb``). The extensions it needs are built in.
DUCKDB_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}

#: The environment variable that sets the memory each DuckDB connection may use (``2GB``,
#: ``500MB``...); default :data:`DEFAULT_MEMORY_LIMIT`.
MEMORY_ENV = "METRICS_LIB_DUCKDB_MEMORY"

#: Memory per DuckDB connection. DuckDB's own default (80% of the machine) lets each of a report
#: run's processes hold gigabytes of hash tables it no longer needs; with 1 GB the quarter's
#: metrics at 1M customers take the same time, and a larger join spills to a private temporary
#: folder (:func:`duckdb_settings`) instead.
DEFAULT_MEMORY_LIMIT = "1GB"

_connections = itertools.count()


def duckdb_settings() -> dict:
    """:data:`DUCKDB_CONFIG` with the memory limit (:data:`MEMORY_ENV`) and a temporary folder of
    this connection's own under the system's temporary folder: DuckDB would otherwise spill into
    ``.tmp`` in the current folder, or beside a database file. DuckDB makes the folder only when
    it spills, and removes it when the connection closes."""
    folder = Path(tempfile.gettempdir()) / f"metrics_lib-duckdb-{os.getpid()}-{next(_connections)}"
    limit = os.environ.get(MEMORY_ENV, "").strip() or DEFAULT_MEMORY_LIMIT
    return {**DUCKDB_CONFIG, "memory_limit": limit, "temp_directory": str(folder)}


def return_memory_in_background(run_sql) -> None:
    """Let DuckDB's allocator hand memory that queries no longer use back to the system while the
    process does other work (``run_sql``: the connection's way to run a statement). On Linux,
    where DuckDB allocates with jemalloc, a report run's runner otherwise kept 750 MB through the
    whole run after checking 1M customers' files (300 MB with it), and the churn model's fit
    peaked 300 MB higher. Elsewhere, or in a DuckDB without the setting, nothing changes."""
    import duckdb

    try:
        run_sql("SET allocator_background_threads = true")
    except duckdb.Error:
        pass


def _refuse_bad_limit(exc: Exception) -> None:
    if "memory" in str(exc).lower() and os.environ.get(MEMORY_ENV, "").strip():
        raise WorkbookError(
            f"{MEMORY_ENV}={os.environ[MEMORY_ENV]!r} is not a memory size DuckDB takes; "
            "give a size such as 2GB or 500MB, or unset it for the default "
            f"({DEFAULT_MEMORY_LIMIT})"
        ) from None


def out_of_memory_message(exc: BaseException) -> str | None:
    """What to do when ``exc`` is DuckDB running out of the memory it may use; None otherwise."""
    if type(exc).__name__ != "OutOfMemoryException":
        return None
    limit = os.environ.get(MEMORY_ENV, "").strip() or DEFAULT_MEMORY_LIMIT
    return (
        f"DuckDB needed more than the {limit} it may use per connection ({MEMORY_ENV}); set "
        f"{MEMORY_ENV} higher (for example {MEMORY_ENV}=4GB) and run again"
    )


def duckdb_connect(database: str = ":memory:", *, read_only: bool = False):
    """A DuckDB connection with :func:`duckdb_settings`: the one way the project opens one."""
    import duckdb

    try:
        con = duckdb.connect(database, read_only=read_only, config=duckdb_settings())
    except duckdb.Error as exc:
        _refuse_bad_limit(exc)
        raise
    return_memory_in_background(con.execute)
    return con


def ibis_duckdb_connect():
    """An in-process Ibis DuckDB connection with :func:`duckdb_settings` and no progress bars."""
    import duckdb
    import ibis

    try:
        con = ibis.duckdb.connect(**duckdb_settings())
    except duckdb.Error as exc:
        _refuse_bad_limit(exc)
        raise
    disable_progress_bar(con)
    return_memory_in_background(con.raw_sql)
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

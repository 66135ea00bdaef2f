"""Small helpers over engine connections and Ibis expressions that several layers share."""

from __future__ import annotations


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

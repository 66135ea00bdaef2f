"""The memory DuckDB may use per connection (metrics_lib.core.engine).

What a user relies on: each connection is held to a limit they can change by one environment
variable, a larger query spills to a private temporary folder (never ``.tmp`` in their folder)
that is gone when the connection closes, a wrong setting is named, and running out of memory says
which setting to raise.
"""

from __future__ import annotations

import os

import pytest

from metrics_lib.core import engine
from metrics_lib.core.errors import WorkbookError

# a distinct over 20 million texts needs far more than 200 MB of hash table: it spills
_SPILLS = "SELECT count(*) FROM (SELECT DISTINCT range::VARCHAR || 'x' FROM range(20000000))"


def _limit(con) -> str:
    return con.raw_sql("SELECT current_setting('memory_limit')").fetchone()[0]


def test_each_connection_may_use_1_gb_unless_the_variable_says_otherwise(monkeypatch):
    monkeypatch.delenv(engine.MEMORY_ENV, raising=False)
    assert _limit(engine.ibis_duckdb_connect()) == "953.6 MiB"  # 10**9 bytes
    monkeypatch.setenv(engine.MEMORY_ENV, "300MB")
    assert _limit(engine.ibis_duckdb_connect()) == "286.1 MiB"
    assert engine.duckdb_connect().sql("SELECT current_setting('memory_limit')").fetchone()[0] == "286.1 MiB"


def test_a_setting_duckdb_does_not_take_is_named(monkeypatch):
    monkeypatch.setenv(engine.MEMORY_ENV, "lots")
    with pytest.raises(WorkbookError, match=r"METRICS_LIB_DUCKDB_MEMORY='lots' is not a memory size .*2GB"):
        engine.ibis_duckdb_connect()


def test_a_large_query_spills_to_a_private_folder_removed_at_close(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(engine.MEMORY_ENV, "200MB")
    con = engine.ibis_duckdb_connect()
    folder = con.raw_sql("SELECT current_setting('temp_directory')").fetchone()[0]
    assert con.raw_sql(_SPILLS).fetchone()[0] == 20_000_000
    assert os.path.isdir(folder)  # it spilled there
    assert list(tmp_path.iterdir()) == []  # nothing in the current folder
    con.disconnect()
    assert not os.path.exists(folder)


def test_running_out_of_memory_says_which_setting_to_raise(monkeypatch):
    import duckdb

    monkeypatch.setenv(engine.MEMORY_ENV, "20MB")
    con = engine.duckdb_connect()
    with pytest.raises(duckdb.OutOfMemoryException) as caught:
        con.sql(_SPILLS).fetchall()
    assert engine.out_of_memory_message(caught.value) == (
        "DuckDB needed more than the 20MB it may use per connection (METRICS_LIB_DUCKDB_MEMORY); "
        "set METRICS_LIB_DUCKDB_MEMORY higher (for example METRICS_LIB_DUCKDB_MEMORY=4GB) and run again"
    )
    assert engine.out_of_memory_message(ValueError("memory")) is None


@pytest.mark.parametrize("command", [["metrics", "--period", "2025-Q4"], ["run", "--period", "2025-Q4"]])
def test_the_commands_say_which_setting_to_raise(command, tmp_path, monkeypatch, capsys):
    from metrics_lib.cli import main

    monkeypatch.setenv(engine.MEMORY_ENV, "1MB")
    monkeypatch.setenv("METRICS_LIB_CACHE_DIR", "off")
    out = ["--out", str(tmp_path / "reports")] if command[0] == "run" else []
    assert main([*command, *out]) == 2
    err = capsys.readouterr().err
    assert "error: DuckDB needed more than the 1MB it may use per connection" in err
    assert "Traceback" not in err


def test_running_out_of_memory_in_a_tables_check_stops_there(tmp_path, monkeypatch, capsys):
    # reading the table into pandas instead would need more memory still
    from metrics_lib.cli import main_run
    from metrics_lib.data import engine_checks, open_source

    class OutOfMemoryException(Exception):  # DuckDB's, by name
        pass

    def out_of_memory(*_args, **_kwargs):
        raise OutOfMemoryException("Out of Memory Error: could not allocate block")

    monkeypatch.setattr(engine_checks, "check_table", out_of_memory)
    monkeypatch.delenv(engine.MEMORY_ENV, raising=False)
    monkeypatch.setenv("METRICS_LIB_CACHE_DIR", "off")
    src = open_source()
    with pytest.raises(OutOfMemoryException):
        src.table("orders")
    assert src._frames == {}
    assert main_run(["--period", "2025-Q4", "--out", str(tmp_path / "reports")]) == 2
    assert "error: DuckDB needed more than the 1GB it may use per connection" in capsys.readouterr().err


def test_each_connection_returns_memory_it_no_longer_uses_in_the_background():
    # without it, DuckDB's allocator keeps what a finished query freed until the process allocates
    # again: a report run's runner held 750 MB through the whole run instead of 300 MB
    setting = "SELECT current_setting('allocator_background_threads')"
    assert engine.ibis_duckdb_connect().raw_sql(setting).fetchone() == (True,)
    assert engine.duckdb_connect().sql(setting).fetchone() == (True,)

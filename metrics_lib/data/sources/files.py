"""A folder of CSV / Parquet files or a DuckDB database file: :class:`FileSource`.

Tables are found by name (``orders.csv``, ``orders.parquet``, a DuckDB table ``orders``) or through
the ``source:`` of the column mapping (``mapping.yml`` beside the data is used when present), and
read lazily. A Parquet file or DuckDB table with typed columns is checked against the contract by
DuckDB itself and, when clean, queried in place; a CSV file, a column stored as text, or a table
that breaks a rule is read into pandas, parsed into the contract's types, validated with
row-level messages, and then registered in the in-process DuckDB connection where the Ibis
aggregations run (:class:`~metrics_lib.data.sources.base.DataSource`). Input files are only ever
read.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pandas as pd

from metrics_lib.core.engine import disable_progress_bar
from metrics_lib.core.errors import ContractError, Problem, WorkbookError
from metrics_lib.data import check_cache
from metrics_lib.data import contract as C
from metrics_lib.data.config import DEMO_DATA, PROJECT_ROOT, Location, SourceConfig, resolve_path
from metrics_lib.data.parsing import not_utf8_problem
from metrics_lib.data.sources.base import DataSource

__all__ = ["FileSource"]

_FILE_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
_DUCKDB_SUFFIXES = {".duckdb", ".db", ".ddb"}


class FileSource(DataSource):
    """A folder of ``<table>.csv`` / ``<table>.parquet`` files or a DuckDB file.

    Parameters
    ----------
    path : path-like, optional
        The folder or ``.duckdb`` file; relative paths resolve from ``base`` (the project folder).
        Defaults to the bundled demo data.
    mapping : path-like, optional
        A column-mapping YAML file; ``mapping.yml`` beside the data is used when present.
    on_invalid : {"strict", "quarantine"}
        ``strict`` (default) stops at the first table that breaks the contract;
        ``quarantine`` sets the offending rows aside in :attr:`rejected` and goes on.
    config : SourceConfig or path-like, optional
        The settings; by default ``source.yml`` beside the data (``<name>.source.yml`` beside a
        DuckDB file).
    """

    _attached = False  # whether the DuckDB file is attached to :attr:`con`

    def __init__(
        self, path=None, *, mapping=None, on_invalid: str = "strict", base: Path = PROJECT_ROOT, config=None
    ):
        self._base = base
        super().__init__(path, mapping=mapping, on_invalid=on_invalid, config=config)

    def _resolve(self, path) -> Path:
        path = resolve_path(path if path is not None else DEMO_DATA, base=self._base)
        if not path.exists():
            raise WorkbookError(
                f"{path}: data source not found; give a folder of CSV/Parquet files or a .duckdb file"
            )
        self.kind = "duckdb" if path.is_file() else "folder"
        if self.kind == "duckdb" and path.suffix.lower() not in _DUCKDB_SUFFIXES:
            raise WorkbookError(
                f"{path}: a data source file must be a DuckDB database (.duckdb); for CSV or "
                "Parquet files give the folder that holds them"
            )
        return path

    def _beside(self, name: str) -> Path:
        """``name`` in the folder of the data (``<stem>.name`` beside a DuckDB file)."""
        if self.kind == "folder":
            return self.path / name
        return self.path.parent / f"{self.path.stem}.{name}"

    def _default_mapping(self) -> Path | None:
        beside = self._beside("mapping.yml")
        return beside if beside.exists() else None

    def _default_config(self) -> SourceConfig:
        return SourceConfig.read(self._beside("source.yml"))

    # -- discovery -------------------------------------------------------------------------
    def _locate(self) -> dict[str, Location]:
        found: dict[str, Location] = {}
        if self.kind == "duckdb":
            names = self._duckdb_tables()
            for table in C.TABLES:
                name = self.mapping.for_table(table).source or table
                if name in names:
                    found[table] = Location(table, "duckdb", self.path, name)
            return found
        files = {p.name: p for p in self.path.iterdir() if p.is_file()}
        for table in C.TABLES:
            wanted = self.mapping.for_table(table).source
            if wanted:
                if wanted not in files:
                    close = difflib.get_close_matches(wanted, list(files), n=1, cutoff=0.6)
                    raise WorkbookError(
                        f"{self.mapping.path}: table `{table}` is mapped to file `{wanted}`, which "
                        f"is not in {self.path}; correct `source:` in the mapping file"
                        + (f" (the closest file is `{close[0]}`)" if close else "")
                        + f"; files found: {', '.join(sorted(f for f in files if not f.startswith('.'))) or '(none)'}"
                    )
                candidates = [files[wanted]]
            else:
                candidates = [files[f"{table}{ext}"] for ext in _FILE_FORMATS if f"{table}{ext}" in files]
            if len(candidates) > 1:
                raise WorkbookError(
                    f"{self.path}: table `{table}` is in more than one file "
                    f"({', '.join(p.name for p in candidates)}); keep one"
                )
            if candidates:
                p = candidates[0]
                fmt = _FILE_FORMATS.get(p.suffix.lower())
                if fmt is None:
                    raise WorkbookError(f"{p}: unsupported file type; use .csv or .parquet")
                found[table] = Location(table, fmt, p, p.name)
        return found

    def _duckdb_tables(self) -> set[str]:
        con = self._duckdb_connect()
        try:
            return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        finally:
            con.close()

    def _duckdb_connect(self):
        import duckdb

        try:
            return duckdb.connect(str(self.path), read_only=True)
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0]
            raise WorkbookError(
                f"{self.path}: cannot open the DuckDB file ({first}). If another program has it "
                "open for writing, close it; if the file is damaged, export the data again."
            ) from None

    # -- loading ---------------------------------------------------------------------------
    def _read_raw(self, loc: Location) -> pd.DataFrame:
        where = str(loc.path)
        try:
            if loc.format == "csv":
                return pd.read_csv(
                    loc.path,
                    dtype=str,
                    keep_default_na=False,
                    na_values=[""],
                    encoding="utf-8-sig",
                )
            if loc.format == "parquet":
                import pyarrow.parquet as pq

                return pq.read_table(loc.path).to_pandas(date_as_object=False)
            con = self._duckdb_connect()
            try:
                return con.execute(f'SELECT * FROM "{loc.name}"').df()
            finally:
                con.close()
        except UnicodeDecodeError as exc:
            raise ContractError([not_utf8_problem(loc, exc)]) from None
        except pd.errors.EmptyDataError:
            raise ContractError(
                [
                    Problem(
                        loc.table,
                        "the file is empty (not even a header line)",
                        f"export the table with its header line: {', '.join(C.TABLES[loc.table].required_columns)}",
                        file=where,
                    )
                ]
            ) from None
        except pd.errors.ParserError as exc:
            text = str(exc).strip()
            fix = "every line needs as many fields as the header; quote fields that contain commas"
            if m := re.search(r"EOF inside string starting at row (\d+)", text):
                # pandas counts records from 0 (the header): the line, unless a quoted field spans lines
                text = f"a quote opened on line {int(m[1]) + 1} (or later) is never closed ({text})"
                fix = "close the quote on that line, or remove the stray quote character"
            raise ContractError(
                [Problem(loc.table, f"the CSV cannot be read: {text}", fix, file=where)]
            ) from None
        except ContractError:
            raise
        except WorkbookError:
            raise
        except Exception as exc:  # pyarrow / duckdb errors on damaged files
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ContractError(
                [
                    Problem(
                        loc.table,
                        f"the file cannot be read as {loc.format} ({first})",
                        f"check that {loc.path.name} really is a {loc.format} file, or export it again",
                        file=where,
                    )
                ]
            ) from None

    # -- engine ----------------------------------------------------------------------------
    @property
    def con(self):
        """An in-process Ibis DuckDB connection holding the validated tables."""
        if self._con is None:
            import ibis

            self._con = ibis.duckdb.connect()
            disable_progress_bar(self._con)
        return self._con

    def _raw_engine_table(self, loc: Location):
        """The stored table as an Ibis expression on :attr:`con`, untouched (None for CSV)."""
        if loc.format == "parquet":
            return self.con.read_parquet(str(loc.path), table_name=f"source_{loc.table}")
        if loc.format == "duckdb":
            if not self._attached:
                self.con.attach(str(self.path), name="source_db", read_only=True)
                self._attached = True
            return self.con.table(loc.name, database="source_db")
        return None

    def _check_cache_key(self, loc: Location) -> str | None:
        """The cache key of a file's check (a DuckDB file counts with its write-ahead log)."""
        files = [Path(loc.path)]
        if loc.format == "duckdb":
            kind = self.con.raw_sql(
                "SELECT table_type FROM information_schema.tables WHERE table_catalog = 'source_db' "
                "AND table_name = ?",
                parameters=[loc.name],
            ).fetchall()
            if not kind or kind[0][0] != "BASE TABLE":
                return None  # a view: its data lies elsewhere, so the file says nothing of it
            wal = Path(f"{loc.path}.wal")
            files += [wal] if wal.exists() else []
        return check_cache.cache_key(files, loc.table, loc.name, self.mapping, self.config.options)

    def _unrecognised_files(self, missing: list[str]) -> list[Problem]:
        """Files named almost like a missing table (``Customers.CSV``, ``order.csv``, ``orders.xlsx``)."""
        if self.kind != "folder":
            return []
        used = {loc.path.name for loc in self.locations.values()}
        if self.mapping.path is not None:
            used.add(self.mapping.path.name)
        files = sorted(
            p
            for p in self.path.iterdir()
            if p.is_file()
            and p.name not in used
            and not p.name.startswith(".")
            and p.suffix.lower() not in (".yml", ".yaml", ".md", ".json")
        )
        out = []
        for table in missing:
            for f in files:
                stem = f.stem.strip().lower()
                if stem != table and difflib.SequenceMatcher(None, stem, table).ratio() < 0.8:
                    continue
                if f.suffix.lower() in _FILE_FORMATS:
                    fix = (
                        f"rename it to {table}{f.suffix.lower()}, or name it in a mapping file "
                        f"(under `tables: {table}:` write `source: {f.name}`)"
                    )
                else:
                    fix = f"save it as {table}.csv (CSV UTF-8) or {table}.parquet; {f.suffix or 'such'} files are not read"
                out.append(
                    Problem(
                        table,
                        f"this file looks like table `{table}` but is not named {table}.csv or "
                        f"{table}.parquet, so it was not read",
                        fix,
                        file=str(f),
                    )
                )
        return out

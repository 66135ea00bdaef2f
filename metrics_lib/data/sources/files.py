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
import os
import re
import stat
from pathlib import Path

import pandas as pd

from metrics_lib.core.engine import duckdb_connect, ibis_duckdb_connect
from metrics_lib.core.errors import ContractError, Problem, WorkbookError, some
from metrics_lib.data import check_cache
from metrics_lib.data import contract as C
from metrics_lib.data.config import DEMO_DATA, PROJECT_ROOT, Location, SourceConfig, resolve_path
from metrics_lib.data.parsing import csv_row_lines, not_utf8_problem
from metrics_lib.data.safe_io import file_kind, is_regular, open_regular, sniff
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
    ids_as_stored = True  # DuckDB: text compares as it is handed out

    def __init__(
        self, path=None, *, mapping=None, on_invalid: str = "strict", base: Path = PROJECT_ROOT, config=None
    ):
        self._base = base
        super().__init__(path, mapping=mapping, on_invalid=on_invalid, config=config)

    def _resolve(self, path) -> Path:
        path = resolve_path(path if path is not None else DEMO_DATA, base=self._base)
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            raise WorkbookError(
                f"{path}: data source not found; give a folder of CSV/Parquet files or a .duckdb file"
            ) from None
        except OSError as exc:
            raise WorkbookError(
                f"{path}: the data source cannot be read ({exc.strerror or exc}); check its permissions"
            ) from None
        if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
            raise WorkbookError(
                f"{path}: this is {file_kind(mode)}, not a folder or a file, so it is not read; give a "
                "folder of CSV/Parquet files or a .duckdb file"
            )
        self.kind = "duckdb" if stat.S_ISREG(mode) else "folder"
        if self.kind == "duckdb" and path.suffix.lower() not in _DUCKDB_SUFFIXES:
            raise WorkbookError(
                f"{path}: a data source file must be a DuckDB database (.duckdb); for CSV or "
                "Parquet files give the folder that holds them"
            )
        if self.kind == "duckdb":
            _check_duckdb_file(path)
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
        # a folder or FIFO in a table's place is located too, and named when read
        entries = {p.name: p for p in self.path.iterdir()}
        files = {name: p for name, p in entries.items() if p.is_file()}
        for table in C.TABLES:
            wanted = self.mapping.for_table(table).source
            if wanted:
                if wanted not in entries:
                    close = difflib.get_close_matches(wanted, list(files), n=1, cutoff=0.6)
                    raise WorkbookError(
                        f"{self.mapping.path}: table `{table}` is mapped to file `{wanted}`, which "
                        f"is not in {self.path}; correct `source:` in the mapping file"
                        + (f" (the closest file is `{close[0]}`)" if close else "")
                        + f"; files found: {some(sorted(f for f in files if not f.startswith('.')))}"
                    )
                candidates = [entries[wanted]]
            else:
                candidates = [entries[f"{table}{ext}"] for ext in _FILE_FORMATS if f"{table}{ext}" in entries]
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
            return duckdb_connect(str(self.path), read_only=True)
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0]
            raise WorkbookError(
                f"{self.path}: cannot open the DuckDB file ({first}). If another program has it "
                "open for writing, close it; if the file is damaged, export the data again."
            ) from None

    # -- loading ---------------------------------------------------------------------------
    def _read_raw(self, loc: Location) -> pd.DataFrame:
        where = str(loc.path)
        if loc.format != "duckdb":
            _refuse_non_regular(loc)
        try:
            if loc.format == "csv":
                if (wrong := _delimiter_problem(loc)) is not None:
                    raise ContractError([wrong])
                with open_regular(loc.path) as fh:
                    return pd.read_csv(
                        fh,
                        dtype=str,
                        keep_default_na=False,
                        na_values=[""],
                        encoding="utf-8-sig",
                    )
            if loc.format == "parquet":
                import pyarrow.parquet as pq

                with open_regular(loc.path) as fh:
                    return pq.read_table(fh).to_pandas(date_as_object=False)
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
            # pandas counts rows (a quoted field over several lines is one): the file's own lines
            starts = [line for line, _blank in csv_row_lines(loc.path)]

            def line_of(row: int) -> int:
                return starts[row] if 0 <= row < len(starts) else row + 1

            text = re.sub(r"(?<=in line )(\d+)", lambda m: str(line_of(int(m[1]) - 1)), text)
            if m := re.search(r"EOF inside string starting at row (\d+)", text):
                text = f"a quote opened on line {line_of(int(m[1]))} (or later) is never closed ({text})"
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
            self._con = ibis_duckdb_connect()
        return self._con

    def _raw_engine_table(self, loc: Location):
        """The stored table as an Ibis expression on :attr:`con`, untouched (None for CSV, and for
        anything but a regular file, which the pandas reader then names)."""
        if loc.format == "parquet" and not is_regular(loc.path):
            return None
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


#: Delimiters other than the comma: how a message names each, and the thing to replace.
_DELIMITERS = {";": ("';' (semicolon)", "';'"), "\t": ("a tab", "tab"), "|": ("'|' (vertical bar)", "'|'")}


def _delimiter_problem(loc: Location) -> Problem | None:
    """The problem for a CSV file whose header line is separated by semicolons, tabs or bars
    rather than commas (as Excel writes "CSV" in many countries), or None."""
    with open_regular(loc.path) as fh:
        head = fh.read(1 << 16)
    if sniff(head[:16]) is not None:
        return None  # an archive or a workbook: the reader names it
    header = head.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace").strip()
    counts = {d: header.count(d) for d in _DELIMITERS}
    found = max(counts, key=counts.__getitem__)
    if counts[found] <= header.count(","):
        return None
    name, short = _DELIMITERS[found]
    return Problem(
        loc.table,
        f"the delimiter looks like {name}, not a comma: the header line is `{header[:100]}`",
        "files must be comma-separated: save it again as CSV with commas (in Excel: 'CSV UTF-8 (Comma "
        f"delimited)'), or replace each {short} between fields with a comma (and decimal commas with "
        "points: 12.50)",
        file=str(loc.path),
    )


def _refuse_non_regular(loc: Location) -> None:
    """A folder, FIFO, device or socket in a table file's place is named, never read (a FIFO would
    block the reader forever)."""
    try:
        mode = os.stat(loc.path).st_mode
    except OSError:
        return  # the reader says what is wrong
    if not stat.S_ISREG(mode):
        kind = file_kind(mode)
        raise ContractError(
            [
                Problem(
                    loc.table,
                    f"this is {kind}, not a regular file, so table `{loc.table}` cannot be read from it",
                    f"put the table's {loc.format.upper() if loc.format == 'csv' else loc.format.title()} "
                    f"file here under this name, or rename or remove the {kind.removeprefix('a ')}",
                    file=str(loc.path),
                )
            ]
        )


#: What to do with a file named like a DuckDB database that is something else.
_NOT_DUCKDB_FIX = {
    "an SQLite database": (
        "export its tables as CSV files into a folder (for example `sqlite3 -header -csv FILE "
        "'SELECT * FROM orders' > orders.csv`) and give that folder as the data source; it is not "
        "handed to DuckDB, which would need to download an extension to read it"
    ),
    "a gzip-compressed file": "unpack it first (gunzip) and give the unpacked .duckdb file",
    "a Parquet file": (
        "put it into a folder under its table's name (orders.parquet) and give that folder as the data source"
    ),
}


def _check_duckdb_file(path: Path) -> None:
    """Refuse a file named ``.duckdb`` that its first bytes show to be something else (an SQLite
    database, an archive, a Parquet file), before DuckDB is asked to open it."""
    with open_regular(path) as fh:
        head = fh.read(16)
    if head[8:12] == b"DUCK":
        return
    found = sniff(head)
    if found is None:
        return  # damaged or empty: DuckDB's own message says so
    fix = _NOT_DUCKDB_FIX.get(
        found,
        "unpack or convert it: save the tables as CSV (UTF-8) or Parquet files into a folder and give "
        "that folder as the data source",
    )
    raise WorkbookError(f"{path}: this is {found}, not a DuckDB database; {fix}")

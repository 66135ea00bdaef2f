"""Data sources: a folder of CSV / Parquet files or a DuckDB database file, checked against the
contract and handed to the engine.

A source is opened with :class:`DataSource`. Tables are read lazily and renamed through the
optional column mapping (``mapping.yml``). A Parquet file or DuckDB table with typed columns is
checked against the contract by DuckDB itself and, when clean, queried in place
(:mod:`metrics_lib.data.checks`); a CSV file, a column stored as text, or a table that breaks a rule is
read into pandas, parsed into the contract's types, validated with row-level messages, and then
registered in the in-process DuckDB connection where the Ibis aggregations run. Input files are
only ever read.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from metrics_lib.core.engine import disable_progress_bar
from metrics_lib.core.errors import MAX_EXAMPLES, ContractError, Problem, WorkbookError
from metrics_lib.core.periods import Period, latest_complete, parse_period
from metrics_lib.data import contract as C

__all__ = [
    "DataSource",
    "SourceConfig",
    "ColumnMapping",
    "PROJECT_ROOT",
    "DEMO_DATA",
    "resolve_path",
]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEMO_DATA = PROJECT_ROOT / "data" / "demo"

_FILE_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
_DUCKDB_SUFFIXES = {".duckdb", ".db", ".ddb"}
_TZ_SUFFIX = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")


def resolve_path(path, *, base: Path = PROJECT_ROOT) -> Path:
    """An absolute path; a relative one is taken from ``base`` (the project), not the cwd."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else (base / p).resolve()


@dataclass(frozen=True)
class SourceConfig:
    """What ``source.yml`` beside the data may say (all optional)."""

    name: str = ""
    description: str = ""
    strategy_change_date: date | None = None
    default_period: str | None = None
    inactivity_days: int = 180
    options: C.ContractOptions = field(default_factory=C.ContractOptions)
    extra: dict = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> "SourceConfig":
        if not path.exists():
            return cls()
        raw = _read_yaml(path)
        known = {"name", "description", "strategy_change_date", "default_period", "inactivity_days",
                 "csat_scale", "ces_scale"}
        change = raw.get("strategy_change_date")
        opts = C.ContractOptions(
            csat_scale=tuple(raw.get("csat_scale", (1, 5))),
            ces_scale=tuple(raw.get("ces_scale", (1, 7))),
        )
        period = raw.get("default_period")
        if period is not None:
            parse_period(str(period))
        return cls(
            name=str(raw.get("name", "")),
            description=str(raw.get("description", "")),
            strategy_change_date=pd.Timestamp(change).date() if change else None,
            default_period=str(period) if period is not None else None,
            inactivity_days=int(raw.get("inactivity_days", 180)),
            options=opts,
            extra={k: v for k, v in raw.items() if k not in known},
        )


@dataclass(frozen=True)
class TableMapping:
    source: str | None = None  # file name in the folder, or table name in the DuckDB file
    columns: dict[str, str] = field(default_factory=dict)  # theirs -> ours
    date_format: str | None = None


@dataclass(frozen=True)
class ColumnMapping:
    """Renames a user's CRM export to the contract, read from a YAML file::

        tables:
          orders:
            source: sales_export.csv     # optional: the file (or DuckDB table) holding it
            date_format: "%d/%m/%Y"      # optional: when dates are not YYYY-MM-DD
            columns:                     # their name: our name
              Order Number: order_id
              Account: customer_id
    """

    tables: dict[str, TableMapping] = field(default_factory=dict)
    path: Path | None = None

    @classmethod
    def read(cls, path) -> "ColumnMapping":
        path = Path(path)
        raw = _read_yaml(path)
        tables = raw.get("tables")
        if not isinstance(tables, dict):
            raise WorkbookError(f"{path}: the mapping file needs a `tables:` section, one entry per table")
        out = {}
        for table, entry in tables.items():
            if table not in C.TABLES:
                raise WorkbookError(
                    f"{path}: table `{table}` is not in the data contract; "
                    f"known tables: {', '.join(C.TABLES)}"
                )
            entry = entry or {}
            columns = {str(k): str(v) for k, v in (entry.get("columns") or {}).items()}
            spec = C.TABLES[table]
            for theirs, ours in columns.items():
                if ours not in spec.column_names:
                    raise WorkbookError(
                        f"{path}: table `{table}` maps `{theirs}` to `{ours}`, which is not a column "
                        f"of the contract; columns: {', '.join(spec.column_names)}"
                    )
            targets: dict[str, list[str]] = {}
            for theirs, ours in columns.items():
                targets.setdefault(ours, []).append(theirs)
            for ours, theirs in targets.items():
                if len(theirs) > 1:
                    raise WorkbookError(
                        f"{path}: table `{table}` maps {len(theirs)} columns "
                        f"({', '.join(f'`{t}`' for t in theirs)}) to `{ours}`; map exactly one"
                    )
            out[table] = TableMapping(entry.get("source"), columns, entry.get("date_format"))
        return cls(out, path)

    def for_table(self, table: str) -> TableMapping:
        return self.tables.get(table, TableMapping())


def _read_yaml(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            raw = yaml.safe_load(fh) or {}
    except FileNotFoundError:
        raise WorkbookError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise WorkbookError(f"{path}: not valid YAML ({exc}); correct the indentation, colons and brackets "
                            "at the line shown") from None
    except UnicodeDecodeError as exc:
        raise WorkbookError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.object[exc.start:exc.start + 1]!r}); "
                            "save the file as UTF-8") from None
    if not isinstance(raw, dict):
        raise WorkbookError(f"{path}: expected a mapping of keys to values at the top level")
    return raw


@dataclass(frozen=True)
class Location:
    table: str
    format: str  # csv, parquet, duckdb
    path: Path
    name: str  # file name, or table name inside the DuckDB file


@dataclass
class TableSummary:
    table: str
    location: str
    rows: int | None
    first_date: Any = None
    last_date: Any = None
    problems: list[Problem] = field(default_factory=list)


@dataclass
class ValidationReport:
    source: str
    tables: list[TableSummary]
    missing: list[str]
    problems: list[Problem]
    skipped_families: dict[str, list[str]]
    notes: list[str] = field(default_factory=list)  # worth a look, but not a broken rule
    add_table_hint: str = ""  # how to add a missing table
    no_tables: Problem | None = None  # set when the source holds no table of the contract at all

    @property
    def ok(self) -> bool:
        return not self.problems and self.no_tables is None

    def to_text(self) -> str:
        lines = [f"Data source: {self.source}", ""]
        width = max([len(t.table) for t in self.tables] + [5])
        lines.append(f"{'table':<{width}}  {'rows':>10}  {'from':<10}  {'to':<10}  problems")
        for t in self.tables:
            rows = "-" if t.rows is None else f"{t.rows:,}"
            first = _fmt_date(t.first_date)
            last = _fmt_date(t.last_date)
            lines.append(f"{t.table:<{width}}  {rows:>10}  {first:<10}  {last:<10}  {len(t.problems)}")
        if self.missing:
            lines += ["", "Tables not found: " + ", ".join(self.missing)]
        for fam, tables in self.skipped_families.items():
            lines.append(f"  family `{fam}` will be skipped: needs {', '.join(tables)}")
        if self.missing and self.add_table_hint:
            lines.append(f"  to add a table: {self.add_table_hint}")
        if self.notes:
            lines += [""] + [f"note: {n}" for n in self.notes]
        lines.append("")
        if not self.ok:
            lines.append(str(ContractError(self.problems + ([self.no_tables] if self.no_tables else []))))
        else:
            lines.append("No problems found.")
        return "\n".join(lines)


def _fmt_date(d) -> str:
    if d is None or pd.isna(d):
        return "-"
    return pd.Timestamp(d).strftime("%Y-%m-%d")


class DataSource:
    """A folder of ``<table>.csv`` / ``<table>.parquet`` files or a DuckDB file.

    Parameters
    ----------
    path : path-like, optional
        The folder or ``.duckdb`` file; relative paths resolve from the project folder.
        Defaults to the bundled demo data. A ``postgresql://user@host:port/dbname`` URL opens a
        PostgreSQL database instead, and :meth:`from_spark` a Spark session's tables: the
        aggregations then run there (:mod:`metrics_lib.data.engines`).
    mapping : path-like, optional
        A column-mapping YAML file; ``mapping.yml`` beside the data is used when present.
    on_invalid : {"strict", "quarantine"}
        ``strict`` (default) stops at the first table that breaks the contract;
        ``quarantine`` sets the offending rows aside in :attr:`rejected` and goes on.
    """

    def __new__(cls, path=None, *args, **kwargs):
        from metrics_lib.data import engines

        if cls is DataSource and engines.is_database_url(path):
            return super().__new__(engines.PostgresSource)
        return super().__new__(cls)

    @classmethod
    def from_spark(cls, session, database: str | None = None, **kwargs) -> "DataSource":
        """The tables of a Spark session's catalog (``database``: the session's current one when
        None); the aggregations run on Spark. Needs the ``spark`` extra."""
        from metrics_lib.data.engines import SparkSource

        return SparkSource(session, database, **kwargs)

    def __init__(self, path=None, *, mapping=None, on_invalid: str = "strict", base: Path = PROJECT_ROOT):
        if on_invalid not in ("strict", "quarantine"):
            raise WorkbookError(f"on_invalid ({on_invalid!r}) must be 'strict' or 'quarantine'")
        self.path = resolve_path(path if path is not None else DEMO_DATA, base=base)
        self.on_invalid = on_invalid
        if not self.path.exists():
            raise WorkbookError(
                f"{self.path}: data source not found; give a folder of CSV/Parquet files or a "
                ".duckdb file"
            )
        self.kind = "duckdb" if self.path.is_file() else "folder"
        if self.kind == "duckdb" and self.path.suffix.lower() not in _DUCKDB_SUFFIXES:
            raise WorkbookError(
                f"{self.path}: a data source file must be a DuckDB database (.duckdb); for CSV or "
                "Parquet files give the folder that holds them"
            )
        folder = self.path if self.kind == "folder" else self.path.parent
        stem = "" if self.kind == "folder" else self.path.stem + "."
        if mapping is None and (folder / f"{stem}mapping.yml").exists():
            mapping = folder / f"{stem}mapping.yml"
        self.mapping = ColumnMapping.read(resolve_path(mapping, base=Path.cwd())) if mapping else ColumnMapping()
        self.config = SourceConfig.read(folder / f"{stem}source.yml")
        self.locations = self._locate()
        self._frames: dict[str, pd.DataFrame] = {}
        self._problems: dict[str, list[Problem]] = {}
        self.rejected: dict[str, pd.DataFrame] = {}
        self._con = None
        self._attached = False
        self._tables: dict = {}
        self.engine_checks: dict = {}

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

    def has(self, table: str) -> bool:
        return table in self.locations

    @property
    def tables(self) -> list[str]:
        return list(self.locations)

    def missing_families(self) -> dict[str, list[str]]:
        """Families whose tables are absent, with the tables they lack."""
        return {
            fam: [t for t in need if not self.has(t)]
            for fam, need in C.FAMILY_TABLES.items()
            if any(not self.has(t) for t in need)
        }

    # -- loading ---------------------------------------------------------------------------
    def _read_raw(self, loc: Location) -> pd.DataFrame:
        where = str(loc.path)
        try:
            if loc.format == "csv":
                return pd.read_csv(
                    loc.path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig",
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
            raise ContractError([_not_utf8_problem(loc, exc)]) from None
        except pd.errors.EmptyDataError:
            raise ContractError([Problem(
                loc.table, "the file is empty (not even a header line)",
                f"export the table with its header line: {', '.join(C.TABLES[loc.table].required_columns)}",
                file=where,
            )]) from None
        except pd.errors.ParserError as exc:
            text = str(exc).strip()
            fix = "every line needs as many fields as the header; quote fields that contain commas"
            if m := re.search(r"EOF inside string starting at row (\d+)", text):
                # pandas counts records from 0 (the header): the line, unless a quoted field spans lines
                text = f"a quote opened on line {int(m[1]) + 1} (or later) is never closed ({text})"
                fix = "close the quote on that line, or remove the stray quote character"
            raise ContractError([Problem(loc.table, f"the CSV cannot be read: {text}", fix, file=where)]) from None
        except ContractError:
            raise
        except WorkbookError:
            raise
        except Exception as exc:  # pyarrow / duckdb errors on damaged files
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ContractError([Problem(
                loc.table, f"the file cannot be read as {loc.format} ({first})",
                f"check that {loc.path.name} really is a {loc.format} file, or export it again",
                file=where,
            )]) from None

    def frame(self, table: str) -> pd.DataFrame:
        """The table as a validated pandas DataFrame with the contract's columns and types.

        Raises :class:`ContractError` (strict mode) when the table breaks the contract.
        """
        if table not in C.TABLES:
            raise WorkbookError(f"`{table}` is not a table of the data contract; known: {', '.join(C.TABLES)}")
        if table in self._frames:
            return self._frames[table]
        if not self.has(table):
            raise WorkbookError(
                f"{self.path}: table `{table}` not found (looked for {table}.csv or {table}.parquet"
                f"{' or a DuckDB table' if self.kind == 'duckdb' else ''}); the families that need it are skipped"
            )
        df, problems = self._load(table)
        if problems:
            fatal = [p for p in problems if not p.rows]
            if self.on_invalid == "strict" or fatal:
                self._problems[table] = problems
                raise ContractError(problems)
            df = self._quarantine(table, df, problems)
        self._frames[table] = df
        return df

    def _load(self, table: str) -> tuple[pd.DataFrame, list[Problem]]:
        loc = self.locations[table]
        spec = C.TABLES[table]
        where = str(loc.path) if loc.format != "duckdb" else f"{loc.path} (table {loc.name})"
        raw = self._read_raw(loc)
        tm = self.mapping.for_table(table)
        problems: list[Problem] = []
        if tm.columns:
            absent = [theirs for theirs in tm.columns if theirs not in raw.columns]
            if absent:
                problems.append(Problem(
                    table, f"the mapping names column(s) {', '.join(f'`{a}`' for a in absent)} that the file lacks",
                    f"columns found: {', '.join(map(str, raw.columns))}; correct {self.mapping.path}",
                    file=where,
                ))
                return raw, problems
            clash = [ours for theirs, ours in tm.columns.items() if ours in raw.columns and ours != theirs
                     and ours not in tm.columns]
            if clash:
                problems.append(Problem(
                    table, f"the mapping renames a column to {', '.join(f'`{c}`' for c in clash)}, which the file already has",
                    "map only one column to each contract column", file=where,
                ))
                return raw, problems
            raw = raw.rename(columns=tm.columns)
        raw.columns = [str(c).strip() for c in raw.columns]
        twice = sorted({c for c in raw.columns if list(raw.columns).count(c) > 1})
        if twice:
            problems.append(Problem(
                table, ", ".join(f"column `{c}` appears twice" for c in twice)
                + " (after the mapping's renames and trimming blanks from the names)",
                "keep one column of each name: drop or rename the other, or map only one column to it",
                file=where, column=twice[0],
            ))
            return raw, problems
        for name in spec.required_columns:
            if name not in raw.columns:
                # a column the contract already names (`survey` for `score`) is not a candidate
                others = [c for c in raw.columns if c not in spec.column_names]
                close = difflib.get_close_matches(name, others, n=1, cutoff=0.5)
                hint = f"the closest column is `{close[0]}`: rename it or map it " if close else "add it or map one "
                problems.append(Problem(
                    table, f"required column `{name}` is missing",
                    f"{hint}in a mapping file (`{close[0] if close else 'Their Name'}: {name}`); "
                    f"columns found: {', '.join(map(str, raw.columns)) or '(none)'}",
                    file=where, column=name,
                ))
        if problems:
            return raw, problems
        df = pd.DataFrame(index=pd.RangeIndex(len(raw)))
        labeler = _row_labeler(loc.format)
        for col in spec.columns:
            if col.name in raw.columns:
                values, bad = _parse_column(raw[col.name].reset_index(drop=True), col, tm.date_format)
                if bad is not None:
                    rows, rule, fix = bad
                    problems.append(_problem_from_rows(table, where, col.name, rule, fix,
                                                       raw[col.name].reset_index(drop=True), labeler, rows=rows))
                df[col.name] = values
            else:
                df[col.name] = pd.Series(pd.NA if col.kind in ("id", "str", "int", "bool") else None,
                                         index=df.index, dtype=C.pandas_dtype(col.kind))
        unparsed = sorted({r for p in problems for r in p.rows})
        problems += _pandera_problems(table, where, spec, df.drop(index=unparsed), self.config.options, labeler)
        return df, problems

    def _quarantine(self, table: str, df: pd.DataFrame, problems: list[Problem]) -> pd.DataFrame:
        reasons: dict[int, list[str]] = {}
        for p in problems:
            for r in p.rows:
                reasons.setdefault(r, []).append(f"{p.column + ': ' if p.column else ''}{p.rule}")
        bad = sorted(reasons)
        rejected = df.loc[bad].copy()
        rejected.insert(0, "reason", ["; ".join(reasons[i]) for i in bad])
        rejected.insert(0, "source_row", [i + 1 for i in bad])
        self.rejected[table] = rejected
        self._problems[table] = problems
        return df.drop(index=bad).reset_index(drop=True)

    def validate(self) -> ValidationReport:
        """Check every table present; never raises for contract problems, reports them."""
        summaries, problems = [], []
        for table in self.locations:
            loc = self.locations[table]
            s = TableSummary(table, loc.name, None)
            try:
                df = self.frame(table)
                s.rows = len(df)
            except ContractError as exc:
                s.problems = exc.problems
            spec = C.TABLES[table]
            if s.rows is not None and spec.date_column:
                col = self._frames[table][spec.date_column]
                s.first_date, s.last_date = (col.min(), col.max()) if len(col) else (None, None)
            summaries.append(s)
        for s in summaries:
            if s.rows is not None:
                s.problems = self._problems.get(s.table, []) + self.foreign_key_problems(s.table)
            problems += s.problems
        missing = [t for t in C.TABLES if not self.has(t)]
        problems += self._unrecognised_files(missing)
        no_tables = None
        if not self.locations and not problems and self.kind == "folder":
            # not a contract problem (load_all's callers say it their way), but validate must fail
            found = ", ".join(sorted(p.name for p in self.path.iterdir() if not p.name.startswith("."))) or "(none)"
            no_tables = Problem(
                "customers", "no table of the data contract was found in this folder",
                f"name the files after the tables: customers.csv, orders.csv, ... (or .parquet), or name "
                f"them with `source:` in a mapping file; files found: {found}",
                file=str(self.path))
        notes = [f"{self.locations[s.table].path}: table `{s.table}` has a header but no rows; check the "
                 "export (the families that need it will find no data in any period)"
                 for s in summaries if s.rows == 0]
        for s in summaries:
            for fk in C.TABLES[s.table].foreign_keys:
                if s.rows and not self.has(fk.ref_table) and self._frames[s.table][fk.column].notna().any():
                    add = f"{fk.ref_table}.csv (or .parquet)" if self.kind == "folder" else f"a table `{fk.ref_table}`"
                    notes.append(f"{self.locations[s.table].path}: table `{s.table}`, column `{fk.column}` refers "
                                 f"to table `{fk.ref_table}`, which is missing, so its values were not checked; "
                                 f"add {add} to check them")
        if self.kind == "folder":
            hint = (f"put <table>.csv or <table>.parquet into {self.path}, or name its file with `source:` "
                    "in a mapping file")
        else:
            hint = (f"create a table of that name in {self.path}, or name it with `source:` in a mapping file")
        return ValidationReport(str(self.path), summaries, missing, problems, self.missing_families(),
                                notes, hint, no_tables)

    def _unrecognised_files(self, missing: list[str]) -> list[Problem]:
        """Files named almost like a missing table (``Customers.CSV``, ``order.csv``, ``orders.xlsx``)."""
        if self.kind != "folder":
            return []
        used = {loc.path.name for loc in self.locations.values()}
        if self.mapping.path is not None:
            used.add(self.mapping.path.name)
        files = sorted(p for p in self.path.iterdir() if p.is_file() and p.name not in used
                       and not p.name.startswith(".")
                       and p.suffix.lower() not in (".yml", ".yaml", ".md", ".json"))
        out = []
        for table in missing:
            for f in files:
                stem = f.stem.strip().lower()
                if stem != table and difflib.SequenceMatcher(None, stem, table).ratio() < 0.8:
                    continue
                if f.suffix.lower() in _FILE_FORMATS:
                    fix = (f"rename it to {table}{f.suffix.lower()}, or name it in a mapping file "
                           f"(under `tables: {table}:` write `source: {f.name}`)")
                else:
                    fix = f"save it as {table}.csv (CSV UTF-8) or {table}.parquet; {f.suffix or 'such'} files are not read"
                out.append(Problem(
                    table, f"this file looks like table `{table}` but is not named {table}.csv or "
                    f"{table}.parquet, so it was not read", fix, file=str(f)))
        return out

    def foreign_key_problems(self, table: str) -> list[Problem]:
        """Rows of ``table`` whose references point at no row of the referenced table."""
        spec = C.TABLES[table]
        df = self._frames.get(table)
        if df is None:
            return []
        out = []
        loc = self.locations[table]
        where = str(loc.path) if loc.format != "duckdb" else f"{loc.path} (table {loc.name})"
        labeler = _row_labeler(loc.format)
        for fk in spec.foreign_keys:
            if not self.has(fk.ref_table) or df[fk.column].isna().all():
                continue
            try:
                ref = self.frame(fk.ref_table)[fk.ref_column]
            except ContractError:
                continue
            orphan = df[fk.column].notna() & ~df[fk.column].isin(set(ref.dropna()))
            if orphan.any():
                rows = orphan[orphan].index
                fix = f"add the missing rows to `{fk.ref_table}` or remove these rows from `{table}`"
                if spec.column(fk.column).nullable:
                    fix = (f"add the missing rows to `{fk.ref_table}`, or leave `{fk.column}` empty in these "
                           "rows when the reference is unknown")
                out.append(_problem_from_rows(
                    table, where, fk.column,
                    f"references a `{fk.ref_column}` not in table `{fk.ref_table}` (orphan foreign key)",
                    fix,
                    df[fk.column], labeler, rows=rows,
                ))
        return out

    def check_all(self) -> None:
        """Every table checked against the contract, foreign keys included, without reading
        clean typed tables into pandas.

        Each table goes through :meth:`table` (checked in the engine when it can be, else parsed
        and validated in pandas) and each foreign key is an anti-join in the engine. Only when
        something is wrong are the tables read into pandas (:meth:`load_all`), so that every
        problem is listed with its rows; like :meth:`load_all`, that raises
        :class:`ContractError` in strict mode.
        """
        try:
            for table in self.locations:
                self.table(table)
        except ContractError:
            self.load_all()
            return
        missing = [t for t in C.TABLES if not self.has(t)]
        if self._unrecognised_files(missing) or self._has_orphans():
            self.load_all()

    def _has_orphans(self) -> bool:
        """Whether some reference points at no row of the table it names (counted in the engine)."""
        for table in self.locations:
            for fk in C.TABLES[table].foreign_keys:
                if not self.has(fk.ref_table):
                    continue
                t, ref = self.table(table), self.table(fk.ref_table).view()
                col = t[fk.column]
                orphans = t.filter(col.notnull()).anti_join(ref, col == ref[fk.ref_column]).count()
                if int(orphans.to_pyarrow().as_py()):
                    return True
        return False

    def load_all(self) -> dict[str, pd.DataFrame]:
        """Every table present, validated with foreign keys; raises ContractError listing all problems."""
        report = self.validate()
        if report.problems and self.on_invalid == "strict":
            raise ContractError(report.problems)
        return {t: self._frames[t] for t in self.locations if t in self._frames}

    # -- engine ----------------------------------------------------------------------------
    @property
    def con(self):
        """An in-process Ibis DuckDB connection holding the validated tables."""
        if self._con is None:
            import ibis

            self._con = ibis.duckdb.connect()
            disable_progress_bar(self._con)
        return self._con

    def table(self, name: str):
        """The validated table as an Ibis expression on the engine.

        A Parquet file or DuckDB table with typed columns is checked against the contract by the
        engine and, when clean, used in place (:mod:`metrics_lib.data.checks`); anything else is read,
        parsed and validated in pandas (:meth:`frame`) and copied into the engine.
        """
        if name not in self._tables:
            expr = self._checked_in_engine(name)
            if expr is None:
                con = self.con
                con.create_table(name, self.frame(name), overwrite=True)
                expr = con.table(name)
            self._tables[name] = expr
        return self._tables[name]

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

    def _checked_in_engine(self, name: str):
        """The table checked and shaped in the engine, or None when it must go through pandas
        (text columns to parse, a broken rule, a table already read into pandas). The outcome
        for each table is kept in :attr:`engine_checks` (an :class:`~metrics_lib.data.checks.EngineCheck`
        or the reason it was not used)."""
        from metrics_lib.data import checks

        if name in self._frames or name not in self.locations or name in self.engine_checks:
            return None
        loc = self.locations[name]
        try:
            raw = self._raw_engine_table(loc)
            if raw is None:
                return None
            reason = checks.native_type_problem(raw, name, self.mapping)
            if reason is not None:
                self.engine_checks[name] = reason
                return None
            expr = checks.contract_expr(raw, name, self.mapping)
            key = self._check_cache_key(loc)
            found = checks.cached_check(key) if key else None
            if found is None:
                sources = checks.source_columns(raw, name, self.mapping)
                schema = raw.schema()
                integer_ids = frozenset(c.name for c in C.TABLES[name].columns
                                        if c.kind == "id" and c.name in sources and schema[sources[c.name]].is_integer())
                found = checks.check_in_engine(expr, name, self.config.options, set(sources), integer_ids)
                if key:
                    checks.remember_check(key, found)
        except Exception as exc:  # unreadable or odd: the pandas reader says what is wrong
            self.engine_checks[name] = f"not checked in the engine ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
            return None
        self.engine_checks[name] = found
        return expr if found.clean else None

    def _check_cache_key(self, loc: Location) -> str | None:
        """The cache key of a file's check (a DuckDB file counts with its write-ahead log)."""
        from metrics_lib.data import checks

        files = [Path(loc.path)]
        if loc.format == "duckdb":
            kind = self.con.raw_sql(
                "SELECT table_type FROM information_schema.tables WHERE table_catalog = 'source_db' "
                "AND table_name = ?", parameters=[loc.name]).fetchall()
            if not kind or kind[0][0] != "BASE TABLE":
                return None  # a view: its data lies elsewhere, so the file says nothing of it
            wal = Path(f"{loc.path}.wal")
            files += [wal] if wal.exists() else []
        return checks.cache_key(files, loc.table, loc.name, self.mapping, self.config.options)

    def rows(self, table: str) -> int | None:
        """Rows of a table read so far (in pandas or in the engine); None before it is read."""
        if table in self._frames:
            return len(self._frames[table])
        found = self.engine_checks.get(table)
        return found.rows if hasattr(found, "rows") else None

    def date_span(self, table: str) -> tuple[date, date] | None:
        """First and last date of the table's date column (None when it has no dated rows);
        reads the table if it was not read yet."""
        col = C.TABLES[table].date_column
        if col is None:
            return None
        if table not in self._frames:
            self.table(table)
        found = self.engine_checks.get(table)
        if table not in self._frames and hasattr(found, "first_date"):
            return None if found.first_date is None else (found.first_date, found.last_date)
        values = self._frames[table][col]
        if not values.notna().any():
            return None
        return values.min().date(), values.max().date()

    # -- facts about the data ----------------------------------------------------------------
    def last_date(self) -> date | None:
        """The latest date of activity (orders, else any dated table)."""
        order = ["orders"] + [t for t in self.locations if t != "orders"]
        for t in order:
            if self.has(t) and C.TABLES[t].date_column:
                span = self.date_span(t)
                if span is not None:
                    return span[1]
        return None

    def latest_complete_period(self, kind: str = "quarter") -> Period:
        """The latest month, quarter or year that the data covers to its last day."""
        last = self.last_date()
        if last is None:
            raise WorkbookError(f"{self.path}: no dated rows, so there is no complete period")
        return latest_complete(last, kind)

    def default_period(self) -> Period:
        if self.config.default_period:
            return parse_period(self.config.default_period)
        return self.latest_complete_period("quarter")

    def fingerprints(self) -> list[dict]:
        """Path, size, sha256, rows and latest date of every input table (no size or hash for a
        table in a database)."""
        out = []
        for table, loc in self.locations.items():
            rows = self.rows(table)
            span = self.date_span(table) if rows is not None else None
            is_file = isinstance(loc.path, Path)
            out.append({
                "table": table, "path": str(loc.path), "size": loc.path.stat().st_size if is_file else None,
                "sha256": _sha256(loc.path) if is_file else None, "rows": rows,
                "latest_date": None if span is None else _fmt_date(span[1]),
            })
        return out

    def describe(self) -> str:
        return f"{self.path} ({self.kind}, {len(self.locations)} tables)"

    def with_options(self, **kw) -> "DataSource":
        new = DataSource(self.path, mapping=self.mapping.path, on_invalid=self.on_invalid)
        new.config = replace(self.config, **kw)
        return new


def _not_utf8_problem(loc: "Location", exc: UnicodeDecodeError) -> Problem:
    """The problem for a file that is not UTF-8: the first bad byte, its line, and the fix."""
    start, line = exc.start, None
    try:
        with open(loc.path, "rb") as fh:
            data = fh.read(64 << 20)  # the reader decodes in chunks: find the offset in the file
        data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as whole:
        bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
        start = whole.start + bom
        line = data.count(b"\n", 0, start) + 1
    except OSError:
        data = b""
    bad = data[start:start + 1] or exc.object[exc.start:exc.start + 1]
    where = f"(byte {start}: {bad!r})" + (f" on line {line}" if line else "")
    fix = "save the export as UTF-8 (in Excel: 'CSV UTF-8'); the file was not changed"
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        fix = "the file is UTF-16 (it starts with a UTF-16 byte order mark): " + fix
    return Problem(loc.table, f"the file is not UTF-8 text {where}", fix, file=str(loc.path))



def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _row_labeler(fmt: str):
    if fmt == "csv":
        return lambda i: f"line {i + 2}"
    return lambda i: f"row {i + 1}"


def _problem_from_rows(table, where, column, rule, fix, values: pd.Series, labeler, rows=None,
                       formatted: bool = False) -> Problem:
    """A problem for ``rows``; ``formatted`` values are already text (``col=value, ...``), shown whole."""
    if rows is None:
        rows = values.index
    rows = list(rows)
    show = str if formatted else _show
    examples = tuple((labeler(i), show(values.loc[i])) for i in rows[:MAX_EXAMPLES])
    return Problem(table, rule, fix, file=where, column=column, count=len(rows), examples=examples,
                   rows=tuple(int(i) for i in rows))


def _show(v) -> str:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return "(empty)"
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d %H:%M:%S").removesuffix(" 00:00:00")
    text = repr(v) if isinstance(v, str) else str(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _show_fields(row: pd.Series) -> str:
    return ", ".join(f"{c}={_show(v)}" for c, v in row.items())


# -- parsing -------------------------------------------------------------------------------

def _parse_column(raw: pd.Series, col: C.ColumnSpec, date_format: str | None):
    """Parse one column into its contract type.

    Returns ``(values, None)`` or ``(values, (rule, fix, bad_row_index))`` when some values
    cannot be parsed.
    """
    kind = col.kind
    present = raw.notna()
    if kind in ("id", "str"):
        if pd.api.types.is_float_dtype(raw) and kind == "id":
            # ids read from Parquet/DuckDB as floats (1.0): show them as integers
            as_int = raw.dropna()
            if (as_int == as_int.round()).all():
                raw = raw.astype("Int64")
        out = raw.astype("string")
        return out, None
    if kind in ("date", "timestamp"):
        return _parse_dates(raw, col, date_format)
    if kind in ("float", "int"):
        if pd.api.types.is_bool_dtype(raw):
            raw = raw.astype(int)
        nums = pd.to_numeric(raw, errors="coerce") if not pd.api.types.is_numeric_dtype(raw) else raw.astype(float)
        bad = present & nums.isna()
        if bad.any():
            return nums, (_bad_rows(bad), f"not a number (expected {'a whole number' if kind == 'int' else 'a number'})",
                          "write plain numbers: no currency symbols, units or thousands separators; leave empty for unknown")
        if kind == "int":
            frac = nums.notna() & (nums != nums.round())
            if frac.any():
                return nums, (_bad_rows(frac), "not a whole number",
                              "this column takes whole numbers (e.g. a score of 7, not 7.5)")
            return nums.round().astype("Int64"), None
        return nums.astype("float64"), None
    if kind == "bool":
        if pd.api.types.is_bool_dtype(raw):
            return raw.astype("boolean"), None
        text = raw.astype("string").str.strip().str.lower()
        mapping = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False,
                   "t": True, "f": False, "y": True, "n": False, "1.0": True, "0.0": False}
        out = text.map(mapping).astype("boolean")
        bad = present & out.isna()
        if bad.any():
            return out, (_bad_rows(bad), "not true/false", "write true or false (also accepted: 1/0, yes/no)")
        return out, None
    raise AssertionError(kind)


def _bad_rows(mask: pd.Series) -> pd.Index:
    return mask[mask].index


def _parse_dates(raw: pd.Series, col: C.ColumnSpec, date_format: str | None):
    if pd.api.types.is_datetime64_any_dtype(raw):
        out = raw
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_convert("UTC").dt.tz_localize(None)
        out = out.astype("datetime64[ns]")
        return (out.dt.normalize() if col.kind == "date" else out), None
    text = raw.astype("string").str.strip()
    present = text.notna()
    if date_format:
        out = pd.to_datetime(text, format=date_format, errors="coerce")
        fix = f"dates must follow the mapping's date_format {date_format!r}"
    else:
        has_tz = text.str.contains(_TZ_SUFFIX, na=False)
        if has_tz.any() and (present & ~has_tz).any():
            mixed = present & ~has_tz
            return text, (_bad_rows(mixed), "time zones are mixed: some values carry an offset, these do not",
                          "export every timestamp in one time zone, all with an offset (e.g. +00:00) or all without")
        ambiguous = text.str.match(r"^\d{1,2}[/.]\d{1,2}[/.]\d{2,4}")
        if ambiguous.any():
            ambiguous = ambiguous.fillna(False)
            rule = "not an ISO date (day-first or month-first is ambiguous)"
            if (present & ~ambiguous).any():
                rule += "; other rows are written in another format, so the column mixes date formats"
            return text, (_bad_rows(ambiguous), rule,
                          "write dates as YYYY-MM-DD, or set `date_format` for this table in the mapping file "
                          "(e.g. \"%d/%m/%Y\")")
        out = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=bool(has_tz.any()))
        if has_tz.any():
            out = out.dt.tz_convert("UTC").dt.tz_localize(None)
        fix = "write dates as YYYY-MM-DD (timestamps as YYYY-MM-DD HH:MM:SS), or set `date_format` in the mapping file"
    out = out.astype("datetime64[ns]")
    bad = present & out.isna()
    if bad.any():
        return out, (_bad_rows(bad), "not a date", fix)
    if col.kind == "date":
        out = out.dt.normalize()
    return out, None


def _pandera_problems(table, where, spec: C.TableSpec, df: pd.DataFrame, options, labeler) -> list[Problem]:
    import pandera.pandas as pa

    schema = C.schema_for(spec, options)
    try:
        schema.validate(df, lazy=True)
        return []
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
    problems = []
    rules = {r.name: r for r in spec.rules}
    key_reported = False
    for (context, column, check), group in fc.groupby(["schema_context", "column", "check"], sort=False, dropna=False):
        rows = pd.Index(sorted({int(i) for i in group["index"].dropna()}))
        check = str(check)
        if context == "DataFrameSchema" and check in rules:
            rule = rules[check]
            if column != rule.columns[0]:
                continue  # pandera lists a wide check once per column; report it once
            shown = df.loc[rows, list(rule.columns)]
            key = spec.key[0] if spec.key else None
            values = shown.apply(_show_fields, axis=1)
            if key and key not in rule.columns:
                values = df.loc[rows, key].map(lambda k: f"{key}={_show(k)}") + ", " + values
            problems.append(_problem_from_rows(table, where, None, f"rule broken: {rule.name}", rule.fix,
                                               pd.Series(values.values, index=rows), labeler, rows=rows,
                                               formatted=True))
            continue
        if context == "DataFrameSchema" and check.startswith("multiple_fields_uniqueness"):
            if key_reported:
                continue  # pandera lists the key check once per key column; report it once
            key_reported = True
            keycols = list(spec.key)
            dup = df.duplicated(keycols, keep=False)
            rows = dup[dup].index
            values = df.loc[rows, keycols].apply(_show_fields, axis=1)
            problems.append(_problem_from_rows(
                table, where, None, f"duplicate key ({', '.join(keycols)})",
                "each key may appear once: remove the duplicate rows", values, labeler, rows=rows,
                formatted=True))
            continue
        col = spec.column(column) if column in spec.column_names else None
        rule, fix = _describe_check(check, col)
        if len(rows) == 0:  # e.g. nulls reported without index
            rows = df.index[df[column].isna()] if column in df else rows
        problems.append(_problem_from_rows(table, where, column, rule, fix, df[column], labeler, rows=rows))
    return problems


def _describe_check(check: str, col: C.ColumnSpec | None) -> tuple[str, str]:
    name = col.name if col else "?"
    if check == "not_nullable":
        return "empty values are not allowed", f"fill `{name}` in every row, or remove rows without it"
    if check == "field_uniqueness":
        return "duplicate values in a unique key", f"each `{name}` may appear once: remove duplicates or fix the ids"
    if check.startswith("isin"):
        return (f"value not allowed (allowed: {', '.join(col.allowed)})",
                f"use one of {', '.join(col.allowed)} (lower case, as written)")
    if check.startswith("greater_than_or_equal_to"):
        return f"value below the minimum {col.min:g}", f"`{name}` must be at least {col.min:g}"
    if check.startswith("less_than_or_equal_to"):
        return f"value above the maximum {col.max:g}", f"`{name}` must be at most {col.max:g}"
    return f"check {check} failed", "correct the values shown"

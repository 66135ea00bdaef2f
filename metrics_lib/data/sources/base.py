"""What every kind of data source shares: :class:`DataSource`.

A source is opened by :func:`metrics_lib.data.sources.open_source`, which picks the kind: a folder
of files or a DuckDB file (:mod:`.files`), a PostgreSQL database or a Spark session's tables
(:mod:`.engines`). Whatever the kind, a table is found through the optional column mapping,
checked against the contract in the engine when it has typed columns
(:mod:`metrics_lib.data.engine_checks`, remembered by :mod:`metrics_lib.data.check_cache`), and
otherwise read into pandas, parsed and validated with row-level messages (:mod:`.pandas_reader`,
with :mod:`metrics_lib.data.parsing` and :mod:`metrics_lib.data.validation`), quarantined when
asked, and checked for foreign keys. This module holds that shared logic, the tables' date spans
and fingerprints, and the one set-up every kind goes through (the facts the reports ask of the
data, its segments and periods, are in :mod:`.facts`); a kind only says how to find, read and
connect to its tables.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from metrics_lib.core.engine import out_of_memory_message
from metrics_lib.core.errors import ContractError, Problem, WorkbookError
from metrics_lib.data import check_cache, engine_checks
from metrics_lib.data import contract as C
from metrics_lib.data.config import ColumnMapping, Location, SourceConfig, resolve_path
from metrics_lib.data.parsing import problem_from_rows, row_numberer
from metrics_lib.data.safe_io import open_regular
from metrics_lib.data.sources.facts import DataFacts
from metrics_lib.data.sources.pandas_reader import contract_frame
from metrics_lib.data.validation import TableSummary, ValidationReport, fmt_date

__all__ = ["DataSource"]


class DataSource(DataFacts, ABC):
    """A data source checked against the contract; open one with
    :func:`~metrics_lib.data.sources.open_source`.

    Parameters
    ----------
    path
        Where the data is, as the kind understands it (see :meth:`_resolve`); :attr:`path` is
        what messages and reports call the source.
    mapping : path-like, optional
        A column-mapping YAML file (relative paths resolve from the current folder); a kind may
        find one beside the data when none is given.
    on_invalid : {"strict", "quarantine"}
        ``strict`` (default) stops at the first table that breaks the contract;
        ``quarantine`` sets the offending rows aside in :attr:`rejected` and goes on.
    config : SourceConfig or path-like, optional
        The settings ``source.yml`` holds, or the path of such a file; by default the kind's own
        (``source.yml`` beside a folder or DuckDB file).
    """

    kind: str
    #: The attributes that open the same data again (see :meth:`with_options`).
    _reopen_with: tuple[str, ...] = ("path",)
    #: Whether a text id column with no blanks around its ids is used as stored, untrimmed
    #: (:func:`~metrics_lib.data.engine_checks.check_table`): only where the engine compares
    #: text as it hands it out (DuckDB, whose ``CHAR`` is ``VARCHAR``), not PostgreSQL's
    #: blank-padded ``char(n)``.
    ids_as_stored: bool = False

    def __init__(self, path, *, mapping=None, on_invalid: str = "strict", config=None):
        if on_invalid not in ("strict", "quarantine"):
            raise WorkbookError(f"on_invalid ({on_invalid!r}) must be 'strict' or 'quarantine'")
        self.on_invalid = on_invalid
        self.path = self._resolve(path)
        if mapping is None:
            mapping = self._default_mapping()
        self.mapping = (
            ColumnMapping.read(resolve_path(mapping, base=Path.cwd())) if mapping else ColumnMapping()
        )
        if isinstance(config, SourceConfig):
            self.config = config
        elif config is not None:
            self.config = SourceConfig.read(resolve_path(config, base=Path.cwd()))
        else:
            self.config = self._default_config()
        self._frames: dict[str, pd.DataFrame] = {}
        self._problems: dict[str, list[Problem]] = {}
        self.rejected: dict[str, pd.DataFrame] = {}
        # for a frame with rows set aside: the source row (0-based) of each row kept
        self._origin: dict[str, np.ndarray] = {}
        # in quarantine: each table read into pandas as stored (the cells the rows set aside show)
        self._stored: dict[str, pd.DataFrame] = {}
        # for a table built from an event log: the log's row of each row's first event
        self._event_rows: dict[str, np.ndarray] = {}
        self._event_notes: dict[str, list[str]] = {}  # activities the log lacks (event_log.py)
        self._checked_all = False
        self._known: dict = {}  # segments and filled columns, asked once
        self._con = None
        self._tables: dict = {}
        self.engine_checks: dict = {}
        self._check_keys: dict[str, str | None] = {}  # each table's check-cache key
        self._given_checks: dict = {}  # clean checks of these very files, made elsewhere
        self.locations = self._locate()

    # -- what a kind provides ----------------------------------------------------------------
    def _resolve(self, path):
        """The source's :attr:`path` from the argument (checked, when the kind can check it)."""
        return path

    def _default_mapping(self):
        """The mapping file used when none is given (None: no mapping)."""
        return None

    def _default_config(self) -> SourceConfig:
        """The settings used when no ``config`` is given."""
        return SourceConfig()

    @abstractmethod
    def _locate(self) -> dict[str, Location]:
        """Where each table of the contract that the source holds is."""

    @abstractmethod
    def _read_raw(self, loc: Location) -> pd.DataFrame:
        """The stored table as a pandas frame, untouched."""

    @property
    @abstractmethod
    def con(self):
        """The Ibis connection where the aggregations run."""

    def _raw_engine_table(self, loc: Location):
        """The stored table as an Ibis expression on :attr:`con`, untouched (None when the table
        cannot be checked in the engine)."""
        return None

    def _check_cache_key(self, loc: Location) -> str | None:
        """The key a clean check of the table is remembered under (None: not remembered, as for a
        table in a database, which has no file identity to key it on)."""
        return None

    def _unrecognised_files(self, missing: list[str]) -> list[Problem]:
        """Files named almost like a missing table (none but in a folder)."""
        return []

    # -- tables ------------------------------------------------------------------------------
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

    def frame(self, table: str) -> pd.DataFrame:
        """The table as a validated pandas DataFrame with the contract's columns and types.

        Raises :class:`ContractError` (strict mode) when the table breaks the contract.
        """
        if table not in C.TABLES:
            raise WorkbookError(
                f"`{table}` is not a table of the data contract; known: {', '.join(C.TABLES)}"
            )
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
        df, problems, stored = contract_frame(
            table, loc, self._read_raw(loc), self.mapping, self.config.options
        )
        if self.on_invalid == "quarantine":
            self._stored[table] = stored
        if "event_rows" in stored.attrs:
            self._event_rows[table] = stored.attrs["event_rows"]
            self._event_notes[table] = list(stored.attrs.get("event_notes", []))
        if not isinstance(df.index, pd.RangeIndex):  # orders rolled up from lines: row of each
            self._origin[table] = df.index.to_numpy()
            df = df.reset_index(drop=True)
        return df, problems

    def _row_numberer(self, table: str):
        """How the rows of ``table`` are numbered in messages (:func:`row_numberer`); a table built
        from an event log names each row by its first event's line in the log."""
        loc = self.locations[table]
        word, number = row_numberer(loc.format, loc.path)
        first = self._event_rows.get(table)
        if first is None:
            return word, number
        return word, lambda i: number(int(first[i]))

    def _quarantine(self, table: str, df: pd.DataFrame, problems: list[Problem]) -> pd.DataFrame:
        """``df`` without the rows ``problems`` name (rows of the source, 0-based), which join
        those set aside before in :attr:`rejected`: where each is in the source (column ``line``
        of a CSV file, ``row`` elsewhere, numbered as the messages number them), the rule it
        broke, and its contract columns as stored (the text that broke the rule, not the parsed
        value)."""
        origin = self._origin.get(table, np.arange(len(df)))
        reasons: dict[int, list[str]] = {}
        for p in problems:
            for r in p.rows:
                reasons.setdefault(r, []).append(f"{p.column + ': ' if p.column else ''}{p.rule}")
        out = np.isin(origin, list(reasons))
        at = origin[out]
        stored = self._stored.get(table)
        if stored is None:  # not read into pandas here: the parsed values are all there is
            rejected = df[out].set_axis(at)
        else:
            kept = [c for c in C.TABLES[table].column_names if c in stored.columns]
            rejected = stored.iloc[at][kept].set_axis(at)
        word, number = self._row_numberer(table)
        rejected.insert(0, "reason", ["; ".join(reasons[int(i)]) for i in at])
        rejected.insert(0, word, [number(int(i)) for i in at])
        earlier = self.rejected.get(table)
        if earlier is not None and len(earlier):
            rejected = pd.concat([earlier, rejected]).sort_index(kind="stable")
        self.rejected[table] = rejected
        self._problems[table] = self._problems.get(table, []) + problems
        self._origin[table] = origin[~out]
        self._known.clear()  # what was learnt of the table may have changed
        return df[~out].reset_index(drop=True)

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
            summaries.append(s)
        if self.on_invalid == "quarantine":
            self._set_aside_orphans()
        for s in summaries:
            date_column = C.TABLES[s.table].date_column
            if s.rows is not None:
                s.rows = len(self._frames[s.table])
            if s.rows is not None and date_column:
                col = self._frames[s.table][date_column]
                s.first_date, s.last_date = (col.min(), col.max()) if len(col) else (None, None)
        for s in summaries:
            if s.rows is not None:
                s.set_aside = self.set_aside(s.table)
                s.set_aside_rows = len(self.rejected.get(s.table, ()))
                s.problems = s.set_aside + self.foreign_key_problems(s.table)
            problems += s.problems
        missing = [t for t in C.TABLES if not self.has(t)]
        problems += self._unrecognised_files(missing)
        no_tables = None
        if not self.locations and not problems and self.kind == "folder":
            # not a contract problem (load_all's callers say it their way), but validate must fail
            found = (
                ", ".join(sorted(p.name for p in self.path.iterdir() if not p.name.startswith(".")))
                or "(none)"
            )
            no_tables = Problem(
                "customers",
                "no table of the data contract was found in this folder",
                f"name the files after the tables: customers.csv, orders.csv, ... (or .parquet), or name "
                f"them with `source:` in a mapping file; files found: {found}",
                file=str(self.path),
            )
        notes = [
            f"{self.locations[s.table].path}: table `{s.table}` has a header but no rows; check the "
            "export (the families that need it will find no data in any period)"
            for s in summaries
            if s.rows == 0
        ]
        notes += [n for s in summaries for n in self._event_notes.get(s.table, [])]
        for s in summaries:
            for fk in C.TABLES[s.table].foreign_keys:
                if s.rows and not self.has(fk.ref_table) and self._frames[s.table][fk.column].notna().any():
                    add = (
                        f"{fk.ref_table}.csv (or .parquet)"
                        if self.kind == "folder"
                        else f"a table `{fk.ref_table}`"
                    )
                    notes.append(
                        f"{self.locations[s.table].path}: table `{s.table}`, column `{fk.column}` refers "
                        f"to table `{fk.ref_table}`, which is missing, so its values were not checked; "
                        f"add {add} to check them"
                    )
        mix = self.order_mix() if "orders" in self._frames else None
        if self.kind == "folder":
            hint = (
                f"put <table>.csv or <table>.parquet into {self.path}, or name its file with `source:` "
                "in a mapping file"
            )
        else:
            hint = f"create a table of that name in {self.path}, or name it with `source:` in a mapping file"
        return ValidationReport(
            str(self.path),
            summaries,
            missing,
            problems,
            self.missing_families(),
            notes,
            hint,
            no_tables,
            on_invalid=self.on_invalid,
            order_mix=mix,
        )

    def set_aside(self, table: str) -> list[Problem]:
        """In quarantine: the problems whose rows were set aside from ``table`` so far (the rows are
        in :attr:`rejected`), each naming its rows as the source does; empty otherwise (in strict
        mode, and for a table that could not be used at all)."""
        if self.on_invalid != "quarantine" or table not in self._frames:
            return []
        return list(self._problems.get(table, []))

    def foreign_key_problems(self, table: str) -> list[Problem]:
        """Rows of ``table`` whose references point at no row of the referenced table (or, in
        quarantine, only at a row set aside); the rows are named as in the source."""
        spec = C.TABLES[table]
        df = self._frames.get(table)
        if df is None:
            return []
        out = []
        loc = self.locations[table]
        where = str(loc.path) if loc.format != "duckdb" else f"{loc.path} (table {loc.name})"
        word, number = self._row_numberer(table)
        labeler = lambda i: f"{word} {number(i)}"  # noqa: E731
        origin = self._origin.get(table)
        for fk in spec.foreign_keys:
            if not self.has(fk.ref_table) or df[fk.column].isna().all():
                continue
            try:
                ref = self.frame(fk.ref_table)[fk.ref_column]
            except ContractError:
                continue
            values = df[fk.column] if origin is None else df[fk.column].set_axis(origin)
            orphan = values.notna() & ~values.isin(set(ref.dropna()))
            if not orphan.any():
                continue
            aside = self.rejected.get(fk.ref_table)
            gone = orphan & values.isin(set(aside[fk.ref_column].dropna()) if aside is not None else set())
            fix = f"add the missing rows to `{fk.ref_table}` or remove these rows from `{table}`"
            if (table, fk.column) == ("orders", "customer_id"):  # empty is a guest, not "unknown"
                fix += "; a guest order (no customer) leaves `customer_id` empty"
            elif spec.column(fk.column).nullable:
                fix = (
                    f"add the missing rows to `{fk.ref_table}`, or leave `{fk.column}` empty in these "
                    "rows when the reference is unknown"
                )
            kinds = (
                (
                    orphan & ~gone,
                    f"references a `{fk.ref_column}` not in table `{fk.ref_table}` (orphan foreign key)",
                    fix,
                ),
                (
                    gone,
                    f"references a `{fk.ref_column}` whose row in table `{fk.ref_table}` was set aside "
                    "(orphan foreign key)",
                    f"correct the rows of `{fk.ref_table}` that were set aside (see their reasons); these "
                    "rows are kept once their references hold",
                ),
            )
            for mask, rule, how in kinds:
                if mask.any():
                    rows = mask[mask].index
                    out.append(
                        problem_from_rows(table, where, fk.column, rule, how, values, labeler, rows=rows)
                    )
        return out

    def _set_aside_orphans(self) -> None:
        """In quarantine: set aside the rows whose reference points at no row kept, and again for
        the rows that pointed at those, until every reference holds; each is counted in
        :attr:`rejected` with its reason, so every consumer computes without them."""
        changed = True
        while changed:
            changed = False
            for table in list(self._frames):
                problems = self.foreign_key_problems(table)
                if problems:
                    self._frames[table] = self._quarantine(table, self._frames[table], problems)
                    self._tables.pop(table, None)  # the engine gets the frame without them
                    changed = True

    def check_all(self) -> None:
        """Every table checked against the contract, foreign keys included, without reading
        clean typed tables into pandas.

        Each table goes through :meth:`table` (checked in the engine when it can be, else parsed
        and validated in pandas) and each foreign key is an anti-join in the engine. Only when
        something is wrong are the tables read into pandas (:meth:`load_all`), so that every
        problem is listed with its rows; like :meth:`load_all`, that raises
        :class:`ContractError` in strict mode, and in quarantine sets the offending rows aside,
        orphans included. Every aggregation calls it first
        (:meth:`metrics_lib.metrics.aggregate.Scope.of`), so no number is computed on unchecked
        data; once it has passed, calling it again costs nothing.
        """
        if self._checked_all:
            return
        try:
            for table in self.locations:
                self.table(table)
        except ContractError:
            self.load_all()
            self._checked_all = True
            return
        missing = [t for t in C.TABLES if not self.has(t)]
        if self._unrecognised_files(missing) or self._has_orphans():
            self.load_all()
        self._checked_all = True

    def file_checks(self) -> dict:
        """The clean engine checks made so far of tables with a file identity (table ->
        :class:`~metrics_lib.data.engine_checks.EngineCheck`), the ones :meth:`trust_checks` may
        hand to another process: a view in a DuckDB file has none (its data lies elsewhere)."""
        return {
            t: c
            for t, c in self.engine_checks.items()
            if isinstance(c, engine_checks.EngineCheck) and c.clean and self._check_keys.get(t)
        }

    def trust_checks(self, checks: dict) -> None:
        """Take the clean engine checks (table -> :class:`~metrics_lib.data.engine_checks.EngineCheck`)
        and the passed foreign keys of another process that checked these very files whole (a
        report run's runner, :func:`metrics_lib.metrics.shared_results.open_report_source`): their
        tables are used without checking them again, even when no check cache is kept."""
        self._given_checks = dict(checks)
        self._checked_all = True

    def _has_orphans(self) -> bool:
        """Whether some reference points at no row of the table it names (counted in the engine).
        "None" is remembered with the tables' clean checks, for the same files
        (:func:`~metrics_lib.data.check_cache.references_key`)."""
        keys = [self._check_keys.get(t) for t in self.locations]
        remembered = None
        if keys and all(keys) and not self._frames:
            remembered = check_cache.references_key([k for k in keys if k])
            if check_cache.references_held(remembered):
                return False
        for table in self.locations:
            for fk in C.TABLES[table].foreign_keys:
                if not self.has(fk.ref_table):
                    continue
                t, ref = self.table(table), self.table(fk.ref_table).view()
                col = t[fk.column]
                orphans = t.filter(col.notnull()).anti_join(ref, col == ref[fk.ref_column]).count()
                if int(orphans.to_pyarrow().as_py()):
                    return True
        if remembered is not None:
            check_cache.remember_references(remembered)
        return False

    def load_all(self) -> dict[str, pd.DataFrame]:
        """Every table present, validated with foreign keys; raises ContractError listing all problems."""
        report = self.validate()
        if report.problems and self.on_invalid == "strict":
            raise ContractError(report.problems)
        return {t: self._frames[t] for t in self.locations if t in self._frames}

    # -- engine ----------------------------------------------------------------------------

    def table(self, name: str):
        """The validated table as an Ibis expression on the engine.

        A Parquet file or DuckDB table with typed columns is checked against the contract by the
        engine and, when clean, used in place (:mod:`metrics_lib.data.engine_checks`); anything else is read,
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

    def _checked_in_engine(self, name: str):
        """The table checked and shaped in the engine, or None when it must go through pandas
        (text columns to parse, a broken rule, a table already read into pandas). The outcome
        for each table is kept in :attr:`engine_checks` (an :class:`~metrics_lib.data.engine_checks.EngineCheck`
        or the reason it was not used)."""
        if name in self._frames or name not in self.locations or name in self.engine_checks:
            return None
        loc = self.locations[name]
        try:
            raw = self._raw_engine_table(loc)
            if raw is None:
                return None
            reason = engine_checks.native_type_problem(raw, name, self.mapping)
            if reason is not None:
                self.engine_checks[name] = reason
                return None
            key = self._check_cache_key(loc)
            self._check_keys[name] = key
            found = self._given_checks.get(name) or (check_cache.cached_check(key) if key else None)
            if found is None:
                found = engine_checks.check_table(
                    raw, name, self.mapping, self.config.options, ids_as_stored=self.ids_as_stored
                )
                if key:
                    check_cache.remember_check(key, found)
        except Exception as exc:  # unreadable or odd: the pandas reader says what is wrong
            if out_of_memory_message(exc):  # reading it all into pandas would need more still
                raise
            self.engine_checks[name] = (
                f"not checked in the engine ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
            )
            return None
        self.engine_checks[name] = found
        if not found.clean:
            return None
        return engine_checks.contract_expr(raw, name, self.mapping, plain_ids=found.plain_ids)

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

    def fingerprints(self) -> list[dict]:
        """Path, size, sha256, rows and latest date of every input table (no size or hash for a
        table in a database)."""
        out = []
        for table, loc in self.locations.items():
            rows = self.rows(table)
            span = self.date_span(table) if rows is not None else None
            is_file = isinstance(loc.path, Path)
            out.append(
                {
                    "table": table,
                    "path": str(loc.path),
                    "size": loc.path.stat().st_size if is_file else None,
                    "sha256": _sha256(loc.path) if is_file else None,
                    "rows": rows,
                    "latest_date": None if span is None else fmt_date(span[1]),
                }
            )
        return out

    def describe(self) -> str:
        return f"{self.path} ({self.kind}, {len(self.locations)} tables)"

    def with_options(self, **kw) -> DataSource:
        """The same data opened again with some of the settings of ``source.yml`` replaced
        (``inactivity_days=90``)."""
        args = [getattr(self, name) for name in self._reopen_with]
        return type(self)(
            *args, mapping=self.mapping.path, on_invalid=self.on_invalid, config=replace(self.config, **kw)
        )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open_regular(path) as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()

"""The pandas reader: a stored table, as read, turned into the contract's typed columns.

:class:`~metrics_lib.data.sources.DataSource` reads a table into pandas when the engine cannot
check it in place (:mod:`metrics_lib.data.engine_checks`): text columns to parse, a broken rule,
or a kind without typed columns. :func:`contract_frame` then renames the columns as the mapping
says, checks the header (mapped columns present, no repeated or missing required names), parses
every column (:mod:`metrics_lib.data.parsing`), rolls invoice lines up into orders and marks
returns when the mapping says so (``lines:``, ``returns:``), and validates the rows with the
contract's pandera schema (:mod:`metrics_lib.data.validation`), listing every problem with the rows
it concerns.
Reading the stored table, quarantine and foreign keys stay with the source.
"""

from __future__ import annotations

import difflib
from dataclasses import replace

import pandas as pd

from metrics_lib.core.errors import Problem, some
from metrics_lib.data import contract as C
from metrics_lib.data.config import ColumnMapping, Location
from metrics_lib.data.event_log import tickets_from_events
from metrics_lib.data.parsing import parse_column, problem_from_rows, row_labeler
from metrics_lib.data.validation import pandera_problems

__all__ = ["contract_frame"]


def contract_frame(
    table: str, loc: Location, raw: pd.DataFrame, mapping: ColumnMapping, options: C.ContractOptions
) -> tuple[pd.DataFrame, list[Problem], pd.DataFrame]:
    """The table ``raw`` (as stored at ``loc``, untouched) as a frame of the contract's columns
    and types, with every problem found in it, and ``raw`` with the mapping's renames and trimmed
    names (its cells as stored, row for row: what the rows set aside in quarantine show).

    The mapping's renames are applied and the column names trimmed; a name the mapping wants but
    the table lacks, a rename onto a name the table already has, a name heading two columns or a
    missing required column stops there, returning ``raw`` in place of the frame, with the
    problems found. Otherwise each contract column is parsed
    (:func:`~metrics_lib.data.parsing.parse_column`; an optional column the table lacks is all
    empty) and the rows that parsed are validated with the contract's pandera schema under
    ``options`` (:func:`~metrics_lib.data.validation.pandera_problems`). The problems name rows
    of the source (0-based positions, labelled as in the file). With ``lines:`` in the mapping the
    frame has one row per order, indexed by the source row that stands for it
    (:func:`_roll_up_lines`); otherwise its index is a plain range.
    """
    spec = C.TABLES[table]
    where = str(loc.path) if loc.format != "duckdb" else f"{loc.path} (table {loc.name})"
    read_as = [str(c).strip() for c in raw.columns]
    tm = mapping.for_table(table)
    problems: list[Problem] = []
    labeler = row_labeler(loc.format, loc.path)
    if tm.events is not None:  # an event log: one row per case from here on, named by its first event
        log = raw
        raw, first_rows, problems = tickets_from_events(
            log,
            tm.events,
            tm.columns,
            date_format=tm.date_format,
            where=where,
            labeler=labeler,
            mapping=mapping.path,
        )
        if raw is None:
            return log, problems, log
        raw.attrs["event_rows"] = first_rows
        by_event, labeler = labeler, lambda i: by_event(int(first_rows[i]))
        read_as = list(raw.columns)
        tm = replace(tm, columns={})
    if tm.columns:
        absent = [theirs for theirs in tm.columns if theirs not in raw.columns]
        if absent:
            problems.append(
                Problem(
                    table,
                    f"the mapping names column(s) {', '.join(f'`{a}`' for a in absent)} that the file lacks",
                    f"columns found: {some(raw.columns)}; correct {mapping.path}",
                    file=where,
                )
            )
            return raw, problems, raw
        clash = [
            ours
            for theirs, ours in tm.columns.items()
            if ours in raw.columns and ours != theirs and ours not in tm.columns
        ]
        if clash:
            problems.append(
                Problem(
                    table,
                    f"the mapping renames a column to {', '.join(f'`{c}`' for c in clash)}, which the file already has",
                    "map only one column to each contract column",
                    file=where,
                )
            )
            return raw, problems, raw
        raw = raw.rename(columns=tm.columns)
    raw.columns = [str(c).strip() for c in raw.columns]
    # only a CSV reader renames repeated names (`revenue.1`); elsewhere a name is as stored
    mangled = set(spec.column_names) | set(tm.columns) if loc.format == "csv" else set()
    repeats = _repeated_names(list(raw.columns), read_as, mangled)
    if repeats:
        problems.append(
            Problem(
                table,
                ", ".join(
                    f"column `{c}`"
                    + (f" (`{read_as[at[0] - 1]}` in the file)" if read_as[at[0] - 1] != c else "")
                    + f" appears {'twice' if len(at) == 2 else f'{len(at):,} times'} "
                    + (
                        f"(columns {', '.join(map(str, at[:-1]))} and {at[-1]})"
                        if len(at) <= 10
                        else f"(columns {some(at, 10)})"
                    )
                    for c, at in list(repeats.items())[:10]
                )
                + (f", ... and {len(repeats) - 10:,} more repeated names" if len(repeats) > 10 else "")
                + " (after the mapping's renames and trimming blanks from the names)",
                "keep one column of each name: drop or rename the other, or map only one column to it "
                "(a repeated name would leave all but one of the columns unread)",
                file=where,
                column=next(iter(repeats)),
            )
        )
        return raw, problems, raw
    if tm.lines is not None:
        problems += _line_columns_problems(table, where, raw, read_as, tm, mapping)
        if problems:
            return raw, problems, raw
    computed = {"revenue"} if tm.lines is not None else set()
    for name in spec.required_columns:
        if name not in raw.columns and name not in computed:
            # a column the contract already names (`survey` for `score`) is not a candidate
            others = [c for c in raw.columns if c not in spec.column_names]
            close = difflib.get_close_matches(name, others, n=1, cutoff=0.5)
            hint = (
                f"the closest column is `{close[0]}`: rename it or map it " if close else "add it or map one "
            )
            problems.append(
                Problem(
                    table,
                    f"required column `{name}` is missing",
                    f"{hint}in a mapping file (`{close[0] if close else 'Their Name'}: {name}`); "
                    f"columns found: {some(raw.columns)}",
                    file=where,
                    column=name,
                )
            )
    if problems:
        return raw, problems, raw
    df = pd.DataFrame(index=pd.RangeIndex(len(raw)))
    for col in spec.columns:
        if col.name in raw.columns and col.name not in computed:
            values, bad = parse_column(
                raw[col.name].reset_index(drop=True), col, tm.date_format_for(col.name)
            )
            for rows, rule, fix in bad:
                problems.append(
                    problem_from_rows(
                        table,
                        where,
                        col.name,
                        rule,
                        fix,
                        raw[col.name].reset_index(drop=True),
                        labeler,
                        rows=rows,
                    )
                )
            df[col.name] = values
        else:
            df[col.name] = pd.Series(
                pd.NA if col.kind in ("id", "str", "int", "bool") else None,
                index=df.index,
                dtype=C.pandas_dtype(col.kind),
            )
    if tm.lines is not None:
        df = _roll_up_lines(table, where, raw, df, tm.lines, labeler, problems)
    if tm.returns is not None:
        marked = tm.returns.marks(df["order_id"], df["revenue"])
        df["order_type"] = df["order_type"].mask(marked, C.RETURN)
    unparsed = sorted({r for p in problems for r in p.rows} & set(df.index))
    problems += pandera_problems(table, where, spec, df.drop(index=unparsed), options, labeler)
    return df, problems, raw


def _line_columns_problems(
    table, where, raw: pd.DataFrame, read_as: list[str], tm, mapping: ColumnMapping
) -> list[Problem]:
    """The line columns ``lines:`` names that the export lacks (after the renames); the columns
    found are named as the file (``read_as``) names them."""
    out = []
    for key, theirs in (("quantity", tm.lines.quantity), ("unit_price", tm.lines.unit_price)):
        if theirs not in raw.columns:
            close = difflib.get_close_matches(theirs, read_as, n=1, cutoff=0.5)
            hint = f"did you mean `{close[0]}`? " if close else ""
            out.append(
                Problem(
                    table,
                    f"the mapping's `tables: {table}: lines: {key}` names column `{theirs}`, which the file lacks",
                    f"{hint}columns found: {some(read_as)}; correct `{key}:` under `lines:` in {mapping.path}",
                    file=where,
                )
            )
    return out


def _roll_up_lines(
    table, where, raw, df: pd.DataFrame, lines, labeler, problems: list[Problem]
) -> pd.DataFrame:
    """One row per order from one row per line: revenue = the sum of quantity x unit price, cost
    the sum of the lines' costs (empty when a line has none), the earliest line's date, the
    order's customer and first order type. Each order keeps the source row (the index) of its
    first line, or of its first broken line, so that messages and quarantine name a real line
    and an order with a broken line is set aside whole. Lines without an order id stay rows of
    their own (and are named for it). Problems with the lines are added to ``problems``."""
    amounts = {}
    for key, theirs in (("quantity", lines.quantity), ("unit_price", lines.unit_price)):
        spec = C.ColumnSpec(theirs, "float")
        column = raw[theirs].reset_index(drop=True)
        values, bad = parse_column(column, spec, None)
        for rows, rule, fix in bad:
            problems.append(problem_from_rows(table, where, theirs, rule, fix, column, labeler, rows=rows))
        missing = values.index[column.isna().to_numpy()]
        if len(missing):
            problems.append(
                problem_from_rows(
                    table,
                    where,
                    theirs,
                    "empty values are not allowed",
                    f"fill `{theirs}` in every line (it is the line's {key.replace('_', ' ')})",
                    column,
                    labeler,
                    rows=missing,
                )
            )
        amounts[key] = values
    df = df.assign(revenue=amounts["quantity"] * amounts["unit_price"])
    has_id = df["order_id"].notna()
    lines_of = df[has_id]
    customers = lines_of.groupby("order_id")["customer_id"].nunique()
    split = lines_of["order_id"].isin(customers.index[customers > 1])
    if split.any():
        rows = lines_of.index[split]
        problems.append(
            problem_from_rows(
                table,
                where,
                "customer_id",
                "the lines of one order name different customers",
                "give every line of an order the same customer (or none, for a guest order)",
                df["order_id"] + " / " + df["customer_id"].fillna("(empty)"),
                labeler,
                rows=rows,
            )
        )
    broken = {r for p in problems for r in p.rows}
    first = (
        pd.DataFrame({"order_id": lines_of["order_id"], "ok": ~lines_of.index.isin(list(broken))})
        .assign(at=lines_of.index)
        .sort_values(["ok", "at"], kind="stable")
        .groupby("order_id", sort=False)["at"]
        .first()
    )
    g = lines_of.groupby("order_id", sort=False)
    orders = pd.DataFrame(
        {
            "customer_id": g["customer_id"].first(),
            "order_date": g["order_date"].min(),
            "revenue": g["revenue"].sum(min_count=1),
            "cost": g["cost"].sum(min_count=1).where(g["cost"].count() == g.size()),
            "order_type": g["order_type"].first(),
        }
    )
    orders.insert(0, "order_id", orders.index.astype("string"))
    orders.index = pd.Index(first.reindex(orders.index).to_numpy())
    out = pd.concat([orders, df[~has_id]]).sort_index(kind="stable")
    for col in C.TABLES[table].columns:
        out[col.name] = out[col.name].astype(C.pandas_dtype(col.kind))
    return out[C.TABLES[table].column_names]


def _repeated_names(names: list[str], read_as: list[str], wanted: set[str]) -> dict[str, list[int]]:
    """Names heading more than one column, with the columns' positions (from 1), in one pass.

    ``names`` are the columns' names after the mapping's renames, ``read_as`` as the reader gave
    them. pandas reads a CSV header's repeats of ``revenue`` as ``revenue.1``, ``revenue.2``: when
    ``revenue`` is ``wanted`` (a contract column or one the mapping renames) those count as the
    column it repeats, so a repeated amount column is named instead of silently left unread.
    """
    first = {}
    for i, name in enumerate(read_as):
        first.setdefault(name, i)
    at: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        head, dot, tail = read_as[i].rpartition(".")
        if dot and tail.isdigit() and head in wanted and head in first:
            name = names[first[head]]
        at.setdefault(name, []).append(i + 1)
    return {name: cols for name, cols in at.items() if len(cols) > 1}

"""What validation reports, and pandera's findings put in the user's words.

:class:`ValidationReport` (with one :class:`TableSummary` per table) is what ``validate`` prints;
:func:`pandera_problems` runs the contract's pandera schema on a parsed table and turns each
failed check into one :class:`~metrics_lib.core.errors.Problem`, with the rows and values that
break it (:func:`describe_check` says what a column check means and how to fix it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from metrics_lib.core.errors import ContractError, Problem, printable
from metrics_lib.data import contract as C
from metrics_lib.data.parsing import problem_from_rows, show_fields, show_value

__all__ = ["TableSummary", "ValidationReport", "fmt_date", "pandera_problems", "describe_check"]


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
            first = fmt_date(t.first_date)
            last = fmt_date(t.last_date)
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
        return printable("\n".join(lines), keep="\n")  # paths and names from the data, escaped


def fmt_date(d) -> str:
    if d is None or pd.isna(d):
        return "-"
    return pd.Timestamp(d).strftime("%Y-%m-%d")


def pandera_problems(table, where, spec: C.TableSpec, df: pd.DataFrame, options, labeler) -> list[Problem]:
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
    for (context, column, check), group in fc.groupby(
        ["schema_context", "column", "check"], sort=False, dropna=False
    ):
        rows = pd.Index(sorted({int(i) for i in group["index"].dropna()}))
        check = str(check)
        if context == "DataFrameSchema" and check in rules:
            rule = rules[check]
            if column != rule.columns[0]:
                continue  # pandera lists a wide check once per column; report it once
            shown = df.loc[rows, list(rule.columns)]
            key = spec.key[0] if spec.key else None
            values = shown.apply(show_fields, axis=1)
            if key and key not in rule.columns:
                values = df.loc[rows, key].map(lambda k, key=key: f"{key}={show_value(k)}") + ", " + values
            problems.append(
                problem_from_rows(
                    table,
                    where,
                    None,
                    f"rule broken: {rule.name}",
                    rule.fix,
                    pd.Series(values.values, index=rows),
                    labeler,
                    rows=rows,
                    formatted=True,
                )
            )
            continue
        if context == "DataFrameSchema" and check.startswith("multiple_fields_uniqueness"):
            if key_reported:
                continue  # pandera lists the key check once per key column; report it once
            key_reported = True
            keycols = list(spec.key)
            dup = df.duplicated(keycols, keep=False)
            rows = dup[dup].index
            values = df.loc[rows, keycols].apply(show_fields, axis=1)
            problems.append(
                problem_from_rows(
                    table,
                    where,
                    None,
                    f"duplicate key ({', '.join(keycols)})",
                    "each key may appear once: remove the duplicate rows",
                    values,
                    labeler,
                    rows=rows,
                    formatted=True,
                )
            )
            continue
        col = spec.column(column) if column in spec.column_names else None
        rule, fix = describe_check(check, col)
        if len(rows) == 0:  # e.g. nulls reported without index
            rows = df.index[df[column].isna()] if column in df else rows
        problems.append(problem_from_rows(table, where, column, rule, fix, df[column], labeler, rows=rows))
    return problems


def describe_check(check: str, col: C.ColumnSpec | None) -> tuple[str, str]:
    name = col.name if col else "?"
    if check == "not_nullable":
        return "empty values are not allowed", f"fill `{name}` in every row, or remove rows without it"
    if check == "field_uniqueness":
        blanks = (
            " (ids are read without the spaces around them: 'C1' and 'C1 ' are one id)"
            if col is not None and col.kind == "id"
            else ""
        )
        return (
            "duplicate values in a unique key",
            f"each `{name}` may appear once: remove duplicates or fix the ids{blanks}",
        )
    if check.startswith("isin"):
        return (
            f"value not allowed (allowed: {', '.join(col.allowed)})",
            f"use one of {', '.join(col.allowed)} (lower case, as written)",
        )
    if check.startswith("greater_than_or_equal_to"):
        return f"value below the minimum {col.min:g}", f"`{name}` must be at least {col.min:g}"
    if check.startswith("less_than_or_equal_to"):
        return f"value above the maximum {col.max:g}", f"`{name}` must be at most {col.max:g}"
    return f"check {check} failed", "correct the values shown"

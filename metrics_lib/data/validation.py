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
    #: in quarantine: the problems whose rows were set aside (among ``problems``), and those rows
    set_aside: list[Problem] = field(default_factory=list)
    set_aside_rows: int = 0


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
    on_invalid: str = "strict"  # how the source was opened: "quarantine" sets rows aside
    #: guest orders and returns in table orders (DataSource.order_mix); None without the table
    order_mix: dict | None = None

    @property
    def ok(self) -> bool:
        """Whether nothing at all is wrong."""
        return not self.problems and self.no_tables is None

    @property
    def set_aside(self) -> list[Problem]:
        """In quarantine: the problems whose rows were set aside (the data goes on without them)."""
        return [p for t in self.tables for p in t.set_aside]

    @property
    def blocking(self) -> list[Problem]:
        """The problems no row can be set aside for (a missing required column, an unreadable
        file, ..., or in strict mode every problem): the data cannot be used until they are fixed."""
        aside = {id(p) for p in self.set_aside}
        return [p for p in self.problems if id(p) not in aside] + ([self.no_tables] if self.no_tables else [])

    @property
    def usable(self) -> bool:
        """Whether the data can be used as opened: nothing wrong, or (in quarantine) only rows
        that are set aside."""
        return not self.blocking

    def to_text(self) -> str:
        lines = [f"Data source: {self.source}", ""]
        width = max([len(t.table) for t in self.tables] + [5])
        quarantine = self.on_invalid == "quarantine"
        lines.append(
            f"{'table':<{width}}  {'rows':>10}  {'from':<10}  {'to':<10}  problems"
            + ("  set aside" if quarantine else "")
        )
        for t in self.tables:
            rows = "-" if t.rows is None else f"{t.rows:,}"
            first = fmt_date(t.first_date)
            last = fmt_date(t.last_date)
            problems = f"{len(t.problems):<8}  {t.set_aside_rows:,}" if quarantine else f"{len(t.problems)}"
            lines.append(f"{t.table:<{width}}  {rows:>10}  {first:<10}  {last:<10}  {problems}")
        if self.missing:
            lines += ["", "Tables not found: " + ", ".join(self.missing)]
        for fam, tables in self.skipped_families.items():
            lines.append(f"  family `{fam}` will be skipped: needs {', '.join(tables)}")
        if self.missing and self.add_table_hint:
            lines.append(f"  to add a table: {self.add_table_hint}")
        mix = self.order_mix
        if mix and (mix["guest_orders"] or mix["returns"]):
            lines += [
                "",
                f"Orders: {mix['orders']:,} sold, {mix['guest_orders']:,} of them guest orders (no "
                "customer_id: in revenue and orders, not in customer metrics); "
                f"returns: {mix['returns']:,}, giving back {mix['returned']:,.2f} in all (revenue is net "
                "of them; they are not orders)",
            ]
        if self.notes:
            lines += [""] + [f"note: {n}" for n in self.notes]
        lines.append("")
        aside = [t for t in self.tables if t.set_aside_rows]
        if aside:
            total = sum(t.set_aside_rows for t in aside)
            lines.append(
                f"Set aside with --on-invalid quarantine: {total:,} row{'s' if total != 1 else ''} that break "
                "the contract; `metrics` and `run` go on without them (`run` writes them, with the rule "
                "each broke, to <out>/<period>/rejected/<table>.csv):"
            )
            for t in aside:
                lines.append(
                    f"  table `{t.table}`: {t.set_aside_rows:,} row{'s' if t.set_aside_rows != 1 else ''}"
                )
                for p in t.set_aside:
                    col = f"column `{p.column}`: " if p.column else ""
                    lines.append(f"    {col}{p.rule} ({p.count:,} row{'s' if p.count != 1 else ''})")
            lines += ["", "The rows set aside, with the fix for each rule:"]
            lines += [p.describe() for p in self.set_aside]
            lines.append("")
        blocking = self.blocking
        if blocking and quarantine:
            n = len(blocking)
            lines.append(
                f"The data breaks the contract where quarantine cannot set rows aside ({n} problem"
                f"{'s' if n != 1 else ''}; fix these before the data can be used):"
            )
            lines += [p.describe() for p in blocking]
        elif blocking:
            lines.append(str(ContractError(blocking)))
        elif aside:
            lines.append("Nothing else is wrong: the data can be used without the rows set aside.")
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
        exempt_min = check.startswith("greater_than_or_equal_to(") and check.endswith("]")
        if context == "DataFrameSchema" and exempt_min:  # a column's minimum with exempt rows
            if f"[{column}]" != check[check.rindex("[") :]:
                continue  # pandera lists a wide check once per column; report it for its own
            context = "Column"
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

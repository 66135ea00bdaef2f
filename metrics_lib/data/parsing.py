"""Raw table columns into the contract's types, and the problems that name the rows.

:func:`parse_column` turns one column as read (text from a CSV file, or whatever type a Parquet
file or a database stored) into the contract's type, or says which rows cannot be parsed and how
to fix them. The helpers beside it label rows the way users find them (``line 7`` of a CSV file,
``row 6`` elsewhere), show values in messages, build a :class:`~metrics_lib.core.errors.Problem`
for a set of rows, and describe a file that is not UTF-8.
"""

from __future__ import annotations

import re

import pandas as pd

from metrics_lib.core.errors import MAX_EXAMPLES, Problem
from metrics_lib.data import contract as C
from metrics_lib.data.config import Location

__all__ = [
    "parse_column",
    "parse_dates",
    "bad_rows",
    "row_labeler",
    "problem_from_rows",
    "show_value",
    "show_fields",
    "not_utf8_problem",
]

_TZ_SUFFIX = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")


def not_utf8_problem(loc: Location, exc: UnicodeDecodeError) -> Problem:
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
    bad = data[start : start + 1] or exc.object[exc.start : exc.start + 1]
    where = f"(byte {start}: {bad!r})" + (f" on line {line}" if line else "")
    fix = "save the export as UTF-8 (in Excel: 'CSV UTF-8'); the file was not changed"
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        fix = "the file is UTF-16 (it starts with a UTF-16 byte order mark): " + fix
    return Problem(loc.table, f"the file is not UTF-8 text {where}", fix, file=str(loc.path))


def row_labeler(fmt: str):
    if fmt == "csv":
        return lambda i: f"line {i + 2}"
    return lambda i: f"row {i + 1}"


def problem_from_rows(
    table, where, column, rule, fix, values: pd.Series, labeler, rows=None, formatted: bool = False
) -> Problem:
    """A problem for ``rows``; ``formatted`` values are already text (``col=value, ...``), shown whole."""
    if rows is None:
        rows = values.index
    rows = list(rows)
    show = str if formatted else show_value
    examples = tuple((labeler(i), show(values.loc[i])) for i in rows[:MAX_EXAMPLES])
    return Problem(
        table,
        rule,
        fix,
        file=where,
        column=column,
        count=len(rows),
        examples=examples,
        rows=tuple(int(i) for i in rows),
    )


def show_value(v) -> str:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return "(empty)"
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d %H:%M:%S").removesuffix(" 00:00:00")
    text = repr(v) if isinstance(v, str) else str(v)
    return text if len(text) <= 60 else text[:57] + "..."


def show_fields(row: pd.Series) -> str:
    return ", ".join(f"{c}={show_value(v)}" for c, v in row.items())


# -- parsing -------------------------------------------------------------------------------


def parse_column(raw: pd.Series, col: C.ColumnSpec, date_format: str | None):
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
        return parse_dates(raw, col, date_format)
    if kind in ("float", "int"):
        if pd.api.types.is_bool_dtype(raw):
            raw = raw.astype(int)
        nums = (
            pd.to_numeric(raw, errors="coerce")
            if not pd.api.types.is_numeric_dtype(raw)
            else raw.astype(float)
        )
        bad = present & nums.isna()
        if bad.any():
            return nums, (
                bad_rows(bad),
                f"not a number (expected {'a whole number' if kind == 'int' else 'a number'})",
                "write plain numbers: no currency symbols, units or thousands separators; leave empty for unknown",
            )
        if kind == "int":
            frac = nums.notna() & (nums != nums.round())
            if frac.any():
                return nums, (
                    bad_rows(frac),
                    "not a whole number",
                    "this column takes whole numbers (e.g. a score of 7, not 7.5)",
                )
            return nums.round().astype("Int64"), None
        return nums.astype("float64"), None
    if kind == "bool":
        if pd.api.types.is_bool_dtype(raw):
            return raw.astype("boolean"), None
        text = raw.astype("string").str.strip().str.lower()
        mapping = {
            "true": True,
            "false": False,
            "1": True,
            "0": False,
            "yes": True,
            "no": False,
            "t": True,
            "f": False,
            "y": True,
            "n": False,
            "1.0": True,
            "0.0": False,
        }
        out = text.map(mapping).astype("boolean")
        bad = present & out.isna()
        if bad.any():
            return out, (bad_rows(bad), "not true/false", "write true or false (also accepted: 1/0, yes/no)")
        return out, None
    raise AssertionError(kind)


def bad_rows(mask: pd.Series) -> pd.Index:
    return mask[mask].index


def parse_dates(raw: pd.Series, col: C.ColumnSpec, date_format: str | None):
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
            return text, (
                bad_rows(mixed),
                "time zones are mixed: some values carry an offset, these do not",
                "export every timestamp in one time zone, all with an offset (e.g. +00:00) or all without",
            )
        ambiguous = text.str.match(r"^\d{1,2}[/.]\d{1,2}[/.]\d{2,4}")
        if ambiguous.any():
            ambiguous = ambiguous.fillna(False)
            rule = "not an ISO date (day-first or month-first is ambiguous)"
            if (present & ~ambiguous).any():
                rule += "; other rows are written in another format, so the column mixes date formats"
            return text, (
                bad_rows(ambiguous),
                rule,
                "write dates as YYYY-MM-DD, or set `date_format` for this table in the mapping file "
                '(e.g. "%d/%m/%Y")',
            )
        out = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=bool(has_tz.any()))
        if has_tz.any():
            out = out.dt.tz_convert("UTC").dt.tz_localize(None)
        fix = "write dates as YYYY-MM-DD (timestamps as YYYY-MM-DD HH:MM:SS), or set `date_format` in the mapping file"
    out = out.astype("datetime64[ns]")
    bad = present & out.isna()
    if bad.any():
        return out, (bad_rows(bad), "not a date", fix)
    if col.kind == "date":
        out = out.dt.normalize()
    return out, None

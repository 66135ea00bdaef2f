"""Raw table columns into the contract's types, and the problems that name the rows.

:func:`parse_column` turns one column as read (text from a CSV file, or whatever type a Parquet
file or a database stored) into the contract's type, or says which rows cannot be parsed and how
to fix them. The helpers beside it label rows the way users find them (``line 7`` of a CSV file,
``row 6`` elsewhere), show values in messages, build a :class:`~metrics_lib.core.errors.Problem`
for a set of rows, and describe a file that is not UTF-8.
"""

from __future__ import annotations

import csv
import io
import re

import pandas as pd

from metrics_lib.core.errors import MAX_EXAMPLES, Problem, WorkbookError
from metrics_lib.core.periods import FIRST_YEAR, LAST_YEAR
from metrics_lib.data import contract as C
from metrics_lib.data.config import Location
from metrics_lib.data.safe_io import open_regular, sniff

__all__ = [
    "parse_column",
    "parse_dates",
    "bad_rows",
    "row_labeler",
    "row_numberer",
    "csv_row_lines",
    "problem_from_rows",
    "show_value",
    "show_fields",
    "not_utf8_problem",
]

# an offset after a time of day: Z, +05, +0530 or +05:30 (a date alone ends in -DD, not an offset)
_TZ_SUFFIX = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$")
#: Dates the tool holds (pandas' nanosecond timestamps): the years of :mod:`metrics_lib.core.periods`.
FIRST_DATE, END_DATE = pd.Timestamp(FIRST_YEAR, 1, 1), pd.Timestamp(LAST_YEAR + 1, 1, 1)


#: What to do with a file of another type in a CSV file's place (:func:`~metrics_lib.data.safe_io.sniff`).
_OTHER_TYPE_FIX = {
    "a gzip-compressed file": "decompress it first (gunzip), then give the CSV file inside under this name",
    "a bzip2-compressed file": "decompress it first (bunzip2), then give the CSV file inside under this name",
    "an xz-compressed file": "decompress it first (unxz), then give the CSV file inside under this name",
    "a zstd-compressed file": "decompress it first (unzstd), then give the CSV file inside under this name",
    "a Parquet file": "rename it to .parquet: a Parquet file is read as it is",
}


def not_utf8_problem(loc: Location, exc: UnicodeDecodeError) -> Problem:
    """The problem for a file that is not UTF-8: what it is when its first bytes say so (a gzip
    archive, an Excel workbook), else the first bad byte, its line, and the fix."""
    start, line = exc.start, None
    data = b""
    try:
        with open_regular(loc.path) as fh:
            data = fh.read(64 << 20)  # the reader decodes in chunks: find the offset in the file
        data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as whole:
        bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
        start = whole.start + bom
        line = data.count(b"\n", 0, start) + 1
    except (WorkbookError, OSError):
        pass
    found = sniff(data[:16])
    if found is not None:
        fix = _OTHER_TYPE_FIX.get(
            found, "save the table as CSV UTF-8 (in Excel: Save As, 'CSV UTF-8') under this name"
        )
        return Problem(loc.table, f"the file is {found}, not CSV text", fix, file=str(loc.path))
    bad = data[start : start + 1] or exc.object[exc.start : exc.start + 1]
    where = f"(byte {start}: {bad!r})" + (f" on line {line}" if line else "")
    fix = "save the export as UTF-8 (in Excel: 'CSV UTF-8'); the file was not changed"
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        fix = "the file is UTF-16 (it starts with a UTF-16 byte order mark): " + fix
    return Problem(loc.table, f"the file is not UTF-8 text {where}", fix, file=str(loc.path))


def row_numberer(fmt: str, path=None):
    """``(word, number)``: how users find the rows of a table, ``row`` of a Parquet file or DuckDB
    table (from 1), ``line`` of a CSV file, where ``number(i)`` is the physical line on which row
    ``i`` (0-based) starts in the file (quoted fields spanning lines and blank lines counted, see
    :func:`csv_row_lines`, worked out only when a number is asked for); without ``path``, the
    header's line plus the row. Messages (:func:`row_labeler`) and the rows set aside in
    quarantine name rows alike."""
    if fmt != "csv":
        return "row", lambda i: i + 1
    if path is None:
        return "line", lambda i: i + 2
    starts: list[int] | None = None

    def number(i: int) -> int:
        nonlocal starts
        if starts is None:
            starts = [line for line, blank in csv_row_lines(path) if not blank][1:]  # after the header
        return starts[i] if i < len(starts) else i + 2

    return "line", number


def row_labeler(fmt: str, path=None):
    """Labels for the rows of a table as users find them: ``row 6`` of a Parquet file or DuckDB
    table, ``line 7`` of a CSV file (:func:`row_numberer`)."""
    word, number = row_numberer(fmt, path)
    return lambda i: f"{word} {number(i)}"


def csv_row_lines(path) -> list[tuple[int, bool]]:
    """``(first physical line, blank)`` of every row a CSV reader sees in the file, blank lines
    included, as pandas counts them in its messages (``line 5``, ``row 4``): a row whose quoted
    field spans lines counts once and starts on its first line. Empty when the file cannot be read
    this way (the labels then count lines as rows)."""
    out: list[tuple[int, bool]] = []
    try:
        with open_regular(path) as fh:
            reader = csv.reader(io.TextIOWrapper(fh, encoding="utf-8-sig", errors="replace", newline=""))
            end = 0
            for row in reader:
                out.append((end + 1, not row))
                end = reader.line_num
    except (WorkbookError, OSError, csv.Error):
        return []
    return out


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

    Returns ``(values, problems)``: the values in the contract's type, and a list of
    ``(bad_row_index, rule, fix)``, one for each way some values cannot be parsed (a column may
    hold both ``abc`` and ``inf``). The rows of every problem are empty in ``values``, so the other
    rows always have the contract's type, whatever the bad ones held.
    """
    problems = []
    for _ in range(10):  # one round per kind of bad value; each round empties rows, so few rounds
        values, bad = _parse_once(raw, col, date_format)
        if bad is None:
            break
        problems.append(bad)
        raw = raw.mask(raw.index.isin(bad[0]))  # NaT, NaN or <NA>, in the column's own type
    return values, problems


def _parse_once(raw: pd.Series, col: C.ColumnSpec, date_format: str | None):
    """``(values, None)``, or ``(values, (bad_row_index, rule, fix))`` for the first kind of value
    that cannot be parsed."""
    kind = col.kind
    present = raw.notna()
    if kind in ("id", "str"):
        if pd.api.types.is_float_dtype(raw) and kind == "id":
            # ids read from Parquet/DuckDB as floats (1.0): show them as integers
            as_int = raw.dropna()
            if (as_int == as_int.round()).all() and (as_int.abs() < 2**53).all():
                raw = raw.astype("Int64")
        out = raw.astype("string")
        if kind == "id":  # 'C1 ' is 'C1' (as in the engine checks); blanks alone are empty
            out = out.str.strip(C.ID_BLANKS).replace("", pd.NA)
        return out, None
    if kind in ("date", "timestamp"):
        return parse_dates(raw, col, date_format)
    if kind in ("float", "int"):
        if pd.api.types.is_bool_dtype(raw):
            raw = raw.astype(int)
        nums = (
            pd.to_numeric(raw, errors="coerce") if not pd.api.types.is_numeric_dtype(raw) else raw
        ).astype("float64")  # 20-digit integers and uint64 maxima too: the range check below says so
        bad = present & nums.isna()
        if bad.any():
            return nums, (
                bad_rows(bad),
                f"not a number (expected {'a whole number' if kind == 'int' else 'a number'})",
                "write plain numbers: no currency symbols, units or thousands separators; leave empty for unknown",
            )
        huge = nums.notna() & ~(nums.abs() <= C.MAX_NUMBER)
        if huge.any():
            return nums, (
                bad_rows(huge),
                f"not a finite number of at most {C.MAX_NUMBER:,.0f} (10^15) either way",
                "write the real value: infinity (inf), 1e300 or a 20-digit number is a placeholder, a "
                "unit error or an id in the wrong column, never a count or an amount"
                + ("; leave the cell empty when the value is unknown" if col.nullable else ""),
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
        return _in_range(out, raw.notna(), col)
    text = raw.astype("string").str.strip()
    present = text.notna()
    if date_format:
        out = _to_datetime(text, format=date_format, utc=True)  # an offset (%z) is read as UTC wall time
        out = out.dt.tz_localize(None)
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
        partial = text.str.fullmatch(r"\d{4}(?:-\d{1,2})?", na=False)  # 2025 or 2025-03: which day?
        if partial.any():
            return text, (
                bad_rows(partial),
                "not a full date (YYYY-MM-DD): a year or a month alone does not say the day",
                "write the day too (2025-03-01), or, when the column holds months, set "
                '`date_format: "%Y-%m"` for this table in the mapping file',
            )
        out = _to_datetime(text, format="ISO8601", utc=bool(has_tz.any()))
        if has_tz.any():
            out = out.dt.tz_convert("UTC").dt.tz_localize(None)
        fix = "write dates as YYYY-MM-DD (timestamps as YYYY-MM-DD HH:MM:SS), or set `date_format` in the mapping file"
    bad = present & out.isna()
    if bad.any():
        return out, (bad_rows(bad), "not a date", fix)
    return _in_range(out, present, col)


def _to_datetime(text: pd.Series, **kw) -> pd.Series:
    """``pd.to_datetime`` with unparseable values as NaT, whatever they are: the vectorised parse
    stops at some values (offsets it cannot mix, out-of-range years) instead of coercing them,
    and then each distinct value is parsed on its own."""
    try:
        return pd.to_datetime(text, errors="coerce", **kw)
    except (ValueError, OverflowError, TypeError):
        pass

    def one(value):
        try:
            return pd.to_datetime(value, **kw)
        except (ValueError, OverflowError, TypeError):
            return pd.NaT

    parsed = {v: one(v) for v in text.dropna().unique()}
    return pd.to_datetime(text.map(parsed), utc=bool(kw.get("utc")))


def _in_range(out: pd.Series, present: pd.Series, col: C.ColumnSpec):
    """Parsed dates as the contract's nanosecond timestamps (midnight for a date column), or the
    rows outside the years the tool holds: placeholders such as 9999-12-31 for "never ends" or
    0001-01-01 for "unknown"."""
    outside = present & out.notna() & ((out < FIRST_DATE) | (out >= END_DATE))
    if outside.any():
        if col.nullable:
            fix = "write the real date, or leave the cell empty when there is none (never ends, not yet, unknown)"
        elif col.name.startswith("end"):
            fix = (
                f"write the day the term ends: `{col.name}` may not be empty, so a placeholder cannot "
                "stand for 'never ends' (a renewal is a new row)"
            )
        else:
            fix = f"write the real date: `{col.name}` may not be empty, so a placeholder cannot stand for 'unknown'"
        return out, (
            bad_rows(outside),
            f"date outside the years {FIRST_YEAR} to {LAST_YEAR} (a placeholder such as 9999-12-31 or "
            "0001-01-01?)",
            fix,
        )
    out = out.astype("datetime64[ns]")
    return (out.dt.normalize() if col.kind == "date" else out), None

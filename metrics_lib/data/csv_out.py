"""The one writer of every CSV file the project writes (the rows a run sets aside, in
``<out>/<period>/rejected/<table>.csv``).

What it writes is safe to open in a spreadsheet and carries no personal data unless asked:

* a text cell a spreadsheet would take for a formula (it starts with ``=``, ``+``, ``-``, ``@``,
  a tab or a carriage return, or their full-width forms, after any blanks) is written with a
  single quote in front, as OWASP recommends against CSV injection, so ``=HYPERLINK(...)`` shows
  as the text it is; a plain number such as ``-5`` or ``+3.5`` is left as it is, and number
  columns are written as numbers;
* the free-text columns of the contract (:attr:`~metrics_lib.data.contract.ColumnSpec.free_text`:
  survey comments, review texts), which may hold names, e-mail addresses and phone numbers, are
  replaced by :data:`HIDDEN` unless ``show_pii`` is set (``run --show-pii``);
* a file is only ever created, never overwritten.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from metrics_lib.data import contract as C

__all__ = ["HIDDEN", "FORMULA_START", "safe_cell", "free_text_columns", "write_csv"]

#: What a free-text cell says in place of its text when personal data was not asked for.
HIDDEN = "(hidden: free text may hold personal data; run with --show-pii to keep it)"

#: First characters (after blanks) that make a spreadsheet evaluate a cell.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def safe_cell(value):
    """A cell as a spreadsheet should show it: text that would start a formula gets a leading
    single quote; plain numbers (``-5``, ``+3.5``) and anything not text are left alone.

    >>> safe_cell("=HYPERLINK(\\"http://x\\")"), safe_cell("-5"), safe_cell(-5), safe_cell("plain")
    ('\\'=HYPERLINK("http://x")', '-5', -5, 'plain')
    """
    if not isinstance(value, str) or not value:
        return value
    start = value.lstrip(" ")
    if start.startswith(FORMULA_START) and not _NUMBER.fullmatch(value.strip()):
        return "'" + value
    return value


def free_text_columns(table: str | None) -> list[str]:
    """The contract's free-text columns of ``table`` (none for a table outside the contract)."""
    spec = C.TABLES.get(table) if table else None
    return [c.name for c in spec.columns if c.free_text] if spec else []


def write_csv(frame: pd.DataFrame, path, *, table: str | None = None, show_pii: bool = False) -> Path:
    """Write ``frame`` to a new CSV file at ``path`` (UTF-8, no index), its cells made safe by
    :func:`safe_cell` and, unless ``show_pii``, the free-text columns of the contract's ``table``
    replaced by :data:`HIDDEN` where they hold text. Refuses to overwrite an existing file."""
    path = Path(path)
    out = frame.copy()
    if not show_pii:
        for col in free_text_columns(table):
            if col in out.columns:
                text = out[col].astype("object")
                filled = text.notna() & (text.astype(str).str.strip() != "")
                out[col] = text.where(~filled, HIDDEN)
    for i in range(out.shape[1]):
        values = out.iloc[:, i]
        if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values)):
            out.isetitem(i, values.astype("object").map(safe_cell))
    out.columns = [safe_cell(str(c)) for c in out.columns]
    with open(path, "x", encoding="utf-8", newline="") as fh:
        out.to_csv(fh, index=False)
    return path

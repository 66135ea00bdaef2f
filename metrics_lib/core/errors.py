"""Errors a user can read: what is wrong, where, and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Problem", "ContractError", "WorkbookError", "MAX_EXAMPLES", "printable", "some"]

#: How many offending rows an error message shows.
MAX_EXAMPLES = 5

_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def printable(text, *, keep: str = "") -> str:
    """``text`` safe to print: every character a terminal would act on or hide written as an escape.

    Control characters (ESC, BEL, NUL, backspace, ...), line breaks, tabs, DEL, C1 controls and
    invisible format characters (zero-width spaces, byte order marks, bidirectional overrides)
    become ``\\x1b``, ``\\t``, ``\\u202e`` and so on, as Python's ``repr`` writes them, so a header or
    value from the data can neither move the cursor, recolour or clear the screen, nor hide or
    reorder the text around it. ``keep`` lists characters left as they are (``"\\n"`` for a
    message of several lines).

    >>> printable("rev\\x1b[2Jenue\\x07")
    'rev\\\\x1b[2Jenue\\\\x07'
    """
    text = str(text)
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch in keep or ch.isprintable():
            out.append(ch)
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        else:
            code = ord(ch)
            out.append(
                f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
            )
    return "".join(out)


def some(names, limit: int = 20) -> str:
    """Names for a message, at most ``limit`` of them: ``a, b, c, ... and 24,997 more`` (``(none)``
    when there are none), so that a header of 25,000 columns or a folder of thousands of files
    gives a message one can read."""
    names = [str(n) for n in names]
    if not names:
        return "(none)"
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown}, ... and {len(names) - limit:,} more"


class WorkbookError(Exception):
    """An error meant for the user: the message says what is wrong and how to fix it.

    Its text is :func:`printable` (line breaks kept), whatever the data put into it.
    """

    def __str__(self) -> str:
        return printable(super().__str__(), keep="\n")


@dataclass(frozen=True)
class Problem:
    """One broken rule in one table (and column, where it has one).

    ``examples`` holds up to :data:`MAX_EXAMPLES` ``(row label, value text)`` pairs;
    ``count`` is the number of offending rows in all.
    """

    table: str
    rule: str
    fix: str
    file: str | None = None
    column: str | None = None
    count: int = 0
    examples: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    rows: tuple[int, ...] = field(default_factory=tuple, repr=False, compare=False)

    def describe(self) -> str:
        """The problem in lines a terminal shows as written: every part is :func:`printable`."""
        where = f"{printable(self.file)}: " if self.file else ""
        col = f", column `{printable(self.column)}`" if self.column else ""
        head = f"{where}table `{printable(self.table)}`{col}: {printable(self.rule)}"
        if self.count:
            head += f" ({self.count} row{'s' if self.count != 1 else ''})"
        lines = [head]
        for label, value in self.examples:
            lines.append(f"    {printable(label)}: {printable(value)}")
        if self.count > len(self.examples) and self.examples:
            lines.append(f"    ... and {self.count - len(self.examples)} more")
        lines.append(f"  fix: {printable(self.fix)}")
        return "\n".join(lines)


class ContractError(WorkbookError):
    """The data breaks the contract; ``problems`` lists every rule broken."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        n = len(self.problems)
        head = f"The data breaks the contract ({n} problem{'s' if n != 1 else ''}):"
        super().__init__("\n".join([head] + [p.describe() for p in self.problems]))

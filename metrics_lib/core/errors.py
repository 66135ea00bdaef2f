"""Errors a user can read: what is wrong, where, and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Problem", "ContractError", "WorkbookError", "MAX_EXAMPLES"]

#: How many offending rows an error message shows.
MAX_EXAMPLES = 5


class WorkbookError(Exception):
    """An error meant for the user: the message says what is wrong and how to fix it."""


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
        where = f"{self.file}: " if self.file else ""
        col = f", column `{self.column}`" if self.column else ""
        head = f"{where}table `{self.table}`{col}: {self.rule}"
        if self.count:
            head += f" ({self.count} row{'s' if self.count != 1 else ''})"
        lines = [head]
        for label, value in self.examples:
            lines.append(f"    {label}: {value}")
        if self.count > len(self.examples) and self.examples:
            lines.append(f"    ... and {self.count - len(self.examples)} more")
        lines.append(f"  fix: {self.fix}")
        return "\n".join(lines)


class ContractError(WorkbookError):
    """The data breaks the contract; ``problems`` lists every rule broken."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        n = len(self.problems)
        head = f"The data breaks the contract ({n} problem{'s' if n != 1 else ''}):"
        super().__init__("\n".join([head] + [p.describe() for p in self.problems]))

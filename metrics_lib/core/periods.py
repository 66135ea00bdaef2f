"""Calendar periods: a month ``2025-03``, a quarter ``2025-Q1`` or a year ``2025``.

"During the period" means ``start <= t < next_start``; ``end`` is the period's last day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from metrics_lib.core.errors import WorkbookError

__all__ = [
    "Period",
    "PeriodError",
    "parse_period",
    "period_range",
    "period_containing",
    "latest_within",
    "FIRST_YEAR",
    "LAST_YEAR",
]

#: The calendar this tool handles, for periods and for the dates in the data alike: pandas holds
#: a timestamp from 1677-09-21 to 2262-04-11, so the whole years within that span.
FIRST_YEAR, LAST_YEAR = 1678, 2261

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq](\d)$")
_YEAR = re.compile(r"^(\d{4})$")

_FORMS = "a month YYYY-MM (2025-03), a quarter YYYY-Qn (2025-Q1) or a year YYYY (2025)"


class PeriodError(WorkbookError, ValueError):
    """A period label that is not a month, quarter or year."""


@dataclass(frozen=True, order=True)
class Period:
    """A calendar period; build it with :func:`parse_period`.

    Examples
    --------
    >>> p = parse_period("2025-Q1")
    >>> p.start, p.end, p.previous().label
    (datetime.date(2025, 1, 1), datetime.date(2025, 3, 31), '2024-Q4')
    """

    start: date
    kind: str  # "month", "quarter" or "year"
    year: int
    index: int  # month 1-12, quarter 1-4, or 1 for a year

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.year}-{self.index:02d}"
        if self.kind == "quarter":
            return f"{self.year}-Q{self.index}"
        return f"{self.year}"

    @property
    def months(self) -> int:
        return {"month": 1, "quarter": 3, "year": 12}[self.kind]

    @property
    def next_start(self) -> date:
        return _add_months(self.start, self.months)

    @property
    def end(self) -> date:
        """The last day of the period (inclusive)."""
        return self.next_start - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.next_start - self.start).days

    def shift(self, k: int) -> Period:
        """The period ``k`` steps later (earlier when negative), of the same kind."""
        return period_containing(_add_months(self.start, k * self.months), self.kind)

    def previous(self) -> Period:
        return self.shift(-1)

    def contains(self, d) -> bool:
        d = pd.Timestamp(d).date()
        return self.start <= d < self.next_start

    def __str__(self) -> str:
        return self.label


def _add_months(d: date, months: int) -> date:
    total = d.year * 12 + (d.month - 1) + months
    return date(total // 12, total % 12 + 1, 1)


def parse_period(text: str) -> Period:
    """Parse ``YYYY-MM``, ``YYYY-Qn`` or ``YYYY`` into a :class:`Period`.

    Raises
    ------
    PeriodError
        For anything else (``2025-13``, ``2025-Q5``, ``../x``), saying which forms are accepted.

    Examples
    --------
    >>> parse_period("2025-03").end
    datetime.date(2025, 3, 31)
    >>> parse_period("2025").previous().label
    '2024'
    """
    if isinstance(text, Period):
        return text
    raw = str(text).strip() if text is not None else ""
    shown = raw if len(raw) <= 40 else raw[:40] + "..."
    if (m := _MONTH.match(raw) or _QUARTER.match(raw) or _YEAR.match(raw)) and not (
        FIRST_YEAR <= int(m[1]) <= LAST_YEAR
    ):
        raise PeriodError(
            f"period {shown!r}: year {m[1]} is outside the years this tool handles ({FIRST_YEAR} to "
            f"{LAST_YEAR}); use {_FORMS} within the years of your data"
        )
    if m := _MONTH.match(raw):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise PeriodError(f"period {shown!r}: month {month:02d} does not exist; use {_FORMS}")
        return Period(date(year, month, 1), "month", year, month)
    if m := _QUARTER.match(raw):
        year, q = int(m[1]), int(m[2])
        if not 1 <= q <= 4:
            raise PeriodError(f"period {shown!r}: quarter Q{q} does not exist (Q1-Q4); use {_FORMS}")
        return Period(date(year, 3 * (q - 1) + 1, 1), "quarter", year, q)
    if m := _YEAR.match(raw):
        year = int(m[1])
        return Period(date(year, 1, 1), "year", year, 1)
    raise PeriodError(f"period {shown!r} is not {_FORMS}")


def period_containing(d, kind: str) -> Period:
    """The period of ``kind`` ("month", "quarter", "year") that contains date ``d``."""
    d = pd.Timestamp(d).date()
    if kind == "month":
        return Period(date(d.year, d.month, 1), "month", d.year, d.month)
    if kind == "quarter":
        q = (d.month - 1) // 3 + 1
        return Period(date(d.year, 3 * (q - 1) + 1, 1), "quarter", d.year, q)
    if kind == "year":
        return Period(date(d.year, 1, 1), "year", d.year, 1)
    raise PeriodError(f"period kind {kind!r} is not one of month, quarter, year")


def period_range(first, last) -> list[Period]:
    """Every period from ``first`` to ``last`` inclusive (both of the same kind)."""
    a, b = parse_period(first), parse_period(last)
    if a.kind != b.kind:
        raise PeriodError(f"periods {a.label!r} and {b.label!r} are of different kinds ({a.kind}, {b.kind})")
    if b < a:
        raise PeriodError(f"period range {a.label!r} to {b.label!r} runs backwards")
    out = [a]
    while out[-1] != b:
        out.append(out[-1].shift(1))
    return out


def latest_complete(last_date, kind: str) -> Period:
    """The latest period of ``kind`` that ends on or before ``last_date``."""
    p = period_containing(last_date, kind)
    if pd.Timestamp(last_date).date() < p.end:
        p = p.previous()
    return p


def latest_within(first_date, last_date, kind: str) -> Period:
    """The latest period of ``kind`` that lies whole from ``first_date`` to ``last_date`` (both
    included); when none does, the latest one that overlaps them: the one holding ``last_date``.

    Examples
    --------
    >>> latest_within("2022-01-02", "2025-12-31", "quarter").label
    '2025-Q4'
    >>> latest_within("2025-01-10", "2025-03-12", "quarter").label  # no quarter whole
    '2025-Q1'
    """
    p = latest_complete(last_date, kind)
    if p.start < pd.Timestamp(first_date).date():
        return period_containing(last_date, kind)
    return p

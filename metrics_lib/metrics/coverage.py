"""Whether the data covers a period whole, and whether two periods may be compared.

A period is *complete* when the data's first date is on or before its first day and the data's
last date on or after its last day; otherwise it is *partial* (the data starts or ends inside it)
or *outside the data* (it lies wholly before the first date or after the last). The data's dates
are those of the table that dates its activity (:meth:`DataSource.activity_span
<metrics_lib.data.sources.base.DataSource.activity_span>`: orders, else another dated table,
without the rows set aside in quarantine), the one span that the notes, the comparisons and the
default period all use, whatever tables a metric reads; a report's as-of date, when given,
replaces the last date.

A period outside the data has no numbers: the scorecard reports each of its metrics as null with
:meth:`PeriodCoverage.outside_reason`, which names the data's dates, rather than the zeros or the
scheduled events (subscription terms ending) that the tables would give for it.

A change against a period that is not complete, or from one, is *not comparable*: a year whose
data ends on 9 December set beside a year holding one month moves by whatever the missing months
held. :func:`not_comparable` gives the reason the scorecard reports instead of a test, and
:func:`coverage_notes` the sentences that ``metrics --format json`` lists under ``notes`` and
the reports show as a banner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from metrics_lib.core.periods import Period, parse_period
from metrics_lib.data import contract as C
from metrics_lib.metrics.aggregate import DateWindow

__all__ = ["PeriodCoverage", "period_coverage", "not_comparable", "coverage_notes"]


@dataclass(frozen=True)
class PeriodCoverage:
    """How much of ``period`` the data covers. ``first`` and ``last`` are the data's first and
    last date (None: no dated rows), ``table`` the table they come from, and ``as_of`` whether
    ``last`` is a report's as-of date rather than the data's own."""

    period: Period | DateWindow
    first: date | None
    last: date | None
    table: str | None = None
    as_of: bool = False

    @property
    def outside(self) -> bool:
        """The period lies wholly before the first date or after the last (or nothing is dated)."""
        if self.first is None or self.last is None:
            return True
        return self.period.end < self.first or self.period.start > self.last

    @property
    def starts_early(self) -> bool:
        return self.first is not None and self.period.start < self.first

    @property
    def ends_late(self) -> bool:
        return self.last is not None and self.period.end > self.last

    @property
    def complete(self) -> bool:
        return not (self.outside or self.starts_early or self.ends_late)

    def _last_words(self) -> str:
        return f"as of {self.last}" if self.as_of else f"data ends {self.last}"

    @property
    def state(self) -> str:
        """``complete``, or in a few words why not, naming the dates: ``partial (data starts
        2024-02-10)``, ``outside the data (data ends 2025-12-31)``."""
        if self.first is None or self.last is None:
            return "outside the data (no dated rows)"
        if self.outside:
            side = f"data starts {self.first}" if self.period.end < self.first else self._last_words()
            return f"outside the data ({side})"
        if self.starts_early and self.ends_late:
            return f"partial (data starts {self.first}, {self._last_words()})"
        if self.starts_early:
            return f"partial (data starts {self.first})"
        if self.ends_late:
            return f"partial ({self._last_words()})"
        return "complete"

    @property
    def covered(self) -> tuple[date, date] | None:
        """The days of the period the data covers (first and last), None when none."""
        if self.outside:
            return None
        assert self.first is not None and self.last is not None
        return max(self.period.start, self.first), min(self.period.end, self.last)

    def _head(self) -> str:
        p = self.period
        return f"period {p.label} ({p.start} to {p.end})" if isinstance(p, Period) else f"window {p.label}"

    def _span(self) -> str:
        """The data's dates and where they come from: ``2022-01-02 to 2025-12-31 (`order_date` of
        table `orders`)``."""
        column = C.TABLES[self.table].date_column if self.table in C.TABLES else None
        where = f" (`{column}` of table `{self.table}`)" if column else ""
        if self.as_of:
            return f"{self.first}{where} to the as-of date, {self.last}"
        return f"{self.first} to {self.last}{where}"

    def outside_reason(self) -> str | None:
        """Why the period has no numbers, naming the data's dates: it lies wholly outside them
        (None when it does not). The reason of every metric of such a period, and its note."""
        if not self.outside:
            return None
        if self.first is None or self.last is None:
            return f"{self._head()} is not covered: the data has no dated rows"
        return f"{self._head()} lies outside the data, which runs from {self._span()}"

    def describe(self) -> str:
        """The period with its dates and what the data covers of it, as a sentence's start."""
        p = self.period
        head = self._head()
        outside = self.outside_reason()
        if outside is not None:
            return outside
        assert self.first is not None and self.last is not None
        table = f" (table `{self.table}`)" if self.table else ""
        first = f"the data's first date, {self.first}"
        last = f"the as-of date, {self.last}" if self.as_of else f"the data's last date, {self.last}"
        early = p.start < self.first
        if self.as_of and not early:
            table = ""  # only the as-of date is named
        if self.starts_early and self.ends_late:
            last = "the as-of date" if self.as_of else "its last date"
            where = f"starts before {first}, and runs past {last}, {self.last}"
        else:
            where = f"starts before {first}" if self.starts_early else f"runs past {last}"
        a, b = self.covered  # type: ignore[misc]
        return f"{head} is partial: it {where}{table}, so its numbers cover {a} to {b} only"


def period_coverage(source, period, *, as_of: date | None = None) -> PeriodCoverage:
    """What the data of ``source`` covers of ``period`` (a period or its label, or a
    :class:`~metrics_lib.metrics.aggregate.DateWindow`); ``as_of`` (a report's as-of date)
    replaces the data's last date when given."""
    p = period if isinstance(period, DateWindow) else parse_period(period)
    span = source.activity_span()
    if span is None:
        return PeriodCoverage(p, None, None)
    table, first, last = span
    if as_of is not None and as_of != last:
        return PeriodCoverage(p, first, as_of, table, as_of=True)
    return PeriodCoverage(p, first, last, table)


def not_comparable(cur: PeriodCoverage, prev: PeriodCoverage) -> str | None:
    """Why a change from ``prev`` to ``cur`` is not comparable (``not comparable: the previous
    period is partial (data starts 2024-02-10)``), or None when both periods are complete."""
    parts = []
    if not cur.complete:
        parts.append(f"this period is {cur.state}")
    if not prev.complete:
        parts.append(f"the previous period is {prev.state}")
    return f"not comparable: {' and '.join(parts)}" if parts else None


def coverage_notes(cur: PeriodCoverage, prev: PeriodCoverage) -> list[str]:
    """The sentences a reader needs before reading a period's numbers and their changes: the
    period is partial or outside the data, or the previous period is (empty when both are
    complete)."""
    notes = []
    if cur.outside:
        notes.append(
            f"{cur.describe()}, so it has no numbers (every metric is null); choose a period between "
            "those dates"
        )
    elif not cur.complete:
        notes.append(cur.describe())
    if not prev.complete:
        notes.append(f"the previous {prev.describe()}")
    if notes:
        notes[-1] += f"; changes against {prev.period.label} are not comparable and were not tested"
    return notes

"""What a report is about, resolved from its parameters in one step: the opened data source, the
period, the segment (checked against the data), the targets file and the as-of date.

:meth:`ReportContext.resolve` does every piece of I/O this takes (opening the source and
checking it whole, foreign keys included; reading its segments and last date), in the
order the notebooks' first cell reports errors in. The context then hands out the
:class:`~metrics_lib.metrics.aggregate.Scope` of its period or of another one, and the window of
whole months ending with its period that the twelve-month sections look at.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from metrics_lib.core.periods import Period, parse_period
from metrics_lib.data import is_database_url, resolve_path
from metrics_lib.data.config import read_yaml_text
from metrics_lib.metrics.aggregate import DateWindow, Scope
from metrics_lib.metrics.coverage import PeriodCoverage, coverage_notes, period_coverage
from metrics_lib.metrics.shared_results import open_report_source

__all__ = ["ReportContext", "trailing_window"]


def trailing_window(period: Period | DateWindow, months: int = 12) -> DateWindow:
    """The ``months`` calendar months ending with ``period``: ``[start, next_start)``."""
    end = pd.Timestamp(period.next_start)
    start = end - pd.DateOffset(months=months)
    return DateWindow(start.date(), end.date())


def _plain_path(text: str, what: str) -> Path:
    return resolve_path(text)


@dataclass(frozen=True)
class ReportContext:
    """The data source, period, segment (None: all customers), as-of date and targets: a file,
    a mapping of some metrics' targets over the file beside the data, or None (that file, else
    the defaults)."""

    source: Any  # a DataSource
    period: Period
    segment: str | None = None
    as_of: date | None = None
    targets: Path | dict | None = None

    @classmethod
    def resolve(
        cls,
        data: str = "",
        *,
        period: str = "",
        targets: str | dict = "",
        segment: str = "",
        as_of: str = "",
        mapping: str = "",
        on_invalid: str = "strict",
        check_path: Callable[[str, str], Path] = _plain_path,
    ) -> ReportContext:
        """Open the source and resolve the parameters; empty strings mean "the default".

        ``data`` is a folder or DuckDB file (empty: the bundled demo data) or a
        ``postgresql://`` URL; ``check_path(text, what)`` turns the ``data`` and ``targets``
        parameters into paths (``what`` is the parameter's name), so the caller decides where
        they may lead, unless ``targets`` is a mapping such as ``{"nps": 40}`` (or its text);
        ``mapping`` is resolved from the project folder. The period defaults to the
        source's default period, the as-of date to the source's last date. Raises
        :class:`~metrics_lib.core.errors.WorkbookError` for a segment the data does not have.
        """
        if is_database_url(data):
            data_ref: Any = data.strip()
        else:
            data_ref = check_path(data, "data") if data else None
        source = open_report_source(
            data_ref, mapping=resolve_path(mapping) if mapping else None, on_invalid=on_invalid
        )
        source.check_all()  # foreign keys too: strict stops here, quarantine sets the rows aside
        p = parse_period(period) if period else source.default_period()
        targets_ref: Path | dict | None
        if isinstance(targets, Mapping) or str(targets).lstrip().startswith("{"):  # {"nps": 40}
            # checked against the catalogue where it is read (metrics.targets.resolve_targets)
            targets_ref = (
                dict(targets) if isinstance(targets, Mapping) else read_yaml_text(targets, what="targets")
            )
        else:
            targets_ref = check_path(str(targets), "targets") if targets else None
        chosen = segment or None
        if chosen:
            source.check_segment(chosen)
        last = source.last_date()
        return cls(source, p, chosen, pd.Timestamp(as_of).date() if as_of else last, targets_ref)

    @property
    def incomplete(self) -> bool:
        """Whether the period ends after the as-of date (its numbers are incomplete)."""
        return self.coverage().ends_late

    def coverage(self, period: Period | None = None) -> PeriodCoverage:
        """What the data covers of ``period`` (default the report's), up to the as-of date."""
        return period_coverage(self.source, period or self.period, as_of=self.as_of)

    def coverage_notes(self) -> list[str]:
        """Why the report's period or the previous one is not whole, naming the dates (empty
        when both are): the notes of ``metrics --format json`` and the reports' banner."""
        return coverage_notes(self.coverage(), self.coverage(self.period.previous()))

    def scope(self, period: Period | DateWindow | None = None) -> Scope:
        """What a section aggregates over: the source and segment, over ``period`` (default the
        report's period)."""
        return Scope.of(self.source, period or self.period, self.segment)

    def window(self, months: int = 12) -> DateWindow:
        """The ``months`` calendar months ending with the report's period."""
        return trailing_window(self.period, months)

    def missing(self, *tables: str) -> list[str]:
        """The tables among ``tables`` that the source lacks."""
        return [t for t in tables if not self.source.has(t)]

    def segment_rows(self) -> dict[str, int]:
        """With a segment, the rows of each table that belong to its customers (the customers
        themselves, the tables with a ``customer_id``, and the stages of their deals); empty
        without a segment. Tables with no customer (spend, web traffic) are not in it."""
        if not self.segment:
            return {}
        scope = self.scope()
        rows = {}
        for table in self.source.tables:
            t = self.source.table(table)
            if table == "customers":
                rows[table] = int(scope.customers().count().execute())
            elif "customer_id" in t.columns:
                rows[table] = int(scope.table(table).count().execute())
            elif table == "deal_stages" and self.source.has("deals"):
                deals = scope.table("deals").select("deal_id")
                rows[table] = int(t.semi_join(deals, "deal_id").count().execute())
        return rows

    def table_rows(self) -> dict[str, int | None]:
        """Rows per table of the source, each table checked (in the engine when it can be) and
        counted on the way."""
        rows = {}
        for table in self.source.tables:
            self.source.table(table)
            rows[table] = self.source.rows(table)
        return rows

"""The facts about the data that the reports ask of a source: which optional columns hold values,
what the orders hold besides sales, the customer segments, the span of the data's activity and the
periods it covers. :class:`DataFacts` is a part of :class:`~metrics_lib.data.sources.base.DataSource`
and answers from its checked tables (:meth:`~metrics_lib.data.sources.base.DataSource.table`) and
settings; what needs a query is asked of the engine once per source.
"""

from __future__ import annotations

import difflib
from datetime import date

from metrics_lib.core.engine import count_true
from metrics_lib.core.errors import WorkbookError
from metrics_lib.core.periods import Period, latest_within, parse_period
from metrics_lib.data import contract as C

__all__ = ["DataFacts"]


class DataFacts:
    """The facts about the data of a :class:`~metrics_lib.data.sources.base.DataSource`."""

    def has_values(self, table: str, column: str) -> bool:
        """Whether the table is present and its ``column`` holds at least one value (an optional
        column the source lacks is read as all empty); asked of the engine once."""
        key = ("values", table, column)
        if key not in self._known:
            found = False
            if self.has(table):
                col = self.table(table)[column]
                filled = col.notnull()
                if C.TABLES[table].column(column).kind == "float":
                    filled = filled & ~col.isnan().fill_null(False)
                found = bool(int(count_true(filled).to_pyarrow().as_py() or 0))
            self._known[key] = found
        return self._known[key]

    def order_mix(self) -> dict[str, float] | None:
        """What table ``orders`` holds besides sales to known customers, over the whole source:
        ``orders`` (sales, returns left out), ``guest_orders`` (sales without a customer, counted
        in revenue and orders but in no customer metric), ``returns`` and ``returned`` (the value
        they gave back, positive). None without the table; asked of the engine once."""
        if not self.has("orders"):
            return None
        if "order_mix" not in self._known:
            o = self.table("orders")
            is_return = (o.order_type == C.RETURN).fill_null(False)
            row = (
                o.aggregate(
                    orders=count_true(~is_return),
                    guest_orders=count_true(~is_return & o.customer_id.isnull()),
                    returns=count_true(is_return),
                    returned=-o.revenue.sum(where=is_return),
                )
                .to_pyarrow()
                .to_pylist()[0]
            )
            self._known["order_mix"] = {k: (v or 0) + 0 for k, v in row.items()}
        return self._known["order_mix"]

    def segments(self) -> list[str]:
        """The customer segments in the data, sorted (none without a `customers` table)."""
        if "segments" not in self._known:
            found: list[str] = []
            if self.has("customers"):
                c = self.table("customers")
                found = sorted(set(c.select("segment").distinct().execute()["segment"].dropna()))
            self._known["segments"] = found
        return self._known["segments"]

    def check_segment(self, segment: str) -> None:
        """Raise :class:`WorkbookError` unless ``segment`` is one of the data's segments: the
        message lists them and names the one meant when only the case or a letter differs."""
        known = self.segments()
        if segment in known:
            return
        if not self.has("customers"):
            raise WorkbookError(
                f"segment {segment!r}: {self.path} has no table `customers`, which gives each customer's "
                "segment; leave the segment out, or add the table"
            )
        if not known:
            raise WorkbookError(
                f"segment {segment!r}: table `customers` of {self.path} gives no segment (its column "
                "`segment` is missing or empty); leave the segment out, or fill the column"
            )
        same = [k for k in known if k.strip().casefold() == segment.strip().casefold()]
        close = same or difflib.get_close_matches(segment, known, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise WorkbookError(
            f"segment {segment!r} is not in the data (column `segment` of table `customers`); "
            f"segments: {', '.join(map(repr, known))}{hint}"
        )

    def activity_span(self) -> tuple[str, date, date] | None:
        """The table that dates the data's activity with its first and last date: orders, else
        the first other table of the contract with dated rows, customers last (a signup dates a
        customer, not what the data records of them); None when no table has a dated row. The
        data's first and last date everywhere (the default period, the as-of date, partial and
        outside periods) are these. The source is checked whole first (:meth:`check_all`), so in
        quarantine the dates are those of the rows kept: a row set aside, an orphan included,
        dates nothing."""
        self.check_all()
        order = ["orders"] + [t for t in C.TABLES if t not in ("orders", "customers")] + ["customers"]
        for t in order:
            if self.has(t) and C.TABLES[t].date_column:
                span = self.date_span(t)
                if span is not None:
                    return t, span[0], span[1]
        return None

    def last_date(self) -> date | None:
        """The data's last date (:meth:`activity_span`)."""
        span = self.activity_span()
        return None if span is None else span[2]

    def latest_complete_period(self, kind: str = "quarter") -> Period:
        """The latest month, quarter or year that the data covers whole (from its first day to its
        last, within :meth:`activity_span`); when the data covers none whole, the latest one it
        overlaps, which is partial."""
        span = self.activity_span()
        if span is None:
            raise WorkbookError(f"{self.path}: no dated rows, so there is no period to report on")
        return latest_within(span[1], span[2], kind)

    def default_period(self) -> Period:
        """``default_period`` of ``source.yml``, else the latest quarter the data covers whole
        (else the latest it overlaps): :meth:`latest_complete_period`."""
        if self.config.default_period:
            return parse_period(self.config.default_period)
        return self.latest_complete_period("quarter")

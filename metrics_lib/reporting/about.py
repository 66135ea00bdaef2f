"""The "About the data" table at the end of every report: what the numbers are made of.

The period and what it is compared with, the data source and the date it is complete to, the
segment, the rows of each table (the segment's customers' rows, with one), guest orders and
returns, rows set aside for breaking the data contract, deals closed as stale and the families
whose tables the data lacks.
"""

from __future__ import annotations

import pandas as pd

from metrics_lib.reporting import verdict
from metrics_lib.reporting.display import shown
from metrics_lib.reporting.export_shapes import stale_deals_note
from metrics_lib.reporting.format import format_window
from metrics_lib.reporting.order_mix import order_mix_rows

__all__ = ["about_the_data"]


def about_the_data(wb) -> pd.DataFrame:
    """Two columns (what, value) for a :class:`~metrics_lib.reporting.workbook.Workbook`."""
    rows = [
        ("period", f"{wb.period.label} ({format_window(wb.period)})"),
        ("compared with", wb.period.previous().label),
        (
            "data source",
            wb.source.config.name or getattr(wb.source.path, "name", str(wb.source.path)),
        ),
        ("as of", f"{wb.as_of:%d %b %Y}" if wb.as_of else "n/a"),
        ("segment", wb.segment or "all customers"),
    ]
    for i, note in enumerate(wb.context.coverage_notes()):  # a partial period, named with its dates
        rows.append(("note" if i == 0 else f"note {i + 1}", note))
    seg = wb.context.segment_rows()  # with a segment, its customers' rows of each table
    for table, n in wb.context.table_rows().items():
        rows.append((f"rows: {table.replace('_', ' ')}", verdict.rows_text(n, seg.get(table), wb.segment)))
    rows += order_mix_rows(wb.source.order_mix())  # guest orders and returns
    for table, frame in wb.source.rejected.items():
        if len(frame):
            rows.append(
                (
                    f"set aside: {table}",
                    f"{len(frame):,} rows broke the contract (see rejected/{table}.csv)",
                )
            )
    if wb.source.config.open_deal_max_age_days and wb.source.has("deals"):
        rows.append(("stale deals", stale_deals_note(wb._period_data(wb.period).pipeline)))
    for fam, missing in wb.source.missing_families().items():
        rows.append((f"skipped: {fam}", f"needs {', '.join(missing)}"))
    return shown(pd.DataFrame(rows, columns=["", "value"]).set_index(""))

"""The retention report's MRR sections, as the notebooks call them through
``Workbook.sections``: MRR and ARR over periods, and the period's MRR waterfall.

Each returns a :class:`SectionView`: ``numbers`` (unrounded, what the plots draw) and ``table``
(every number formatted through :mod:`metrics_lib.reporting.format`, what the reader sees).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd

from metrics_lib.metrics import mrr_views
from metrics_lib.reporting.display import plain_index
from metrics_lib.reporting.format import format_change, format_value

__all__ = ["SectionView", "MRRSections", "formatted"]


@dataclass(frozen=True, repr=False)
class SectionView:
    """A report section: the unrounded ``numbers``, the formatted ``table`` and a ``note`` (why it
    is empty, or "")."""

    numbers: pd.DataFrame
    table: pd.DataFrame
    note: str = ""

    def __repr__(self) -> str:
        """As text: the note (when there is one) above the table (when it has rows)."""
        parts = [self.note] if self.note else []
        return "\n".join([*parts, self.table.to_string()] if len(self.table) else parts)

    def _repr_html_(self) -> str:
        """In a notebook: the note (when there is one) above the table (when it has rows)."""
        note = f"<p>{html.escape(self.note)}</p>" if self.note else ""
        return note + (self.table._repr_html_() if len(self.table) else "")


def skipped(columns, missing, index_name=None) -> SectionView:
    """An empty section whose note says which tables the data lacks."""
    frame = pd.DataFrame(columns=list(columns))
    frame.index.name = index_name
    frame.attrs["note"] = f"skipped: needs {', '.join(missing)}"
    return SectionView(frame, frame, frame.attrs["note"])


def _without(columns, reason: str, index_name: str) -> SectionView:
    """An empty section whose note gives the reason (a segment without subscriptions)."""
    view = skipped(columns, [], index_name)
    view.table.attrs["note"] = f"skipped: {reason}"
    return SectionView(view.numbers, view.table, f"skipped: {reason}")


def formatted(
    numbers: pd.DataFrame, units: dict[str, str], names: dict[str, str] | None = None
) -> pd.DataFrame:
    """``numbers`` with the columns of ``units`` written by :func:`format_value` in their unit,
    the other columns dropped, renamed by ``names``."""
    out = pd.DataFrame(
        {
            col: [format_value(None if pd.isna(v) else float(v), unit) for v in numbers[col]]
            for col, unit in units.items()
        },
        index=numbers.index,
    )
    return plain_index(out.rename(columns=names or {}))


_TREND_UNITS = {
    "start_mrr": "currency",
    "new": "currency",
    "expansion": "currency",
    "reactivation": "currency",
    "contraction": "currency",
    "churned": "currency",
    "end_mrr": "currency",
    "arr": "currency",
    "accounts": "count",
    "arpa": "currency",
    "quick_ratio": "ratio",
}
_TREND_NAMES = {
    "start_mrr": "start MRR",
    "end_mrr": "end MRR",
    "arr": "ARR",
    "accounts": "paying accounts",
    "arpa": "ARPA",
    "quick_ratio": "quick ratio",
}


class MRRSections:
    """The MRR sections of the retention report, for the workbook ``wb``."""

    def __init__(self, wb):
        self._wb = wb

    def mrr_trend(self, periods: int = 8) -> SectionView:
        """Start MRR, the movements, end MRR, ARR (12 x end MRR), paying accounts, ARPA and the
        quick ratio for the last ``periods`` periods ending with this one
        (:func:`metrics_lib.metrics.mrr_views.mrr_trend`)."""
        if missing := self._wb._missing("subscriptions"):
            return skipped(mrr_views.MRR_TREND_COLUMNS, missing, "period")
        if reason := self._wb._scope().subscriptions_missing:
            return _without(mrr_views.MRR_TREND_COLUMNS, reason, "period")
        numbers = mrr_views.mrr_trend(self._wb._period_datas(periods), self._wb.period)
        numbers.attrs["strategy_change"] = (
            self._wb.source.config.strategy_change_date,
            self._wb.strategy_change(),
        )
        return SectionView(numbers, formatted(numbers, _TREND_UNITS, _TREND_NAMES))

    def mrr_waterfall(self) -> SectionView:
        """The period's MRR bridge (:func:`metrics_lib.metrics.mrr_views.mrr_waterfall`): each
        step's change, the MRR after it and the change as a share of the start MRR."""
        if missing := self._wb._missing("subscriptions"):
            return skipped(["change", "before", "after", "kind"], missing, "step")
        if reason := self._wb._scope().subscriptions_missing:
            return _without(["change", "before", "after", "kind"], reason, "step")
        numbers = mrr_views.mrr_waterfall(self._wb._period_data(self._wb.period))
        start = float(numbers["after"].iloc[0])
        rows = []
        for step, r in numbers.iterrows():
            total = r["kind"] == "total"
            rows.append(
                {
                    "step": step,
                    "MRR change": format_value(r["change"], "currency")
                    if total
                    else format_change(r["change"], "currency"),
                    "MRR after": format_value(r["after"], "currency"),
                    "of start MRR": format_value(r["change"] / start if start > 0 else None, "share"),
                }
            )
        return SectionView(numbers, pd.DataFrame(rows).set_index("step"))

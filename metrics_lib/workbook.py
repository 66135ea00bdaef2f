"""What the notebooks call: one object per report holding the period, the data source and targets.

A notebook's parameters go straight into :class:`Workbook`; it validates them (period, paths that
stay inside the project, known segment), opens the data source, and hands out display-ready
tables built from the library's aggregations and formulas.
"""

from __future__ import annotations

import math
from datetime import date
from functools import cached_property
from pathlib import Path

import pandas as pd

from . import scorecard
from .errors import WorkbookError
from .periods import parse_period
from .source import PROJECT_ROOT, DataSource, resolve_path

__all__ = ["Workbook", "LOW_SAMPLE", "format_value"]

#: Below this many answers or units a number is flagged as a low sample.
LOW_SAMPLE = 30


def _inside_project(path: Path, what: str) -> Path:
    root = PROJECT_ROOT.resolve()
    if root not in (path, *path.parents):
        raise WorkbookError(f"{what} {str(path)!r} is outside the project folder {root}; "
                            "give a path inside it (relative paths start at the project folder)")
    return path


def format_value(value, unit: str) -> str:
    """A number as a reader wants it: shares as percentages, money with separators."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "share":
        return f"{100 * value:.1f}%"
    if unit in ("currency", "currency per day"):
        return f"{value:,.0f}"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def _change_text(rec: dict) -> str:
    if rec.get("change") is None:
        return "n/a"
    if rec["unit"] == "share":
        text = f"{100 * rec['change']:+.1f} pp"
    else:
        text = f"{rec['change']:+,.2f}"
    return text


def _significance_text(rec: dict) -> str:
    if rec.get("p_value") is None:
        return "not tested"
    verdict = "significant" if rec["significant"] else "within noise"
    return f"{verdict} (p={rec['p_value']:.3f})"


class Workbook:
    """The context of one report: period, data source, targets, segment and as-of date.

    Parameters are the notebook's; empty strings mean "the default". Relative paths resolve
    from the project folder, so a notebook runs the same from any working directory; paths
    from parameters may not leave the project folder (``restrict_paths=False`` lifts that for
    analysts calling the library directly).
    """

    def __init__(self, period: str = "", data: str = "", targets: str = "", segment: str = "",
                 as_of: str = "", mapping: str = "", *, restrict_paths: bool = True):
        data_path = resolve_path(data) if data else None
        if data_path is not None and restrict_paths:
            _inside_project(data_path, "data")
        self.source = DataSource(data_path, mapping=resolve_path(mapping) if mapping else None)
        self.period = parse_period(period) if period else self.source.default_period()
        self.targets = None
        if targets:
            t = resolve_path(targets)
            if restrict_paths:
                _inside_project(t, "targets")
            self.targets = t
        self.segment = segment or None
        if self.segment and self.source.has("customers"):
            known = set(self.source.frame("customers")["segment"].dropna().unique())
            if self.segment not in known:
                raise WorkbookError(f"segment {self.segment!r} is not in the data; segments: {', '.join(sorted(known))}")
        last = self.source.last_date()
        self.as_of: date | None = pd.Timestamp(as_of).date() if as_of else last
        if self.as_of and self.period.end > self.as_of:
            self.incomplete = True
        else:
            self.incomplete = False

    # -- what the report is about --------------------------------------------------------
    def summary(self) -> pd.DataFrame:
        """Period, data source, as-of date and row counts, as a small two-column table."""
        rows = [
            ("period", f"{self.period.label} ({self.period.start:%d %b %Y} to {self.period.end:%d %b %Y})"),
            ("compared with", self.period.previous().label),
            ("data source", self.source.config.name or self.source.path.name),
            ("as of", f"{self.as_of:%d %b %Y}" if self.as_of else "n/a"),
            ("segment", self.segment or "all customers"),
        ]
        if self.incomplete:
            rows.append(("note", "the period ends after the as-of date: its numbers are incomplete"))
        for table in self.source.tables:
            rows.append((f"rows: {table}", f"{len(self.source.frame(table)):,}"))
        for fam, missing in self.source.missing_families().items():
            rows.append((f"skipped: {fam}", f"needs {', '.join(missing)}"))
        return pd.DataFrame(rows, columns=["", "value"]).set_index("")

    # -- headline numbers ----------------------------------------------------------------
    def records(self, ids=None, *, period=None) -> dict:
        """The raw headline records (as in ``metrics --format json``) for metric ids or families."""
        p = parse_period(period) if period else self.period
        out = scorecard.headline_metrics(self.source, p, targets=self.targets, segment=self.segment, ids=ids)
        return out["metrics"]

    @cached_property
    def _all_records(self) -> dict:
        return self.records()

    def headline(self, ids=None) -> pd.DataFrame:
        """A display table: value, 95% interval, sample size, previous period, change and whether it
        is beyond noise, target and status, and a note for low samples or undefined metrics."""
        chosen = [h.id for h in scorecard.select_headlines(ids)]
        rows = []
        for mid in chosen:
            rec = self._all_records[mid]
            unit = rec["unit"]
            ci = "n/a" if rec["ci_low"] is None else f"{format_value(rec['ci_low'], unit)} to {format_value(rec['ci_high'], unit)}"
            n = rec.get("n")
            note = rec.get("reason") or ""
            if n is not None and 0 < n < LOW_SAMPLE:
                note = (note + "; " if note else "") + f"low sample (n={n})"
            rows.append({
                "metric": scorecard.HEADLINE[mid].label,
                "value": format_value(rec["value"], unit),
                "95% CI": ci,
                "n": "" if n is None else f"{n:,}",
                f"previous ({self.period.previous().label})": format_value(rec["previous"], unit),
                "change": _change_text(rec),
                "change vs noise": _significance_text(rec),
                "target": format_value(rec["target"], unit) if rec["target"] is not None else "",
                "status": rec["status"],
                "note": note,
            })
        return pd.DataFrame(rows).set_index("metric")

    def headline_numbers(self, ids=None, digits: int = 4) -> pd.Series:
        """Rounded headline values, for the cells that nbval compares between runs."""
        chosen = [h.id for h in scorecard.select_headlines(ids)]
        vals = {}
        for mid in chosen:
            v = self._all_records[mid]["value"]
            vals[mid] = None if v is None else round(float(v), digits)
        return pd.Series(vals, name=self.period.label, dtype=object)

    def trend(self, ids, *, periods: int = 8) -> pd.DataFrame:
        """Long table of the metrics over the last ``periods`` periods ending with this one."""
        rows = []
        for k in range(periods - 1, -1, -1):
            p = self.period.shift(-k)
            recs = scorecard.headline_metrics(self.source, p, targets=self.targets, segment=self.segment,
                                              ids=ids)["metrics"]
            for mid, rec in recs.items():
                rows.append({"period": p.label, "metric": mid, "value": rec["value"],
                             "ci_low": rec["ci_low"], "ci_high": rec["ci_high"], "n": rec["n"],
                             "unit": rec["unit"], "current": k == 0})
        return pd.DataFrame(rows)

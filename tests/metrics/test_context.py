"""A report's context resolved from its parameters: source, period, segment, as-of date, windows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from metrics_lib.core.errors import WorkbookError
from metrics_lib.metrics.context import ReportContext, trailing_window


def test_defaults_come_from_the_source(make_source):
    ctx = ReportContext.resolve(str(make_source()), period="2025-Q1")
    assert ctx.period.label == "2025-Q1" and ctx.segment is None and ctx.targets is None
    assert ctx.as_of == date(2025, 3, 15)  # the source's last date: its last order
    assert ctx.incomplete  # the quarter ends after the data does
    assert ctx.scope().period == ctx.period
    assert ctx.missing("orders", "reviews") == ["reviews"]


def test_an_as_of_date_after_the_period_makes_it_complete(make_source):
    ctx = ReportContext.resolve(str(make_source()), period="2025-Q1", as_of="2025-04-30")
    assert ctx.as_of == date(2025, 4, 30) and not ctx.incomplete


def test_an_unknown_segment_is_rejected(make_source):
    with pytest.raises(WorkbookError, match="segment 'nope' is not in the data"):
        ReportContext.resolve(str(make_source()), period="2025-Q1", segment="nope")


def test_the_caller_decides_how_paths_are_checked(make_source):
    seen = []

    def check(text, what):
        seen.append(what)
        return Path(text)

    ReportContext.resolve(str(make_source()), period="2025-Q1", targets="t.yml", check_path=check)
    assert seen == ["data", "targets"]


def test_trailing_window_ends_with_the_period(make_source):
    ctx = ReportContext.resolve(str(make_source()), period="2025-Q1")
    w = ctx.window(12)
    assert (w.start, w.next_start) == (date(2024, 4, 1), date(2025, 4, 1))
    assert trailing_window(ctx.period, 3) == ctx.window(3)
    assert ctx.table_rows()["orders"] == 4

"""Partial periods: a period the data does not cover whole is flagged, with its dates, and a change
against (or from) one is "not comparable", never significant.

The hand-made source's orders (conftest.partial_tables) run from 2024-02-10 to 2025-12-09: the year
2025 runs past the data's last date, 2024 starts before its first, 2025-Q2 and 2025-Q3 are whole.
"""

from __future__ import annotations

import contextlib
import io
import json

import pytest
from scipy import stats as sps

from metrics_lib.cli import main
from metrics_lib.data import DEMO_DATA, open_source
from metrics_lib.metrics.analyses import before_after
from metrics_lib.metrics.coverage import period_coverage
from metrics_lib.metrics.scorecard import headline_metrics
from metrics_lib.reporting.format import format_table

YEAR_NOTE = (
    "period 2025 (2025-01-01 to 2025-12-31) is partial: it runs past the data's last date, 2025-12-09 "
    "(table `orders`), so its numbers cover 2025-01-01 to 2025-12-09 only"
)
PREVIOUS_YEAR_NOTE = (
    "the previous period 2024 (2024-01-01 to 2024-12-31) is partial: it starts before the data's first "
    "date, 2024-02-10 (table `orders`), so its numbers cover 2024-02-10 to 2024-12-31 only; changes "
    "against 2024 are not comparable and were not tested"
)


def test_coverage_names_what_the_data_covers(partial_source):
    src = open_source(partial_source)
    year, prev = period_coverage(src, "2025"), period_coverage(src, "2024")
    assert (year.complete, year.state, year.covered) == (
        False,
        "partial (data ends 2025-12-09)",
        (year.period.start, src.last_date()),
    )
    assert (prev.complete, prev.state) == (False, "partial (data starts 2024-02-10)")
    assert period_coverage(src, "2025-Q3").complete and period_coverage(src, "2024-03").complete
    assert period_coverage(src, "2023").state == "outside the data (data starts 2024-02-10)"
    assert period_coverage(src, "2026-Q1").state == "outside the data (data ends 2025-12-09)"
    # a report's as-of date replaces the data's last date
    assert period_coverage(src, "2025", as_of=src.last_date().replace(day=31)).complete


def test_a_partial_year_against_a_partial_year_is_not_comparable(partial_source):
    out = headline_metrics(open_source(partial_source), "2025")
    assert out["complete"] is False
    assert out["notes"] == [YEAR_NOTE, PREVIOUS_YEAR_NOTE]
    reason = (
        "not comparable: this period is partial (data ends 2025-12-09) and the previous period is "
        "partial (data starts 2024-02-10)"
    )
    tested = 0
    for mid, rec in out["metrics"].items():
        if rec["status"] == "skipped":  # a table the hand-made source lacks: no comparison at all
            assert rec["comparison"] is None, mid
            continue
        tested += 1
        assert rec["comparison"] == reason, mid
        assert (rec["change"], rec["test"], rec["p_value"], rec["significant"]) == (None, None, None, None), (
            mid
        )
    assert tested >= 10
    # the values themselves are still reported: 2025's orders up to 9 December
    assert out["metrics"]["revenue"]["value"] == 100 + 300 + 150 + 250 + 50 + 400
    assert out["metrics"]["revenue"]["previous"] == 100 + 200


def test_a_whole_period_after_a_partial_one_is_not_comparable_either(partial_source):
    out = headline_metrics(open_source(partial_source), "2024-Q2")
    assert out["complete"] is True
    assert out["notes"] == [
        "the previous period 2024-Q1 (2024-01-01 to 2024-03-31) is partial: it starts before the data's "
        "first date, 2024-02-10 (table `orders`), so its numbers cover 2024-02-10 to 2024-03-31 only; "
        "changes against 2024-Q1 are not comparable and were not tested"
    ]
    rec = out["metrics"]["average_order_value"]
    assert rec["comparison"] == "not comparable: the previous period is partial (data starts 2024-02-10)"
    assert rec["significant"] is None and rec["p_value"] is None


def test_whole_periods_are_compared_as_before(partial_source):
    out = headline_metrics(open_source(partial_source), "2025-Q3")
    assert (out["complete"], out["notes"]) == (True, [])
    assert all(rec["comparison"] is None for rec in out["metrics"].values())
    assert out["metrics"]["revenue"]["change"] == 450 - 400
    aov = out["metrics"]["average_order_value"]
    assert (aov["value"], aov["previous"], aov["change"]) == (150, 200, -50)  # 450 / 3 against 400 / 2
    welch = sps.ttest_ind([150, 250, 50], [100, 300], equal_var=False)
    assert aov["test"] == "Welch t"
    assert aov["p_value"] == pytest.approx(welch.pvalue, rel=1e-9) and aov["significant"] is False


def _cli(*args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["metrics", *args])
    return code, out.getvalue(), err.getvalue()


def test_the_command_prints_the_notes(partial_source):
    code, out, err = _cli("--data", str(partial_source), "--period", "2025", "--format", "json")
    assert code == 0
    assert json.loads(out)["notes"] == [YEAR_NOTE, PREVIOUS_YEAR_NOTE]
    assert f"note: {YEAR_NOTE}" in err and f"note: {PREVIOUS_YEAR_NOTE}" in err
    code, out, err = _cli("--data", str(partial_source), "--period", "2025")
    assert code == 0 and f"note: {YEAR_NOTE}" in out and "note:" not in err
    revenue = next(line for line in out.splitlines() if line.startswith("revenue "))
    assert " n/c " in revenue  # the change is not comparable


def test_the_text_table_shows_the_notes():
    text = format_table(
        {
            "period": "2025",
            "start": "2025-01-01",
            "end": "2025-12-31",
            "previous_period": "2024",
            "notes": ["a note"],
            "metrics": {},
        }
    )
    assert text.splitlines()[1] == "note: a note"


def test_before_after_windows_the_data_does_not_cover_are_not_comparable(partial_source):
    b = before_after(open_source(partial_source), "2025-06-01", window_days=365, ids=("average_order_value",))
    # before: 2024-06-01 to 2025-05-31, whole; after: 2025-06-01 to 2026-05-31, past the data's end
    assert (b.before.label, b.after.label) == ("2024-06-01 to 2025-05-31", "2025-06-01 to 2026-05-31")
    assert b.comparison == "not comparable: the after window is partial (data ends 2025-12-09)"
    row = b.table.loc["average_order_value"]
    assert row["after"] == (150 + 250 + 50 + 400) / 4  # the values stay; the change is not computed
    assert row.isna()["change"] and row.isna()["p_value"] and row["significant"] is None


def test_the_demo_data_starts_on_2_january_2022_and_ends_on_31_december_2025():
    src = open_source(DEMO_DATA)
    assert src.activity_span() == ("orders", *src.date_span("orders"))
    assert [period_coverage(src, p).complete for p in ("2025-03", "2025-Q4", "2025", "2024-Q3")] == [True] * 4
    assert period_coverage(src, "2022-Q1").state == "partial (data starts 2022-01-02)"
    assert period_coverage(src, "2021-Q4").state == "outside the data (data starts 2022-01-02)"

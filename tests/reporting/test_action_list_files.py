"""The action lists a report run writes (``<period>/lists/``): the right customers, cells safe for
a spreadsheet, and survey comments only with ``--show-pii``.

The tiny source (conftest.py) with C1's NPS answer of 1 Feb 2025 changed to 2, with a comment
that a spreadsheet would run, and C1's segment changed to ``@ops``; C2 answered 6 on 3 Feb. In
2025-Q1 both are detractors, C1 first (lowest score).
"""

from __future__ import annotations

import csv

import pytest

from metrics_lib.core.periods import parse_period
from metrics_lib.data import open_source
from metrics_lib.data.csv_out import FORMULA_START, HIDDEN
from metrics_lib.reporting.runner.lists import write_action_lists

CHANGES = {
    ("surveys", 0, "score"): "2",
    ("surveys", 0, "comment"): '=HYPERLINK("http://x")',
    ("customers", 0, "segment"): "@ops",
}


@pytest.fixture
def source(make_source):
    return open_source(make_source(set=CHANGES))


def _rows(path):
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _write(source, folder, **kwargs):
    return write_action_lists(
        source, parse_period("2025-Q1"), folder, families={"health", "satisfaction"}, **kwargs
    )


def test_the_detractor_list_holds_the_detractors_with_safe_cells_and_no_comments(source, tmp_path):
    lines = _write(source, tmp_path)
    path = tmp_path / "lists" / "detractor_follow_up.csv"
    assert "lists/detractor_follow_up.csv: 2 customers" in lines
    rows = _rows(path)
    assert [(r["customer_id"], r["score"], r["touchpoint"]) for r in rows] == [
        ("C1", "2", "onboarding"),
        ("C2", "6", "onboarding"),
    ]
    assert rows[0]["response_date"] == "2025-02-01"
    assert rows[0]["comment"] == HIDDEN and rows[1]["comment"] == ""
    assert "HYPERLINK" not in path.read_text(encoding="utf-8")
    assert rows[0]["segment"] == "'@ops"
    for row in rows:
        for cell in row.values():
            assert not cell.lstrip(" ").startswith(FORMULA_START), cell


def test_comments_only_with_show_pii_and_still_made_safe(source, tmp_path):
    _write(source, tmp_path, show_pii=True)
    rows = _rows(tmp_path / "lists" / "detractor_follow_up.csv")
    assert rows[0]["comment"] == '\'=HYPERLINK("http://x")'


def test_a_list_that_cannot_be_built_is_not_written_and_says_why(source, tmp_path):
    lines = _write(source, tmp_path)
    assert not (tmp_path / "lists" / "at_risk_high_value.csv").exists()
    [line] = [x for x in lines if "at_risk_high_value" in x]
    assert line.startswith("lists/at_risk_high_value.csv not written: no list: customer CLV is not available")


def test_lists_go_with_their_reports_only(source, tmp_path):
    assert write_action_lists(source, parse_period("2025-Q1"), tmp_path, families={"service"}) == []
    assert not (tmp_path / "lists").exists()

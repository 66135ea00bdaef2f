"""`run` writes the action lists into the published period, beside the reports they go with.

The tiny source (conftest.py) with C1's NPS answer of 1 Feb 2025 changed to 2 and a comment a
spreadsheet would run: in 2025-Q1, C1 (2) and C2 (6) are the detractors. A throwaway
satisfaction notebook stands in for the real one.
"""

from __future__ import annotations

import csv

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from metrics_lib.data.csv_out import HIDDEN
from metrics_lib.reporting.runner import run_reports

pytestmark = pytest.mark.integration  # executes a notebook in a Jupyter kernel

PARAMETERS = """\
period: str = "2025-Q1"  # the period
data: str = ""  # the data source
show_pii: bool = False  # free text"""


@pytest.fixture
def workbook(make_source, tmp_path):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    nb = new_notebook(
        cells=[
            new_markdown_cell("# Satisfaction?"),
            new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}),
            new_code_cell("print(period)"),
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, nbs / "01_satisfaction.ipynb")
    data = make_source(
        set={("surveys", 0, "score"): "2", ("surveys", 0, "comment"): '=HYPERLINK("http://x")'}
    )
    return nbs, data


def _rows(path):
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("show_pii", [False, True])
def test_run_publishes_the_detractor_list(workbook, tmp_path, show_pii):
    nbs, data = workbook
    lines: list[str] = []
    summary = run_reports(
        "2025-Q1",
        data=data,
        notebooks_dir=nbs,
        out=tmp_path / "reports",
        show_pii=show_pii,
        progress=lines.append,
    )
    assert summary.ok
    assert "2025-Q1 lists/detractor_follow_up.csv: 2 customers" in lines
    folder = tmp_path / "reports" / "2025-Q1" / "lists"
    assert sorted(p.name for p in folder.iterdir()) == ["detractor_follow_up.csv"]  # no health report
    rows = _rows(folder / "detractor_follow_up.csv")
    assert [r["customer_id"] for r in rows] == ["C1", "C2"]
    assert rows[0]["comment"] == ('\'=HYPERLINK("http://x")' if show_pii else HIDDEN)

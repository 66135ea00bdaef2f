"""Test scaffolding stays out of the reports: the nbval check cell (``# NBVAL_CHECK_OUTPUT``,
tagged ``nbval-check``) and its heading (tagged ``report-hidden``) are left out of the HTML,
while nbval still finds the cell by its marker."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from metrics_lib.reporting.runner import run_reports
from metrics_lib.reporting.runner.execute import render_notebook

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _check_cell(nb):
    return next(c for c in nb.cells if c.source.startswith("# NBVAL_CHECK_OUTPUT"))


def _assert_no_scaffolding(page: str, check_output: str) -> None:
    assert "dtype:" not in page
    assert "NBVAL" not in page
    assert "The tests compare this cell" not in page
    assert "The reported numbers" not in page
    assert check_output.splitlines()[0] not in page  # the check cell's first printed line


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_renders_without_the_check_cell_or_its_heading(path):
    nb = nbformat.read(path, as_version=4)
    check = _check_cell(nb)
    assert {"nbval-check", "report-hidden"} <= set(check.metadata["tags"])
    heading = nb.cells[nb.cells.index(check) - 1]
    assert heading.cell_type == "markdown" and "report-hidden" in heading.metadata["tags"]
    _assert_no_scaffolding(render_notebook(nb, title=path.stem), check.outputs[0].text)


@pytest.mark.integration  # starts a kernel
def test_a_report_rendered_through_the_runner_has_no_scaffolding(tmp_path):
    out = tmp_path / "reports"
    summary = run_reports(["2025-Q4"], families=["value"], out=out, progress=None)
    assert summary.ok, summary.text()
    page = (out / "2025-Q4" / "value.html").read_text()
    committed = nbformat.read(next(p for p in NOTEBOOKS if p.stem.endswith("_value")), as_version=4)
    assert "Customer" in page or "CLV" in page  # the report itself is there
    _assert_no_scaffolding(page, _check_cell(committed).outputs[0].text)

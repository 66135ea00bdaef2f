"""The report notebooks, read without running them: the house rules of a notebook.

Each notebook has one ``parameters`` cell of literal assignments (period, data, targets, segment,
as_of), calls only metrics_lib, defines nothing, writes no file, has exactly one cell tagged
``nbval-check`` that prints headline numbers for nbval to compare, and is committed with outputs
that contain no error and no object repr of a plot.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
FAMILIES = [
    "scorecard",
    "satisfaction",
    "retention",
    "value",
    "pipeline",
    "service",
    "advocacy",
    "marketing",
    "health",
]
PARAMETERS = ["period", "data", "targets", "segment", "as_of", "mapping", "on_invalid", "show_pii"]
# parameters one notebook takes after the common ones (the value report: the run's saved CLV fits)
EXTRA_PARAMETERS = {"value": ["clv_models"]}
FORBIDDEN = re.compile(
    r"\bdef\b|\bclass\b|\bopen\(|to_csv|savefig|to_parquet|to_excel|write_text|%%?writefile"
)


def read(path: Path):
    return nbformat.read(path, as_version=4)


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def tagged(nb, tag):
    return [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]


def test_there_is_one_notebook_per_family_in_order():
    assert [re.sub(r"^\d\d_", "", p.stem) for p in NOTEBOOKS] == FAMILIES
    assert [p.stem[:2] for p in NOTEBOOKS] == [f"{i:02d}" for i in range(len(FAMILIES))]


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.stem)
def nb(request):
    return read(request.param)


def test_notebook_is_valid_and_runs_on_python3(nb):
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_notebook_opens_with_a_title_and_its_questions(nb):
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert "?" in first.source
    headings = [c.source for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("## ")]
    assert sum(h.splitlines()[0].endswith("?") for h in headings) >= 1


def test_exactly_one_parameters_cell_of_commented_literals(nb, request):
    cells = tagged(nb, "parameters")
    assert len(cells) == 1
    source = cells[0].source
    tree = ast.parse(source)
    names = []
    for stmt in tree.body:
        assert isinstance(stmt, ast.AnnAssign), f"not an annotated assignment: {ast.unparse(stmt)}"
        assert isinstance(stmt.target, ast.Name)
        assert isinstance(stmt.annotation, ast.Name) and stmt.annotation.id in ("str", "bool")
        kind = {"str": str, "bool": bool}[stmt.annotation.id]
        assert isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, kind), (
            f"{stmt.target.id} must be a literal of its annotated type"
        )
        names.append(stmt.target.id)
    family = re.sub(r"^\d\d_", "", request.node.callspec.id)
    assert names == PARAMETERS + EXTRA_PARAMETERS.get(family, [])
    comments = {
        tok.start[0]
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
    }
    assert all(stmt.lineno in comments for stmt in tree.body), "every parameter needs a comment"
    assert nb.cells.index(cells[0]) == 1  # right after the title


def test_the_cell_after_the_parameters_builds_the_workbook_from_them(nb):
    cells = code_cells(nb)
    setup = cells[1].source
    assert (
        "wb = Workbook(period, data, targets, segment, as_of, mapping, on_invalid=on_invalid, show_pii=show_pii)"
        in setup
    )
    assert setup.rstrip().endswith("wb.context_line()")  # one line of context; the inventory at the end


def test_about_the_data_closes_the_report_before_the_hidden_cells(nb):
    shown = [c for c in nb.cells if "report-hidden" not in c.metadata.get("tags", [])]
    assert shown[-2].cell_type == "markdown" and shown[-2].source.startswith("## About the data")
    assert shown[-1].source.strip() == "wb.summary()"
    assert sum("wb.summary()" in c.source for c in code_cells(nb)) == 1


def test_code_cells_import_only_metrics_lib_and_define_or_write_nothing(nb):
    for cell in code_cells(nb):
        assert not FORBIDDEN.search(cell.source), cell.source
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Import):
                assert all(a.name.split(".")[0] == "metrics_lib" for a in node.names), cell.source
            elif isinstance(node, ast.ImportFrom):
                assert (node.module or "").split(".")[0] == "metrics_lib", cell.source
            assert not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))


def test_exactly_one_nbval_check_cell_printing_headline_numbers(nb):
    cells = tagged(nb, "nbval-check")
    assert len(cells) == 1
    source = cells[0].source
    assert source.startswith("# NBVAL_CHECK_OUTPUT\n")
    assert "print(wb.headline_numbers(" in source
    assert sum("NBVAL_CHECK_OUTPUT" in c.source for c in code_cells(nb)) == 1
    outputs = cells[0].outputs
    assert len(outputs) == 1 and outputs[0].output_type == "stream" and outputs[0].name == "stdout"


def test_notebook_is_committed_executed_without_errors_or_plot_reprs(nb):
    counts = [c.execution_count for c in code_cells(nb)]
    assert None not in counts and counts == sorted(counts)
    for cell in code_cells(nb):
        for out in cell.outputs:
            assert out.output_type != "error", f"{out.get('ename')}: {out.get('evalue')}"
            assert not (out.output_type == "stream" and out.name == "stderr"), out.text
            text = out.get("text", "") + "".join(
                v for k, v in out.get("data", {}).items() if k.startswith("text/") and isinstance(v, str)
            )
            assert "<matplotlib" not in text and "<Axes" not in text, cell.source


def test_plot_cells_end_with_a_semicolon_or_an_assignment(nb):
    for cell in code_cells(nb):
        last = cell.source.rstrip().splitlines()[-1] if cell.source.strip() else ""
        if calls_a_plot(last):
            assert last.endswith(";") or re.match(r"^\w+\s*=", last), last


def calls_a_plot(source: str) -> bool:
    return any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id.startswith("plot_")
        for n in ast.walk(ast.parse(source))
    )


def test_every_plot_cell_shows_a_figure(nb):
    plotted = [c for c in code_cells(nb) if calls_a_plot(c.source)]
    assert plotted, "every report shows at least one plot"
    for cell in plotted:
        assert any("image/png" in o.get("data", {}) for o in cell.outputs), cell.source


def test_the_scorecard_opens_with_its_verdict():
    nb = read(NOTEBOOKS_DIR / "00_scorecard.ipynb")
    cells = code_cells(nb)
    assert cells[2].source.strip() == "wb.verdict()"  # after the parameters and the set-up


def test_the_scorecard_shows_every_headline_metric_with_its_status():
    from metrics_lib.metrics.catalogue import HEADLINE

    nb = read(NOTEBOOKS_DIR / "00_scorecard.ipynb")
    cell = next(c for c in code_cells(nb) if c.source.strip() == "wb.headline()")
    html = cell.outputs[0]["data"]["text/html"]
    assert "status" in html
    for h in HEADLINE.values():
        assert f"<th>{h.label}</th>" in html, h.label

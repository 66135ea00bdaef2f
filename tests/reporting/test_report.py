"""The per-period report run: real papermill runs of small throwaway notebooks, real kernels."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from metrics_lib.cli import main_run
from metrics_lib.core.errors import WorkbookError
from metrics_lib.core.periods import PeriodError
from metrics_lib.metrics.scorecard import VERDICT
from metrics_lib.reporting.runner import (
    overview_html,
    period_index_html,
    read_manifests,
    run_reports,
)
from metrics_lib.reporting.runner.publish import _MARK_TEXT, RUN_MARK

pytestmark = pytest.mark.integration  # executes notebooks in Jupyter kernels

PARAMETERS = """\
period: str = "2025-01"  # month YYYY-MM, quarter YYYY-Qn or year YYYY
data: str = ""  # the data source
targets: str = ""  # targets YAML
segment: str = ""  # only this segment
as_of: str = ""  # as-of date"""

SCORECARD = [
    # the marker must not reach the HTML: code inputs are hidden
    "CODE_MARKER_7f3a = 1\n"
    "assert isinstance(period, str), f'period arrived as {type(period).__name__}'\n"
    "import os\nprint('period=' + period)\nprint('cwd=' + os.getcwd())",
    "import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(2, 1.5))\nax.plot([1, 3, 2])\nplt.show()",
]
FAILING = ["raise ValueError('planted failure in ' + period + '\\nsecond line')"]


def write_notebook(path: Path, sources: list[str]) -> Path:
    nb = new_notebook(
        cells=[
            new_markdown_cell("# A throwaway report"),
            new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}),
            *[new_code_cell(s) for s in sources],
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def write_data(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "customers.csv").write_text("customer_id,signup_date\nc1,2024-01-05\nc2,2024-06-01\n")
    (folder / "orders.csv").write_text(
        "order_id,customer_id,order_date,revenue\n"
        "o1,c1,2025-01-10,100\no2,c2,2025-02-11,50\no3,c1,2025-03-31,20\n"
    )
    return folder


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    root = tmp_path_factory.mktemp("workbook")
    nbs = root / "notebooks"
    nbs.mkdir()
    write_notebook(nbs / "00_scorecard.ipynb", SCORECARD)
    write_notebook(nbs / "01_retention.ipynb", FAILING)
    write_notebook(nbs / "02_service.ipynb", ["print('needs tickets, which the data lacks')"])
    return {"root": root, "notebooks": nbs, "data": write_data(root / "data")}


@pytest.fixture(scope="module")
def run(workbook):
    """One two-period run in two worker processes, shared by the tests that only read it."""
    lines: list[str] = []
    out = workbook["root"] / "reports"
    summary = run_reports(
        ["2025-02", "2025-03"],
        data=workbook["data"],
        notebooks_dir=workbook["notebooks"],
        out=out,
        jobs=2,
        progress=lines.append,
    )
    return {"summary": summary, "out": out, "lines": lines, **workbook}


def manifest(out: Path, period: str) -> dict:
    return json.loads((out / period / "manifest.json").read_text())


def test_string_parameters_stay_strings(run):
    executed = nbformat.read(run["out"] / "2025-03" / "notebooks" / "scorecard.ipynb", as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and 'period = "2025-03"' in injected[0].source
    printed = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    assert "period=2025-03" in printed
    assert f"cwd={run['notebooks']}" in printed  # notebooks run from their own folder
    assert manifest(run["out"], "2025-03")["notebooks"][0]["status"] == "ok"


def test_output_files(run):
    out = run["out"]
    for period in ("2025-02", "2025-03"):
        names = sorted(str(p.relative_to(out / period)) for p in (out / period).rglob("*"))
        assert names == [
            RUN_MARK,
            "index.html",
            "manifest.json",
            "notebooks",
            "notebooks/retention.ipynb",
            "notebooks/scorecard.ipynb",
            "retention.html",
            "scorecard.html",
        ]
    assert (out / "index.html").is_file()
    assert sorted(p.name for p in out.iterdir()) == ["2025-02", "2025-03", "index.html"]


def test_html_is_offline_without_code(run):
    out = run["out"]
    report = (out / "2025-03" / "scorecard.html").read_text()
    assert "period=2025-03" in report
    assert "CODE_MARKER_7f3a" not in report and "isinstance(period" not in report
    assert re.search(r"<img[^>]*\bsrc=\"data:image/png;base64,", report)  # the plot, embedded
    for page in [out / "index.html", *out.glob("*/*.html")]:
        text = page.read_text()
        assert not re.search(r"<script[^>]*\bsrc\s*=", text, re.I), page
        assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']?(https?:)?//", text, re.I), page
        assert "http://" not in text and "https://" not in text, page


def test_manifest(run):
    m = manifest(run["out"], "2025-03")
    assert (m["period"], m["period_start"], m["period_end"], m["status"]) == (
        "2025-03",
        "2025-03-01",
        "2025-03-31",
        "failed",
    )
    assert m["counts"] == {"ok": 1, "failed": 1, "skipped": 1}
    assert m["parameters"] == {"period": "2025-03", "data": str(run["data"])}
    assert set(m["versions"]) >= {"metrics_lib", "pandas", "duckdb", "ibis", "papermill", "nbconvert"}
    assert "commit" in m["git"]
    assert {(i["table"], i["rows"]) for i in m["inputs"]} == {("customers", 2), ("orders", 3)}
    assert all(len(i["sha256"]) == 64 for i in m["inputs"])
    by_family = {nb["family"]: nb for nb in m["notebooks"]}
    assert list(by_family) == ["scorecard", "retention", "service"]
    ok, failed, skipped = by_family["scorecard"], by_family["retention"], by_family["service"]
    for nb in (ok, failed):
        assert nb["duration_s"] > 0 and nb["started"] <= nb["ended"]
        assert nb["parameters"]["period"] == "2025-03"
    assert ok["error"] is None and (ok["html"], ok["executed"]) == (
        "scorecard.html",
        "notebooks/scorecard.ipynb",
    )
    assert failed["error"] == "ValueError: planted failure in 2025-03"
    assert skipped["status"] == "skipped" and "tickets" in skipped["reason"]
    assert skipped["html"] is None and skipped["duration_s"] is None
    # the outcome metrics for the index pages; the data has no surveys, deals or tickets
    verdict = {x["id"]: x for x in m["verdict"]["metrics"]}
    assert list(verdict) == list(VERDICT)
    assert verdict["nps"]["status"] == "skipped" and verdict["churn_rate"]["status"] != "skipped"


def test_failing_notebook_does_not_stop_the_others(run):
    summary, out = run["summary"], run["out"]
    assert not summary.ok
    assert summary.counts == {"ok": 2, "failed": 2, "skipped": 2}
    assert [r.error for r in summary.failed] == [
        "ValueError: planted failure in 2025-02",
        "ValueError: planted failure in 2025-03",
    ]
    failed_page = (out / "2025-03" / "retention.html").read_text()
    assert "planted failure in 2025-03" in failed_page  # papermill's banner and traceback are kept
    for page in (out / "2025-03" / "index.html", out / "index.html"):
        assert "ValueError: planted failure in 2025-03" in page.read_text()
    executed = nbformat.read(out / "2025-03" / "notebooks" / "retention.ipynb", as_version=4)
    assert any("papermill-error-cell" in c.source for c in executed.cells if c.cell_type == "markdown")


def test_progress_lines(run):
    lines = run["lines"]
    assert "[4/6] 2025-03 scorecard ..." in lines
    assert any(re.fullmatch(r"\[4/6\] 2025-03 scorecard \.\.\. ok \(\d+\.\d s\)", ln) for ln in lines)
    assert any(
        ln.startswith("[5/6] 2025-03 retention ... FAILED") and "planted failure" in ln for ln in lines
    )
    assert "[6/6] 2025-03 service ... skipped (the data source lacks table(s) tickets)" in lines
    assert re.match(
        r"6 notebooks in 2 periods: 2 ok, 2 failed, 2 skipped in \d+\.\d s; index: .*index\.html$", lines[-1]
    )


def test_cross_period_index_lists_both_periods(run):
    page = (run["out"] / "index.html").read_text()
    assert page.index(">2025-03<") < page.index(">2025-02<")  # newest first
    assert page.index(">scorecard<") < page.index(">retention<") < page.index(">service<")
    assert "href='2025-02/scorecard.html'" in page and "href='2025-03/index.html'" in page
    assert [m["period"] for m in read_manifests(run["out"])] == ["2025-03", "2025-02"]


def test_rerun_replaces_the_period_folder(run, tmp_path):
    out = tmp_path / "reports"
    shutil.copytree(run["out"], out)
    (out / "2025-03" / "left-from-before.txt").write_text("x")
    stale = out / ".tmp-2025-03-999999999"  # a killed run's leftovers (marked as a run's): no such process
    (stale / "notebooks").mkdir(parents=True)
    (stale / "manifest.json").write_text("{}")
    (stale / RUN_MARK).write_text(_MARK_TEXT)
    summary = run_reports(
        "2025-03",
        data=run["data"],
        notebooks_dir=run["notebooks"],
        out=out,
        families="scorecard",
        progress=None,
    )
    assert summary.ok and summary.counts == {"ok": 1, "failed": 0, "skipped": 0}
    assert sorted(p.name for p in out.iterdir()) == ["2025-02", "2025-03", "index.html"]
    assert sorted(p.name for p in (out / "2025-03").iterdir()) == [
        RUN_MARK,
        "index.html",
        "manifest.json",
        "notebooks",
        "scorecard.html",
    ]
    assert [nb["family"] for nb in manifest(out, "2025-03")["notebooks"]] == ["scorecard"]
    page = (out / "index.html").read_text()
    assert ">2025-02<" in page and ">2025-03<" in page


def test_temporary_folders_are_not_periods(tmp_path):
    for name in (".tmp-2025-04-123", ".old-2025-05-123", "2025-13", "notes"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "manifest.json").write_text(json.dumps({"period": name, "notebooks": []}))
    assert read_manifests(tmp_path) == []


def test_unknown_parameter_is_rejected_before_anything_runs(workbook, tmp_path):
    with pytest.raises(
        WorkbookError, match=r"has no parameter `colour`; its parameters: period, data, targets"
    ):
        run_reports(
            "2025-03",
            data=workbook["data"],
            notebooks_dir=workbook["notebooks"],
            out=tmp_path / "r",
            extra_parameters={"colour": "red"},
            progress=None,
        )
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    "period, message",
    [
        ("2025-13", r"month 13 does not exist"),
        ("../../etc", r"period '\.\./\.\./etc' is not a month"),
    ],
)
def test_bad_period_is_rejected_before_anything_runs(workbook, tmp_path, period, message):
    with pytest.raises(PeriodError, match=message):
        run_reports(
            ["2025-03", period],
            data=workbook["data"],
            notebooks_dir=workbook["notebooks"],
            out=tmp_path / "r",
            progress=None,
        )
    assert not (tmp_path / "r").exists()


def test_unknown_family_and_missing_data_are_rejected(workbook, tmp_path):
    with pytest.raises(
        WorkbookError, match=r"unknown family `nope`; known families: scorecard, retention, service"
    ):
        run_reports(
            "2025-03",
            data=workbook["data"],
            notebooks_dir=workbook["notebooks"],
            families="scorecard,nope",
            out=tmp_path / "r",
            progress=None,
        )
    with pytest.raises(WorkbookError, match=r"cannot run the reports: .*data source not found"):
        run_reports(
            "2025-03",
            data=tmp_path / "absent",
            notebooks_dir=workbook["notebooks"],
            out=tmp_path / "r",
            progress=None,
        )
    (tmp_path / "empty").mkdir()
    with pytest.raises(
        WorkbookError, match=r"cannot run the reports: .*empty holds no table of the data contract"
    ):
        run_reports(
            "2025-03",
            data=tmp_path / "empty",
            notebooks_dir=workbook["notebooks"],
            out=tmp_path / "r",
            progress=None,
        )
    assert not (tmp_path / "r").exists()


def test_cli_errors_exit_2_before_running(workbook, tmp_path, capsys):
    common = [
        "--data",
        str(workbook["data"]),
        "--notebooks",
        str(workbook["notebooks"]),
        "--out",
        str(tmp_path / "r"),
    ]
    assert main_run(["--period", "../../etc", *common]) == 2
    assert "is not a month" in capsys.readouterr().err
    assert main_run(["--from", "2025-01", *common]) == 2
    assert "--from and --to go together" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_pages_escape_what_they_show():
    hostile = "<script>alert('x')</script>"
    m = {
        "period": "2025-03",
        "period_start": "2025-03-01",
        "period_end": "2025-03-31",
        "data_source": {"path": hostile},
        "notebooks": [
            {
                "family": "scorecard",
                "notebook": "00_scorecard.ipynb",
                "status": "failed",
                "error": hostile,
                "html": "scorecard.html",
                "executed": "notebooks/scorecard.ipynb",
                "duration_s": 1.0,
            }
        ],
    }
    for page in (overview_html([m]), period_index_html(m)):
        assert "<script>" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)" in page

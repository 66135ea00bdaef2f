"""The order a report run starts a period's notebooks in: the longest first, so that parallel
jobs end together; the manifest still lists them in the notebooks' order (notebooks are not
executed here: the runner's executor is replaced by one that records the steps)."""

from __future__ import annotations

import json

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from metrics_lib.data import DEMO_DATA
from metrics_lib.reporting.runner import run as runner

FAMILIES = ("scorecard", "satisfaction", "value", "pipeline", "marketing", "health")


def test_the_longest_reports_start_first_and_the_manifest_keeps_the_notebooks_order(tmp_path, monkeypatch):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    for i, family in enumerate(FAMILIES):
        cell = new_code_cell('period: str = "2025-Q4"\ndata: str = ""', metadata={"tags": ["parameters"]})
        if family == "value":
            cell.source += '\nclv_models: str = ""'
        nb = new_notebook(cells=[cell])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, nbs / f"{i + 1:02d}_{family}.ipynb")
    started = []

    def execute(steps, jobs, begin, record):
        for step, label, family, _task in steps:
            begin(step, label, family)
            started.append((step, label, family))
            record(
                step,
                label,
                family,
                {"status": "ok", "error": None, "started": "", "ended": "", "duration_s": 0.0},
            )

    monkeypatch.setattr(runner, "run_steps", execute)
    out = tmp_path / "reports"
    runner.run_reports(["2025-Q3", "2025-Q4"], data=DEMO_DATA, notebooks_dir=nbs, out=out, progress=None)
    first = ["scorecard", "value", "health", "pipeline", "satisfaction", "marketing"]
    assert started == [(i + 1, "2025-Q3", f) for i, f in enumerate(first)] + [
        (i + 7, "2025-Q4", f) for i, f in enumerate(first)
    ]
    manifest = json.loads((out / "2025-Q4" / "manifest.json").read_text())
    assert [n["family"] for n in manifest["notebooks"]] == list(FAMILIES)

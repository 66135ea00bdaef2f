"""The report runner writes the period's CLV models beside the manifest as ``clv_models.json`` and
names the file in the value notebook's parameters, so that the published notebook reruns alone
with the same fits (notebooks are not executed here: the runner's executor is replaced by one
that records the tasks). Within the run the value report and the runner share one fit through the
run's shared folder (tests/metrics/test_shared_results.py)."""

from __future__ import annotations

import json

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from metrics_lib.data import DEMO_DATA
from metrics_lib.reporting.runner import run as runner


def _notebook(path):
    cell = new_code_cell(
        'period: str = "2025-Q4"\ndata: str = ""\nclv_models: str = ""', metadata={"tags": ["parameters"]}
    )
    nb = new_notebook(cells=[cell])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_run_writes_the_fits_beside_the_manifest_and_passes_them_to_the_value_report(tmp_path, monkeypatch):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _notebook(nbs / "03_value.ipynb")
    _notebook(nbs / "02_retention.ipynb")
    tasks = {}

    def execute(steps, jobs, begin, record):
        for step, label, family, task in steps:
            begin(step, label, family)
            tasks[family] = task
            outcome = {"status": "ok", "error": None, "started": "", "ended": "", "duration_s": 0.0}
            record(step, label, family, outcome)

    monkeypatch.setattr(runner, "run_steps", execute)
    out = tmp_path / "reports"
    runner.run_reports(["2025-Q4"], data=DEMO_DATA, notebooks_dir=nbs, out=out)
    saved = json.loads((out / "2025-Q4" / "clv_models.json").read_text())
    assert (out / "2025-Q4" / "manifest.json").exists()
    assert saved["period"] == "2025-Q4" and saved["segment"] is None
    assert set(saved["models"]) == {"bgnbd", "gamma_gamma", "bgnbd_holdout", "sbg"}
    assert tasks["value"]["parameters"]["clv_models"] == str((out / "2025-Q4" / "clv_models.json").resolve())
    assert "clv_models" not in tasks["retention"]["parameters"]


def test_a_fit_that_fails_after_the_notebooks_ran_does_not_lose_the_period(tmp_path, monkeypatch):
    # the fits are written once the period's notebooks are done: whatever breaks them, the
    # reports are published and the run says what was not written
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _notebook(nbs / "03_value.ipynb")

    def execute(steps, jobs, begin, record):
        for step, label, family, _task in steps:
            begin(step, label, family)
            record(
                step,
                label,
                family,
                {"status": "ok", "error": None, "started": "", "ended": "", "duration_s": 0.0},
            )

    def broken(*_args, **_kwargs):
        raise RuntimeError("out of memory")

    def disk_full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runner, "run_steps", execute)
    monkeypatch.setattr(runner, "write_clv_fits", broken)
    monkeypatch.setattr(runner, "write_action_lists", disk_full)
    said = []
    out = tmp_path / "reports"
    summary = runner.run_reports(
        ["2025-Q4"], data=DEMO_DATA, notebooks_dir=nbs, out=out, progress=said.append
    )
    assert summary.ok and (out / "2025-Q4" / "manifest.json").exists()
    assert not (out / "2025-Q4" / "clv_models.json").exists()
    assert "2025-Q4 clv_models.json not written: RuntimeError: out of memory" in said
    assert "2025-Q4 lists not written: OSError: [Errno 28] No space left on device" in said

"""Faults during report runs: a run killed mid-way, two runs of one period at once, a dying kernel.

Real runs of the CLI in subprocesses with real kernels, on small throwaway notebooks.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_report import write_data, write_notebook

from metrics_lib.data import PROJECT_ROOT

pytestmark = pytest.mark.integration  # kills and races whole report runs

# sleeps when SLOW_REPORT is set, so a test can kill the run while a notebook is executing
SLOW = ["import os, time\ntime.sleep(float(os.environ.get('SLOW_REPORT', '0')))\nprint('report for', period)"]
DIES = ["import os\nos._exit(3)"]


def _run(args, env=None, **kw):
    return subprocess.Popen(
        [sys.executable, "-m", "metrics_lib", "run", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def setup(tmp_path):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    write_notebook(nbs / "00_scorecard.ipynb", SLOW)
    data = write_data(tmp_path / "data")
    out = tmp_path / "reports"
    common = ["--data", str(data), "--notebooks", str(nbs), "--out", str(out)]
    return {"nbs": nbs, "out": out, "common": common}


def test_killed_run_leaves_published_periods_intact_and_rerun_replaces_it(setup):
    out, common = setup["out"], setup["common"]
    first = _run(["--period", "2025-01", *common])
    assert first.wait(timeout=300) == 0, first.stderr.read()
    published = _digest(out / "2025-01")

    # a second run of a new period and of the published one, killed while a notebook sleeps
    victim = _run(
        ["--period", "2025-02", "--period", "2025-01", *common],
        env={"SLOW_REPORT": "60"},
        start_new_session=True,
    )
    deadline = time.time() + 120
    while not list(out.glob(".tmp-*")) and time.time() < deadline:
        time.sleep(0.2)
    assert list(out.glob(".tmp-*")), "the run never started building a period"
    time.sleep(2)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)

    assert _digest(out / "2025-01") == published
    assert not (out / "2025-02").exists()
    index = (out / "index.html").read_text()
    assert "2025-02" not in index

    rerun = _run(["--period", "2025-02", *common])
    assert rerun.wait(timeout=300) == 0, rerun.stderr.read()
    manifest = json.loads((out / "2025-02" / "manifest.json").read_text())
    assert manifest["status"] == "ok"
    assert not list(out.glob(".tmp-*")), "stale temporary folders were not cleaned"
    assert "2025-02" in (out / "index.html").read_text()


def test_two_runs_of_one_period_at_once_publish_one_whole_result(setup):
    out, common = setup["out"], setup["common"]
    runs = [_run(["--period", "2025-03", *common], env={"SLOW_REPORT": "1"}) for _ in range(2)]
    codes = [r.wait(timeout=300) for r in runs]
    assert codes == [0, 0], [r.stderr.read() for r in runs]
    manifest = json.loads((out / "2025-03" / "manifest.json").read_text())
    assert manifest["status"] == "ok"
    assert [n["family"] for n in manifest["notebooks"]] == ["scorecard"]
    assert (out / "2025-03" / "scorecard.html").exists()
    assert not list(out.glob(".tmp-*")) and not list(out.glob(".old-*"))


def test_a_dying_kernel_is_recorded_as_failed_and_the_others_complete(setup):
    out, common, nbs = setup["out"], setup["common"], setup["nbs"]
    write_notebook(nbs / "01_retention.ipynb", DIES)
    proc = _run(["--period", "2025-02", *common])
    assert proc.wait(timeout=300) == 1
    manifest = json.loads((out / "2025-02" / "manifest.json").read_text())
    status = {n["family"]: n["status"] for n in manifest["notebooks"]}
    assert status == {"scorecard": "ok", "retention": "failed"}
    failed = next(n for n in manifest["notebooks"] if n["family"] == "retention")
    assert failed["error"]
    assert "failed" in (out / "2025-02" / "index.html").read_text()

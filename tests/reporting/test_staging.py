"""A run removes or replaces only what a run made, writes rejected rows safely, and says plainly when
``--out`` cannot take the reports (a file, a read-only folder, a full disk).

The runs here execute no notebook: their only notebook is for a family whose table the data lacks,
so it is skipped, and the run still stages, publishes and indexes the period; no kernel starts.
"""

from __future__ import annotations

import csv
import errno
import fcntl
import json
import os
import pathlib
import subprocess
import sys
from pathlib import Path

import pytest
from nbformat import write as write_nb
from nbformat.v4 import new_code_cell, new_notebook

from metrics_lib.core.errors import WorkbookError
from metrics_lib.reporting.runner.publish import (
    _MARK_TEXT,
    RUN_MARK,
    _publish,
    _remove_leftover,
    clean_stale,
    discard_staging,
    is_ours,
    make_staging,
)

PARAMETERS = (
    'period: str = ""\ndata: str = ""\ntargets: str = ""\nmapping: str = ""\n'
    'on_invalid: str = "strict"\nshow_pii: bool = False'
)


@pytest.fixture
def setup(tmp_path):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    nb = new_notebook(
        cells=[
            new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}),
            new_code_cell("raise SystemExit('must not run: the data has no tickets')"),
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    write_nb(nb, nbs / "05_service.ipynb")
    data = tmp_path / "data"
    data.mkdir()
    (data / "customers.csv").write_text("customer_id,signup_date\nC1,2025-01-05\nC2,2025-01-20\n")
    (data / "orders.csv").write_text("order_id,customer_id,order_date,revenue\nO1,C1,2025-01-06,120\n")
    out = tmp_path / "reports"
    return {
        "data": data,
        "out": out,
        "argv": [
            "run",
            "--data",
            str(data),
            "--notebooks",
            str(nbs),
            "--out",
            str(out),
            "--period",
            "2025-01",
        ],
    }


def _ours(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / RUN_MARK).write_text(_MARK_TEXT, encoding="utf-8")
    (folder / "notebooks").mkdir()
    return folder


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid  # reaped: no process has it now (until the system reuses it)


# -- only what a run made is removed ----------------------------------------------------------------


def test_the_reproduction_a_users_dot_entries_survive_a_run(setup, cli_run):
    out = setup["out"]
    (out / ".tmp-drafts").mkdir(parents=True)
    (out / ".tmp-drafts" / "a.docx").write_text("x")
    (out / ".old-budget.xlsx").write_text("y")
    (out / ".tmp-2025-01-999999999").mkdir()  # named like a killed run's folder, but not marked
    (out / ".tmp-2025-01-999999999" / "notes.txt").write_text("z")
    code, text = cli_run(*setup["argv"])
    assert code == 0, text
    assert (out / ".tmp-drafts" / "a.docx").read_text() == "x"
    assert (out / ".old-budget.xlsx").read_text() == "y"
    assert (out / ".tmp-2025-01-999999999" / "notes.txt").read_text() == "z"
    assert json.loads((out / "2025-01" / "manifest.json").read_text())["notebooks"][0]["status"] == "skipped"
    assert is_ours(out / "2025-01")
    assert sorted(p.name for p in out.iterdir()) == [
        ".old-budget.xlsx",
        ".tmp-2025-01-999999999",
        ".tmp-drafts",
        "2025-01",
        "index.html",
    ]


def _hold_lock(folder: Path):
    """Lock a folder's mark as a running run does, through an open file of its own."""
    fh = open(folder / RUN_MARK, "rb")
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise
    return fh


def test_a_killed_runs_marked_folder_is_cleaned_a_live_ones_is_not(tmp_path):
    dead, alive = _dead_pid(), os.getppid()
    stale = _ours(tmp_path / f".tmp-2025-01-{dead}")
    aside = _ours(tmp_path / f".old-2025-02-{dead}")
    running = _ours(tmp_path / f".tmp-2025-03-{dead}")  # its pid means nothing here: its lock does
    unlocked_but_alive_pid = _ours(tmp_path / f".tmp-2025-06-{alive}")  # a killed run's pid now reused
    forged = tmp_path / f".tmp-2025-04-{dead}"
    forged.mkdir()
    (forged / RUN_MARK).write_text("something else")
    linked = tmp_path / f".tmp-2025-05-{dead}"
    linked.symlink_to(_ours(tmp_path / "elsewhere"), target_is_directory=True)
    user_file = tmp_path / f".tmp-notes-{dead}"
    user_file.write_text("mine")

    with _hold_lock(running):
        removed = clean_stale(tmp_path)
    assert sorted(p.name for p in removed) == sorted([stale.name, aside.name, unlocked_but_alive_pid.name])
    assert not stale.exists() and not aside.exists() and not unlocked_but_alive_pid.exists()
    assert running.is_dir() and forged.is_dir() and user_file.read_text() == "mine"
    assert linked.is_symlink() and (tmp_path / "elsewhere" / RUN_MARK).is_file()
    assert clean_stale(tmp_path) == [running]  # its run has ended: the lock is free


HOLDER = """
import sys, time
from pathlib import Path
from metrics_lib.reporting.runner.publish import make_staging
folder = make_staging(Path(sys.argv[1]), "2025-Q4")
print(folder.name, flush=True)
sys.stdin.readline()
"""


def test_a_live_run_in_another_pid_namespace_keeps_its_folder(tmp_path):
    """The reproduction: a run in a container (another PID namespace) builds `.tmp-2025-Q4-403`;
    pid 403 means nothing on this side, yet a second run on the same --out must leave the folder
    alone for as long as the first run lives, and remove it once that run is gone."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        made = tmp_path / holder.stdout.readline().strip()
        assert made.name == f".tmp-2025-Q4-{holder.pid}"
        as_seen_elsewhere = made.rename(tmp_path / f".tmp-2025-Q4-{_dead_pid()}")  # a pid alive only there
        (as_seen_elsewhere / "scorecard.html").write_text("half written")
        assert clean_stale(tmp_path) == []
        assert (as_seen_elsewhere / "scorecard.html").read_text() == "half written"
        with pytest.raises(
            WorkbookError, match=r"another run that is still going .* is building this period"
        ):
            _remove_leftover(as_seen_elsewhere)  # a run whose own pid is in that name stops too
        assert as_seen_elsewhere.is_dir()
    finally:
        holder.communicate("\n", timeout=60)
    assert holder.returncode == 0
    assert clean_stale(tmp_path) == [as_seen_elsewhere]  # the run ended: its lock went with it
    assert not as_seen_elsewhere.exists()


def test_staging_folders_hold_their_lock_until_published_or_discarded(tmp_path):
    tmp = make_staging(tmp_path, "2025-01")
    index_staging = make_staging(tmp_path, "index-0a1b2c3d")
    assert is_ours(tmp) and is_ours(index_staging)
    with pytest.raises(BlockingIOError):
        _hold_lock(tmp)
    assert clean_stale(tmp_path) == []
    discard_staging(index_staging)
    assert not index_staging.exists()
    _publish(tmp, tmp_path / "2025-01")
    with _hold_lock(tmp_path / "2025-01"):  # published: the lock was released
        pass


def test_a_rerun_replaces_a_period_a_run_made_but_not_a_users_folder(setup, cli_run):
    out = setup["out"]
    assert cli_run(*setup["argv"])[0] == 0
    (out / "2025-01" / "left-from-before.txt").write_text("x")
    assert cli_run(*setup["argv"])[0] == 0
    assert not (out / "2025-01" / "left-from-before.txt").exists()  # the period was replaced whole
    assert (out / "2025-01" / "manifest.json").is_file()
    assert not [p.name for p in out.iterdir() if p.name.startswith((".tmp-", ".old-"))]

    other = setup["argv"][:-1] + ["2025-02"]
    (out / "2025-02").mkdir()
    (out / "2025-02" / "plan.txt").write_text("mine")
    code, text = cli_run(*other)
    assert code == 2
    assert f"--out {out}: {out / '2025-02'} is not a report folder made by a run" in text
    assert "move it away, or choose another folder with --out" in text
    assert (out / "2025-02" / "plan.txt").read_text() == "mine"


def test_a_folder_published_before_marks_existed_is_still_replaced(setup, cli_run):
    out = setup["out"]
    legacy = out / "2025-01"
    legacy.mkdir(parents=True)
    (legacy / "manifest.json").write_text(json.dumps({"schema": 1, "period": "2025-01", "notebooks": []}))
    code, text = cli_run(*setup["argv"])
    assert code == 0, text
    assert json.loads((legacy / "manifest.json").read_text())["notebooks"][0]["family"] == "service"


def test_a_users_index_html_is_not_overwritten(setup, cli_run):
    out = setup["out"]
    out.mkdir()
    (out / "index.html").write_text("<html><title>My homepage</title></html>")
    code, text = cli_run(*setup["argv"])
    assert code == 2
    assert f"{out / 'index.html'} is not the overview page of a run, so it is not replaced" in text
    assert (out / "index.html").read_text() == "<html><title>My homepage</title></html>"
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]


# -- rejected rows are written safely ----------------------------------------------------------------


def _break_a_survey(data: Path) -> None:
    """One answer out of its scale, with a formula and a phone number and an e-mail in its text."""
    (data / "surveys.csv").write_text(
        "response_id,customer_id,response_date,survey,score,touchpoint,comment\n"
        "S1,C1,2025-01-10,nps,9,onboarding,fine\n"
        'S2,C2,2025-01-11,nps,-5,"=HYPERLINK(""http://evil.example"",""open"")",'
        "\"+cmd|' /C calc'!A0 call me: a.b@example.com\"\n"
    )


def _rejected(out: Path) -> list[dict[str, str]]:
    with open(out / "2025-01" / "rejected" / "surveys.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_rejected_rows_hold_no_formula_and_no_free_text(setup, cli_run):
    _break_a_survey(setup["data"])
    code, text = cli_run(*setup["argv"] + ["--on-invalid", "quarantine"])
    assert code == 0, text
    (row,) = _rejected(setup["out"])
    assert row["response_id"] == "S2" and row["score"] == "-5"
    assert row["touchpoint"] == '\'=HYPERLINK("http://evil.example","open")'
    assert row["comment"] == "(hidden: free text may hold personal data; run with --show-pii to keep it)"
    assert "example.com" not in (setup["out"] / "2025-01" / "rejected" / "surveys.csv").read_text()


def test_show_pii_keeps_the_comment_in_rejected_rows_neutralised(setup, cli_run):
    _break_a_survey(setup["data"])
    code, text = cli_run(*setup["argv"] + ["--on-invalid", "quarantine", "--show-pii"])
    assert code == 0, text
    (row,) = _rejected(setup["out"])
    assert row["comment"] == "'+cmd|' /C calc'!A0 call me: a.b@example.com"
    manifest = json.loads((setup["out"] / "2025-01" / "manifest.json").read_text())
    assert manifest["parameters"]["show_pii"] is True


# -- --out that cannot take the reports --------------------------------------------------------------


def test_out_an_existing_file(setup, cli_run):
    out = setup["out"]
    out.write_text("not a folder")
    code, text = cli_run(*setup["argv"])
    assert code == 2
    assert f"error: --out {out}: this is a regular file, not a folder; give a folder for the reports" in text
    assert out.read_text() == "not a folder"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only folders")
def test_out_a_read_only_folder(setup, cli_run):
    out = setup["out"]
    out.mkdir()
    out.chmod(0o555)
    try:
        code, text = cli_run(*setup["argv"])
    finally:
        out.chmod(0o755)
    assert code == 2
    assert f"error: --out {out}: cannot write in {out} (permission denied or a read-only disk)" in text
    assert list(out.iterdir()) == []


@pytest.mark.parametrize(
    "code, message",
    [
        (errno.ENOSPC, "the disk is full; free some space or choose another folder with --out"),
        (errno.EACCES, "permission denied; choose a folder you can write to with --out"),
        (errno.EROFS, "the disk is read-only; choose a folder on a writable disk with --out"),
    ],
)
def test_a_failing_write_names_out_and_leaves_nothing_behind(setup, cli_run, monkeypatch, code, message):
    """Fault injection: the operating system refuses the period's manifest (disk full, ...)."""
    out = setup["out"]
    out.mkdir()
    (out / ".tmp-drafts").mkdir()
    real = pathlib.Path.write_text

    def refuse(self, *args, **kwargs):
        if self.name == "manifest.json":
            raise OSError(code, os.strerror(code), str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "write_text", refuse)
    exit_code, text = cli_run(*setup["argv"])
    assert exit_code == 2
    assert f"error: --out {out}: cannot write the reports (" in text
    assert f"manifest.json): {message}" in text
    assert sorted(p.name for p in out.iterdir()) == [".tmp-drafts"]  # staging removed, the user's kept

"""`demo-data --out` writes into a new or empty folder, or replaces only a folder it made itself
(marked with its own file): a user's folder is left alone, a file or a full disk gets a message
naming --out."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil

import pyarrow.parquet as pq
import pytest

from metrics_lib import cli
from metrics_lib.core.errors import WorkbookError
from metrics_lib.data import DEMO_DATA
from metrics_lib.demo import write_demo_data
from metrics_lib.demo.writer import DEMO_MARK


def _hashes(folder):
    return {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def test_a_folder_holding_someone_elses_tables_is_left_alone(tmp_path):
    (tmp_path / "orders.parquet").write_text("my real export")
    with pytest.raises(
        WorkbookError,
        match=r"^--out .*: this folder is not empty \(it holds orders\.parquet\) and was not made by "
        r"demo-data \(it lacks the mark \.metrics_lib-demo .*\), so nothing was written; choose an "
        r"empty or new folder for --out",
    ):
        write_demo_data(tmp_path, customers=20, seed=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.parquet"]
    assert (tmp_path / "orders.parquet").read_text() == "my real export"


def test_a_copied_demo_source_yml_does_not_make_a_folder_the_demos(tmp_path, capsys):
    # the user copied the demo's source.yml beside their own export: it says `name: demo`
    shutil.copyfile(DEMO_DATA / "source.yml", tmp_path / "source.yml")
    (tmp_path / "orders.parquet").write_bytes(b"PAR1 my real orders")
    before = _hashes(tmp_path)
    assert cli.main(["demo-data", "--customers", "50", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"error: --out {tmp_path}: this folder is not empty (it holds orders.parquet, source.yml)" in err
    assert _hashes(tmp_path) == before


@pytest.mark.parametrize("mark", ["", "made by me\n", None])
def test_a_mark_without_the_demos_text_is_not_the_demos(tmp_path, mark):
    if mark is None:
        (tmp_path / DEMO_MARK).mkdir()  # a folder in the mark's place
    else:
        (tmp_path / DEMO_MARK).write_text(mark)
    with pytest.raises(WorkbookError, match=r"lacks the mark \.metrics_lib-demo"):
        write_demo_data(tmp_path, customers=20, seed=1)
    assert [p.name for p in tmp_path.iterdir()] == [DEMO_MARK]


def test_an_empty_folder_is_filled_and_marked_and_then_replaced(tmp_path):
    write_demo_data(tmp_path, customers=20, seed=1)
    assert (tmp_path / DEMO_MARK).is_file()
    (tmp_path / "notes.txt").write_text("mine")  # the user's file beside the demo's is kept
    rows = write_demo_data(tmp_path, customers=30, seed=2)
    assert pq.read_metadata(tmp_path / "customers.parquet").num_rows == rows["customers"] == 30
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_the_committed_demo_data_carries_the_mark_so_make_demo_data_rebuilds_it(tmp_path):
    copy = shutil.copytree(DEMO_DATA, tmp_path / "demo")  # as `make demo-data` finds data/demo
    write_demo_data(copy, customers=20, seed=1)
    assert pq.read_metadata(copy / "customers.parquet").num_rows == 20


def test_out_an_existing_file_exits_2_with_the_option_named(tmp_path, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    assert cli.main(["demo-data", "--customers", "20", "--out", str(target)]) == 2
    err = capsys.readouterr().err
    assert f"error: --out {target}: this is a file, not a folder" in err and "Traceback" not in err
    assert target.read_text() == "mine"


def test_a_full_disk_names_out(tmp_path, monkeypatch, capsys):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pq, "write_table", full)  # fault injection: the disk fills up
    assert cli.main(["demo-data", "--customers", "20", "--out", str(tmp_path / "demo")]) == 2
    err = capsys.readouterr().err
    assert f"error: --out {tmp_path / 'demo'}: cannot write the demo data: No space left on device" in err
    assert "unexpected" not in err


def test_targets_the_user_edited_in_the_demo_folder_survive_a_new_run(tmp_path, capsys):
    out = tmp_path / "demo"
    assert cli.main(["demo-data", "--customers", "20", "--seed", "1", "--out", str(out)]) == 0
    edited = (out / "targets.yml").read_text(encoding="utf-8").replace("nps:", "nps:  # ours\n  ", 1)
    (out / "targets.yml").write_text(edited, encoding="utf-8")
    capsys.readouterr()
    assert cli.main(["demo-data", "--customers", "30", "--seed", "2", "--out", str(out)]) == 0
    assert (out / "targets.yml").read_text(encoding="utf-8") == edited
    assert pq.read_metadata(out / "customers.parquet").num_rows == 30  # the tables are replaced
    err = capsys.readouterr().err
    assert f"kept {out / 'targets.yml'}: it differs from the demo's targets" in err


def test_targets_an_earlier_demo_data_wrote_are_replaced_and_a_link_is_kept(tmp_path, monkeypatch):
    from metrics_lib.demo import writer
    from metrics_lib.demo.targets import targets_yaml

    earlier = b"nps:\n  target: 30\n"  # stands for a version an earlier demo-data wrote
    monkeypatch.setattr(writer, "_EARLIER_TARGETS_SHA256", frozenset({hashlib.sha256(earlier).hexdigest()}))
    write_demo_data(tmp_path, customers=20, seed=1)
    targets = tmp_path / "targets.yml"
    targets.write_bytes(earlier)
    write_demo_data(tmp_path, customers=20, seed=1)
    assert targets.read_text(encoding="utf-8") == targets_yaml()
    # a link in its place, even to the demo's own text, is the user's: it is kept
    mine = tmp_path.parent / f"{tmp_path.name}-mine.yml"
    mine.write_bytes(earlier)
    targets.unlink()
    targets.symlink_to(mine)
    write_demo_data(tmp_path, customers=20, seed=1)
    assert targets.is_symlink() and mine.read_bytes() == earlier

"""`demo-data --out` replaces only demo data: a user's folder is left alone, a file or a full disk
gets a message naming --out."""

from __future__ import annotations

import errno
import os

import pyarrow.parquet as pq
import pytest

from metrics_lib import cli
from metrics_lib.core.errors import WorkbookError
from metrics_lib.demo import write_demo_data


def test_a_folder_holding_someone_elses_tables_is_left_alone(tmp_path):
    (tmp_path / "orders.parquet").write_text("my real export")
    with pytest.raises(
        WorkbookError,
        match=r"^--out .*: this folder already holds orders\.parquet, which the demo "
        r"did not write, so nothing was written",
    ):
        write_demo_data(tmp_path, customers=20, seed=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.parquet"]
    assert (tmp_path / "orders.parquet").read_text() == "my real export"


def test_demo_data_written_before_is_replaced(tmp_path):
    write_demo_data(tmp_path, customers=20, seed=1)
    rows = write_demo_data(tmp_path, customers=30, seed=2)
    assert pq.read_metadata(tmp_path / "customers.parquet").num_rows == rows["customers"] == 30


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

"""Every input is opened one way (regular files only, configs of bounded size) and DuckDB never
fetches code from the network: FIFOs, devices and folders in a file's place are named instead of
hanging or being read without end, a 25,000-column header is checked in one pass, and a file named
``.duckdb`` that is really an SQLite database (or an archive) is named before DuckDB sees it."""

from __future__ import annotations

import gzip
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

from metrics_lib.core.engine import DUCKDB_CONFIG, duckdb_connect, ibis_duckdb_connect
from metrics_lib.core.errors import ContractError, WorkbookError
from metrics_lib.data import open_source
from metrics_lib.data.config import ColumnMapping, SourceConfig, read_yaml_config
from metrics_lib.data.safe_io import CONFIG_LIMIT, check_regular, open_regular, read_config_text, sniff
from metrics_lib.metrics.targets import read_targets

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
if not PYTHON.exists():  # pragma: no cover - e.g. a conda environment
    PYTHON = Path(sys.executable)

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")


@pytest.fixture
def fifo():
    """Make a FIFO at a path. Should a reader block on it after all, a writer opens and closes it
    after 20 s, so the reader gets an empty file and the test fails instead of hanging."""
    made: list[Path] = []
    done = threading.Event()

    def unblock():
        deadline = time.monotonic() + 20
        while not done.wait(0.2):
            if time.monotonic() < deadline:
                continue
            for path in made:
                try:
                    os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
                except OSError:
                    pass  # no reader is waiting on it

    thread = threading.Thread(target=unblock, daemon=True)
    thread.start()

    def make(path: Path) -> Path:
        os.mkfifo(path)
        made.append(path)
        return path

    yield make
    done.set()
    thread.join()


# -- the one safe open -------------------------------------------------------------------------


@needs_fifo
def test_a_fifo_a_device_or_a_folder_is_named_never_opened(tmp_path, fifo):
    pipe = fifo(tmp_path / "pipe")
    with pytest.raises(WorkbookError, match=r"pipe: this is a named pipe \(FIFO\), not a regular file"):
        open_regular(pipe)
    with pytest.raises(
        WorkbookError, match=r"^--targets /dev/zero: this is a character device, not a regular"
    ):
        check_regular("/dev/zero", what="--targets")
    with pytest.raises(WorkbookError, match=r"this is a folder, not a regular file, so it is not read"):
        read_config_text(tmp_path)
    with pytest.raises(WorkbookError, match=r"absent\.yml: file not found; check the path"):
        read_config_text(tmp_path / "absent.yml")


def test_a_config_file_is_read_up_to_one_mebibyte(tmp_path):
    big = tmp_path / "source.yml"
    big.write_bytes(b"#" * (CONFIG_LIMIT + 1) + b"\n")
    with pytest.raises(
        WorkbookError, match=r"source\.yml: 1,048,578 bytes, more than the 1,048,576 bytes \(1 MiB\)"
    ):
        read_config_text(big)
    big.write_bytes(b"name: x\n" + b"#" * 1000 + b"\n")
    assert read_yaml_config(big) == {"name": "x"}


def test_a_config_that_is_really_an_archive_is_named(tmp_path):
    path = tmp_path / "mapping.yml"
    path.write_bytes(gzip.compress(b"tables: {}\n"))
    with pytest.raises(
        WorkbookError, match=r"not UTF-8 text .*this is a gzip-compressed file, not a YAML file"
    ):
        ColumnMapping.read(path)


@pytest.mark.parametrize(
    "head, found",
    [
        (b"SQLite format 3\x00rest", "an SQLite database"),
        (gzip.compress(b"x"), "a gzip-compressed file"),
        (b"PK\x03\x04rest", "a ZIP archive (an Excel .xlsx workbook is one)"),
        (b"PAR1rest", "a Parquet file"),
        (b"order_id,revenue\n", None),
    ],
)
def test_sniff_tells_a_file_type_from_its_first_bytes(tmp_path, head, found):
    assert sniff(head) == found
    (tmp_path / "f").write_bytes(head)
    assert sniff(tmp_path / "f") == found


# -- configuration files beside the data and --targets ------------------------------------------


@needs_fifo
@pytest.mark.parametrize("name", ["source.yml", "mapping.yml", "targets.yml"])
def test_a_fifo_named_like_a_config_file_stops_with_its_name(make_source, fifo, cli_run, name):
    folder = make_source()
    fifo(folder / name)
    command = "metrics" if name == "targets.yml" else "validate"
    code, text = cli_run(command, "--data", folder)
    assert code == 2
    assert f"{folder / name}: this is a named pipe (FIFO), not a regular file, so it is not read" in text
    assert "it must be a YAML file of a few lines" in text


@pytest.mark.parametrize("targets, kind", [("/dev/zero", "a character device"), ("{folder}", "a folder")])
@pytest.mark.parametrize("command", ["metrics", "run"])
def test_targets_that_are_not_a_file_are_named_with_the_option(
    make_source, cli_run, tmp_path, targets, kind, command
):
    folder = make_source()
    targets = targets.replace("{folder}", str(folder))
    out = tmp_path / "reports"
    extra = ["--out", out] if command == "run" else []
    code, text = cli_run(command, "--data", folder, "--targets", targets, *extra)
    assert code == 2
    assert f"error: --targets {targets}: this is {kind}, not a regular file, so it is not read" in text
    assert not out.exists()


def test_read_targets_and_source_config_use_the_one_reader(tmp_path):
    huge = tmp_path / "targets.yml"
    huge.write_bytes(b"targets:\n" + b"  #" * CONFIG_LIMIT)
    with pytest.raises(WorkbookError, match=r"^targets file .*targets\.yml: 3,145,737 bytes, more than"):
        read_targets(huge)
    (tmp_path / "source.yml").mkdir()
    with pytest.raises(WorkbookError, match=r"source\.yml: this is a folder, not a regular file"):
        SourceConfig.read(tmp_path / "source.yml")


# -- table files ----------------------------------------------------------------------------------


@needs_fifo
def test_a_fifo_named_orders_csv_is_a_problem_not_a_hang_nor_a_skip(make_source, fifo, cli_run):
    folder = make_source(drop=("orders",))
    fifo(folder / "orders.csv")
    code, text = cli_run("validate", "--data", folder)
    assert code == 1
    assert (
        f"{folder / 'orders.csv'}: table `orders`: this is a named pipe (FIFO), not a regular file, so "
        "table `orders` cannot be read from it" in text
    )
    assert "No problems found" not in text
    code, text = cli_run("metrics", "--data", folder)
    assert code == 2 and "named pipe (FIFO), not a regular file" in text


@pytest.mark.parametrize("name", ["orders.csv", "orders.parquet"])
def test_a_folder_named_like_a_table_file_is_a_problem(make_source, cli_run, name):
    folder = make_source(drop=("orders",))
    (folder / name).mkdir()
    (folder / name / "part-0.csv").write_text("order_id\n")
    code, text = cli_run("validate", "--data", folder)
    assert code == 1
    assert f"{folder / name}: table `orders`: this is a folder, not a regular file" in text
    assert "No problems found" not in text
    with pytest.raises(ContractError, match=r"this is a folder, not a regular file"):
        open_source(folder).frame("orders")


@needs_fifo
def test_a_fifo_given_as_the_data_source_is_named(tmp_path, fifo, cli_run):
    pipe = fifo(tmp_path / "crm.duckdb")
    code, text = cli_run("validate", "--data", pipe)
    assert code == 2
    assert f"{pipe}: this is a named pipe (FIFO), not a folder or a file, so it is not read" in text


def _wide_orders(folder: Path, extra: list[str], values=None) -> None:
    header = ["order_id", "customer_id", "order_date", *extra]
    row = ["O1", "C1", "2025-01-06", *(values or [""] * len(extra))]
    (folder / "orders.csv").write_text(",".join(header) + "\n" + ",".join(row) + "\n")


def test_a_header_of_25000_columns_is_checked_in_one_pass(make_source, cli_run):
    folder = make_source(drop=("orders",))
    _wide_orders(folder, [f"x{i}" for i in range(25_000)])
    code, text = cli_run("validate", "--data", folder)  # was quadratic: minutes
    assert code == 1
    assert "required column `revenue` is missing" in text
    assert "columns found: order_id, customer_id, order_date, x0, x1," in text
    assert "x16, ... and 24,983 more" in text  # the message stays readable
    assert len(text) < 5_000


def test_one_name_repeated_25000_times_is_named_with_a_few_positions(make_source, cli_run):
    folder = make_source(drop=("orders",))
    _wide_orders(folder, ["revenue"] * 25_000, ["1"] * 25_000)
    code, text = cli_run("validate", "--data", folder)
    assert code == 1
    assert (
        "column `revenue` appears 25,000 times (columns 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, ... and 24,990 more)"
        in text
    )
    assert len(text) < 5_000


# -- DuckDB never fetches code ------------------------------------------------------------------


def _sqlite_file(path: Path) -> Path:
    con = sqlite3.connect(path)
    con.execute("PRAGMA page_size = 512")
    con.execute("CREATE TABLE customers (customer_id TEXT, signup_date TEXT)")
    con.execute("INSERT INTO customers VALUES ('C1', '2025-01-05')")
    con.commit()
    con.close()
    return path


def test_every_duckdb_connection_has_extension_autoloading_off(make_source):
    settings = (
        "SELECT current_setting('autoinstall_known_extensions'), current_setting('autoload_known_extensions')"
    )
    assert DUCKDB_CONFIG == {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    with duckdb_connect() as con:
        assert con.execute(settings).fetchone() == (False, False)
    assert ibis_duckdb_connect().raw_sql(settings).fetchone() == (False, False)
    src = open_source(make_source())
    assert src.con.raw_sql(settings).fetchone() == (False, False)


def test_no_module_opens_duckdb_its_own_way():
    """The one place: core/engine.py opens DuckDB; every CSV goes through data/csv_out.py."""
    package = ROOT / "metrics_lib"
    offenders = []
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(package).as_posix()
        if rel != "core/engine.py" and re.search(r"duckdb\.connect\(", text):
            offenders.append(rel)
        if rel != "data/csv_out.py" and re.search(r"\.to_csv\(|csv\.writer\(|csv\.DictWriter\(", text):
            offenders.append(rel)
    assert offenders == []


def test_an_sqlite_file_named_duckdb_is_named_and_nothing_is_downloaded(tmp_path):
    db = _sqlite_file(tmp_path / "crm.duckdb")
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "METRICS_LIB_CACHE_DIR": "off"}
    r = subprocess.run(
        [str(PYTHON), "-m", "metrics_lib", "validate", "--data", str(db)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2, r.stderr
    assert (
        f"error: {db}: this is an SQLite database, not a DuckDB database; export its tables as CSV"
        in r.stderr
    )
    assert "Traceback" not in r.stderr
    # and were DuckDB handed such a file anyway, it would refuse rather than fetch sqlite_scanner
    probe = (
        "import duckdb\n"
        "from metrics_lib.core.engine import duckdb_connect\n"
        "try:\n"
        f"    duckdb_connect({str(db)!r}, read_only=True)\n"
        "except duckdb.Error as exc:\n"
        "    print('refused:', exc)\n"
    )
    r = subprocess.run(
        [str(PYTHON), "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert "refused:" in r.stdout, r.stdout + r.stderr
    assert "download" not in r.stdout.lower()
    assert not (home / ".duckdb").exists(), sorted(str(p) for p in home.rglob("*"))


@pytest.mark.parametrize(
    "content, found",
    [
        (
            gzip.compress(b"DUCK" * 100),
            "this is a gzip-compressed file, not a DuckDB database; unpack it first",
        ),
        (b"PAR1" + b"\x00" * 100, "this is a Parquet file, not a DuckDB database; put it into a folder"),
    ],
)
def test_other_files_named_duckdb_are_named(tmp_path, content, found):
    db = tmp_path / "crm.duckdb"
    db.write_bytes(content)
    with pytest.raises(WorkbookError, match=re.escape(f"{db}: {found}")):
        open_source(db)


def test_an_xlsx_named_duckdb_is_named(tmp_path):
    db = tmp_path / "crm.duckdb"
    with zipfile.ZipFile(db, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(
        WorkbookError, match=r"this is a ZIP archive \(an Excel \.xlsx workbook is one\), not a DuckDB"
    ):
        open_source(db)

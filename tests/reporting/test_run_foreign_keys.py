"""`run` on orders for a customer who does not exist: strict stops before any notebook, quarantine
sets the orphans aside and counts them where every other row set aside is counted (the rejected
CSV, the manifest, the banner) while the notebooks compute without them.

The source is the tiny valid one of ``conftest.py`` with order O2 (80.50, CSV line 3) given to an
unknown customer C99; its other orders of 2025-Q1 come to 120 + 200 + 950.25 = 1,270.25.
"""

from __future__ import annotations

import csv
import json

import pytest

from metrics_lib.core.errors import WorkbookError
from metrics_lib.reporting.runner import run_reports

pytestmark = pytest.mark.integration  # executes a notebook in a Jupyter kernel

ORPHAN = {("orders", 1, "customer_id"): "C99"}


def test_strict_stops_before_any_notebook(make_source, tmp_path):
    with pytest.raises(WorkbookError, match=r"(?s)no notebook was run.*orphan foreign key.*line 3: 'C99'"):
        run_reports(
            ["2025-Q1"], data=make_source(set=ORPHAN), families="scorecard", out=tmp_path, progress=None
        )
    assert not (tmp_path / "2025-Q1").exists()


def test_quarantine_counts_the_orphan_everywhere_and_computes_without_it(make_source, tmp_path):
    summary = run_reports(
        ["2025-Q1"],
        data=make_source(set=ORPHAN),
        families="scorecard",
        out=tmp_path,
        on_invalid="quarantine",
        progress=None,
    )
    assert summary.ok, summary.text()
    period = tmp_path / "2025-Q1"
    manifest = json.loads((period / "manifest.json").read_text())
    assert manifest["rejected"] == {"orders": {"rows": 1, "file": "rejected/orders.csv"}}
    with open(period / "rejected" / "orders.csv", encoding="utf-8", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["order_id"] == "O2" and row["line"] == "3"  # the line messages name
    assert (
        row["reason"]
        == "customer_id: references a `customer_id` not in table `customers` (orphan foreign key)"
    )
    page = (period / "scorecard.html").read_text()
    assert "1 row broke the data contract" in page
    executed = json.loads((period / "notebooks" / "scorecard.ipynb").read_text())
    check = next(c for c in executed["cells"] if "nbval-check" in c["metadata"].get("tags", []))
    printed = dict(line.split() for line in "".join(check["outputs"][0]["text"]).splitlines()[:-1])
    assert float(printed["revenue"]) == pytest.approx(1270.25)
    assert float(printed["orders"]) == 3

"""`run --mapping FILE`: the notebooks read the data through the same mapping the run checked it
with. A source whose amount column is called `Amount` (a rename the contract requires) renders,
and its `Unit Cost` (an optional column, renamed) gives a gross margin, not n/a."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from metrics_lib.core.errors import WorkbookError
from metrics_lib.data import open_source
from metrics_lib.demo import write_demo_data
from metrics_lib.metrics.scorecard import headline_metrics
from metrics_lib.reporting.runner import run_reports

pytestmark = pytest.mark.integration  # executes a notebook in a Jupyter kernel


@pytest.fixture(scope="module")
def renamed(tmp_path_factory):
    """A small demo source whose orders call revenue `Amount` and cost `Unit Cost`, and a mapping
    file kept elsewhere (so only --mapping finds it)."""
    data = tmp_path_factory.mktemp("crm") / "data"
    write_demo_data(data, customers=300, seed=3)
    orders = pq.read_table(data / "orders.parquet")
    names = {"revenue": "Amount", "cost": "Unit Cost"}
    pq.write_table(
        orders.rename_columns([names.get(c, c) for c in orders.column_names]), data / "orders.parquet"
    )
    mapping = data.parent / "crm-mapping.yml"
    mapping.write_text(
        "tables:\n  orders:\n    columns:\n      Amount: revenue\n      Unit Cost: cost\n", encoding="utf-8"
    )
    return data, mapping


def test_the_notebooks_get_the_mapping_and_compute_with_it(renamed, tmp_path):
    data, mapping = renamed
    summary = run_reports(
        ["2025-Q4"], data=data, mapping=mapping, families="scorecard", out=tmp_path, progress=None
    )
    assert summary.ok, summary.text()
    manifest = json.loads((tmp_path / "2025-Q4" / "manifest.json").read_text())
    assert manifest["parameters"]["mapping"] == str(mapping)
    executed = json.loads((tmp_path / "2025-Q4" / "notebooks" / "scorecard.ipynb").read_text())
    check = next(c for c in executed["cells"] if "nbval-check" in c["metadata"].get("tags", []))
    printed = dict(line.split() for line in "".join(check["outputs"][0]["text"]).splitlines()[:-1])
    expected = headline_metrics(open_source(data, mapping=mapping), "2025-Q4")["metrics"]
    assert float(printed["revenue"]) == pytest.approx(expected["revenue"]["value"], abs=0.01)
    assert float(printed["gross_margin"]) == pytest.approx(expected["gross_margin"]["value"], abs=1e-4)
    assert 0 < expected["gross_margin"]["value"] < 1  # the optional renamed column was read: not n/a


def test_mapping_is_the_runners_to_set(renamed, tmp_path):
    data, mapping = renamed
    with pytest.raises(
        WorkbookError, match=r"`mapping` is set by the runner; pass it as the mapping argument"
    ):
        run_reports(
            ["2025-Q4"],
            data=data,
            families="scorecard",
            out=tmp_path,
            progress=None,
            extra_parameters={"mapping": str(mapping)},
        )

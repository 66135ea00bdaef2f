"""`run --on-invalid quarantine`: rows that break the contract are set aside, written with the
reason, counted in the manifest and announced at the top of every report; strict stops first."""

from __future__ import annotations

import json
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from metrics_lib.core.errors import WorkbookError
from metrics_lib.data import DEMO_DATA
from metrics_lib.reporting.runner import run_reports


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    """The demo data with two orders of 2025-Q4 given a negative revenue."""
    data = tmp_path_factory.mktemp("broken") / "data"
    shutil.copytree(DEMO_DATA, data)
    path = data / "orders.parquet"
    table = pq.read_table(path)
    df = table.to_pandas()
    rows = df.index[df["order_date"].astype("datetime64[ns]") >= "2025-10-01"][:2]
    df.loc[rows, "revenue"] = -5.0
    pq.write_table(pa.Table.from_pandas(df, schema=table.schema, preserve_index=False), path)
    return {"data": data, "order_ids": df.loc[rows, "order_id"].tolist()}


def test_strict_stops_before_any_notebook_runs(broken, tmp_path):
    with pytest.raises(WorkbookError, match=r"breaks the contract, so no notebook was run"):
        run_reports(["2025-Q4"], data=broken["data"], families="scorecard", out=tmp_path, progress=None)
    assert not (tmp_path / "2025-Q4").exists()


def test_quarantine_sets_rows_aside_counts_them_and_flags_the_reports(broken, tmp_path):
    summary = run_reports(
        ["2025-Q4"],
        data=broken["data"],
        families="scorecard",
        out=tmp_path,
        on_invalid="quarantine",
        progress=None,
    )
    assert summary.ok, summary.text()
    period = tmp_path / "2025-Q4"
    rejected = (period / "rejected" / "orders.csv").read_text()
    for order_id in broken["order_ids"]:
        assert order_id in rejected
    assert "below the minimum 0" in rejected
    manifest = json.loads((period / "manifest.json").read_text())
    assert manifest["rejected"] == {"orders": {"rows": 2, "file": "rejected/orders.csv"}}
    assert manifest["parameters"]["on_invalid"] == "quarantine"
    page = (period / "scorecard.html").read_text()
    banner = page.index('class="dq-banner"')
    assert banner < page.index("Scorecard")  # at the top, before the report's own title
    assert "2 rows broke the data contract" in page
    assert "set aside: orders" in page  # the report's own summary table counts them too

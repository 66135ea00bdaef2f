"""End to end: the real notebooks rendered for one period and opened in headless Chromium.

The data is the demo data with hostile text planted where the reports show names: a campaign
called ``<script>...`` and an ``<img onerror=...>``. The pages must show it as text and run none
of it; every page loads offline, without console errors, with every image decoded. Every survey
comment and review carries a name, a phone number and an e-mail address: none may reach a report.
"""

from __future__ import annotations

import re
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from metrics_lib.data import DEMO_DATA
from metrics_lib.reporting.runner import discover_notebooks, run_reports

pytestmark = pytest.mark.integration  # renders the real notebooks and opens them in Chromium

SCRIPT = "<script>document.title='PWNED-1'</script>"
IMG = "<img src=x onerror=\"document.title='PWNED-2'\">"
EMAIL = "jane.roe@example.com"


@pytest.fixture(scope="module")
def hostile_data(tmp_path_factory):
    data = tmp_path_factory.mktemp("hostile") / "data"
    shutil.copytree(DEMO_DATA, data)
    path = data / "campaigns.parquet"
    table = pq.read_table(path)
    df = table.to_pandas()
    latest = df["start_date"].astype("datetime64[ns]").idxmax()
    df.loc[latest, "name"] = f"Spring {SCRIPT} promo {IMG}"
    pq.write_table(pa.Table.from_pandas(df, schema=table.schema, preserve_index=False), path)
    # personal data in free text: it must not reach any report
    for name, column in (("surveys", "comment"), ("reviews", "text")):
        path = data / f"{name}.parquet"
        table = pq.read_table(path)
        df = table.to_pandas()
        df[column] = f"call Jane Roe on 555-0100 or write to {EMAIL}"
        pq.write_table(pa.Table.from_pandas(df, schema=table.schema, preserve_index=False), path)
    return data


@pytest.fixture(scope="module")
def rendered(hostile_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("e2e") / "reports"
    summary = run_reports(["2025-Q4"], data=hostile_data, out=out, jobs=2, progress=None)
    return summary, out


def test_every_notebook_renders(rendered):
    summary, out = rendered
    assert summary.ok, summary.text()
    assert {r.family for r in summary.results} == set(discover_notebooks())
    for family in discover_notebooks():
        assert (out / "2025-Q4" / f"{family}.html").exists()


def test_every_page_loads_offline_cleanly_and_runs_no_script_from_the_data(chromium, rendered):
    _, out = rendered
    pages = [
        out / "index.html",
        out / "2025-Q4" / "index.html",
        *sorted((out / "2025-Q4").glob("[a-z]*.html")),
    ]
    shown_hostile_text = False
    for page in pages:
        shot = out / "index.png" if page.name == "index.html" and page.parent == out else None
        seen = chromium.open(page, screenshot=shot)
        assert not seen.console_errors, (page.name, seen.console_errors)
        assert not seen.external_requests, (page.name, seen.external_requests)
        assert not seen.broken_images, (page.name, seen.broken_images)
        assert "PWNED" not in seen.title, page.name
        assert 'id="papermill-error-cell"' not in seen.dom, page.name
        shown_hostile_text |= "&lt;script&gt;document.title" in seen.dom
        assert EMAIL not in seen.dom and "Jane Roe" not in seen.dom, page.name
    assert shown_hostile_text, "the planted campaign name should appear, escaped, in a report"
    assert (out / "index.png").stat().st_size > 10_000


def test_the_scorecard_answers_first_and_shows_no_scaffolding(chromium, rendered):
    _, out = rendered
    seen = chromium.open(out / "2025-Q4" / "scorecard.html")
    dom = seen.dom
    verdict, moves = dom.index('class="mlr-verdict"'), dom.index("What moved beyond noise")
    every, about = dom.index("Which headline metrics are on target"), dom.index('id="About-the-data"')
    assert verdict < moves < every < about < dom.index("rows: customers")
    assert "outcome metrics on target" in dom[: verdict + 2000]
    assert "dtype:" not in dom
    assert "Warning" not in dom and "warnings.warn" not in dom  # no raw warnings
    # the demo sets a target for every headline metric: no table cell says it has none
    assert not re.search(r"<t[dh][^>]*>\s*no target\s*</t[dh]>", dom)
    index = chromium.open(out / "index.html").dom
    assert "outcome metrics" in index or "on target" in index
    assert index.index("Churn rate") < index.index(">scorecard<")


def test_show_pii_puts_the_comments_in_the_satisfaction_report(hostile_data, tmp_path):
    summary = run_reports(
        ["2025-Q4"],
        data=hostile_data,
        out=tmp_path,
        families="satisfaction",
        extra_parameters={"show_pii": True},
        progress=None,
    )
    assert summary.ok, summary.text()
    page = (tmp_path / "2025-Q4" / "satisfaction.html").read_text()
    assert "call Jane Roe on 555-0100" in page  # pandas shortens the long comment in the table

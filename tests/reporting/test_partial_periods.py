"""What a reader of a report sees of partial periods and of the before/after comparison: the
Workbook's summary and tables, the runner's banner, the heading that names the change."""

from __future__ import annotations

import json
import re
from html import escape as html_escape

import pytest

from metrics_lib.data import PROJECT_ROOT
from metrics_lib.reporting.format import format_p_value, format_significance, markdown_escape
from metrics_lib.reporting.runner import run as run_module
from metrics_lib.reporting.runner.publish import period_banner
from metrics_lib.reporting.workbook import Workbook

YEAR_NOTE = (
    "period 2025 (2025-01-01 to 2025-12-31) is partial: it runs past the data's last date, 2025-12-09 "
    "(table `orders`), so its numbers cover 2025-01-01 to 2025-12-09 only"
)


def test_the_summary_names_the_partial_periods_with_their_dates(partial_source):
    s = Workbook("2025", str(partial_source), restrict_paths=False).summary()["value"]
    assert s["note"] == YEAR_NOTE
    assert s["note 2"].startswith(
        "the previous period 2024 (2024-01-01 to 2024-12-31) is partial: it starts "
        "before the data's first date, 2024-02-10"
    )
    whole = Workbook("2025-Q3", str(partial_source), restrict_paths=False).summary()
    assert not any(label.startswith("note") for label in whole.index)


def test_the_headline_table_says_not_comparable(partial_source):
    table = Workbook("2025", str(partial_source), restrict_paths=False).headline(["revenue", "orders"])
    assert table["change vs noise"].tolist() == ["not comparable", "not comparable"]
    assert table["change"].tolist() == ["n/a", "n/a"]


def test_an_as_of_date_says_how_far_the_data_is_complete(partial_source):
    wb = Workbook("2025-Q4", str(partial_source), as_of="2025-12-31", restrict_paths=False)
    assert wb.context.coverage().complete and wb.context.coverage_notes() == []
    wb = Workbook("2025-Q4", str(partial_source), as_of="2025-11-30", restrict_paths=False)
    assert wb.context.coverage_notes()[0] == (
        "period 2025-Q4 (2025-10-01 to 2025-12-31) is partial: it runs past the as-of date, 2025-11-30, so "
        "its numbers cover 2025-10-01 to 2025-11-30 only; changes against 2025-Q3 are not comparable and "
        "were not tested"
    )
    assert wb.headline(["revenue"]).loc["revenue", "change vs noise"] == "not comparable"


def test_the_banner_names_the_dates_and_escapes_them():
    html = period_banner([YEAR_NOTE, "a <b> & c"], complete=False)
    assert html.startswith('<div class="dq-banner period-banner" role="alert"')
    assert (
        f"<strong>Incomplete period:</strong> {html_escape(YEAR_NOTE)}<br>a &lt;b&gt; &amp; c</div>" in html
    )
    assert "Incomplete previous period:" in period_banner(["x"], complete=True)
    assert period_banner([], complete=True) == ""


def test_the_runner_puts_the_banner_on_the_reports_of_a_partial_period(partial_source, tmp_path, monkeypatch):
    """The run's plan (no kernel started): each period's tasks carry that period's banner."""
    banners = {}

    def no_kernels(steps, jobs, begin, record):
        for step, label, family, task in steps:
            banners[label] = task["banner"] if task else None
            begin(step, label, family)
            if task:
                record(
                    step,
                    label,
                    family,
                    {"status": "ok", "error": None, "started": None, "ended": None, "duration_s": 0.0},
                )

    monkeypatch.setattr(run_module, "run_steps", no_kernels)
    run_module.run_reports(
        ["2025", "2025-Q3"], data=partial_source, families="scorecard", out=tmp_path, progress=None
    )
    assert (
        "<strong>Incomplete period:</strong> period 2025 (2025-01-01 to 2025-12-31) is partial"
        in banners["2025"]
    )
    assert "2025-12-09" in banners["2025"] and "2024-02-10" in banners["2025"]
    assert banners["2025-Q3"] == ""


def test_p_values_below_a_thousandth_read_p_less_than_0_001():
    assert format_p_value(0.0004) == "p < 0.001" and format_p_value(0.0123) == "p=0.012"
    assert format_significance(0.00001, True) == "significant (p < 0.001)"
    assert (
        format_significance(0.2, False, "not comparable: the previous period is partial") == "not comparable"
    )
    assert format_significance(float("nan"), None) == "not tested"


# -- before/after ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo():
    return Workbook("2025-Q4", "data/demo")


def test_before_after_is_formatted_like_the_headline_table_with_both_windows(demo):
    table = demo.before_after(window_days=365)
    # 365 days before 1 July 2024 (a leap year) start on 2 July 2023
    assert list(table.columns) == [
        "before (02 Jul 2023 to 30 Jun 2024)",
        "after (01 Jul 2024 to 30 Jun 2025)",
        "change",
        "change vs noise",
    ]
    assert list(table.index) == [
        "close rate",
        "win rate",
        "sales cycle (days)",
        "churn rate",
        "CSAT",
        "NPS",
        "first response, median (hours)",
    ]
    numbers = table.attrs["numbers"]
    churn = numbers.loc["churn_rate"]
    assert churn["after"] < churn["before"] and bool(churn["significant"])  # the planted churn effect
    assert table.loc["churn rate", "before (02 Jul 2023 to 30 Jun 2024)"] == f"{100 * churn['before']:.1f}%"
    assert table.loc["churn rate", "change"] == f"{100 * churn['change']:+.1f} pp"
    assert table.loc["churn rate", "change vs noise"] == "significant (p < 0.001)"


def test_the_heading_names_the_change_from_source_yml(demo, make_source):
    assert str(demo.before_after_heading()) == (
        "## CRM roll-out and customer-success programme (01 Jul 2024): did it change how we sell and serve?"
    )
    assert demo.before_after_heading()._repr_markdown_() == str(demo.before_after_heading())
    folder = make_source()
    (folder / "source.yml").write_text("strategy_change_date: 2025-02-01\n", encoding="utf-8")
    unnamed = Workbook("2025-Q1", str(folder), restrict_paths=False)
    assert (
        str(unnamed.before_after_heading("did it work?", level=3))
        == "### The change on 01 Feb 2025: did it work?"
    )
    (folder / "source.yml").write_text(
        "strategy_change_date: 2025-02-01\nstrategy_change_label: '*new* <pricing>'\n", encoding="utf-8"
    )
    named = Workbook("2025-Q1", str(folder), restrict_paths=False)
    assert str(named.before_after_heading()).startswith(r"## \*new\* &lt;pricing&gt; (01 Feb 2025): ")
    assert (
        named.before_after().attrs["note"].startswith("*new* <pricing> (01 Feb 2025): the 365 days before it")
    )


def test_markdown_escape_shows_names_literally():
    assert markdown_escape("a_b [x](y) #1 <i>") == r"a\_b \[x\](y) \#1 &lt;i&gt;"


def test_no_report_names_a_change_the_data_source_did_not():
    """The change's name comes from source.yml; only the demo generator names the demo's own (and
    the notebooks' outputs show it, from the demo's source.yml)."""
    texts = {
        str(f.relative_to(PROJECT_ROOT)): f.read_text(encoding="utf-8")
        for f in (PROJECT_ROOT / "metrics_lib").rglob("*.py")
        if f.parent.name != "demo"
    }
    for nb in PROJECT_ROOT.glob("notebooks/*.ipynb"):
        texts[nb.name] = "\n".join(
            "".join(c["source"]) for c in json.loads(nb.read_text(encoding="utf-8"))["cells"]
        )
    assert [name for name, text in texts.items() if re.search(r"roll-?out", text, re.I)] == []

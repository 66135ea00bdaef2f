"""The display layer: each cell kind as exact text, whole tables as a reader sees them, and every
table the notebooks show, computed through the Workbook on the demo data, free of raw numbers."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from metrics_lib.data.config import SourceConfig
from metrics_lib.reporting.display import ReportTable, display_table, shown
from metrics_lib.reporting.format import (
    format_bool,
    format_cell,
    format_count,
    format_missing,
    format_money,
    format_p_value,
    format_value,
)
from metrics_lib.reporting.workbook import Workbook


def test_cells_in_their_kinds():
    assert format_cell(0.8319, "share") == "83.2%"
    assert format_cell(1685, "count") == format_count(1685.0) == "1,685"
    assert format_cell(0.0002, "p_value") == format_p_value(0.0002) == "p < 0.001"
    assert format_cell(0.0123, "p_value") == "p=0.012"
    assert format_cell(math.nan, "share", reason="no responses") == "n/a (no responses)"
    assert format_cell(None, "count") == format_missing() == "n/a"
    assert format_cell(np.bool_(True), "bool") == format_bool(True) == "yes"
    assert format_cell(False, "bool") == "no"
    assert format_cell(25.0, "days") == "25.0 days" and format_cell(1.5654, "hours") == "1.57 h"
    assert format_cell(0.0469, "points") == "+4.7 pp" and format_cell(-0.2, "points") == "-20.0 pp"
    assert format_cell(36.83, "nps") == "+36.8" and format_cell(-4.2, "nps") == "-4.2"
    assert format_cell(np.int64(7999), "count") == "7,999"
    assert format_cell(pd.NaT, "date") == "n/a" and format_cell(pd.NA, "text") == "n/a"


def test_money_with_and_without_a_currency():
    assert format_money(1234567.8) == "1,234,568"
    assert format_money(1234.5, currency="EUR") == "EUR 1,234"
    assert format_money(-1234.4, currency="$") == "-$1,234"
    assert format_value(26289.2, "currency", currency="€") == "€26,289"


def test_the_currency_is_a_typed_source_setting(tmp_path):
    (tmp_path / "source.yml").write_text("currency: EUR\n")
    assert SourceConfig.read(tmp_path / "source.yml").currency == "EUR"
    assert SourceConfig.read(tmp_path / "absent.yml").currency == ""
    (tmp_path / "source.yml").write_text("currency: Euros and cents\n")
    with pytest.raises(Exception, match="currency"):
        SourceConfig.read(tmp_path / "source.yml")


def test_a_table_shows_units_plain_headers_and_one_interval_column():
    frame = pd.DataFrame(
        {
            "n": [119, 0],
            "csat": [0.8319, np.nan],
            "ci_low": [0.7546, np.nan],
            "ci_high": [0.8886, np.nan],
            "low_sample": [False, True],
        },
        index=pd.Index(["onboarding", "billing"], name="touchpoint"),
    )
    table = display_table(frame)
    assert list(table.columns) == ["answers", "CSAT (share satisfied)", "95% CI", "fewer than 30 answers"]
    assert table.loc["onboarding"].tolist() == ["119", "83.2%", "75.5% to 88.9%", "no"]
    assert table.loc["billing"].tolist() == ["0", "n/a (no answers)", "n/a", "yes"]
    assert table.index.name == "touchpoint"


def test_a_report_table_keeps_its_numbers_and_shows_text():
    frame = pd.DataFrame({"spend": [1419616.89], "new_customers": [54], "cac": [26289.2]}, index=["events"])
    frame.attrs["note"] = "kept"
    table = shown(frame, currency="$")
    assert isinstance(table, ReportTable) and table["cac"].iloc[0] == 26289.2  # numbers for code
    assert table.attrs["note"] == "kept"
    assert isinstance(table.round(0), ReportTable)  # still shown formatted after pandas steps
    html = table._repr_html_()
    assert "$1,419,617" in html and "$26,289" in html and "26289.2" not in html
    assert "CAC (spend per new customer)" in html


def test_long_text_is_never_cut_off():
    text = "Profitable and loyal: invest in the relationship - reward, listen to and keep them. " * 2
    table = shown(pd.DataFrame({"action": [text]}, index=["true friend"]))
    assert text.strip() in table._repr_html_().replace("&#x27;", "'") and "..." not in table._repr_html_()
    assert text.strip() in repr(table)


def test_an_empty_table_shows_its_note():
    frame = pd.DataFrame(columns=["customers"])
    frame.attrs["note"] = "skipped: needs surveys"
    assert shown(frame)._repr_html_() == "<p><em>skipped: needs surveys</em></p>"


_RAW_FLOAT = re.compile(r"(?<![\w.])-?\d+\.\d{4,}")
_BANNED = ("NaN", "nan%", "...", "…", "None", "<NA>")
_FLAG = re.compile(r"(?<![=\w])(True|False)\b")  # a raw flag, not the parameter `show_pii=True`


def _tables(wb: Workbook) -> dict:
    """Every table the notebooks 00 to 08 show, called as they call it."""
    stages, validation, groups = (
        wb.pipeline_stages(months=12),
        wb.health_validation(),
        wb.relationship_groups(),
    )
    clv = wb.clv_models(horizon_weeks=52)
    churn = wb.churn_model()
    return {
        "churn model summary": churn.summary(),
        "churn drivers": churn.drivers(),
        "churn model against the score": churn.comparison(),
        "at-risk customers": churn.at_risk_customers(),
        "summary": wb.summary(),
        "headline": wb.headline(),
        "health summary": validation.summary(),
        "before/after": wb.before_after(window_days=365),
        "csat by touchpoint": wb.breakdown("csat", by="touchpoint"),
        "nps by segment": wb.breakdown("nps", by="segment"),
        "ces by channel": wb.breakdown("ces", by="channel"),
        "comments": wb.comments("nps", group="detractor", n=10),
        "clv steps": wb.clv_steps(),
        "cac by channel": wb.cac_by_channel(),
        "clv summary": clv.summary(),
        "clv parameters": clv.parameters,
        "funnel": stages.funnel,
        "time in stage": stages.time_in_stage,
        "response summary": wb.response_summary(by="channel", target_hours=2.0),
        "reviews": wb.reviews(),
        "web engagement": wb.web_engagement(periods=4),
        "top referrers": wb.top_referrers(n=10),
        "campaign lift": wb.campaign_lift(months=12),
        "detectable lifts": wb.detectable_lifts(),
        "health distribution": wb.health_distribution(),
        "health components": validation.components,
        "relationship groups": groups.summary,
        "group moves": groups.transitions,
        "groups by probability alive": wb.relationship_groups(loyalty="probability_alive").summary,
        "nps mix": wb.nps_mix(periods=8),
        "nps churn": wb.nps_churn(),
        "revenue by month": wb.revenue_trend(months=12),
    }


@pytest.mark.integration
@pytest.mark.parametrize("period", ["2025-Q4", "2022-06"])
def test_every_shown_table_is_formatted(period):
    wb = Workbook(period, "data/demo")
    for name, table in _tables(wb).items():
        assert isinstance(table, ReportTable), name
        for text in (table._repr_html_(), repr(table)):
            assert not _RAW_FLOAT.findall(text), (name, _RAW_FLOAT.findall(text)[:3])
            found = [word for word in _BANNED if word in text] + _FLAG.findall(text)
            assert not found, (name, found)
        if not table.empty:
            assert not [c for c in table.display().columns if "_" in str(c)], name


def test_category_values_and_index_names_read_as_words_and_ids_stay():
    from metrics_lib.reporting.display import plain_index

    t = pd.DataFrame({"orders": [3, 1]}, index=pd.Index(["paid_search", "cross_sell"], name="order_type"))
    shown = display_table(t)
    assert shown.index.tolist() == ["paid search", "cross sell"] and shown.index.name == "order type"
    assert t.index.tolist() == ["paid_search", "cross_sell"]  # the numbers keep the data's values
    ids = pd.DataFrame({"value": ["1"]}, index=pd.Index(["C_001"], name="customer_id"))
    assert plain_index(ids).index.tolist() == ["C_001"] and plain_index(ids).index.name == "customer"


def test_identifiers_in_an_index_are_shown_exactly_as_in_the_data():
    import pandas as pd

    from metrics_lib.reporting.display import plain_index

    reps = plain_index(pd.DataFrame({"won": [3, 1]}, index=pd.Index(["john_doe", "rep_19"], name="owner")))
    channels = plain_index(pd.DataFrame({"n": [3]}, index=pd.Index(["paid_search"], name="channel")))
    assert list(reps.index) == ["john_doe", "rep_19"] and list(channels.index) == ["paid search"]

"""Periods the data does not reach, and the one span of the data's dates; pipeline metrics that a
segment cannot hold.

``partial_source`` (conftest.partial_tables) has orders from 2024-02-10 to 2025-12-09; the small
valid source of conftest has orders from 2025-01-06 to 2025-03-15, a deal created on 2024-12-10 and
a survey answered on 2025-03-22.
"""

from __future__ import annotations

import json

import pytest
from conftest import valid_tables

from metrics_lib.data import open_source
from metrics_lib.metrics.scorecard import headline_metrics, to_json

AFTER = (
    "period 2026-Q1 (2026-01-01 to 2026-03-31) lies outside the data, which runs from 2024-02-10 to "
    "2025-12-09 (`order_date` of table `orders`)"
)


def _computed(out):
    return {mid: rec for mid, rec in out["metrics"].items() if rec["status"] != "skipped"}


def test_a_period_after_the_data_has_every_metric_null_with_the_data_s_dates(partial_source):
    out = headline_metrics(open_source(partial_source), "2026-Q1")
    assert out["complete"] is False
    assert out["notes"] == [
        f"{AFTER}, so it has no numbers (every metric is null); choose a period between those dates",
        "the previous period 2025-Q4 (2025-10-01 to 2025-12-31) is partial: it runs past the data's last "
        "date, 2025-12-09 (table `orders`), so its numbers cover 2025-10-01 to 2025-12-09 only; changes "
        "against 2025-Q4 are not comparable and were not tested",
    ]
    metrics = _computed(out)
    assert len(metrics) >= 10
    for mid, rec in metrics.items():
        assert (rec["value"], rec["reason"], rec["status"]) == (None, AFTER, "undefined"), mid
        assert rec["n"] is None and rec["ci_low"] is None and rec["change"] is None, mid
        assert rec["comparison"] == (
            "not comparable: this period is outside the data (data ends 2025-12-09) and the previous "
            "period is partial (data ends 2025-12-09)"
        ), mid
    # before, churn was 3 / 3: the customers active on 31 December (orders of 1 August, 30 September
    # and 9 December), none of whom could order in a quarter the data does not reach
    assert metrics["churn_rate"]["value"] is None
    assert metrics["revenue"]["previous"] == 400  # the previous quarter is partial: reported as it is


def test_a_period_before_the_data_and_its_previous_are_both_null(partial_source):
    out = headline_metrics(open_source(partial_source), "2023-Q4")
    before = (
        "period 2023-Q4 (2023-10-01 to 2023-12-31) lies outside the data, which runs from 2024-02-10 to "
        "2025-12-09 (`order_date` of table `orders`)"
    )
    assert out["complete"] is False
    assert out["notes"] == [
        f"{before}, so it has no numbers (every metric is null); choose a period between those dates",
        "the previous period 2023-Q3 (2023-07-01 to 2023-09-30) lies outside the data, which runs from "
        "2024-02-10 to 2025-12-09 (`order_date` of table `orders`); changes against 2023-Q3 are not "
        "comparable and were not tested",
    ]
    for mid, rec in _computed(out).items():
        assert (rec["value"], rec["previous"], rec["reason"]) == (None, None, before), mid


def test_a_partial_period_keeps_its_numbers(partial_source):
    # 2024-Q1 starts before the data's first date (10 February): partial, not outside
    out = headline_metrics(open_source(partial_source), "2024-Q1")
    assert out["complete"] is False and out["metrics"]["revenue"]["value"] == 100
    assert out["metrics"]["revenue"]["previous"] is None  # 2023-Q4 is outside the data


def test_one_span_of_dates_whatever_the_tables_hold_or_were_read_first(make_source, cli_run):
    """Deals start on 2024-12-10 and surveys end on 2025-03-22, but the data's dates are the
    orders': the notes and every comparison name the same ones, and reading a table first changes
    nothing."""
    folder = make_source()
    outs = []
    for first_read in ("deals", "surveys", None):
        src = open_source(folder)
        if first_read:
            src.frame(first_read)
        outs.append(to_json(headline_metrics(src, "1999-Q1")))
    assert outs[0] == outs[1] == outs[2]
    out = json.loads(outs[0])
    span = "which runs from 2025-01-06 to 2025-03-15 (`order_date` of table `orders`)"
    assert all(span in note for note in out["notes"])
    comparisons = {rec["comparison"] for rec in _computed(out).values()}
    assert comparisons == {
        "not comparable: this period is outside the data (data starts 2025-01-06) and the previous period "
        "is outside the data (data starts 2025-01-06)"
    }
    code, text = cli_run("metrics", "--data", folder, "--period", "2024-Q4", "--format", "json")
    assert code == 0 and "2024-12-10" not in text and "2025-03-22" not in text
    # the deal created on 2024-12-10 makes no close rate for a quarter before the orders begin
    close = json.loads(text[: text.rindex("}") + 1])["metrics"]["close_rate"]
    assert close["value"] is None and "lies outside the data, which runs from 2025-01-06" in close["reason"]


# -- pipeline metrics under a segment -------------------------------------------------------------
# 2025-Q1 of the valid source: D1 (C1, smb) created 2024-12-10, won 2025-01-05, amount 120; D2 (no
# customer) created 2025-01-15, lost 2025-02-01; D3 (C3, enterprise) created 2025-03-01, still open.
PROSPECTS = "deals without a customer (prospects) cannot be assigned to a segment"


def test_segment_pipeline_metrics_are_null_when_prospects_would_drop_out(make_source):
    src = open_source(make_source())
    company = headline_metrics(src, "2025-Q1", ids="pipeline")["metrics"]
    assert company["win_rate"]["value"] == 0.5  # D1 won, D2 lost
    assert company["close_rate"]["value"] == 0.0  # leads D2 and D3, neither won
    smb = headline_metrics(src, "2025-Q1", segment="smb", ids="pipeline")["metrics"]
    # without the rule the segment's win rate was 1 / 1: D2, lost, has no segment to fall in
    assert smb["win_rate"]["value"] is None
    assert smb["win_rate"]["reason"] == (
        f"{PROSPECTS}: 1 of the deals closed won or lost in the period has no `customer_id`, so the win "
        "rate of segment 'smb' would leave them out; it is given for all customers only"
    )
    assert smb["close_rate"]["value"] is None
    assert smb["close_rate"]["reason"].startswith(f"{PROSPECTS}: 1 of the deals created in the period")
    assert smb["sales_velocity"]["value"] is None
    assert smb["sales_velocity"]["reason"].startswith(
        f"{PROSPECTS}: 1 of the deals closed won or lost in the period has"
    )
    # every deal won in the quarter has a customer: the segment's won deals are all there
    assert smb["average_deal_size"]["value"] == 120
    assert smb["sales_cycle_days"]["value"] == 26  # 10 December to 5 January
    for rec in smb.values():  # nothing is tested against a null
        if rec["value"] is None:
            assert rec["p_value"] is None and rec["test"] is None


def test_segment_pipeline_metrics_are_computed_when_every_deal_has_a_customer(make_source):
    tables = valid_tables()
    tables["deals"][1]["customer_id"] = "C2"  # D2, lost, now a smb customer's deal
    smb = headline_metrics(open_source(make_source(tables)), "2025-Q1", segment="smb", ids="pipeline")
    m = smb["metrics"]
    assert (m["win_rate"]["value"], m["win_rate"]["numerator"], m["win_rate"]["denominator"]) == (0.5, 1, 2)
    assert (m["close_rate"]["value"], m["close_rate"]["denominator"]) == (0.0, 1)  # D2 only: D3 is enterprise
    assert m["average_deal_size"]["value"] == 120
    assert all(PROSPECTS not in (rec["reason"] or "") for rec in m.values())


@pytest.mark.parametrize("segment", ["enterprise", "mid"])
def test_every_segment_gets_the_same_rule(make_source, segment):
    m = headline_metrics(open_source(make_source()), "2025-Q1", segment=segment, ids="win_rate")["metrics"]
    assert m["win_rate"]["value"] is None and m["win_rate"]["reason"].startswith(PROSPECTS)

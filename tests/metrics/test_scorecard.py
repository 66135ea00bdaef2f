"""Scorecard: targets, statuses, the JSON output of `metrics`, and metrics of absent tables."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from metrics_lib.core.errors import WorkbookError
from metrics_lib.data import DEMO_DATA, PROJECT_ROOT, open_source
from metrics_lib.metrics.catalogue import HEADLINE
from metrics_lib.metrics.scorecard import headline_metrics, select_headlines
from metrics_lib.metrics.targets import Target, read_targets, status_for

REQUIRED_IDS = (
    "revenue gross_profit gross_margin orders average_order_value active_customers new_customers "
    "repeat_customer_rate churn_rate retention_rate renewal_rate net_revenue_retention "
    "mrr_new mrr_expansion mrr_reactivation mrr_contraction mrr_churned quick_ratio arpa "
    "new_revenue retention_cost_per_client first_response_hours_mean "
    "gross_revenue_retention clv cac ltv_cac_ratio csat nps ces close_rate win_rate average_deal_size "
    "sales_cycle_days sales_velocity upsell_rate first_contact_resolution first_response_hours_median "
    "first_response_within_target referral_rate bounce_rate campaign_roi health_score_mean"
).split()
FIELDS = ("value", "numerator", "denominator", "n", "ci_low", "ci_high", "unit", "family", "status")


@pytest.mark.parametrize(
    "value, target, expected",
    [
        (0.80, Target("csat", 0.80, "higher", 0.05), "on target"),
        (0.75, Target("csat", 0.80, "higher", 0.05), "near"),
        (0.7499, Target("csat", 0.80, "higher", 0.05), "off"),
        (1.9, Target("first_response_hours_median", 2.0, "lower", 0.5), "on target"),
        (2.5, Target("first_response_hours_median", 2.0, "lower", 0.5), "near"),
        (2.6, Target("first_response_hours_median", 2.0, "lower", 0.5), "off"),
        (float("nan"), Target("nps", 30, "higher", 5), "undefined"),
        (12.0, None, "no target"),
    ],
)
def test_status_against_target(value, target, expected):
    assert status_for(value, target) == expected


def test_targets_file_errors_name_the_metric(tmp_path):
    bad = tmp_path / "targets.yml"
    bad.write_text("targets:\n  happiness: {target: 1}\n")
    with pytest.raises(WorkbookError, match="`happiness` is not a headline metric"):
        read_targets(bad)
    bad.write_text("targets:\n  nps: {target: 30, direction: up}\n")
    with pytest.raises(WorkbookError, match="direction 'up' must be 'higher' or 'lower'"):
        read_targets(bad)
    bad.write_text("targets:\n  nps: {direction: higher}\n")
    with pytest.raises(WorkbookError, match="needs at least `target:`"):
        read_targets(bad)


def test_unknown_metric_or_family_is_rejected():
    with pytest.raises(WorkbookError, match="unknown metric or family 'npss'"):
        select_headlines(["npss"])
    assert {h.id for h in select_headlines("service")} == {
        "first_contact_resolution",
        "first_response_hours_median",
        "first_response_hours_mean",
        "first_response_within_target",
        "unanswered_ticket_share",
    }


def test_every_required_metric_is_in_the_catalogue():
    assert set(REQUIRED_IDS) <= set(HEADLINE)


def _metrics_json_2025_q1() -> str:
    """The real command line's JSON for the demo's 2025-Q1, in a fresh interpreter."""
    args = [sys.executable, "-m", "metrics_lib", "metrics", "--data", str(DEMO_DATA), "--period", "2025-Q1"]
    return subprocess.run(
        [*args, "--format", "json"], capture_output=True, text=True, cwd=PROJECT_ROOT, check=True
    ).stdout


@pytest.fixture(scope="module")
def demo_json():
    return _metrics_json_2025_q1()


def test_metrics_json_shape(demo_json):
    out = json.loads(demo_json)
    assert (out["period"], out["start"], out["end"]) == ("2025-Q1", "2025-01-01", "2025-03-31")
    for mid in REQUIRED_IDS:
        rec = out["metrics"][mid]
        assert all(f in rec for f in FIELDS), mid
        assert rec["value"] is None or isinstance(rec["value"], (int, float))
    churn = out["metrics"]["churn_rate"]
    assert churn["value"] == pytest.approx(churn["numerator"] / churn["denominator"])
    assert churn["ci_low"] <= churn["value"] <= churn["ci_high"]
    # the demo targets grade NPS against 30
    assert out["metrics"]["nps"]["target"] == 30
    assert "NaN" not in demo_json


def test_metrics_json_is_deterministic(demo_json):
    again = _metrics_json_2025_q1()
    assert again == demo_json


def test_transaction_log_only_gives_nulls_with_reasons(tmp_path):
    import pandas as pd

    src = open_source(DEMO_DATA)
    for table in ("customers", "orders"):
        cols = (
            ["customer_id", "signup_date"]
            if table == "customers"
            else ["order_id", "customer_id", "order_date", "revenue"]
        )
        src.frame(table)[cols].to_csv(tmp_path / f"{table}.csv", index=False, date_format="%Y-%m-%d")
    log = open_source(tmp_path)
    m = headline_metrics(log, "2025-Q1")["metrics"]
    full = headline_metrics(src, "2025-Q1", ids=["revenue", "churn_rate", "orders"])["metrics"]
    # transaction-based metrics agree with the full source... except churn, which the full source
    # takes from subscriptions (contractual); the log has to use the 180-day window
    assert m["revenue"]["value"] == pytest.approx(full["revenue"]["value"])
    assert m["orders"]["value"] == full["orders"]["value"]
    assert m["churn_rate"]["value"] is not None
    assert m["gross_margin"]["value"] is None and "cost" in m["gross_margin"]["reason"]
    for mid in ("nps", "csat", "win_rate", "first_contact_resolution", "bounce_rate", "campaign_roi"):
        assert m[mid]["value"] is None and m[mid]["status"] == "skipped"
        assert "not in the data source" in m[mid]["reason"]
    assert pd.notna(m["repeat_customer_rate"]["value"])


def test_segment_filter_reduces_the_population():
    src = open_source(DEMO_DATA)
    all_ = headline_metrics(src, "2025-Q1", ids=["orders", "new_customers"])["metrics"]
    smb = headline_metrics(src, "2025-Q1", ids=["orders", "new_customers"], segment="SMB")["metrics"]
    ent = headline_metrics(src, "2025-Q1", ids=["orders", "new_customers"], segment="Enterprise")["metrics"]
    mid = headline_metrics(src, "2025-Q1", ids=["orders", "new_customers"], segment="Mid-Market")["metrics"]
    for metric in ("orders", "new_customers"):
        assert smb[metric]["value"] + ent[metric]["value"] + mid[metric]["value"] == all_[metric]["value"]


def test_average_order_value_has_a_t_interval_and_a_welch_test_on_the_order_values():
    """Worked out independently from the orders themselves: the quarter's mean order value with
    its Student-t interval, and Welch's t-test against the previous quarter."""
    import pandas as pd
    from scipy import stats as sps

    orders = pd.read_parquet(DEMO_DATA / "orders.parquet")
    day = pd.to_datetime(orders["order_date"])
    q4 = orders.loc[(day >= "2025-10-01") & (day < "2026-01-01"), "revenue"]
    q3 = orders.loc[(day >= "2025-07-01") & (day < "2025-10-01"), "revenue"]
    rec = headline_metrics(open_source(DEMO_DATA), "2025-Q4", ids=["average_order_value"])["metrics"][
        "average_order_value"
    ]
    half = sps.t.ppf(0.975, len(q4) - 1) * q4.std(ddof=1) / len(q4) ** 0.5
    assert rec["value"] == pytest.approx(q4.mean(), rel=1e-9) and rec["n"] == len(q4)
    assert rec["ci_low"] == pytest.approx(q4.mean() - half, rel=1e-9)
    assert rec["ci_high"] == pytest.approx(q4.mean() + half, rel=1e-9)
    welch = sps.ttest_ind(q4, q3, equal_var=False)
    assert rec["test"] == "Welch t" and rec["p_value"] == pytest.approx(welch.pvalue, rel=1e-6)
    assert rec["significant"] == (welch.pvalue < 0.05)

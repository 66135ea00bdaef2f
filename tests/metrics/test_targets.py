"""Targets: a partial file keeps the defaults, a mapping sets some metrics, a target set per
period length converts to another length, and the demo's file grades every headline metric."""

from __future__ import annotations

import pytest

from metrics_lib.core.errors import WorkbookError
from metrics_lib.data import DEMO_DATA, open_source
from metrics_lib.demo import write_demo_data
from metrics_lib.demo.targets import DEMO_TARGETS, targets_yaml
from metrics_lib.metrics.catalogue import HEADLINE
from metrics_lib.metrics.scorecard import headline_metrics
from metrics_lib.metrics.targets import (
    DEFAULT_TARGETS,
    Target,
    applicable,
    read_targets,
    resolve_targets,
    status_for,
    targets_from_mapping,
)


def test_a_partial_file_keeps_the_defaults_of_the_metrics_it_leaves_out(tmp_path):
    defaults = read_targets(DEFAULT_TARGETS)
    partial = tmp_path / "targets.yml"
    partial.write_text("targets:\n  nps: {target: 45}\n  churn_rate: {target: 0.02, near: 0.004}\n")
    merged = read_targets(partial)
    assert merged["nps"] == Target("nps", 45.0, "higher", 5.0)  # direction from the catalogue, near kept
    assert merged["churn_rate"] == Target("churn_rate", 0.02, "lower", 0.004)
    assert merged["csat"] == defaults["csat"] == Target("csat", 0.80, "higher", 0.05)
    assert set(merged) == set(defaults) | {"churn_rate"}
    assert set(read_targets(partial, defaults=False)) == {"nps", "churn_rate"}


def test_a_mapping_sets_some_metrics_over_the_file_beside_the_data(tmp_path):
    src = open_source(DEMO_DATA)
    got = resolve_targets('{"nps": 40, "csat": {"target": 0.9, "near": 0.02}}', src)
    assert got["nps"] == Target("nps", 40.0, "higher", 5.0)  # the demo file's tolerance
    assert got["csat"] == Target("csat", 0.9, "higher", 0.02)
    assert got["win_rate"].target == 0.45  # the demo file's, untouched
    assert resolve_targets({"nps": 40}, src) == got | {"csat": resolve_targets(None, src)["csat"]}
    with pytest.raises(WorkbookError, match=r"`happiness` is not a headline metric"):
        targets_from_mapping({"happiness": 1})
    with pytest.raises(WorkbookError, match=r"must be a targets file or a mapping"):
        targets_from_mapping(["nps"])


def test_the_status_of_the_json_follows_a_mapping():
    src = open_source(DEMO_DATA)
    out = headline_metrics(src, "2025-Q4", targets={"nps": 40}, ids=["nps"])  # NPS is 36.83
    assert (out["metrics"]["nps"]["target"], out["metrics"]["nps"]["status"]) == (40, "near")


def test_a_target_per_quarter_converts_to_a_month_and_a_year():
    revenue = Target("revenue", 300.0, "higher", 30.0, per_months=3)
    assert revenue.for_months(1) == Target("revenue", 100.0, "higher", 10.0, per_months=1)
    assert revenue.for_months(12).target == 1200.0
    churn = Target("churn_rate", 0.10, "lower", 0.01, per_months=3)
    # 10% lost a quarter keeps 0.9 a quarter, 0.9^(1/3) a month: 3.45% lost a month
    assert churn.for_months(1).target == pytest.approx(1 - 0.9 ** (1 / 3))
    assert churn.for_months(12).target == pytest.approx(1 - 0.9**4)  # 34.39% a year
    nrr = Target("net_revenue_retention", 1.02, "higher", 0.01, per_months=3)
    assert nrr.for_months(12).target == pytest.approx(1.02**4)
    assert Target("nps", 30.0, "higher", 5.0).for_months(1).target == 30.0


def test_per_is_refused_for_a_metric_that_does_not_grow_with_the_period(tmp_path):
    bad = tmp_path / "targets.yml"
    bad.write_text("targets:\n  nps: {target: 30, per: quarter}\n")
    with pytest.raises(WorkbookError, match=r"`nps` per 'quarter' must be left out"):
        read_targets(bad)
    bad.write_text("targets:\n  revenue: {target: 30, per: week}\n")
    with pytest.raises(WorkbookError, match=r"`revenue` per 'week' must be one of month, quarter, year"):
        read_targets(bad)


def test_the_demo_targets_cover_every_headline_metric_in_its_direction():
    assert set(DEMO_TARGETS) == set(HEADLINE)
    got = read_targets(DEMO_DATA / "targets.yml", defaults=False)
    assert {m: t.direction for m, t in got.items()} == {m: h.direction for m, h in HEADLINE.items()}


def test_the_demo_writes_the_committed_targets_file_byte_for_byte(tmp_path):
    assert (DEMO_DATA / "targets.yml").read_text(encoding="utf-8") == targets_yaml()
    write_demo_data(tmp_path, customers=20, seed=1)
    assert (tmp_path / "targets.yml").read_bytes() == (DEMO_DATA / "targets.yml").read_bytes()


def test_no_demo_metric_of_2025_q4_is_without_a_target():
    out = headline_metrics(open_source(DEMO_DATA), "2025-Q4")
    assert [m for m, r in out["metrics"].items() if r["status"] == "no target"] == []
    assert out["metrics"]["revenue"]["target"] == 17_500_000
    monthly = headline_metrics(open_source(DEMO_DATA), "2025-12", ids=["revenue"])
    assert monthly["metrics"]["revenue"]["target"] == pytest.approx(17_500_000 / 3)


def test_a_segment_is_not_graded_against_the_companys_totals():
    out = headline_metrics(open_source(DEMO_DATA), "2025-Q4", segment="SMB", ids=["revenue", "orders", "nps"])
    revenue, orders, nps = (out["metrics"][m] for m in ("revenue", "orders", "nps"))
    assert revenue["value"] > 0 and revenue["target"] is None
    assert revenue["status"] == orders["status"] == "no target for a segment"
    assert revenue["target_reason"] == "the target is the company's total"
    assert nps["target"] == 30 and nps["target_reason"] is None  # a score keeps its target
    whole = headline_metrics(open_source(DEMO_DATA), "2025-Q4", ids=["revenue"])["metrics"]["revenue"]
    assert whole["target"] == 17_500_000 and whole["target_reason"] is None


def test_a_targets_file_may_set_a_segments_own_totals(tmp_path):
    path = tmp_path / "targets.yml"
    path.write_text(
        "targets:\n  revenue: {target: 300, near: 30, per: quarter}\n"
        "segments:\n  SMB: {revenue: {target: 90}, nps: 20}\n"
    )
    got = read_targets(path, defaults=False)
    t, why = applicable(got["revenue"], 1, "SMB")
    assert why is None and t.target == pytest.approx(30.0) and t.near == pytest.approx(10.0)
    assert applicable(got["revenue"], 3, None)[0].target == 300.0  # the company's, untouched
    assert applicable(got["revenue"], 3, "Enterprise") == (
        None,
        "no target for a segment: the target is the company's total",
    )
    assert applicable(got["nps"], 3, "SMB")[0].target == 20.0  # set for the segment only
    assert applicable(got["nps"], 3, None) == (None, None)
    assert status_for(25.0, *applicable(got["nps"], 3, "Enterprise")) == "no target"


def test_a_rate_set_per_quarter_applies_to_quarters_only(tmp_path):
    path = tmp_path / "targets.yml"
    path.write_text("targets:\n  upsell_rate: {target: 0.5, per: quarter}\n  nps: {target: 30}\n")
    got = read_targets(path, defaults=False)
    assert applicable(got["upsell_rate"], 3, None)[0].target == 0.5
    t, why = applicable(got["upsell_rate"], 1, None)
    assert t is None and why == "no target for a month: the target is set per quarter"
    assert status_for(0.268, t, why) == "no target for a month"
    assert (
        applicable(got["upsell_rate"], 12, None)[1] == "no target for a year: the target is set per quarter"
    )
    with pytest.raises(WorkbookError, match="per 'quarter' must be left out"):
        read_targets(_write(tmp_path, "targets:\n  nps: {target: 30, per: quarter}\n"), defaults=False)


def _write(tmp_path, text):
    path = tmp_path / "other.yml"
    path.write_text(text)
    return path


def test_the_demos_monthly_report_grades_per_quarter_rates_no_more():
    out = headline_metrics(
        open_source(DEMO_DATA),
        "2025-03",
        ids=["repeat_customer_rate", "upsell_rate", "retention_cost_per_client", "churn_rate"],
    )["metrics"]
    # the retention cost per client too: its spend grows with the length while fewer customers
    # stay retained through it, so a third of the quarter's target would grade it too kindly
    for m in ("repeat_customer_rate", "upsell_rate", "retention_cost_per_client"):
        assert out[m]["status"] == "no target for a month" and out[m]["target"] is None
        assert out[m]["target_reason"] == "the target is set per quarter"
    assert out["churn_rate"]["target"] == pytest.approx(1 - 0.97 ** (1 / 3))


def test_a_segments_own_target_survives_a_mapping_that_sets_the_company_target(tmp_path):
    path = tmp_path / "targets.yml"
    path.write_text("targets:\n  nps: 30\nsegments:\n  SMB:\n    nps: 25\n")
    base = read_targets(path)
    merged = targets_from_mapping({"nps": 20}, base=base)
    # the company's NPS target is now 20; SMB's own 25 still applies to SMB's reports
    assert merged["nps"].target == 20.0
    assert applicable(merged["nps"], 3, "SMB")[0].target == 25.0
    assert applicable(merged["nps"], 3, None)[0].target == 20.0


def test_a_segment_the_data_does_not_have_is_refused_with_the_ones_it_has(tmp_path):
    path = tmp_path / "targets.yml"
    path.write_text("targets:\n  orders: 6000\nsegments:\n  Smb:\n    orders: 10\n")
    with pytest.raises(WorkbookError, match="segments: Smb.*SMB"):
        resolve_targets(str(path), open_source(DEMO_DATA))


def test_the_retention_cost_per_client_target_grades_only_its_own_period_length():
    target = Target("retention_cost_per_client", 100.0, "lower", 20.0, 3)
    # spend grows with the length while fewer customers stay retained: no conversion is defined
    assert applicable(target, 3, None)[0] is target
    assert applicable(target, 12, None) == (None, "no target for a year: the target is set per quarter")

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
    read_targets,
    resolve_targets,
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

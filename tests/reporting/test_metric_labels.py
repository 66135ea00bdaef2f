"""Every headline metric has one plain name, the same in the tables, the verdict and the plots."""

import pytest

from metrics_lib.metrics.catalogue import HEADLINE
from metrics_lib.reporting.verdict import metric_name


@pytest.mark.parametrize(
    ("mid", "label"),
    [
        ("ltv_cac_ratio", "LTV:CAC ratio"),
        ("csat", "CSAT"),
        ("nps", "NPS"),
        ("clv", "CLV (margin)"),
        ("cac", "CAC"),
        ("campaign_roi", "campaign ROI (incremental)"),
        ("sales_cycle_days", "sales cycle (days)"),
        ("first_response_hours_median", "first response, median (hours)"),
        ("health_score_mean", "health score, mean"),
    ],
)
def test_headline_labels_are_plain_names(mid, label):
    assert HEADLINE[mid].label == label


def test_no_label_is_a_raw_id():
    raw = [h.id for h in HEADLINE.values() if "_" in h.label]
    assert raw == []


def test_the_verdict_names_a_metric_by_its_catalogue_label():
    assert metric_name("ltv_cac_ratio") == "LTV:CAC ratio"
    assert metric_name("nps") == "NPS"
    assert metric_name("churn_rate") == "Churn rate"
    for mid, h in HEADLINE.items():
        assert metric_name(mid).lower() == h.label.lower()

"""The metrics recover the effects planted in the committed demo data (data/demo/source.yml).

The demo company changes strategy on 2024-07-01. Comparing the year 2023 (all before) with 2025
(all after), every documented effect must show in the metrics, in direction and rough size, and
the change must be statistically distinguishable from noise.
"""

from __future__ import annotations

import pytest
import yaml

from metrics_lib.data import DEMO_DATA, open_source
from metrics_lib.metrics.scorecard import headline_metrics

IDS = [
    "csat",
    "nps",
    "first_response_hours_median",
    "first_contact_resolution",
    "churn_rate",
    "sales_cycle_days",
    "win_rate",
    "ces",
]


@pytest.fixture(scope="module")
def effects():
    return yaml.safe_load((DEMO_DATA / "source.yml").read_text())["generator"]


@pytest.fixture(scope="module")
def before_after():
    src = open_source(DEMO_DATA)
    before = headline_metrics(src, "2023", ids=IDS)["metrics"]
    after = headline_metrics(src, "2025", ids=IDS)["metrics"]
    return before, after


def test_csat_share_matches_the_generator(before_after, effects):
    before, after = before_after
    assert before["csat"]["value"] == pytest.approx(effects["csat_satisfied_before"], abs=0.04)
    assert after["csat"]["value"] == pytest.approx(effects["csat_satisfied_after"], abs=0.04)


def test_nps_rises_by_about_the_planted_shift(before_after, effects):
    before, after = before_after
    planted = 100 * (
        (effects["nps_promoters_after"] - effects["nps_detractors_after"])
        - (effects["nps_promoters_before"] - effects["nps_detractors_before"])
    )
    measured = after["nps"]["value"] - before["nps"]["value"]
    assert measured == pytest.approx(planted, abs=10)


def test_first_response_and_resolution_improve(before_after, effects):
    before, after = before_after
    assert before["first_response_hours_median"]["value"] == pytest.approx(
        effects["first_response_hours_before"], rel=0.2
    )
    assert after["first_response_hours_median"]["value"] == pytest.approx(
        effects["first_response_hours_after"], rel=0.2
    )
    assert before["first_contact_resolution"]["value"] == pytest.approx(
        effects["first_contact_resolution_before"], abs=0.05
    )
    assert after["first_contact_resolution"]["value"] == pytest.approx(
        effects["first_contact_resolution_after"], abs=0.05
    )


def test_churn_falls_and_the_cycle_shortens(before_after, effects):
    before, after = before_after
    ratio = after["churn_rate"]["value"] / before["churn_rate"]["value"]
    # churn also falls because fewer customers are detractors after the change, so the ratio
    # is at most the planted hazard multiplier
    assert ratio < effects["churn_multiplier_after"] + 0.1
    cycle_ratio = after["sales_cycle_days"]["value"] / before["sales_cycle_days"]["value"]
    planted = effects["sales_cycle_days_after"] / effects["sales_cycle_days_before"]
    assert cycle_ratio == pytest.approx(planted, rel=0.25)
    assert after["win_rate"]["value"] > before["win_rate"]["value"]


@pytest.mark.parametrize("metric", ["csat", "nps", "first_contact_resolution", "churn_rate", "win_rate"])
def test_year_over_year_changes_are_beyond_noise(metric):
    src = open_source(DEMO_DATA)
    rec = headline_metrics(src, "2024", ids=[metric])["metrics"][metric]
    # 2024 straddles the change; 2025 against 2024 must still be significant for these
    rec25 = headline_metrics(src, "2025", ids=[metric])["metrics"][metric]
    assert rec25["previous"] == pytest.approx(rec["value"])
    assert rec25["significant"] is True, rec25

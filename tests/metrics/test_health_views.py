"""The health score's components, bands and headline share on a hand-made subscription log, every
expected number worked out by hand.

Subscriptions (annual terms; ``renewed_from`` names the term a term renews):

=====  ========  ==========  ==========  =========  ============  ==========================
term   customer  start       end         cancelled  renewed_from  at 2025-03-31
=====  ========  ==========  ==========  =========  ============  ==========================
S1     C1        2024-01-01  2025-01-01                           due, renewed by S2
S2     C1        2025-01-01  2026-01-01             S1            active
S3     C2        2024-06-01  2025-06-01                           active, first term: none due
S4     C3        2024-02-01  2025-02-01                           due, not renewed
S5     C3        2025-02-15  2026-02-15                           active (a new subscription)
S6     C4        2024-03-01  2025-03-01                           due, renewed by S7
S7     C4        2025-03-01  2026-03-01             S6            active
S8     C4        2024-05-01  2025-05-01  2025-03-10               due (cancelled), not renewed
S9     C5        2024-01-15  2025-01-15                           due; S10 starts after the day
S10    C5        2025-04-10  2026-04-10             S9            C5 is not active on the day
=====  ========  ==========  ==========  =========  ============  ==========================

Renewal on 2025-03-31 (terms due in the 365 days up to it, share renewed): C1 1/1 = 1, C2 none
(NaN: scored on the other components), C3 0/1 = 0, C4 1/2 = 0.5.
Orders (recency = 1 - days since the last order / 180): C1 on 2025-03-31 -> 1, C2 on 2025-01-30
(60 days) -> 2/3, C3 none -> 0, C4 on 2024-12-31 (90 days) -> 0.5.
No surveys and no tickets: the components are recency and renewal, effective weights 0.5 each.
Scores 1 + 9 x the weighted mean: C1 10, C2 (recency only) 1 + 9 x 2/3 = 7, C3 1, C4 5.5.
"""

from __future__ import annotations

import math
from datetime import datetime

import pandas as pd
import pytest

from metrics_lib.data import open_source
from metrics_lib.metrics import aggregate as agg
from metrics_lib.metrics import aggregate_health, health_views
from metrics_lib.metrics.scorecard import headline_metrics

CUSTOMERS = [(f"C{i}", "2024-01-01", "organic", "SMB", "") for i in range(1, 6)]
SUBSCRIPTIONS = [
    ("S1", "C1", "2024-01-01", "2025-01-01", "", ""),
    ("S2", "C1", "2025-01-01", "2026-01-01", "", "S1"),
    ("S3", "C2", "2024-06-01", "2025-06-01", "", ""),
    ("S4", "C3", "2024-02-01", "2025-02-01", "", ""),
    ("S5", "C3", "2025-02-15", "2026-02-15", "", ""),
    ("S6", "C4", "2024-03-01", "2025-03-01", "", ""),
    ("S7", "C4", "2025-03-01", "2026-03-01", "", "S6"),
    ("S8", "C4", "2024-05-01", "2025-05-01", "2025-03-10", ""),
    ("S9", "C5", "2024-01-15", "2025-01-15", "", ""),
    ("S10", "C5", "2025-04-10", "2026-04-10", "", "S9"),
]
ORDERS = [
    ("O1", "C1", "2025-03-31", 100, 40, "new"),
    ("O2", "C2", "2025-01-30", 100, 40, "new"),
    ("O3", "C4", "2024-12-31", 100, 40, "new"),
]


def _write(folder, *, renewals: bool = True):
    """The log above as CSV files in ``folder``; without ``renewals`` no term names another."""
    pd.DataFrame(
        CUSTOMERS, columns=["customer_id", "signup_date", "acquisition_channel", "segment", "referred_by"]
    ).to_csv(folder / "customers.csv", index=False)
    columns = ["subscription_id", "customer_id", "start_date", "end_date", "cancelled_date", "renewed_from"]
    subs = pd.DataFrame(SUBSCRIPTIONS, columns=columns)
    if not renewals:
        subs["renewed_from"] = ""
    subs.insert(2, "plan", "basic")
    subs["mrr"] = 100.0
    subs.to_csv(folder / "subscriptions.csv", index=False)
    pd.DataFrame(
        ORDERS, columns=["order_id", "customer_id", "order_date", "revenue", "cost", "order_type"]
    ).to_csv(folder / "orders.csv", index=False)
    return open_source(folder)


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    return _write(tmp_path_factory.mktemp("health"))


def _record(source, day):
    scope = agg.Scope.of(source, "2025-Q1")
    t = aggregate_health.renewal_record(scope, day).execute().set_index("customer_id").sort_index()
    return {c: (r.terms_due, r.terms_renewed) for c, r in t.iterrows()}


def test_renewal_record_counts_terms_due_and_renewed_by_the_day(source):
    assert _record(source, datetime(2025, 3, 31)) == {"C1": (1, 1), "C3": (1, 0), "C4": (2, 1), "C5": (1, 0)}
    # C5's renewal (S10) starts on 10 April: renewed as of the end of April, not before
    assert _record(source, datetime(2025, 4, 30))["C5"] == (1, 1)
    # a term due on the day itself is in the window; one due 365 days before it is not
    assert _record(source, datetime(2025, 1, 1))["C1"] == (1, 1)
    # on 2026-01-01 the window starts after S1's end (2025-01-01, 365 days before): only S2 is due
    assert _record(source, datetime(2026, 1, 1))["C1"] == (1, 0)


def test_health_components_with_renewal_and_renormalised_weights(source):
    comps = aggregate_health.health_components(agg.Scope.of(source, "2025-Q1")).set_index("customer_id")
    assert list(comps.columns) == ["recency", "renewal"]  # no surveys, no tickets
    assert comps["recency"].to_dict() == pytest.approx({"C1": 1.0, "C2": 2 / 3, "C3": 0.0, "C4": 0.5})
    assert comps.loc[["C1", "C3", "C4"], "renewal"].tolist() == [1.0, 0.0, 0.5]
    assert math.isnan(comps.loc["C2", "renewal"])
    weights = health_views.health_weights(comps.reset_index())
    assert weights["default_weight"].tolist() == [0.25, 0.25]
    assert weights["weight"].tolist() == [0.5, 0.5]
    scores = health_views.health_scores(agg.Scope.of(source, "2025-Q1"))
    assert scores.to_dict() == pytest.approx({"C1": 10.0, "C2": 7.0, "C3": 1.0, "C4": 5.5})


def test_no_renewed_from_values_leave_the_renewal_component_out(tmp_path):
    comps = aggregate_health.health_components(agg.Scope.of(_write(tmp_path, renewals=False), "2025-Q1"))
    assert list(comps.columns) == ["customer_id", "recency"]


def test_healthy_customer_share_headline(source):
    m = headline_metrics(source, "2025-Q1")["metrics"]
    share = m["healthy_customer_share"]
    # C1 (10) and C2 (7.0: a score of exactly 7 is healthy) of the four scored customers
    assert (share["value"], share["numerator"], share["denominator"], share["n"]) == (0.5, 2, 4, 4)
    # Wilson for 2 of 4: centre 0.5, half-width z sqrt(1/16 + z^2/64) / (1 + z^2/4)
    z = 1.959963984540054
    half = z * math.sqrt(0.25 / 4 + z * z / 64) / (1 + z * z / 4)
    assert (share["ci_low"], share["ci_high"]) == pytest.approx((0.5 - half, 0.5 + half))
    assert (share["unit"], share["family"], share["direction"]) == ("share", "health", "higher")
    assert share["target"] == 0.80 and share["status"] == "off"
    assert m["health_score_mean"]["value"] == pytest.approx((10 + 7 + 1 + 5.5) / 4)


def test_a_small_calibration_period_falls_back_to_the_fixed_cut_points(source):
    dist = health_views.health_distribution(agg.Scope.of(source, "2025-Q1"))
    # 2024-Q4 scored five customers (fewer than 30): bands at 4 and 7
    assert dist.attrs["cuts"] == health_views.BandCuts(4.0, 7.0, "2024-Q4", 5, fixed=True)
    assert dist["customers"].to_dict() == {"higher risk": 1, "middle": 1, "lower risk": 2}
    assert dist.loc["lower risk", "mean_score"] == pytest.approx(8.5)


def test_band_cuts_band_scores_from_the_low_cut_up_to_below_the_high_one():
    cuts = health_views.BandCuts(7.25, 8.5, "2025-Q3", 1200)
    bands = cuts.band(pd.Series([7.2, 7.25, 8.49, 8.5]))
    assert bands.tolist() == ["higher risk", "middle", "middle", "lower risk"]

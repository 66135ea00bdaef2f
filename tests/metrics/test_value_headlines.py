"""CLV, segment CAC and campaign ROI: hand-worked sources and the demo's properties.

The purchase log of the CLV tests (no subscriptions, so activity is non-contractual with the
180-day window; every cost is 60% of the revenue in 2025):

========  ==========================================================================
customer  orders (date: revenue / cost)
========  ==========================================================================
A         2024-12-01: 100/50, 2025-03-01: 100/60 and 50/30 (one purchase day), 2025-09-01: 150/90
B         2024-11-15: 200/100, 2025-02-01: 200/120
C         2025-06-01: 300/180, 2025-10-01: 100/60
D         2024-10-01: 80/40
E         2024-12-20: 60/30, 2025-12-31: 40/24
========  ==========================================================================

2025: revenue 940, cost 564 (margin 0.4); purchase days A 2, B 1, C 2, E 1 = 6 by 4 customers.
Active on 2024-12-31 (an order in [2024-07-05, 2024-12-31]): A, B, D, E; on 2025-12-31 (an order
in [2025-07-05, 2025-12-31]): A, C, E. Lost: B and D, so the year's churn is 2 / 4.
"""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest
from conftest import valid_tables

from metrics_lib.core.results import quietly
from metrics_lib.data import DEMO_DATA, open_source
from metrics_lib.metrics import aggregate as agg
from metrics_lib.metrics import aggregate_marketing
from metrics_lib.metrics.catalogue import HEADLINE
from metrics_lib.metrics.clv_views import clv_steps
from metrics_lib.metrics.period_data import PeriodData
from metrics_lib.metrics.scorecard import headline_metrics

Z_975 = 1.959963984540054

ORDERS = [
    ("A1", "A", "2024-12-01", 100, 50),
    ("A2", "A", "2025-03-01", 100, 60),
    ("A3", "A", "2025-03-01", 50, 30),
    ("A4", "A", "2025-09-01", 150, 90),
    ("B1", "B", "2024-11-15", 200, 100),
    ("B2", "B", "2025-02-01", 200, 120),
    ("C1", "C", "2025-06-01", 300, 180),
    ("C2", "C", "2025-10-01", 100, 60),
    ("D1", "D", "2024-10-01", 80, 40),
    ("E1", "E", "2024-12-20", 60, 30),
    ("E2", "E", "2025-12-31", 40, 24),
]
SIGNUPS = {"A": "2024-12-01", "B": "2024-11-15", "C": "2025-06-01", "D": "2024-10-01", "E": "2024-12-20"}


@pytest.fixture(scope="module")
def purchase_log(tmp_path_factory):
    folder = tmp_path_factory.mktemp("purchases")
    pd.DataFrame(list(SIGNUPS.items()), columns=["customer_id", "signup_date"]).to_csv(
        folder / "customers.csv", index=False
    )
    pd.DataFrame(ORDERS, columns=["order_id", "customer_id", "order_date", "revenue", "cost"]).to_csv(
        folder / "orders.csv", index=False
    )
    return open_source(folder)


@pytest.fixture(scope="module")
def demo():
    return open_source(DEMO_DATA)


def _clv(src, period, segment=None):
    return quietly(HEADLINE["clv"].compute, PeriodData(src, period, segment))


# --- CLV ------------------------------------------------------------------------------------


def test_clv_of_a_year_by_hand(purchase_log):
    # average purchase value 940 / 6 x frequency 6 / 4 = customer value 235 a year; lifespan
    # 1 / 0.5 = 2 years: four-step CLV 470, x margin 0.4 = 188
    r = _clv(purchase_log, "2025")
    assert r.value == pytest.approx(188.0)
    c = r.components
    assert c["average_purchase_value"] == pytest.approx(940 / 6)
    assert c["purchase_frequency"] == pytest.approx(1.5)
    assert c["customer_value"] == pytest.approx(235.0)
    assert c["lifespan_years"] == pytest.approx(2.0)
    assert c["gross_margin"] == pytest.approx(0.4)
    assert (c["purchases"], c["customers"], c["orders"]) == (6, 4, 7)
    assert r.n == 4


def test_clv_interval_by_the_delta_method_by_hand(purchase_log):
    # 2025 gross profit per buyer: A 40 + 20 + 60 = 120, B 80, C 120 + 40 = 160, E 16 (mean 94,
    # sample variance 11312 / 3); churn 2 / 4 over a year (k = 1, annual churn 0.5).
    # Var(log CLV) = (11312 / 3) / (4 x 94^2) + (1 / 0.5)^2 x 0.5 x 0.5 / 4
    var = (11312 / 3) / (4 * 94**2) + (1 / 0.5) ** 2 * 0.25 / 4
    r = _clv(purchase_log, "2025")
    half = Z_975 * math.sqrt(var)
    assert r.ci.low == pytest.approx(188 * math.exp(-half))
    assert r.ci.high == pytest.approx(188 * math.exp(half))
    assert r.ci.method == "delta method (log scale)"
    record = headline_metrics(purchase_log, "2025", ids=["clv"])["metrics"]["clv"]
    assert (record["ci_low"], record["ci_high"]) == pytest.approx((r.ci.low, r.ci.high))


def test_clv_of_a_month_measures_purchases_over_the_twelve_months_it_ends(purchase_log):
    # 2025-03: the twelve months [2024-04-01, 2025-04-01) (365 days), cut to the first order
    # (2024-10-01): 182 days. Orders D1, B1, A1, E1, B2, A2, A3: revenue 790, cost 430; purchase
    # days D 1, B 2, A 2, E 1 = 6 by 4 customers, so 6 / 4 / (182 / 365) a year. March's churn:
    # active on 02-28 A, B, D, E; on 03-31 not D (its order is 182 days old): 1 / 4, annualised
    # 1 - 0.75^(365/31). CLV = 790 / 4 x 365 / 182 / annual churn x 360 / 790
    annual = 1 - 0.75 ** (365 / 31)
    r = _clv(purchase_log, "2025-03")
    assert r.components["share_of_year_covered"] == pytest.approx(182 / 365)
    assert r.components["purchase_frequency"] == pytest.approx(1.5 * 365 / 182)
    assert r.components["annual_churn_rate"] == pytest.approx(annual)
    assert r.value == pytest.approx(790 / 4 * 365 / 182 / annual * 360 / 790)


def test_clv_is_undefined_when_nobody_was_lost(purchase_log):
    # 2025-Q4: active on 09-30 A and C, both still active on 12-31
    r = _clv(purchase_log, "2025-Q4")
    assert math.isnan(r.value)
    assert r.reason == "no customer was lost, so the lifespan 1 / churn is unbounded"


def test_clv_steps_lay_out_the_four_steps_and_the_margin(purchase_log):
    steps = clv_steps(PeriodData(purchase_log, "2025"))
    value = steps["value"]
    assert value["1. average purchase value"] == pytest.approx(940 / 6)
    assert value["3. customer value (per year)"] == pytest.approx(235.0)
    assert value["four-step CLV (revenue)"] == pytest.approx(470.0)
    assert value["CLV (margin, the headline)"] == pytest.approx(188.0)
    assert steps.attrs["window"] == agg.DateWindow(date(2025, 1, 1), date(2026, 1, 1))
    assert steps.attrs["share_of_year_covered"] == 1.0
    empty = clv_steps(PeriodData(purchase_log, "2025-Q4"))
    assert empty.empty and empty.attrs["note"].startswith("no customer was lost")


def test_demo_clv_of_a_month_a_quarter_and_a_year_agree(demo):
    # December, the fourth quarter and the year 2025 end together: the same twelve months of
    # purchases; only the churn behind the lifespan is the period's own
    clvs = {p: _clv(demo, p) for p in ("2025-12", "2025-Q4", "2025")}
    values = [r.value for r in clvs.values()]
    assert max(values) / min(values) <= 1.25, values
    for key in ("average_purchase_value", "purchase_frequency", "gross_margin"):
        assert len({r.components[key] for r in clvs.values()}) == 1


# --- segment CAC ------------------------------------------------------------------------------


def _spend_tables():
    tables = valid_tables()
    tables["marketing_spend"] = [
        {"month": m, "channel": ch, "campaign_id": "", "purpose": purpose, "spend": spend}
        for m, ch, purpose, spend in [
            ("2025-01-01", "web", "acquisition", "400"),
            ("2025-02-01", "ads", "acquisition", "300"),
            ("2025-03-01", "referral", "acquisition", "100"),
            ("2025-03-01", "events", "acquisition", "50"),
            ("2025-03-01", "web", "retention", "999"),
        ]
    ]
    return tables


def test_segment_cac_allocates_each_channels_spend_by_its_new_customers(make_source):
    # Q1 2025 signups: C1 web smb, C2 referral smb, C3 ads enterprise, C4 web mid. Acquisition
    # spend 850: web 400 shared 1 smb : 1 mid, ads 300 all enterprise, referral 100 all smb;
    # events (50) brought nobody, so it is shared by all new customers, 2 smb : 1 : 1.
    # smb 200 + 100 + 25 = 325 for 2 new customers; enterprise 300 + 12.5; mid 200 + 12.5
    src = open_source(make_source(_spend_tables()))
    expected = {None: (850, 4), "smb": (325, 2), "enterprise": (312.5, 1), "mid": (212.5, 1)}
    for segment, (spend, new) in expected.items():
        r = quietly(HEADLINE["cac"].compute, PeriodData(src, "2025-Q1", segment))
        assert (r.numerator, r.denominator) == (pytest.approx(spend), new), segment
        assert r.value == pytest.approx(spend / new)
    by_channel = aggregate_marketing.acquisition_spend_by_channel(agg.Scope.of(src, "2025-Q1", "smb"))
    assert by_channel.to_dict() == pytest.approx(
        {"ads": 0.0, "events": 25.0, "referral": 100.0, "web": 200.0}
    )


def test_demo_segment_cacs_add_up_to_the_companys_spend(demo):
    segments = sorted(demo.table("customers").execute()["segment"].dropna().unique())
    assert len(segments) >= 3
    total = PeriodData(demo, "2025-Q4").spend.acquisition
    parts = []
    for s in segments:
        d = PeriodData(demo, "2025-Q4", s)
        cac = quietly(HEADLINE["cac"].compute, d)
        parts.append(cac.value * d.new.new_customers)
    assert sum(parts) == pytest.approx(total, rel=1e-6)
    # and no segment carries the whole company's spend any more
    assert all(p < total for p in parts)


def test_demo_segment_ltv_cac_uses_the_segments_allocated_cac(demo):
    d = PeriodData(demo, "2025-Q4", "Enterprise")
    cac, clv = quietly(HEADLINE["cac"].compute, d), quietly(HEADLINE["clv"].compute, d)
    ratio = quietly(HEADLINE["ltv_cac_ratio"].compute, d)
    assert cac.numerator < d.spend.company_acquisition
    assert (ratio.numerator, ratio.denominator) == (pytest.approx(clv.value), pytest.approx(cac.value))


# --- campaign ROI -----------------------------------------------------------------------------


def _campaign_tables():
    # Q1 2025 orders: revenue 1,350.75, cost 40 + 30 + 100 + 300 = 470, so the margin is
    # 880.75 / 1,350.75. Campaign K1 (cost 300): treated C1 (80) and C2 (no revenue: 0), control
    # C3 (30) and C4 (10)
    tables = valid_tables()
    tables["orders"][2]["cost"] = "100"
    tables["campaign_members"][2]["revenue"] = "30"
    tables["campaign_members"].append(
        {"campaign_id": "K1", "customer_id": "C4", "group": "control", "converted": "false", "revenue": "10"}
    )
    return tables


def test_campaign_roi_is_incremental_with_its_interval_by_hand(make_source):
    # per treated member 80 / 2 = 40 against 40 / 2 = 20 per control member: 20 x 2 treated = 40
    # of revenue beyond the control, x margin, less the cost 300, over 300. The members' revenue
    # spreads: treated (80, 0) s^2 = 3,200, control (30, 10) s^2 = 200; variance of the increment
    # m^2 x 2^2 x (3,200 / 2 + 200 / 2) = 6,800 m^2
    src = open_source(make_source(_campaign_tables()))
    m = 880.75 / 1350.75
    r = headline_metrics(src, "2025-Q1", ids=["campaign_roi"])["metrics"]["campaign_roi"]
    roi = (40 * m - 300) / 300
    half = Z_975 * m * math.sqrt(6800) / 300
    assert r["value"] == pytest.approx(roi)
    assert (r["ci_low"], r["ci_high"]) == (pytest.approx(roi - half), pytest.approx(roi + half))
    assert r["n"] == 4
    # the attributed ROI it replaces counted the control group's 40 too: ((80 + 40) m - 300) / 300
    assert r["value"] < ((80 + 40) * m - 300) / 300


def test_campaign_roi_without_a_control_group_is_undefined_naming_the_campaign(make_source):
    tables = _campaign_tables()
    tables["campaign_members"] = [row for row in tables["campaign_members"] if row["group"] == "treatment"]
    src = open_source(make_source(tables))
    r = headline_metrics(src, "2025-Q1", ids=["campaign_roi"])["metrics"]["campaign_roi"]
    assert r["value"] is None
    assert r["reason"].startswith("campaign 'spring mail' has treated members but no control group")

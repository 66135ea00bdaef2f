"""Cross-family analyses on a hand-made case and on the demo data's planted effects."""

from __future__ import annotations

import pandas as pd
import pytest

from metrics_lib.core.errors import WorkbookError
from metrics_lib.data import DEMO_DATA, open_source
from metrics_lib.metrics.analyses import before_after, nps_vs_churn

# Everyone is active on 2024-12-31 (a purchase within 180 days). Those whose last purchase is
# 2024-08-01 are no longer active on 2025-03-31 (window starts 2024-10-03): C1, C3, C6 are lost.
# NPS answers before 2025: C1 3 and C2 5 (detractors), C3 7 (passive), C4 9 and C5 10 (promoters),
# C6 none; C2 answered twice, the later answer (9, promoter) counts.
CUSTOMERS = [(f"C{i}", "2024-01-01") for i in range(1, 7)]
LAST_ORDER = {
    "C1": "2024-08-01",
    "C2": "2024-12-15",
    "C3": "2024-08-01",
    "C4": "2024-12-15",
    "C5": "2024-12-15",
    "C6": "2024-08-01",
}
ANSWERS = [
    ("R1", "C1", "2024-11-01", 3),
    ("R2", "C2", "2024-10-05", 5),
    ("R3", "C3", "2024-11-01", 7),
    ("R4", "C4", "2024-11-01", 9),
    ("R5", "C5", "2024-12-01", 10),
    ("R6", "C2", "2024-12-20", 9),
    ("R7", "C4", "2025-02-01", 0),
]  # R7 is in the measured quarter itself: ignored


@pytest.fixture
def small(tmp_path):
    pd.DataFrame(CUSTOMERS, columns=["customer_id", "signup_date"]).to_csv(
        tmp_path / "customers.csv", index=False
    )
    orders = [(f"O{i}", c, d, 10) for i, (c, d) in enumerate(LAST_ORDER.items())]
    pd.DataFrame(orders, columns=["order_id", "customer_id", "order_date", "revenue"]).to_csv(
        tmp_path / "orders.csv", index=False
    )
    surveys = [(r, c, d, "nps", s) for r, c, d, s in ANSWERS]
    pd.DataFrame(surveys, columns=["response_id", "customer_id", "response_date", "survey", "score"]).to_csv(
        tmp_path / "surveys.csv", index=False
    )
    return open_source(tmp_path)


def test_nps_vs_churn_by_latest_answer_before_the_period(small):
    r = nps_vs_churn(small, "2025-Q1")
    t = r.table
    assert list(t.index) == ["promoter", "passive", "detractor", "no answer"]
    assert t.loc["detractor", ["customers", "churned"]].tolist() == [1, 1]  # C1 (C2 turned promoter)
    assert t.loc["passive", ["customers", "churned"]].tolist() == [1, 1]  # C3
    assert t.loc["promoter", ["customers", "churned"]].tolist() == [3, 0]  # C2, C4, C5
    assert t.loc["no answer", ["customers", "churned"]].tolist() == [1, 1]  # C6
    assert r.detractor_minus_promoter == pytest.approx(1.0)
    # detractors' churn 1 / 1 against promoters' 0 / 3, as numbers (the reporting layer words them)
    assert (r.comparison.current, r.comparison.previous) == (1.0, 0.0)
    assert r.comparison.p_value == r.p_value


def test_demo_detractors_churn_more_than_promoters():
    r = nps_vs_churn(open_source(DEMO_DATA), "2024")
    assert r.table.loc["detractor", "churn_rate"] > r.table.loc["promoter", "churn_rate"]
    assert r.p_value < 0.05 and r.comparison.significant


def test_before_after_finds_the_demo_strategy_change():
    b = before_after(open_source(DEMO_DATA))
    assert str(b.change_date) == "2024-07-01"
    t = b.table
    assert t.loc["csat", "after"] > t.loc["csat", "before"]
    assert t.loc["nps", "change"] > 20
    assert t.loc["first_response_hours_median", "change"] < 0
    assert t.loc["sales_cycle_days", "change"] < 0
    assert t["significant"].all()


def test_difference_in_differences_is_the_treated_change_minus_the_comparison_change():
    src = open_source(DEMO_DATA)
    b = before_after(src, segment="Mid-Market", comparison_segment="SMB", ids=("csat", "nps"))
    smb = before_after(src, segment="SMB", ids=("csat", "nps"))
    assert b.did.loc["nps", "comparison change"] == pytest.approx(smb.table.loc["nps", "change"])
    assert b.did.loc["nps", "difference in differences"] == pytest.approx(
        b.table.loc["nps", "change"] - smb.table.loc["nps", "change"]
    )
    assert b.did["p_value"].between(0, 1).all()


def test_before_after_needs_a_change_date(small):
    with pytest.raises(WorkbookError, match="needs a change date"):
        before_after(small)
    with pytest.raises(WorkbookError, match="unknown metric"):
        before_after(small, "2024-12-01", ids=("happiness",))

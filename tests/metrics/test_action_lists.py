"""The action lists on hand-made sources: exactly the customers they should hold, in order.

The at-risk list uses the subscription log of test_health_views.py, whose health scores on
2025-03-31 are worked out there: C1 10, C2 7, C3 1, C4 5.5 (C5 is not active). Its calibration
period (2024-Q4) scores five customers, fewer than 30, so the bands' cut points are the fixed 4 and
7: only C3 is in the higher-risk band. Too few customers churn to fit the churn model, so the list
falls back on that band. The customers' CLV is given by hand (the probabilistic models need more
purchases than the log has).
"""

from __future__ import annotations

import pandas as pd
import pytest
from test_health_views import _write

from metrics_lib.data import open_source
from metrics_lib.metrics import action_lists
from metrics_lib.metrics import aggregate as agg
from metrics_lib.metrics.clv_views import CLVView


def _clv(values: dict[str, float], note: str = "") -> CLVView:
    customers = pd.DataFrame({"clv": pd.Series(values, dtype=float)})
    customers.index.name = "customer_id"
    empty = pd.DataFrame()
    return CLVView(empty, empty, empty, customers if values else empty, 52, note)


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    return _write(tmp_path_factory.mktemp("lists"))


def test_without_a_model_the_higher_risk_band_with_a_top_quarter_clv(log, monkeypatch):
    # CLVs of the active customers 100, 50, 400, 300: the top quarter starts at the 75th
    # percentile, 300 + 0.25 x (400 - 300) = 325; C3 (400) is in it and in the higher-risk band
    monkeypatch.setattr(
        action_lists, "period_clv_models", lambda scope: _clv({"C1": 100, "C2": 50, "C3": 400, "C4": 300})
    )
    out = action_lists.at_risk_high_value(agg.Scope.of(log, "2025-Q1"))
    assert out["customer_id"].tolist() == ["C3"]
    row = out.iloc[0]
    assert row["risk_basis"] == "health score band"
    assert row["health_score"] == pytest.approx(1.0)
    assert row["clv"] == 400
    assert pd.isna(row["churn_probability"]) and pd.isna(row["clv_at_risk"])
    # both components (recency 0, renewal 0) are below one half
    assert row["reasons"] == "no recent order; terms not renewed"
    assert out.attrs["clv_threshold"] == pytest.approx(325.0)
    assert "the churn model is not fitted: too few churners" in out.attrs["basis"]


def test_a_high_risk_customer_outside_the_top_quarter_of_clv_is_not_listed(log, monkeypatch):
    # C3 is at risk but its CLV (10) is below the top quarter (C4's 300 and more)
    monkeypatch.setattr(
        action_lists, "period_clv_models", lambda scope: _clv({"C1": 100, "C2": 50, "C3": 10, "C4": 300})
    )
    out = action_lists.at_risk_high_value(agg.Scope.of(log, "2025-Q1"))
    assert out.empty and list(out.columns) == action_lists.AT_RISK_COLUMNS


def test_no_clv_no_list_with_the_reason(log, monkeypatch):
    monkeypatch.setattr(
        action_lists, "period_clv_models", lambda scope: _clv({}, "not fitted: too few repeat buyers")
    )
    out = action_lists.at_risk_high_value(agg.Scope.of(log, "2025-Q1"))
    assert out.empty
    assert out.attrs["note"] == "no list: customer CLV is not available (not fitted: too few repeat buyers)"


class _Model:
    """A fitted model's stand-in: a churn probability per customer, given by hand."""

    fitted = True
    reasons = {"term_ends": ("term ends in the period ahead", "no term end ahead")}

    def __init__(self, risk):
        self.risk = risk

    def score(self, frame):
        out = pd.DataFrame(index=frame.index)
        out["risk"] = [self.risk[c] for c in frame.index]
        out["reasons"] = [[("term_ends", True)] for _ in frame.index]
        return out


def test_with_a_model_the_riskiest_tenth_with_a_top_quarter_clv_by_clv_at_risk(log, monkeypatch):
    # risks 0.5, 0.5, 0.1, 0.2: the riskiest tenth starts at the 90th percentile, 0.5; the tie at
    # the cut keeps both C1 and C2. CLVs 400, 325, 50, 300: the top quarter starts at 343.75, so C2
    # (325) drops out and C1 stays, with 0.5 x 400 = 200 of CLV at risk
    monkeypatch.setattr(
        action_lists, "period_clv_models", lambda scope: _clv({"C1": 400, "C2": 325, "C3": 50, "C4": 300})
    )
    model = _Model({"C1": 0.5, "C2": 0.5, "C3": 0.1, "C4": 0.2})
    out = action_lists.at_risk_high_value(agg.Scope.of(log, "2025-Q1"), model)
    assert out["customer_id"].tolist() == ["C1"]
    assert out.loc[0, ["risk_basis", "churn_probability", "clv_at_risk"]].tolist() == [
        "churn model",
        0.5,
        200.0,
    ]
    assert out.loc[0, "reasons"] == "term ends in the period ahead"
    # CLVs 500, 500, 50, 30: the top quarter starts at 500 and holds both risky customers, with
    # the same CLV at risk (250): in the order of their ids
    monkeypatch.setattr(
        action_lists, "period_clv_models", lambda scope: _clv({"C1": 500, "C2": 500, "C3": 50, "C4": 30})
    )
    out = action_lists.at_risk_high_value(agg.Scope.of(log, "2025-Q1"), model)
    assert out["customer_id"].tolist() == ["C1", "C2"]
    assert out["clv_at_risk"].tolist() == [250.0, 250.0]


# -- detractors ------------------------------------------------------------------------------------

SURVEYS = [
    # id, customer, date, survey, score, touchpoint, comment
    ("R01", "C1", "2025-02-01", "nps", 9, "onboarding", "great"),
    ("R02", "C1", "2025-03-05", "nps", 3, "support", '=HYPERLINK("http://x")'),  # latest: 3
    ("R03", "C2", "2025-02-03", "nps", 6, "renewal", ""),  # 6 is a detractor
    ("R04", "C3", "2025-01-10", "nps", 2, "support", "slow"),
    ("R05", "C3", "2025-03-01", "nps", 8, "support", ""),  # latest: 8, a passive
    ("R06", "C4", "2024-12-20", "nps", 4, "support", ""),  # before the period
    ("R07", "C5", "2025-02-10", "csat", 1, "support", ""),  # not an NPS answer
    ("R08", "C6", "2025-03-10", "nps", 5, "support", ""),
    ("R09", "C6", "2025-03-10", "nps", 9, "support", ""),  # same day, later id: the latest, 9
    ("R10", "C7", "2025-04-01", "nps", 0, "support", ""),  # after the period
]


def write_survey_source(folder):
    """Seven customers (C1 in segment '@ops'), one order each, and the answers above."""
    ids = [f"C{i}" for i in range(1, 8)]
    pd.DataFrame(
        {
            "customer_id": ids,
            "signup_date": "2024-06-01",
            "acquisition_channel": "web",
            "segment": ["@ops"] + ["SMB"] * 6,
            "region": "north",
            "referred_by": "",
        }
    ).to_csv(folder / "customers.csv", index=False)
    pd.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(1, 8)],
            "customer_id": ids,
            "order_date": "2024-06-01",
            "revenue": 100.0,
            "cost": 40.0,
            "order_type": "new",
        }
    ).to_csv(folder / "orders.csv", index=False)
    pd.DataFrame(
        SURVEYS,
        columns=["response_id", "customer_id", "response_date", "survey", "score", "touchpoint", "comment"],
    ).to_csv(folder / "surveys.csv", index=False)
    return open_source(folder)


def test_detractors_are_the_customers_whose_latest_answer_of_the_period_is_six_or_less(tmp_path):
    out = action_lists.detractor_follow_up(agg.Scope.of(write_survey_source(tmp_path), "2025-Q1"))
    assert out["customer_id"].tolist() == ["C1", "C2"]  # lowest score first
    assert out["score"].tolist() == [3, 6]
    assert out["touchpoint"].tolist() == ["support", "renewal"]
    assert out["segment"].tolist() == ["@ops", "SMB"]
    assert [str(d)[:10] for d in out["response_date"]] == ["2025-03-05", "2025-02-03"]
    assert list(out.columns) == action_lists.DETRACTOR_COLUMNS


def test_a_segment_keeps_its_own_detractors_only(tmp_path):
    out = action_lists.detractor_follow_up(agg.Scope.of(write_survey_source(tmp_path), "2025-Q1", "SMB"))
    assert out["customer_id"].tolist() == ["C2"]
